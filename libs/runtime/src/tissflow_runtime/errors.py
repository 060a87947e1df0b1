"""Entry-point side of the domain errors: the HTTP status of each kind, in one table.

Use cases raise `tissflow_contracts.errors.DomainError` subclasses; every service's app
(built by `ServiceRuntime.create_app`) answers them as `{"detail": {code, message}}` with
the status below, the same shape an `HTTPException` with a dict detail has.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from tissflow_contracts.errors import DomainError

STATUS_OF_KIND: dict[str, int] = {
    "not_found": 404,
    "conflict": 409,
    "invalid": 422,
    "too_large": 413,
    "unavailable": 503,
    "upstream_failed": 502,
}


def http_status(exc: DomainError) -> int:
    return STATUS_OF_KIND.get(exc.kind, 422)


def error_body(exc: DomainError) -> dict[str, object]:
    body: dict[str, object] = {"code": exc.code, "message": exc.message}
    if exc.details is not None:
        body["details"] = exc.details
    return body


def install_error_handler(app: FastAPI) -> None:
    """Answer every `DomainError` a route lets through with its status and pt-BR body."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return JSONResponse({"detail": error_body(exc)}, status_code=http_status(exc))

    app.add_exception_handler(DomainError, handle)
