"""Portal page of the operations team: service health, charts (files per status, verdict
times, consumer lag, outbox backlog, parked messages) and the parked messages, with replay."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tissflow_gateway import charts, ops
from tissflow_gateway.core import ApiError
from tissflow_gateway.deps import require_role
from tissflow_gateway.portal import PortalSession, render, require_csrf

router = APIRouter(include_in_schema=False)
# The periods the charts offer, in hours: a day, a week, a month.
PERIODOS = {24: "24 horas", 168: "7 dias", 720: "30 dias"}


def _ops_only(session: PortalSession) -> None:
    require_role(session.user, "ops")


@router.get("/ops")
async def ops_page(
    request: Request,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=200)] = None,
    erro: Annotated[str | None, Query(max_length=500)] = None,
    horas: Annotated[int, Query()] = 24,
) -> Response:
    _ops_only(session)
    horas = horas if horas in PERIODOS else 24
    saude, paradas, resumos, lag = await asyncio.gather(
        ops.health(),
        ops.dead_letters(status="pendente", limit=30),
        ops.summaries(),
        ops.consumer_lag(),
    )
    return render(
        request,
        "ops.html",
        session,
        active="ops",
        crumbs=[("Operações", None)],
        saude=saude,
        paradas=paradas,
        resumos=resumos,
        lag=lag,
        horas=horas,
        periodos=PERIODOS,
        flash=ok,
        erro=erro,
    )


async def _chart(nome: str, horas: int) -> str:
    if nome in ("arquivos", "latencia"):
        stats = await ops.file_stats(horas)
        return charts.arquivos_por_status(stats) if nome == "arquivos" else charts.latencia(stats)
    if nome == "atraso":
        return charts.lag((await ops.consumer_lag())["grupos"])
    resumos = await ops.summaries()
    return charts.outbox(resumos) if nome == "outbox" else charts.mensagens_paradas(resumos)


@router.get("/ops/graficos/{nome}.svg")
async def ops_chart(
    nome: Literal["arquivos", "latencia", "atraso", "outbox", "mensagens"],
    session: PortalSession,
    horas: Annotated[int, Query()] = 24,
) -> Response:
    """One chart of the ops page, as an SVG image (its inline style needs its own CSP)."""
    _ops_only(session)
    svg = await _chart(nome, horas if horas in PERIODOS else 24)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": charts.SVG_CSP, "Cache-Control": "no-store"},
    )


@router.post("/ops/mensagens/{service}/{dead_letter_id}/reprocessar")
async def ops_replay(
    service: str,
    dead_letter_id: str,
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    _ops_only(session)
    try:
        await ops.replay(service, dead_letter_id)
    except ApiError as exc:
        if exc.status_code != 409:
            raise
        return RedirectResponse(
            "/ops?" + urlencode({"erro": exc.detail["message"]}), status_code=303
        )
    return RedirectResponse("/ops?" + urlencode({"ok": "Mensagem reprocessada."}), status_code=303)
