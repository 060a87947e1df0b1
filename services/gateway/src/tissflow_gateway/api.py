"""The public REST API `/api/v1`: the shared router of the resources not yet in `routes/`.

`errors`/`COMMON` live in `routes.common` (re-exported here); auth, arquivos, operadora
and ops have their own routers in `routes/`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from tissflow_contracts import AnaliseGuia

from tissflow_gateway import files, lotes
from tissflow_gateway.auth import CurrentUser, OperatorUser, User
from tissflow_gateway.core import call, seg
from tissflow_gateway.files import own as _own
from tissflow_gateway.routes.common import COMMON, errors
from tissflow_gateway.schemas import (
    DemonstrativoOut,
    DemonstrativoPage,
    ProtocoloOut,
    ProtocoloPage,
)

__all__ = ["COMMON", "errors", "router", "demonstrativo_document"]

router = APIRouter(prefix="/api/v1", responses=COMMON)


# -- protocols -----------------------------------------------------------------------
@router.get("/protocolos", tags=["protocolos"])
async def list_protocolos(
    user: CurrentUser,
    lote_id: str | None = None,
    status: Annotated[int | None, Query(ge=1, le=10)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ProtocoloPage:
    """Protocols (PEG) and their stages."""
    params: dict[str, Any] = {"page": page, "page_size": page_size}
    for key, value in {
        "provider_id": user.provider_filter(),
        "lote_id": lote_id,
        "status": status,
    }.items():
        if value:
            params[key] = value
    return ProtocoloPage(**await call("GET", "protocol", "/internal/protocolos", params=params))


@router.get("/protocolos/{peg}", tags=["protocolos"], responses=errors(404))
async def get_protocolo(peg: str, user: CurrentUser) -> ProtocoloOut:
    """One protocol with its status history."""
    return ProtocoloOut(**await lotes.get_protocolo(user, peg))


class StatusChange(BaseModel):
    status: int = Field(ge=1, le=10, description="ANS dm_statusProtocolo (3 = Faturado)")
    data_pagamento: date | None = Field(default=None, description="Required for status 3")
    valor_liberado: Decimal | None = Field(
        default=None, description="Protocol total released; the guides' sum when omitted"
    )
    valor_glosado: Decimal | None = Field(
        default=None, description="Protocol total glosed; the guides' sum when omitted"
    )
    guias: list[AnaliseGuia] = Field(
        default_factory=list,
        description="Optional analysis per guide of the lote: valor processado, liberado and "
        "glosado, and each glosa's TISS table-38 code and value (optionally per item). The "
        "demonstrativos then show each guide's values and glosa codes.",
    )


@router.post(
    "/operadora/protocolos/{peg}/status",
    tags=["operadora"],
    responses=errors(403, 404, 409),
)
async def change_protocol_status(peg: str, body: StatusChange, user: OperatorUser) -> ProtocoloOut:
    """Operator side: move a protocol forward (e.g. 2 Em análise, 5 Liberado, 3 Faturado),
    optionally with the analysis per guide (`guias`). An analysis naming a guide that is not
    in the lote, or a glosa code not in TISS table 38, is refused with 422
    (`analise_invalida`)."""
    return ProtocoloOut(**await lotes.change_status(user, peg, body.model_dump(mode="json")))


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
