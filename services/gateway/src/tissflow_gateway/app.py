"""Gateway: the only public door — the pt-BR portal and the versioned REST API `/api/v1`.

It calls the services' internal APIs and consumes `statement.ready` to tell providers a
demonstrativo is ready. Owns `<prefix>_gateway` (users, sessions, tokens, notifications).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import fastapi_offline
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pymongo.errors import DuplicateKeyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from tissflow_contracts import Envelope, StatementReady, Topic

from tissflow_gateway import (
    api,
    pages_arquivos,
    pages_demonstrativos,
    pages_lotes,
    pages_operadora,
    pages_ops,
    pages_protocolos,
    pages_recursos,
    portal,
)
from tissflow_gateway.core import db, runtime
from tissflow_gateway.routes import demonstrativos
from tissflow_gateway.routes import lotes as lotes_routes
from tissflow_gateway.routes import protocolos as protocolos_api
from tissflow_gateway.routes import recursos as routes_recursos

notifications = db["notifications"]


@runtime.consumers.on(Topic.STATEMENT_READY)
async def on_statement_ready(envelope: Envelope) -> None:
    event = envelope.payload_as(StatementReady)
    titulo = (
        "Demonstrativo de Pagamento"
        if event.tipo == "pagamento"
        else ("Demonstrativo de Análise de Conta")
    )
    try:
        await notifications.insert_one(
            {
                "_id": str(envelope.event_id),
                "provider_id": event.provider_id,
                "statement_id": event.statement_id,
                "mensagem": f"{titulo} do protocolo {event.peg} disponível.",
                "created_at": datetime.now(UTC),
                "lida": False,
            }
        )
    except DuplicateKeyError:
        return


app = runtime.create_app(
    title="tissflow API",
    version="1.0.0",
    description="Gateway de faturamento TISS entre prestadores e a operadora. "
    "Erros seguem o formato `{code, message, details}` com mensagens em pt-BR.",
    docs_url=None,
    redoc_url=None,
)
# Swagger UI from an installed package, served here: no CDN.
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"
app.mount("/static/swagger", StaticFiles(directory=SWAGGER_ASSETS), name="swagger")


@app.get("/docs", include_in_schema=False)
async def docs() -> Response:
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title="tissflow API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon.png",
    )


app.include_router(api.router)
app.include_router(demonstrativos.router)
app.include_router(protocolos_api.router)
app.include_router(lotes_routes.router)
app.include_router(portal.router)
app.include_router(pages_arquivos.router)
app.include_router(pages_lotes.router)
app.include_router(pages_demonstrativos.router)
app.include_router(pages_ops.router)
app.include_router(pages_operadora.router)
app.include_router(pages_protocolos.router)
app.include_router(routes_recursos.router)
app.include_router(pages_recursos.router)
app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

# The portal loads nothing from elsewhere and runs no inline script; /docs (Swagger UI)
# needs its own inline bootstrap script, so it gets a CSP that allows only that.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PORTAL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@app.middleware("http")
async def security_headers(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    csp = DOCS_CSP if request.url.path.startswith("/docs") else PORTAL_CSP
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _wants_html(request: Request) -> bool:
    """Portal pages answer errors with a page; the API and probes always with JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/internal/", "/static/", "/openapi", "/docs")):
        return False
    return "text/html" in request.headers.get("accept", "")


async def _error(
    request: Request, status: int, code: str, message: str, details: Any = None
) -> Response:
    if _wants_html(request):
        return await portal.error_page(request, status, message)
    return JSONResponse({"code": code, "message": message, "details": details}, status_code=status)


@app.exception_handler(portal.LoginRequired)
async def login_required(request: Request, exc: portal.LoginRequired) -> Response:
    """To the login, and back to the page asked for once logged in (a GET only: a form
    posted with an expired session is not replayed)."""
    if request.method == "GET" and request.url.path != "/":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    return RedirectResponse("/login", status_code=303)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        return await _error(
            request,
            exc.status_code,
            exc.detail["code"],
            exc.detail["message"],
            exc.detail.get("details"),
        )
    if exc.status_code == 404:
        return await _error(request, 404, "nao_encontrado", "Página ou recurso não encontrado.")
    if exc.status_code == 405:
        return await _error(request, 405, "metodo_nao_permitido", "Método não permitido.")
    return await _error(request, exc.status_code, "erro", str(exc.detail))


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    details = [
        {"campo": ".".join(str(p) for p in e["loc"]), "erro": e["msg"]} for e in exc.errors()
    ]
    return await _error(request, 422, "dados_invalidos", "Dados inválidos na requisição.", details)
