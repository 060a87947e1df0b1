"""Gateway: the only public door — the pt-BR portal and the versioned REST API `/api/v1`.

It calls the services' internal APIs and consumes `statement.ready` to tell providers a
demonstrativo is ready. Owns `<prefix>_gateway` (users, sessions, tokens, notifications).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pymongo.errors import DuplicateKeyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from tissflow_contracts import Envelope, StatementReady, Topic

from tissflow_gateway import api, portal
from tissflow_gateway.core import db, runtime

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
)
app.include_router(api.router)
app.include_router(portal.router)
app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "details": details}, status_code=status)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        return _error(
            exc.status_code, exc.detail["code"], exc.detail["message"], exc.detail.get("details")
        )
    if exc.status_code == 404:
        return _error(404, "nao_encontrado", "Recurso não encontrado.")
    if exc.status_code == 405:
        return _error(405, "metodo_nao_permitido", "Método não permitido.")
    return _error(exc.status_code, "erro", str(exc.detail))


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [
        {"campo": ".".join(str(p) for p in e["loc"]), "erro": e["msg"]} for e in exc.errors()
    ]
    return _error(422, "dados_invalidos", "Dados inválidos na requisição.", details)
