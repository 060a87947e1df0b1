"""Portal pages for lotes de pagamento and the operator's protocols."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from tissflow_contracts.dominios import STATUS_PROTOCOLO

from tissflow_gateway import lotes
from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.portal import PortalSession, render, require_csrf

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
LOTES = ("Lotes de Pagamento", "/lotes")
ACTIONS: dict[str, tuple[str, ...]] = {
    "aberto": ("enviar", "fechar", "excluir"),
    "fechado": ("enviar", "reabrir", "excluir"),
    "enviado": (),
    "excluido": (),
}
ACTION_LABELS = {
    "enviar": "Enviar à operadora",
    "fechar": "Fechar lote",
    "reabrir": "Reabrir lote",
    "excluir": "Excluir lote",
}
FLASH = {
    "enviar": "Lote enviado à operadora. O protocolo (PEG) aparece aqui em instantes.",
    "fechar": "Lote fechado: envio pendente.",
    "reabrir": "Lote reaberto.",
    "excluir": "Lote excluído.",
}
STATUS_ANS = STATUS_PROTOCOLO


def _params(session: PortalSession, **extra: Any) -> dict[str, Any]:
    params = {k: v for k, v in extra.items() if v not in (None, "")}
    if session.user.provider_filter():
        params["provider_id"] = session.user.provider_filter()
    return params


@router.get("/lotes")
async def lista_lotes(
    request: Request,
    session: PortalSession,
    status: Literal["aberto", "fechado", "enviado"] | None = None,
    numero_lote: Annotated[str, Query(max_length=20)] = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    params = _params(
        session, status=status, numero_lote=numero_lote.strip(), page=pagina, page_size=PAGE_SIZE
    )
    listing = await call("GET", "batching", "/internal/lotes", params=params)
    return render(
        request,
        "lotes.html",
        session,
        active="lotes",
        crumbs=[("Lotes de Pagamento", None)],
        lotes=listing["items"],
        total=listing["total"],
        pagina=pagina,
        paginas=max(1, math.ceil(listing["total"] / PAGE_SIZE)),
        filtros={"status": status or "", "numero_lote": numero_lote},
    )


@router.get("/lotes/{lote_id}")
async def lote(
    request: Request,
    lote_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    doc = await lotes.get_lote(session.user, lote_id)
    protocolo = None
    if doc.get("protocolo"):
        try:
            protocolo = await lotes.get_protocolo(session.user, doc["protocolo"]["peg"])
        except ApiError:
            protocolo = None
    acoes = ACTIONS.get(doc["status"], ()) if session.user.role == "prestador" else ()
    return render(
        request,
        "lote.html",
        session,
        active="lotes",
        crumbs=[LOTES, (f"Lote {doc['numero_lote']}", None)],
        lote=doc,
        protocolo=protocolo,
        acoes=[(a, ACTION_LABELS[a]) for a in acoes],
        flash=FLASH.get(ok or ""),
        status_ans=STATUS_ANS,
    )


@router.post("/lotes/{lote_id}/acao/{acao}")
async def lote_acao(
    request: Request,
    lote_id: str,
    acao: Literal["fechar", "reabrir", "enviar", "excluir"],
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    await lotes.act(session.user, lote_id, acao)
    target = "/lotes?ok=excluir" if acao == "excluir" else f"/lotes/{seg(lote_id)}?ok={acao}"
    return RedirectResponse(target, status_code=303)
