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
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ExecutionTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tissflow_contracts import Envelope, StatementReady, Topic

from tissflow_gateway import (
    audit,
    auth,
    pages_analytics,
    pages_arquivos,
    pages_demonstrativos,
    pages_digitacao,
    pages_lotes,
    pages_operadora,
    pages_ops,
    pages_protocolos,
    pages_recursos,
    pages_webservices,
    portal,
)
from tissflow_gateway.core import UNAVAILABLE, db, runtime, settings
from tissflow_gateway.routes import analytics as analytics_routes
from tissflow_gateway.routes import arquivos as arquivos_routes
from tissflow_gateway.routes import auditoria, demonstrativos
from tissflow_gateway.routes import auth as auth_routes
from tissflow_gateway.routes import digitacao as digitacao_routes
from tissflow_gateway.routes import lotes as lotes_routes
from tissflow_gateway.routes import operadora as operadora_routes
from tissflow_gateway.routes import ops as ops_routes
from tissflow_gateway.routes import protocolos as protocolos_api
from tissflow_gateway.routes import recursos as routes_recursos
from tissflow_gateway.routes import webservices as webservices_routes
from tissflow_gateway.ws import soap

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
    # The public door serves no /internal route: ops reads the gateway's parked
    # messages in process (ops.py).
    dead_letter_routes=False,
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


app.include_router(auth_routes.router)
app.include_router(arquivos_routes.router)
app.include_router(operadora_routes.router)
app.include_router(ops_routes.router)
app.include_router(auditoria.router)
app.include_router(demonstrativos.router)
app.include_router(protocolos_api.router)
app.include_router(lotes_routes.router)
app.include_router(portal.router)
app.include_router(pages_arquivos.router)
app.include_router(pages_lotes.router)
app.include_router(pages_demonstrativos.router)
app.include_router(pages_ops.router)
app.include_router(pages_operadora.router)
app.include_router(digitacao_routes.router)
app.include_router(pages_digitacao.router)
app.include_router(pages_protocolos.router)
app.include_router(routes_recursos.router)
app.include_router(pages_recursos.router)
app.include_router(webservices_routes.router)
app.include_router(soap.router)
app.include_router(pages_webservices.router)
app.include_router(analytics_routes.router)
app.include_router(pages_analytics.router)
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


@runtime.on_shutdown
async def store_access_log() -> None:
    """What the access log still holds is stored before the database closes."""
    await audit.writer.flush()


@runtime.every(settings.cleanup_seconds)
async def purge_expired() -> None:
    """FerretDB has no TTL index: expired sessions, tokens and login attempts go here."""
    await auth.purge_expired(auth.sessions, auth.tokens, auth.login_attempts)


