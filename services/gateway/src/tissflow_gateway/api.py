"""The public REST API `/api/v1`: the shared router of the resources not yet in `routes/`.

`errors`/`COMMON` live in `routes.common` (re-exported here); auth, arquivos, operadora
and ops have their own routers in `routes/`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tissflow_gateway import files
from tissflow_gateway.auth import CurrentUser, User
from tissflow_gateway.core import call, seg
from tissflow_gateway.files import own as _own
from tissflow_gateway.routes.common import COMMON, errors
from tissflow_gateway.schemas import (
    DemonstrativoOut,
    DemonstrativoPage,
)

__all__ = ["COMMON", "errors", "router", "demonstrativo_document"]

router = APIRouter(prefix="/api/v1", responses=COMMON)


# -- statements ----------------------------------------------------------------------
@router.get("/demonstrativos", tags=["demonstrativos"])
async def list_demonstrativos(
    user: CurrentUser,
    tipo: Literal["analise", "pagamento"] | None = None,
    peg: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> DemonstrativoPage:
    """Demonstrativos de Análise de Conta and de Pagamento."""
    params: dict[str, Any] = {"page": page, "page_size": page_size}
    for key, value in {"provider_id": user.provider_filter(), "tipo": tipo, "peg": peg}.items():
        if value:
            params[key] = value
    return DemonstrativoPage(
        **await call("GET", "statements", "/internal/demonstrativos", params=params)
    )


@router.get("/demonstrativos/{statement_id}", tags=["demonstrativos"], responses=errors(404))
async def get_demonstrativo(statement_id: str, user: CurrentUser) -> DemonstrativoOut:
    """One demonstrativo (análise or pagamento)."""
    doc = await call("GET", "statements", f"/internal/demonstrativos/{seg(statement_id)}")
    return DemonstrativoOut(**_own(user, doc, "Demonstrativo"))


DOCUMENT_TYPES = {"xml": "application/xml", "pdf": "application/pdf"}


@router.get(
    "/demonstrativos/{statement_id}/{formato}",
    tags=["demonstrativos"],
    responses={
        200: {
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in DOCUMENT_TYPES.values()
            },
            "description": "The demonstrativo as TISS 4.03.00 XML (`xml`) or as PDF (`pdf`)",
        },
        **errors(404),
    },
    response_class=Response,
)
async def download_demonstrativo(
    statement_id: str, formato: Literal["xml", "pdf"], user: CurrentUser
) -> Response:
    """Download a demonstrativo: `xml` is the ANS message (`mensagemTISS`, schema-valid
    against tissV4_03_00.xsd), `pdf` the printable document."""
    return await demonstrativo_document(user, statement_id, formato)


async def demonstrativo_document(user: User, statement_id: str, formato: str) -> Response:
    """A demonstrativo's XML or PDF as an attachment, if the user may see it (else 404)."""
    files.may_read_content(user)
    path = f"/internal/demonstrativos/{seg(statement_id)}"
    doc = _own(user, await call("GET", "statements", path), "Demonstrativo")
    upstream = await call("GET", "statements", f"{path}/{seg(formato)}")
    name = f"demonstrativo-{doc['tipo']}-{doc['peg']}.{formato}"
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Response(
        upstream.content,
        media_type=DOCUMENT_TYPES[formato],
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
