"""The provider portal (pt-BR, server-rendered): login, logout and the home page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from tissflow_gateway.auth import (
    SESSION_COOKIE,
    authenticate,
    create_session,
    end_session,
    session_user,
)
from tissflow_gateway.core import ApiError, call, settings

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("operadora", settings.operadora_nome)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/login")
async def login_page(request: Request) -> Response:
    if await session_user(request):
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html")


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        user = await authenticate(username.strip(), password)
    except ApiError as exc:
        return render(
            request,
            "login.html",
            status_code=exc.status_code,
            error=exc.detail["message"],
            username=username,
        )
    session_id, _ = await create_session(user)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
    )
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    found = await session_user(request)
    if found and found[1] == csrf_token:
        await end_session(request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(request: Request) -> Response:
    found = await session_user(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    user, csrf = found
    provider = user.provider_filter()
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
    return render(request, "home.html", user=user, csrf=csrf, summary=summary)
