"""The file registry's rules: statuses, limits, what a revision is, and why an upload is
refused (no I/O here, and no HTTP: the entry points give the refusals their status)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from tissflow_contracts.dominios import SITUACAO_ARQUIVO
from tissflow_contracts.errors import Conflict, DomainError, NotFound
from tissflow_contracts.limites import MAX_UPLOAD_BYTES

__all__ = [
    "INLINE_FIELD",
    "INLINE_MAX_BYTES",
    "INLINE_REF",
    "MAX_UPLOAD_BYTES",
    "STATUS_LABELS",
    "FileNotFound",
    "FileStatus",
    "RevisionNotFound",
    "StaleRevision",
    "UploadRejected",
    "UploadTooLarge",
    "check_upload",
    "content_path",
    "new_revision",
    "public",
    "sha256_hex",
    "too_large",
]


# An upload this small keeps its bytes in its own file document (ADR 0020): storing it is
# one insert, its claim check one read. Larger ones, and every corrected revision, keep
# their bytes in the content store (`conteudos`, ADR 0019).
INLINE_MAX_BYTES = 64 * 1024
INLINE_FIELD = "conteudo_inline"
INLINE_REF = {"inline": INLINE_FIELD}
"""A revision's content reference when its bytes are the file document's INLINE_FIELD."""


class FileStatus(StrEnum):
    EM_PROCESSAMENTO = "em_processamento"
    IMPORTADO = "importado"
    INVALIDO = "invalido"


STATUS_LABELS = {status: SITUACAO_ARQUIVO[status.value] for status in FileStatus}


class UploadRejected(DomainError):
    """A file refused before it is stored; `message` is pt-BR for the user."""

    kind = "invalid"


class UploadTooLarge(UploadRejected):
    """The file is over `MAX_UPLOAD_BYTES`."""

    kind = "too_large"


def too_large(filename: str | None = None, size: int | None = None) -> UploadTooLarge:
    if filename is None or size is None:
        return UploadTooLarge("arquivo_muito_grande", "O limite é 15 MB por arquivo.")
    return UploadTooLarge(
        "arquivo_muito_grande",
        f"O arquivo {filename!r} tem {size / 1024 / 1024:.1f} MB; o limite é 15 MB por arquivo.",
    )


class FileNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("arquivo_nao_encontrado", "Arquivo não encontrado.")


class RevisionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("revisao_nao_encontrada", "Revisão não encontrada.")


class StaleRevision(Conflict):
    """Two corrections of the same revision: the second one lost."""

    def __init__(self) -> None:
        super().__init__(
            "revisao_desatualizada",
            "O arquivo mudou desde que você abriu a correção; recarregue.",
        )


def check_upload(filename: str, content: bytes) -> None:
    if len(content) > MAX_UPLOAD_BYTES:
        raise too_large(filename, len(content))
    if not content.strip():
        raise UploadRejected("arquivo_vazio", f"O arquivo {filename!r} está vazio.")
    if not filename.lower().endswith(".xml"):
        raise UploadRejected(
            "extensao_invalida",
            f"O arquivo {filename!r} não é um XML: envie o arquivo TISS com extensão .xml.",
        )


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def content_path(file_id: str, revision: int) -> str:
    return f"/internal/files/{file_id}/revisions/{revision}/content"


def new_revision(
    number: int, ref: Any, content: bytes, by: str, reason: str, at: datetime
) -> dict[str, Any]:
    """One revision of a file: where its bytes are (`gridfs_id`: the content store's
    reference, named when GridFS held them; ADR 0019), their size and hash."""
    return {
        "revision": number,
        "gridfs_id": ref,
        "size": len(content),
        "sha256": sha256_hex(content),
        "created_at": at,
        "created_by": by,
        "reason": reason,
    }


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The registry record as the other services see it."""
    hidden = {"_id", "outbox", "handled", INLINE_FIELD}
    out = {k: v for k, v in doc.items() if k not in hidden}
    out["file_id"] = doc["_id"]
    out["revisions"] = [
        {k: v for k, v in r.items() if k != "gridfs_id"} for r in doc.get("revisions", [])
    ]
    return out
