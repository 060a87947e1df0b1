"""The provider portal (pt-BR, server-rendered): session, CSRF, rendering, login and home.

Pages live in `pages_arquivos.py` (uploads, histórico, correction), `pages_lotes.py`
(lotes, demonstrativos, operator protocols), `pages_operadora.py` (rule settings and the
registry CSVs) and `pages_ops.py`; this module holds what they share.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from tissflow_contracts import formato
from tissflow_contracts.dominios import SITUACAO_ARQUIVO

from tissflow_gateway.auth import (
    SESSION_COOKIE,
    User,
    authenticate,
    create_session,
    end_session,
    session_user,
)
from tissflow_gateway.core import ApiError, call, settings

LOGIN_CSRF_COOKIE = "tissflow_login_csrf"
TZ = ZoneInfo("America/Sao_Paulo")
STATUS_LABELS = SITUACAO_ARQUIVO
TIPOS_GUIA = {
    "consulta": "Consulta",
    "sp_sadt": "SP/SADT",
    "odontologia": "Tratamento Odontológico",
    "honorarios": "Honorários",
    "resumo_internacao": "Resumo de Internação",
}

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def datahora(value: Any, with_seconds: bool = False) -> str:
    """A stored UTC instant as São Paulo local time, dd/mm/aaaa hh:mm."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TZ).strftime("%d/%m/%Y %H:%M" + (":%S" if with_seconds else ""))


def _data(value: Any) -> str:
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def parse_data(text: str) -> date | None:
    """A date typed in a portal form: dd/mm/aaaa (or aaaa-mm-dd, as old links carry).

    Blank is None; anything else that is not a real day raises ValueError. The portal's
    date fields are text in dd/mm/aaaa, not `type=date`, whose format follows the
    browser's language (mm/dd/yyyy in an English browser) rather than the clerk's.
    """
    text = text.strip()
    if not text:
        return None
    if "/" in text:
        day, month, year = text.split("/") if text.count("/") == 2 else ("", "", "")
        if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
            raise ValueError(text)
        return date(int(year), int(month), int(day))
    return date.fromisoformat(text)


def data_br(value: date | None) -> str:
    return formato.data_br(value) if value else ""


def moeda(value: Any) -> str:
    """R$ 1.234,56"""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"R$ {formato.numero_br(amount)}"


def _detalhe(mensagem: str | None, descricao: str | None) -> str:
    """The critique's message without repeating its table-38 description."""
    text = (mensagem or "").strip()
    if descricao and text.startswith(descricao):
        text = text[len(descricao) :].strip()
        text = text.removeprefix("Detalhes:").strip()
    return text


CRITICAS_SEM_AGRUPAR = 10  # up to this many critiques, one plain list
MAX_ABERTAS = 5  # a group of up to this many critiques starts open


