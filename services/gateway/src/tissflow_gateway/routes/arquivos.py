"""API of a clinic's files: upload, Histórico de Arquivos Enviados, critiques, revisions,
and online correction (ignore, save corrections, reprocess)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import StreamingResponse

from tissflow_gateway import files
from tissflow_gateway.core import ApiError, call
from tissflow_gateway.deps import CurrentUser
from tissflow_gateway.routes.common import ARQUIVO_MULTIPART, COMMON, errors
from tissflow_gateway.schemas import (
    ActionOut,
    CorrectionsRequest,
    FileOut,
    FilePage,
    IgnoreRequest,
    ReprocessOut,
    ReprocessRequest,
    ValidationOut,
)
from tissflow_gateway.uploads import receive_single_xml

router = APIRouter(prefix="/api/v1", responses=COMMON)


@router.post(
    "/uploads",
    status_code=202,
    tags=["arquivos"],
    responses=errors(400, 403, 413, 415),
    openapi_extra={"requestBody": {"required": True, "content": ARQUIVO_MULTIPART}},
)
async def upload(
    request: Request,
    user: CurrentUser,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> FileOut:
    """Send one TISS XML (≤ 15 MB). It is validated asynchronously: follow `GET /files/{id}`.

    An `Idempotency-Key` header makes a retried upload return the first one's file.
    """
    if user.role != "prestador" or not user.provider_id:
        raise ApiError(403, "acesso_negado", "Somente prestadores enviam arquivos.")
    received = await receive_single_xml(request)
    stored = await files.store_upload(user, received.filename, received.content, idempotency_key)
    return FileOut(**stored)


@router.get("/files", tags=["arquivos"])
async def list_files(
    user: CurrentUser,
    status: Literal["em_processamento", "importado", "invalido"] | None = None,
    nome: Annotated[str | None, Query(max_length=255)] = None,
    de: datetime | None = None,
    ate: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> FilePage:
    """Histórico de Arquivos Enviados, newest first, with the portal's filters."""
    params: dict[str, Any] = {"page": page, "page_size": page_size}
    for key, value in {
        "provider_id": user.provider_filter(),
        "status": status,
        "nome": nome,
        "de": de.isoformat() if de else None,
        "ate": ate.isoformat() if ate else None,
    }.items():
        if value:
            params[key] = value
    return FilePage(**await call("GET", "ingest", "/internal/files", params=params))


@router.get("/files/{file_id}", tags=["arquivos"], responses=errors(404))
async def get_file(file_id: str, user: CurrentUser) -> FileOut:
    """One file: status (em_processamento, importado, invalido), revisions, verdict summary."""
    return FileOut(**await files.get_file(user, file_id))


@router.get("/files/{file_id}/criticas", tags=["arquivos"], responses=errors(404))
async def get_critiques(file_id: str, user: CurrentUser) -> ValidationOut:
    """The latest revision's verdict and critiques (table-38 codes, pt-BR messages).

    404 `resultado_nao_encontrado` while the file has not been validated yet.
    """
    return ValidationOut(**await files.get_result(user, file_id))


@router.get(
    "/files/{file_id}/revisions/{revision}/content",
    tags=["arquivos"],
    responses={
        200: {
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The revision's bytes, as stored (1 = original upload)",
        },
        **errors(404),
    },
    response_class=StreamingResponse,
)
async def download_revision(
    file_id: str, revision: Annotated[int, Path(ge=1)], user: CurrentUser
) -> StreamingResponse:
    """Download the original (revision 1) or a corrected revision of a file."""
    return await files.stream_revision(user, file_id, revision)


@router.post(
    "/files/{file_id}/criticas/ignorar", tags=["correcao"], responses=errors(403, 404, 409)
)
async def ignore_critique(file_id: str, body: IgnoreRequest, user: CurrentUser) -> ActionOut:
    """Ignore an ignorable critique (409 `critica_nao_ignoravel` otherwise).

    Only for files with status `invalido` (409 `arquivo_nao_editavel` otherwise).
    """
    return ActionOut(**await files.ignore(user, file_id, body.codigo, body.xpath))


@router.post("/files/{file_id}/correcoes", tags=["correcao"], responses=errors(403, 404, 409))
async def save_corrections(file_id: str, body: CorrectionsRequest, user: CurrentUser) -> ActionOut:
    """ "Salvar": keep new values for fields (by xpath) without reprocessing yet.

    422 `correcao_invalida` when a path does not name a simple field of the file;
    409 `arquivo_nao_editavel` unless the file's status is `invalido`.
    """
    correcoes = [c.model_dump() for c in body.correcoes]
    return ActionOut(**await files.save_corrections(user, file_id, correcoes))


@router.post(
    "/files/{file_id}/reprocessar",
    status_code=202,
    tags=["correcao"],
    responses=errors(403, 404, 409),
)
async def reprocess(file_id: str, body: ReprocessRequest, user: CurrentUser) -> ReprocessOut:
    """ "Salvar e Reprocessar": apply saved and given corrections into a new revision
    (optionally recalculating totals; the hash always) and validate it again.
    Follow `GET /files/{id}` until it leaves em_processamento. Only for files with
    status `invalido` (409 `arquivo_nao_editavel` otherwise)."""
    correcoes = [c.model_dump() for c in body.correcoes] if body.correcoes else None
    return ReprocessOut(**await files.reprocess(user, file_id, body.recalcular_totais, correcoes))
