"""`/api/v1/analises/glosas`: the Painel de Glosa (glosa inicial and final, prazo médio,
guias sem resposta, most frequent table-38 codes, per provider, guide type and month) as
JSON, and each of its views as CSV for Excel. A clinic sees only its own figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from tissflow_gateway import analytics
from tissflow_gateway.deps import CurrentUser
from tissflow_gateway.routes.common import COMMON, errors

router = APIRouter(prefix="/api/v1", tags=["análises"], responses=COMMON)
Visao = Literal["prestador", "tipo_guia", "mes", "glosas", "criticas", "guias"]


class PainelGlosa(BaseModel):
    prestador: str | None
    de: str | None
    ate: str | None
    resumo: dict[str, Any]
    por_prestador: list[dict[str, Any]]
    por_tipo_guia: list[dict[str, Any]]
    por_mes: list[dict[str, Any]]
    top_glosas: list[dict[str, Any]]
    top_criticas: list[dict[str, Any]]


@router.get("/analises/glosas", responses=errors(403))
async def painel_glosa(
    user: CurrentUser,
    prestador: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9A-Za-z]+$")] = None,
    de: date | None = None,
    ate: date | None = None,
) -> PainelGlosa:
    """The panel over the protocols dated between `de` and `ate` (protocol date). Values are
    decimal strings in reais, percentages over the value presented; the operator's staff
    may narrow it to one `prestador` (CNPJ/CPF), a clinic sees only its own."""
    return PainelGlosa(**await analytics.carregar(user, prestador, de, ate))


@router.get(
    "/analises/glosas.csv",
    response_class=Response,
    responses={
        **errors(403),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
    },
)
async def painel_glosa_csv(
    user: CurrentUser,
    visao: Visao = "prestador",
    prestador: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9A-Za-z]+$")] = None,
    de: date | None = None,
    ate: date | None = None,
) -> Response:
    """One view of the panel as CSV for Excel in pt-BR (`;`, decimal comma, UTF-8 with
    BOM): per `prestador`, `tipo_guia` or `mes`, the `glosas` codes, the `criticas`, or
    the `guias` one by one."""
    dados = await analytics.carregar(user, prestador, de, ate)
    return csv_response(analytics.csv_de(dados, visao), visao)


def csv_response(content: bytes, visao: str) -> Response:
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="painel-glosa-{visao}.csv"'},
    )