def agrupar_criticas(critiques: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Critiques by table-38 code, in order of first appearance: 121 times "CPF / CNPJ
    INVÁLIDO" is one line to read, with the occurrences a click away."""
    groups: dict[tuple[Any, Any], dict[str, Any]] = {}
    for c in critiques:
        group = groups.setdefault(
            (c.get("codigo"), c.get("descricao")),
            {"codigo": c.get("codigo"), "descricao": c.get("descricao"), "itens": []},
        )
        group["itens"].append(c)
    for group in groups.values():
        itens = group["itens"]
        group["abertas"] = sum(1 for c in itens if not c.get("ignorada"))
        group["ignoraveis"] = all(c.get("ignoravel") for c in itens)
        group["alerta"] = all(c.get("severidade") == "alerta" for c in itens)
        group["aberto"] = len(itens) <= MAX_ABERTAS
    return list(groups.values())


templates.env.filters["agrupar_criticas"] = agrupar_criticas
templates.env.globals["CRITICAS_SEM_AGRUPAR"] = CRITICAS_SEM_AGRUPAR
templates.env.filters["datahora"] = datahora
templates.env.filters["detalhe"] = _detalhe
templates.env.filters["data"] = _data
templates.env.filters["moeda"] = moeda
templates.env.globals["STATUS_LABELS"] = STATUS_LABELS
templates.env.globals["TIPOS_GUIA"] = TIPOS_GUIA


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


class LoginRequired(Exception):
    """Raised by pages when there is no valid session; the app redirects to /login."""


async def portal_session(request: Request) -> Session:
    found = await session_user(request)
    if found is None:
        raise LoginRequired
    return Session(*found)


PortalSession = Annotated[Session, Depends(portal_session)]


def require_csrf(session: Session, token: str) -> None:
    """Every state-changing form carries the session's CSRF token."""
    if not token or not secrets.compare_digest(token, session.csrf):
        raise ApiError(
            403, "csrf_invalido", "Sessão expirada ou formulário inválido; recarregue a página."
        )


def render(
    request: Request,
    name: str,
    session: Session | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("operadora", settings.operadora_nome)
    context.setdefault("registro_ans", settings.operadora_registro_ans)
    if session is not None:
        context["user"] = session.user
        context["csrf"] = session.csrf
    return templates.TemplateResponse(request, name, context, status_code=status_code)


async def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    titles = {
        401: "Acesso necessário",
        403: "Acesso negado",
        404: "Página não encontrada",
        409: "Operação não permitida",
        422: "Dados inválidos",
        503: "Serviço indisponível",
    }
    found = await session_user(request)
    return render(
        request,
        "erro.html",
        Session(*found) if found else None,
        status_code=status_code,
        titulo=titles.get(status_code, "Não foi possível concluir"),
        mensagem=message,
    )


def login_csrf_token(request: Request) -> str:
    """The login form's CSRF token: reused while it lives, so two login tabs do not
    invalidate each other."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def with_login_csrf(response: HTMLResponse, token: str) -> HTMLResponse:
    """A page with a login box: its CSRF token goes in a cookie too (double submit)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        max_age=3600,
    )
    return response


def _login_form(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    token = login_csrf_token(request)
    response = render(request, "login.html", status_code=status_code, login_csrf=token, **context)
    return with_login_csrf(response, token)


def local_path(target: str) -> str:
    """Where to go after login: a path of this portal only (never `//host` or a URL)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and target.isprintable():
        return target
    return "/"


@router.get("/login")
async def login_page(
    request: Request, next: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    if await session_user(request):
        return RedirectResponse(local_path(next), status_code=303)
    return _login_form(request, next=local_path(next))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next = local_path(next)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf_token):
        return _login_form(
            request,
            status_code=403,
            error="A página de acesso expirou; informe usuário e senha novamente.",
            username=username,
            next=next,
        )
    try:
        user = await authenticate(username.strip(), password)
    except ApiError as exc:
        return _login_form(
            request,
            status_code=exc.status_code,
            error=exc.detail["message"],
            username=username,
            next=next,
        )
    session_id, _ = await create_session(user)
    return signed_in(RedirectResponse(next, status_code=303), session_id)


def signed_in(response: Response, session_id: str) -> Response:
    """The answer that signs the clerk in: the session cookie set, the login form's gone."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(
    request: Request, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    found = await session_user(request)
    if found is not None:
        # A logout form posted from elsewhere must not end the clerk's session either.
        require_csrf(Session(*found), csrf_token)
        await end_session(request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(request: Request, session: PortalSession) -> Response:
    provider = session.user.provider_filter()
    params = {"page_size": 5, **({"provider_id": provider} if provider else {})}
    summary: dict[str, Any] = {}
    try:
        summary["arquivos"] = await call("GET", "ingest", "/internal/files", params=params)
        summary["lotes"] = await call("GET", "batching", "/internal/lotes", params=params)
        summary["protocolos"] = await call("GET", "protocol", "/internal/protocolos", params=params)
        summary["demonstrativos"] = await call(
            "GET", "statements", "/internal/demonstrativos", params=params
        )
    except ApiError as exc:
        summary["erro"] = exc.detail["message"]
    return render(request, "home.html", session, summary=summary, active="home")
