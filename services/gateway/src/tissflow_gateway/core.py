"""The gateway's runtime, settings, internal-API client and JSON error shape."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import HTTPException
from tissflow_runtime.internal_client import InternalCallError
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    # Secure cookies need HTTPS; local `make run` serves plain HTTP on loopback.
    cookie_secure: bool = False
    session_hours: int = 8
    # API tokens expire this many days after they are issued.
    token_days: int = 30
    # How often expired sessions, tokens and login attempts are deleted.
    cleanup_seconds: float = 300.0
    # How long a process trusts an API token it has just read (ADR 0020): a token revoked
    # here is refused at once; one revoked through another gateway process, or a user
    # changed from the command line, is refused by this one within this many seconds.
    # 0 (the default) reads the token and its user on every request: with the cache on, a
    # request that needs no gateway read while FerretDB is down waited past a client's
    # 30 s on ingest instead of getting the gateway's quick 503 (ADR 0020, "left open").
    auth_cache_seconds: float = 0.0


settings = GatewaySettings()
runtime = ServiceRuntime("gateway", settings)
db = runtime.db


class ApiError(HTTPException):
    """An error with the public shape `{code, message, details}` (message in pt-BR)."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(status_code, {"code": code, "message": message, "details": details})


def seg(value: object) -> str:
    """A value from the request as ONE path segment of an internal URL: `?`, `#`, `/`
    and `%` are escaped, so an id can never add a query, a fragment or another path."""
    text = str(value)
    if text in ("", ".", ".."):
        # `.` and `..` are path syntax even escaped by quote(): the client would resolve
        # them and reach another internal endpoint.
        raise not_found()
    return quote(text, safe="")


UNAVAILABLE = "Serviço temporariamente indisponível; tente novamente em instantes."


def unavailable(details: Any = None) -> ApiError:
    """503 `servico_indisponivel`: a dependency (a service, MongoDB, Kafka) is down."""
    return ApiError(503, "servico_indisponivel", UNAVAILABLE, details)


def not_found(what: str = "Recurso") -> ApiError:
    return ApiError(404, "nao_encontrado", f"{what} não encontrado.")


def api_error(exc: InternalCallError) -> ApiError:
    """The public error for a failed internal call: the callee's `{code, message}` passes
    through; no answer, or a callee that is itself unavailable, is 503
    `servico_indisponivel`; any other uncoded failure 502 (5xx) or its own 4xx."""
    where = {"servico": exc.service}
    if exc.status is None or (not exc.coded and exc.status in (502, 503, 504)):
        return unavailable(where)
    if exc.coded:
        return ApiError(exc.status, exc.code, exc.message, exc.details)
    if exc.status == 404:
        return not_found()
    if exc.status >= 500:
        return ApiError(
            502,
            "erro_interno",
            "Não foi possível concluir a operação; tente novamente em instantes.",
            where,
        )
    return ApiError(exc.status, "requisicao_invalida", "Dados inválidos na requisição.", where)


async def call(method: str, service: str, path: str, **kwargs: Any) -> Any:
    """Call a service's internal API (the runtime's `InternalClient`: token, correlation
    id, bounded retries); its `{code, message}` errors pass through as `ApiError`.
    JSON answers come back parsed, others as the response."""
    try:
        response = await runtime.internal.request(method, service, path, **kwargs)
    except InternalCallError as exc:
        raise api_error(exc) from exc
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response
