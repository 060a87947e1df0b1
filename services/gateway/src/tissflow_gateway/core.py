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
    return quote(str(value), safe="")


def not_found(what: str = "Recurso") -> ApiError:
    return ApiError(404, "nao_encontrado", f"{what} não encontrado.")


async def call(method: str, service: str, path: str, **kwargs: Any) -> Any:
    """Call a service's internal API; its `{code, message}` errors pass through."""
    base = getattr(settings, f"{service}_url")
    try:
        response = await runtime.http.request(method, f"{base}{path}", **kwargs)
    except httpx.HTTPError as exc:
        raise ApiError(
            503,
            "servico_indisponivel",
            "Serviço temporariamente indisponível; tente novamente em instantes.",
            {"servico": service, "erro": type(exc).__name__},
        ) from exc
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = None
        if isinstance(detail, dict) and "code" in detail:
            raise ApiError(
                response.status_code, detail["code"], detail["message"], detail.get("details")
            )
        raise ApiError(
            502 if response.status_code >= 500 else response.status_code,
            "erro_interno" if response.status_code >= 500 else "requisicao_invalida",
            "Não foi possível concluir a operação."
            if response.status_code >= 500
            else "Dados inválidos.",
            detail,
        )
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response
