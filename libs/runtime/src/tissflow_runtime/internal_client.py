"""The one client for the services' internal APIs (`/internal/...`).

Every service-to-service call goes through `InternalClient`, so they share one policy:

- the internal token (`X-Internal-Token`) and the correlation id (`X-Correlation-ID`)
  on every request;
- 404 is `NotFound`, other 4xx `Refused`; both carry the callee's `{code, message}`;
- an outage (connection refused, 502/503/504) is retried a bounded number of times with
  a growing pause, and then is `ServiceUnavailable`, which consumers treat as transient
  (retried until the dependency is back, never dead-lettered). Requests that may have
  reached the callee are only retried when the method is idempotent (GET, PUT, DELETE);
  a connection that never opened is retried for any method;
- answers come back typed: `get`/`post`/`put`/`delete` give the JSON body, `get_bytes`
  the raw body, `request` the response itself, `open_stream` a body to pass through.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from tissflow_runtime.consumer import TransientError
from tissflow_runtime.logs import correlation_id

log = logging.getLogger(__name__)

if importlib.util.find_spec("sniffio") is None:
    # httpcore runs `import sniffio` several times for every request it sends and falls
    # back to asyncio when that fails; with sniffio absent (anyio 4 no longer brings it)
    # each of those searched the import path again: ~7% of the gateway's CPU per upload
    # (ADR 0020). A None entry makes that import fail at once, with the same fallback.
    sys.modules["sniffio"] = None  # type: ignore[assignment]

TOKEN_HEADER = "X-Internal-Token"
CORRELATION_HEADER = "X-Correlation-ID"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
# The request never reached the callee: safe to send again whatever the method.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class InternalCallError(Exception):
    """A call to `service` that did not succeed.

    `status` is the HTTP status (None when no answer came); `code`/`message` are the
    callee's `{code, message}` when it sent one (`coded` says so), else generic ones.
    """

    def __init__(
        self,
        service: str,
        status: int | None,
        code: str,
        message: str,
        details: Any = None,
        *,
        coded: bool = False,
        detail: Any = None,
    ) -> None:
        super().__init__(f"{service}: {status or 'sem resposta'} {code}: {message}")
        self.service = service
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.coded = coded
        self.detail = detail


class NotFound(InternalCallError):
    """The callee answered 404."""


class Refused(InternalCallError):
    """The callee refused the request (4xx other than 404)."""


class ServiceUnavailable(InternalCallError, TransientError):
    """No answer, or 5xx after the retries: the callee is down or failing."""


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _error(service: str, response: httpx.Response) -> InternalCallError:
    status = response.status_code
    detail = _detail(response)
    kind: type[InternalCallError]
    if status == 404:
        kind = NotFound
    elif status >= 500:
        kind = ServiceUnavailable
    else:
        kind = Refused
    if isinstance(detail, dict) and "code" in detail:
        return kind(
            service,
            status,
            str(detail["code"]),
            str(detail.get("message", "")),
            detail.get("details"),
            coded=True,
            detail=detail,
        )
    message = "O serviço falhou." if status >= 500 else "Pedido recusado."
    return kind(service, status, "erro_interno", message, detail=detail)


def _unreachable(service: str, exc: Exception) -> ServiceUnavailable:
    """No answer from `service` (connection refused, timeout...): transient."""
    return ServiceUnavailable(
        service,
        None,
        "servico_indisponivel",
        "Serviço temporariamente indisponível; tente novamente em instantes.",
        {"servico": service, "erro": type(exc).__name__},
    )


class InternalClient:
    """Calls other services by name; their base URLs come from `urls` (`<service>_url`)."""

    def __init__(
        self,
        http: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
        urls: Any,
        token: str,
        *,
        retries: int = 2,
        backoff_seconds: float = 0.2,
    ) -> None:
        self._http = http
        self._urls = urls
        self._token = token
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    def base_url(self, service: str) -> str:
        if isinstance(self._urls, Mapping):
            return str(self._urls[service])
        return str(getattr(self._urls, f"{service}_url"))

    def _client(self) -> httpx.AsyncClient:
        return self._http if isinstance(self._http, httpx.AsyncClient) else self._http()

    def _headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        out = {TOKEN_HEADER: self._token, **(headers or {})}
        cid = correlation_id.get()
        if cid:
            out.setdefault(CORRELATION_HEADER, cid)
        return out

    async def request(
        self,
        method: str,
        service: str,
        path: str,
        *,
        retry: bool | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The callee's 2xx/3xx response; `InternalCallError` subclasses otherwise."""
        method = method.upper()
        idempotent = method in IDEMPOTENT if retry is None else retry
        url = f"{self.base_url(service)}{path}"
        attempt = 0
        while True:
            try:
                response = await self._client().request(
                    method, url, headers=self._headers(headers), **kwargs
                )
            except httpx.HTTPError as exc:
                again = isinstance(exc, NEVER_SENT) or (
                    idempotent and isinstance(exc, httpx.TransportError)
                )
                if again and attempt < self.retries:
                    attempt += 1
                    await self._pause(service, attempt, type(exc).__name__)
                    continue
                raise _unreachable(service, exc) from exc
            if response.status_code < 400:
                return response
            if idempotent and response.status_code in RETRY_STATUSES and attempt < self.retries:
                attempt += 1
                await self._pause(service, attempt, str(response.status_code))
                continue
            raise _error(service, response)

    async def open_stream(self, service: str, path: str, **kwargs: Any) -> httpx.Response:
        """A GET whose body is read as it arrives (`aiter_bytes`); the caller closes it
        (`aclose`). Same headers and error policy as `request`, without retries."""
        client = self._client()
        request = client.build_request(
            "GET", f"{self.base_url(service)}{path}", headers=self._headers(None), **kwargs
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _unreachable(service, exc) from exc
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise _error(service, response)
        return response

    async def _pause(self, service: str, attempt: int, why: str) -> None:
        delay = self.backoff_seconds * 2 ** (attempt - 1)
        log.warning("%s unavailable (%s), retry %d in %.2f s", service, why, attempt, delay)
        await asyncio.sleep(delay)

    async def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", service, path, **kwargs)).json()

    async def get_bytes(self, service: str, path: str, **kwargs: Any) -> bytes:
        return (await self.request("GET", service, path, **kwargs)).content

    async def post(self, service: str, path: str, **kwargs: Any) -> Any:
        return (await self.request("POST", service, path, **kwargs)).json()

    async def put(self, service: str, path: str, **kwargs: Any) -> Any:
        return (await self.request("PUT", service, path, **kwargs)).json()

    async def delete(self, service: str, path: str, **kwargs: Any) -> Any:
        response = await self.request("DELETE", service, path, **kwargs)
        return response.json() if response.content else None
