"""Portal page of the operator's staff: Web Services TISS — the credentials
(loginSenhaPrestador) issued per provider: emitir, rotacionar a senha, revogar. A new
password is shown once, on the page that issued it, and never again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from tissflow_gateway import operadora
from tissflow_gateway.core import ApiError
from tissflow_gateway.portal import PortalSession, render, require_csrf
from tissflow_gateway.ws import credentials, registry

router = APIRouter(include_in_schema=False)
CRUMBS = [("Operadora", None), ("Web Services TISS", None)]


async def _page(
    request: Request, session: PortalSession, status_code: int = 200, **context: Any
) -> Response:
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "operadora_webservices.html",
        session,
        status_code=status_code,
        active="webservices",
        crumbs=CRUMBS,
        credenciais=await credentials.list_all(),
        base=base,
        # Every registered operation, as the door serves it: one URL and WSDL each.
        servicos=sorted({op.name for op in registry.load().values()}),
        **context,
    )


@router.get("/operadora/webservices")
async def webservices_page(request: Request, session: PortalSession) -> Response:
    operadora.only_operadora(session.user)
    return await _page(request, session)


@router.post("/operadora/webservices/credenciais")
async def emitir(
    request: Request,
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    provider_id: Annotated[str, Form(max_length=20)] = "",
    provider_nome: Annotated[str, Form(max_length=120)] = "",
    codigo_prestador: Annotated[str, Form(max_length=14)] = "",
    login: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    operadora.only_operadora(session.user)
    try:
        issued = await credentials.create(
            session.user, provider_id, provider_nome, codigo_prestador, login or None
        )
    except ApiError as exc:
        if exc.status_code >= 500:
            raise
        return await _page(
            request, session, status_code=exc.status_code, erro=exc.detail["message"]
        )
    return await _page(request, session, emitida=issued, acao="emitida")


@router.post("/operadora/webservices/credenciais/{login}/{acao}")
async def agir(
    request: Request,
    session: PortalSession,
    login: Annotated[str, Path(max_length=40)],
    acao: Annotated[str, Path(max_length=12)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    operadora.only_operadora(session.user)
    try:
        if acao == "rotacionar":
            issued = await credentials.rotate(session.user, login)
            return await _page(request, session, emitida=issued, acao="rotacionada")
        if acao == "revogar":
            revogada = await credentials.revoke(session.user, login)
            return await _page(request, session, flash=f"Credencial {revogada['login']} revogada.")
        raise ApiError(404, "nao_encontrado", "Ação desconhecida.")
    except ApiError as exc:
        if exc.status_code >= 500:
            raise
        return await _page(
            request, session, status_code=exc.status_code, erro=exc.detail["message"]
        )
