"""`/api/v1/demonstrativos`: the statements a provider reconciles payments against.

Per-protocol statements (listed with a `novo` flag until the clinic opens them), the
Demonstrativo de Análise de Conta of up to 30 protocols in one request, and the
Demonstrativo de Pagamento by payment date or by competência; each as TISS XML or PDF.
The portal's Demonstrativos page uses the same functions.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, seg, settings
from tissflow_gateway.deps import CurrentUser
from tissflow_gateway.files import own
from tissflow_gateway.routes.common import COMMON, errors
from tissflow_gateway.schemas import DemonstrativoOut, DemonstrativoPage

router = APIRouter(prefix="/api/v1", tags=["demonstrativos"], responses=COMMON)
Formato = Literal["xml", "pdf"]
DOCUMENT_TYPES = {"xml": "application/xml", "pdf": "application/pdf"}
# Componente Organizacional: a demonstrativo request covers at most 30 protocols.
MAX_PROTOCOLOS = 30
DOCUMENT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in DOCUMENT_TYPES.values()
        },
        "description": "TISS 4.03.00 XML (`xml`, schema-valid, with its hash) or PDF (`pdf`)",
    },
}


def _attachment(content: bytes, formato: str, name: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Response(
        content,
        media_type=DOCUMENT_TYPES[formato],
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def listing(user: User, **filters: Any) -> dict[str, Any]:
    params = {k: v for k, v in filters.items() if v not in (None, "")}
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    result: dict[str, Any] = await call(
        "GET", "statements", "/internal/demonstrativos", params=params
    )
    return result


async def statement_document(user: User, statement_id: str, formato: str) -> Response:
    """A per-protocol statement's XML or PDF, if the user may see it (else 404); a clinic
    opening it clears its "novo" badge."""
    path = f"/internal/demonstrativos/{seg(statement_id)}"
    doc = own(user, await call("GET", "statements", path), "Demonstrativo")
    upstream = await call("GET", "statements", f"{path}/{seg(formato)}")
    if user.role == "prestador" and doc.get("novo"):
        await call("POST", "statements", f"{path}/aberto")
    return _attachment(
        upstream.content, formato, f"demonstrativo-{doc['tipo']}-{doc['peg']}.{formato}"
    )


def _operadora(registro_ans: str) -> None:
    if registro_ans.strip() != settings.operadora_registro_ans:
        raise ApiError(
            404,
            "operadora_nao_encontrada",
            f"Operadora {registro_ans!r} não encontrada: este portal é da "
            f"{settings.operadora_nome} (ANS nº {settings.operadora_registro_ans}).",
        )


def _prestador(user: User, prestador: str | None) -> str:
    if user.role == "prestador":
        return str(user.provider_id)
    if not prestador:
        raise ApiError(
            422, "dados_invalidos", "Informe o prestador (CNPJ ou CPF) do demonstrativo."
        )
    return prestador


async def analise_document(user: User, protocolos: list[str], formato: str) -> Response:
    """Demonstrativo de Análise de Conta of several protocols (1 to 30)."""
    pegs = list(dict.fromkeys(p.strip() for p in protocolos if p.strip()))
    if not pegs:
        raise ApiError(422, "dados_invalidos", "Selecione ao menos um protocolo.")
    if len(pegs) > MAX_PROTOCOLOS:
        raise ApiError(
            422,
            "dados_invalidos",
            f"Um demonstrativo cobre no máximo {MAX_PROTOCOLOS} protocolos ({len(pegs)} pedidos).",
        )
    params: dict[str, Any] = {"peg": pegs}
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    upstream = await call("GET", "statements", f"/internal/analise/{seg(formato)}", params=params)
    numero = upstream.headers.get("X-Demonstrativo-Numero", pegs[0])
    return _attachment(upstream.content, formato, f"demonstrativo-analise-{numero}.{formato}")


async def pagamento_document(
    user: User,
    operadora: str,
    formato: str,
    data: date | None = None,
    competencia: str | None = None,
    prestador: str | None = None,
) -> Response:
    """Demonstrativo de Pagamento of every protocol paid on `data` or in `competencia`."""
    _operadora(operadora)
    params: dict[str, Any] = {"provider_id": _prestador(user, prestador)}
    if data is not None:
        params["data"] = data.isoformat()
    if competencia:
        params["competencia"] = competencia
    upstream = await call("GET", "statements", f"/internal/pagamento/{seg(formato)}", params=params)
    numero = upstream.headers.get("X-Demonstrativo-Numero", "pagamento")
    return _attachment(upstream.content, formato, f"demonstrativo-pagamento-{numero}.{formato}")


async def datas_de_pagamento(user: User, prestador: str | None = None) -> dict[str, Any]:
    params = {"provider_id": user.provider_filter() or prestador}
    result: dict[str, Any] = await call(
        "GET",
        "statements",
        "/internal/pagamento/datas",
        params={k: v for k, v in params.items() if v},
    )
    return result


@router.get("/demonstrativos")
async def list_demonstrativos(
    user: CurrentUser,
    tipo: Literal["analise", "pagamento"] | None = None,
    peg: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> DemonstrativoPage:
    """Per-protocol Demonstrativos de Análise de Conta and de Pagamento, newest first;
    `novo` until the clinic first downloads one."""
    return DemonstrativoPage(
        **await listing(user, tipo=tipo, peg=peg, page=page, page_size=page_size)
    )


@router.get(
    "/demonstrativos/analise/{formato}",
    responses={**DOCUMENT_RESPONSE, **errors(404, 409)},
    response_class=Response,
)
async def download_analise(
    formato: Formato,
    user: CurrentUser,
    protocolo: Annotated[list[str], Query(description="PEG; repeat for up to 30 protocols")],
) -> Response:
    """Gerar Demonstrativo: the Análise de Conta (fields 1–47, item detail) of one or
    more analysed protocols (Liberado para Faturamento onwards), at most 30."""
    return await analise_document(user, protocolo, formato)


class DatasDePagamento(BaseModel):
    datas: list[date] = Field(description="Payment dates with paid protocols, newest first")
    competencias: list[str] = Field(description="Their competências (aaaa-mm), newest first")


@router.get("/demonstrativos/pagamento/datas")
async def list_datas_de_pagamento(
    user: CurrentUser, prestador: str | None = None
) -> DatasDePagamento:
    """The payment dates and competências a Demonstrativo de Pagamento can be asked for
    (the clinic's own; operator staff name the `prestador`)."""
    return DatasDePagamento(**await datas_de_pagamento(user, prestador))


@router.get(
    "/demonstrativos/pagamento/{formato}",
    responses={**DOCUMENT_RESPONSE, **errors(404)},
    response_class=Response,
)
async def download_pagamento(
    formato: Formato,
    user: CurrentUser,
    operadora: Annotated[str, Query(description="Registro ANS of the operator (required)")],
    data: Annotated[date | None, Query(description="Por Data de Pagamento: aaaa-mm-dd")] = None,
    competencia: Annotated[
        str | None, Query(max_length=7, description="Por Competência: aaaa-mm")
    ] = None,
    prestador: Annotated[
        str | None, Query(description="Operator staff: the provider's CNPJ/CPF")
    ] = None,
) -> Response:
    """Demonstrativo de Pagamento of every protocol paid on a date or in a competência:
    per protocol informado, processado, glosado, liberado, débitos/créditos, gross and net."""
    return await pagamento_document(user, operadora, formato, data, competencia, prestador)


@router.get("/demonstrativos/{statement_id}", responses=errors(404))
async def get_demonstrativo(statement_id: str, user: CurrentUser) -> DemonstrativoOut:
    """One per-protocol demonstrativo (análise or pagamento)."""
    doc = await call("GET", "statements", f"/internal/demonstrativos/{seg(statement_id)}")
    return DemonstrativoOut(**own(user, doc, "Demonstrativo"))


@router.get(
    "/demonstrativos/{statement_id}/{formato}",
    responses={**DOCUMENT_RESPONSE, **errors(404)},
    response_class=Response,
)
async def download_demonstrativo(
    statement_id: str, formato: Formato, user: CurrentUser
) -> Response:
    """Download a per-protocol demonstrativo: `xml` is the ANS message (`mensagemTISS`,
    schema-valid against tissV4_03_00.xsd), `pdf` the printable document."""
    return await statement_document(user, statement_id, formato)
