"""The gateway's runtime, settings, internal-API client and JSON error shape."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import HTTPException
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


async def call(method: str, service: str, path: str, **kwargs: Any) -> Any:
    """Call a service's internal API; its `{code, message}` errors pass through."""
    base = getattr(settings, f"{service}_url")
    try:
        response = await runtime.http.request(method, f"{base}{path}", **kwargs)
    except httpx.HTTPError as exc:
        raise unavailable({"servico": service, "erro": type(exc).__name__}) from exc
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, dict) and "code" in detail:
            raise ApiError(
                response.status_code, detail["code"], detail["message"], detail.get("details")
            )
        if response.status_code == 404:
            raise not_found()
        if response.status_code in (502, 503, 504):
            raise unavailable({"servico": service})
        if response.status_code >= 500:
            raise ApiError(
                502,
                "erro_interno",
                "Não foi possível concluir a operação; tente novamente em instantes.",
                {"servico": service},
            )
        raise ApiError(
            response.status_code,
            "requisicao_invalida",
            "Dados inválidos na requisição.",
            {"servico": service},
        )
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response
