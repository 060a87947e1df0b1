"""Reads a multipart upload while it streams, refusing it past 15 MB (413, pt-BR).

The streaming limit (`limited`, `parse_form`, `refuse_declared`) serves every upload
the gateway receives: TISS XML here, the operator's registry CSVs in `operadora`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from tissflow_contracts.limites import MAX_UPLOAD_BYTES
from tissflow_runtime.limits import BodyTooLarge
from tissflow_runtime.limits import limited as limited_stream

from tissflow_gateway.core import ApiError

MAX_FILE_BYTES = MAX_UPLOAD_BYTES
# Multipart boundaries and headers around the file: a little room above the file limit.
MAX_REQUEST_BYTES = MAX_FILE_BYTES + 256 * 1024


def recebido(size: int | None) -> str:
    """ " (recebido: 16,2 MB)" for a 413 message, with the pt-BR decimal comma."""
    return f" (recebido: {size / 1024 / 1024:.1f} MB)".replace(".", ",") if size else ""


def too_large(size: int | None = None) -> ApiError:
    return ApiError(
        413,
        "arquivo_muito_grande",
        f"O arquivo excede o limite de 15 MB por arquivo{recebido(size)}.",
        {"limite_bytes": MAX_FILE_BYTES},
    )


TooLarge = BodyTooLarge
"""The body streamed past its limit (raised by `limited`)."""


@dataclass
class ReceivedFile:
    filename: str
    content: bytes


def refuse_declared(request: Request, limit: int, error: Callable[[int], ApiError]) -> None:
    """Refuse at once a body whose Content-Length already says it is too large."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise error(int(declared))


def limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body, chunk by chunk; TooLarge as soon as it passes `limit` bytes
    (the runtime's one streaming-limit reader)."""
    return limited_stream(request.stream(), limit)


async def parse_form(
    request: Request, limit: int, too_big: Callable[[], ApiError], max_files: int, max_fields: int
) -> FormData:
    """A multipart form read while it streams: 413 (`too_big`) past `limit`, 400 when
    the form is malformed. The caller closes it."""
    parser = MultiPartParser(
        request.headers, limited(request, limit), max_files=max_files, max_fields=max_fields
    )
    try:
        return await parser.parse()
    except TooLarge:
        raise too_big() from None
    except MultiPartException as exc:
        raise ApiError(
            400,
            "formato_invalido",
            "Envio inválido: o formulário multipart está malformado.",
            {"erro": exc.message},
        ) from None


def clean_filename(name: str | None, default: str = "arquivo.xml") -> str:
    """The name a file is stored and shown under: NFC (so "ç" typed two ways is one name),
    without the client's folders, at most 255 characters. A name with control or
    format characters (NUL, line breaks, the right-to-left override U+202E that makes
    "fdp.xml" show as "lmx.pdf", zero-width characters) is refused with 422."""
    text = unicodedata.normalize("NFC", name or "")
    bad = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in ("Cc", "Cf")})
    if bad:
        raise ApiError(
            422,
            "nome_arquivo_invalido",
            "O nome do arquivo contém caracteres de controle ou invisíveis não permitidos "
            f"({', '.join(bad)}); renomeie o arquivo e envie de novo.",
            {"caracteres": bad},
        )
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (text or default)[-255:]


async def receive_single_xml(request: Request) -> ReceivedFile:
    """The one file of a `multipart/form-data` request, checked while it arrives."""
    refuse_declared(request, MAX_REQUEST_BYTES, too_large)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            415, "formato_invalido", "Envie o arquivo como multipart/form-data no campo 'arquivo'."
        )
    form = await parse_form(request, MAX_REQUEST_BYTES, too_large, max_files=5, max_fields=20)
    try:
        # multi_items: two files under the same field name are two files, not the last one.
        uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not uploads:
            raise ApiError(422, "arquivo_ausente", "Nenhum arquivo foi enviado.")
        if len(uploads) > 1:
            raise ApiError(422, "varios_arquivos", "Envie um arquivo por vez: cada XML é um lote.")
        upload = uploads[0]
        content = await upload.read()
        if len(content) > MAX_FILE_BYTES:
            raise too_large(len(content))
        return ReceivedFile(filename=clean_filename(upload.filename), content=content)
    finally:
        await form.close()
