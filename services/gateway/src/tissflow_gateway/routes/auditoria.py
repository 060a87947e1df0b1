"""`/api/v1/auditoria`: the access log, each provider its own records, the operator all."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tissflow_gateway import audit
from tissflow_gateway.auth import CurrentUser
from tissflow_gateway.schemas import ErrorBody

router = APIRouter(prefix="/api/v1", tags=["auditoria"])


class AcessoOut(BaseModel):
    id: str
    at: datetime
    username: str | None
    role: str | None
    provider_id: str | None
    method: str
    route: str
    path: str
    status: int
    address: str


class AcessoPage(BaseModel):
    items: list[AcessoOut]
    total: int
    page: int
    page_size: int


@router.get(
    "/auditoria",
    responses={
        code: {"model": ErrorBody, "description": text}
        for code, text in (
            (401, "Não autenticado"),
            (403, "Sem permissão"),
            (422, "Dados inválidos"),
            (503, "Serviço indisponível"),
        )
    },
)
async def list_acessos(
    user: CurrentUser,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AcessoPage:
    """The access log, newest first: who (login, role, provider), when, which route
    (method and path), the answer's status and the client address. Uploads,
    corrections, lote actions, status changes, downloads and logins are recorded. A
    provider sees its own users' records; the operator's staff see all."""
    return AcessoPage(**await audit.entries(user, page, page_size))
