"""The file registry's rules: statuses, limits and what a revision is (no I/O here)."""

from __future__ import annotations

import hashlib
from enum import StrEnum

MAX_UPLOAD_BYTES = 15 * 1024 * 1024


class FileStatus(StrEnum):
    EM_PROCESSAMENTO = "em_processamento"
    IMPORTADO = "importado"
    INVALIDO = "invalido"


STATUS_LABELS = {
    FileStatus.EM_PROCESSAMENTO: "Em Processamento",
    FileStatus.IMPORTADO: "Importado com Sucesso",
    FileStatus.INVALIDO: "Inválido",
}


class UploadRejected(Exception):
    """A file refused before it is stored; `message` is pt-BR for the user."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def check_upload(filename: str, content: bytes) -> None:
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRejected(
            413,
            "arquivo_muito_grande",
            f"O arquivo {filename!r} tem {len(content) / 1024 / 1024:.1f} MB; "
            "o limite é 15 MB por arquivo.",
        )
    if not content.strip():
        raise UploadRejected(422, "arquivo_vazio", f"O arquivo {filename!r} está vazio.")
    if not filename.lower().endswith(".xml"):
        raise UploadRejected(
            422,
            "extensao_invalida",
            f"O arquivo {filename!r} não é um XML: envie o arquivo TISS com extensão .xml.",
        )


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def content_path(file_id: str, revision: int) -> str:
    return f"/internal/files/{file_id}/revisions/{revision}/content"
