"""Portal page Painel de Glosa: the operator's staff see every provider (or one), a clinic
its own; glosa inicial and final, prazo médio, guias sem resposta, the most frequent
table-38 codes, per provider, guide type and month, a chart per month, and CSV downloads."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tissflow_gateway import analytics, charts
from tissflow_gateway.core import ApiError
from tissflow_gateway.portal import PortalSession, parse_data, render
from tissflow_gateway.routes.analytics import csv_response

router = APIRouter(include_in_schema=False)
Texto = Annotated[str, Query(max_length=20)]


def _filtros(prestador: str, de: str, ate: str) -> tuple[str | None, object, object]:
    try:
        return prestador.strip() or None, parse_data(de), parse_data(ate)
    except ValueError:
        raise ApiError(400, "data_invalida", "Informe as datas como dd/mm/aaaa.") from None


@router.get("/analises/glosas")
async def painel_page(
    request: Request, session: PortalSession, prestador: Texto = "", de: Texto = "", ate: Texto = ""
) -> Response:
    analytics.require_panel_role(session.user)
    erro = None
    try:
        filtro_prestador, data_de, data_ate = _filtros(prestador, de, ate)
        dados = await analytics.carregar(session.user, filtro_prestador, data_de, data_ate)
    except ApiError as exc:
        if exc.status_code not in (400, 403):
            raise
        erro, dados = exc.detail["message"], None
    consulta = urlencode(
        {k: v for k, v in {"prestador": prestador, "de": de, "ate": ate}.items() if v}
    )
    return render(
        request,
        "glosas.html",
        session,
        active="glosas",
        crumbs=[("Painel de Glosa", None)],
        dados=dados,
        erro=erro,
        filtros={"prestador": prestador, "de": de, "ate": ate},
        consulta=consulta,
        staff=session.user.role == "operadora",
    )


@router.get("/analises/glosas/grafico.svg")
async def painel_chart(
    session: PortalSession, prestador: Texto = "", de: Texto = "", ate: Texto = ""
) -> Response:
    """Glosa per month of protocol, as an SVG image."""
    filtro_prestador, data_de, data_ate = _filtros(prestador, de, ate)
    dados = await analytics.carregar(session.user, filtro_prestador, data_de, data_ate)
    return Response(
        charts.glosa_por_mes(dados["por_mes"]),
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": charts.SVG_CSP, "Cache-Control": "no-store"},
    )


@router.get("/analises/glosas/{visao}.csv")
async def painel_csv(
    visao: Literal["prestador", "tipo_guia", "mes", "glosas", "criticas", "guias"],
    session: PortalSession,
    prestador: Texto = "",
    de: Texto = "",
    ate: Texto = "",
) -> Response:
    filtro_prestador, data_de, data_ate = _filtros(prestador, de, ate)
    dados = await analytics.carregar(session.user, filtro_prestador, data_de, data_ate)
    return csv_response(analytics.csv_de(dados, visao), visao)