class AccessLog:
    """Who the request was (the auth dependencies fill the holder) and its client
    address for the login limits; state changes, downloads and logins are recorded.
    A plain ASGI middleware, like `SecurityHeaders`: Starlette's `BaseHTTPMiddleware`
    ran every request in an extra task with memory streams (ADR 0020)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        who: dict[str, Any] = {}
        client = scope.get("client")
        address = client[0] if client else "-"
        status: list[int] = []

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        who_token = auth.request_user.set(who)
        address_token = auth.client_address.set(address)
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            auth.request_user.reset(who_token)
            auth.client_address.reset(address_token)
        method, path = scope["method"], scope["path"]
        if who and status and audit.audited(method, path):
            route = getattr(scope.get("route"), "path", path)
            audit.record(who, method, route, path, status[0], address)


def _security_headers(path: str) -> list[tuple[bytes, bytes]]:
    csp = DOCS_CSP if path.startswith("/docs") else PORTAL_CSP
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeaders:
    """The browser-hardening headers on every answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in _security_headers(scope["path"]) if h[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Added last, so outermost: like the `@app.middleware` functions they replace.
app.add_middleware(AccessLog)
app.add_middleware(SecurityHeaders)


def _wants_html(request: Request) -> bool:
    """Portal pages answer errors with a page; the API and probes always with JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/internal/", "/static/", "/openapi", "/docs", "/ws/")):
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


# Parser messages (pydantic, JSON, multipart) said in pt-BR; the field path stays as is.
ERROS_PT = {
    "missing": "campo obrigatório",
    "json_invalid": "JSON inválido",
    "json_type": "o corpo deve ser JSON",
    "model_attributes_type": "objeto JSON esperado",
    "dict_type": "objeto esperado",
    "list_type": "lista esperada",
    "string_type": "texto esperado",
    "string_too_short": "texto curto demais",
    "string_too_long": "texto longo demais",
    "string_pattern_mismatch": "formato inválido",
    "int_parsing": "número inteiro esperado",
    "int_type": "número inteiro esperado",
    "int_from_float": "número inteiro esperado",
    "float_parsing": "número esperado",
    "decimal_parsing": "número decimal esperado",
    "bool_parsing": "verdadeiro ou falso esperado",
    "greater_than_equal": "valor abaixo do mínimo",
    "greater_than": "valor abaixo do mínimo",
    "less_than_equal": "valor acima do máximo",
    "less_than": "valor acima do máximo",
    "literal_error": "valor não permitido",
    "enum": "valor não permitido",
    "datetime_parsing": "data e hora inválidas (use AAAA-MM-DDThh:mm:ss)",
    "datetime_from_date_parsing": "data e hora inválidas (use AAAA-MM-DDThh:mm:ss)",
    "datetime_type": "data e hora esperadas",
    "date_parsing": "data inválida (use AAAA-MM-DD)",
    "date_from_datetime_parsing": "data inválida (use AAAA-MM-DD)",
    "date_type": "data esperada",
    "extra_forbidden": "campo não permitido",
    "value_error": "valor inválido",
}
BODY_UNREADABLE = (
    "O corpo da requisição não pôde ser lido: envie JSON válido em UTF-8, "
    "sem aninhamento excessivo."
)


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
    if exc.status_code == 400:
        # FastAPI's "There was an error parsing the body" (bad UTF-8, JSON nested
        # thousands deep, a broken multipart form).
        return await _error(request, 400, "corpo_invalido", BODY_UNREADABLE)
    if exc.status_code >= 500:
        return await _error(request, 503, "servico_indisponivel", UNAVAILABLE)
    return await _error(request, exc.status_code, "requisicao_invalida", "Requisição inválida.")


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") in ("json_invalid", "json_type") for e in errors):
        details = [{"campo": "corpo", "erro": "JSON inválido"}]
        return await _error(request, 422, "corpo_invalido", BODY_UNREADABLE, details)
    details = [
        {
            "campo": ".".join(str(p) for p in e["loc"]),
            "erro": ERROS_PT.get(e.get("type", ""), "valor inválido"),
        }
        for e in errors
    ]
    return await _error(request, 422, "dados_invalidos", "Dados inválidos na requisição.", details)


@app.exception_handler(ConnectionFailure)
@app.exception_handler(ExecutionTimeout)
async def database_unavailable(request: Request, exc: Exception) -> Response:
    """MongoDB down or unreachable (AutoReconnect, ServerSelectionTimeoutError...): a fast
    503 in the error shape, never a plain-text 500 (issue 22, item 13)."""
    return await _error(request, 503, "servico_indisponivel", UNAVAILABLE, {"servico": "banco"})


@app.exception_handler(RecursionError)
async def too_deep(request: Request, exc: RecursionError) -> Response:
    return await _error(request, 400, "corpo_invalido", BODY_UNREADABLE)


@app.exception_handler(UnicodeDecodeError)
async def bad_encoding(request: Request, exc: UnicodeDecodeError) -> Response:
    return await _error(request, 400, "corpo_invalido", BODY_UNREADABLE)


@app.exception_handler(Exception)
async def unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: logged with its traceback by the server, answered in the shape."""
    return JSONResponse(
        {
            "code": "erro_interno",
            "message": "Erro interno; a equipe foi avisada. Tente novamente em instantes.",
            "details": None,
        },
        status_code=500,
    )
