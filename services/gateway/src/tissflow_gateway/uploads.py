"""Reads a multipart upload while it streams, refusing it past 15 MB (413, pt-BR)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from tissflow_gateway.core import ApiError

MAX_FILE_BYTES = 15 * 1024 * 1024
# Multipart boundaries and headers around the file: a little room above the file limit.
MAX_REQUEST_BYTES = MAX_FILE_BYTES + 256 * 1024


def too_large(size: int | None = None) -> ApiError:
    # pt-BR decimal comma, as the portal shows sizes: "16,2 MB".
    detail = f" (recebido: {size / 1024 / 1024:.1f} MB)".replace(".", ",") if size else ""
    return ApiError(
        413,
        "arquivo_muito_grande",
        f"O arquivo excede o limite de 15 MB por arquivo{detail}.",
        {"limite_bytes": MAX_FILE_BYTES},
    )


class _TooLarge(Exception):
    pass


@dataclass
class ReceivedFile:
    filename: str
    content: bytes


async def _limited(request: Request) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_REQUEST_BYTES:
            raise _TooLarge
        yield chunk


async def receive_single_xml(request: Request) -> ReceivedFile:
    """The one file of a `multipart/form-data` request, checked while it arrives."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise too_large(int(declared))
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            415, "formato_invalido", "Envie o arquivo como multipart/form-data no campo 'arquivo'."
        )
    parser = MultiPartParser(request.headers, _limited(request), max_files=5, max_fields=20)
    try:
        form = await parser.parse()
    except _TooLarge:
        raise too_large() from None
    except MultiPartException as exc:
        raise ApiError(400, "formato_invalido", f"Envio inválido: {exc.message}") from None
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
        return ReceivedFile(filename=(upload.filename or "arquivo.xml")[-255:], content=content)
    finally:
        await form.close()
