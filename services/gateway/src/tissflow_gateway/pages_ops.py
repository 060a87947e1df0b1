"""Portal page of the operations team: service health and parked messages, with replay."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tissflow_gateway import ops
from tissflow_gateway.core import ApiError
from tissflow_gateway.deps import require_role
from tissflow_gateway.portal import PortalSession, render, require_csrf

router = APIRouter(include_in_schema=False)


def _ops_only(session: PortalSession) -> None:
    require_role(session.user, "ops")


@router.get("/ops")
async def ops_page(
    request: Request,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=200)] = None,
    erro: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    _ops_only(session)
    return render(
        request,
        "ops.html",
        session,
        active="ops",
        crumbs=[("Operações", None)],
        saude=await ops.health(),
        paradas=await ops.dead_letters(status="pendente", limit=30),
        flash=ok,
        erro=erro,
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
