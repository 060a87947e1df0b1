"""What the use cases need from storage and rendering (MongoDB adapters or fakes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tissflow_statements.domain.operadora import Operadora


class Projection(Protocol):
    """The statements service's own copy of lotes and protocols."""

    async def record_lote(self, event_id: str, lote: dict[str, Any]) -> None: ...
    async def protocolo(self, peg: str) -> dict[str, Any] | None: ...
    async def record_protocolo(self, event_id: str, estado: dict[str, Any]) -> None: ...
    async def mark_protocolo_handled(self, event_id: str, peg: str) -> None: ...
    async def lotes(self, lote_ids: list[str]) -> dict[str, dict[str, Any]]: ...
    async def protocolos_do_lote(self, lote_id: str) -> list[dict[str, Any]]: ...
    async def protocolos(self, pegs: list[str]) -> list[dict[str, Any]]: ...
    async def datas_pagas(self, provider_id: str | None) -> list[str]: ...
    async def record_recurso(self, event_id: str, resposta: dict[str, Any]) -> None: ...
    async def recursos(self, provider_id: str) -> list[dict[str, Any]]: ...
    async def pagos_entre(
        self, provider_id: str, inicio: str, fim: str
    ) -> list[dict[str, Any]]: ...


class Statements(Protocol):
    """The index of per-protocol statements (listing, "novo" badge, statement.ready)."""

    async def get(self, statement_id: str) -> dict[str, Any] | None: ...
    async def save(
        self, statement_id: str, resumo: dict[str, Any], evento: dict[str, Any]
    ) -> bool: ...
    async def mark_opened(self, statement_id: str, when: Any) -> None: ...
    async def page(self, query: dict[str, Any], page: int, page_size: int) -> dict[str, Any]: ...


class DocumentCache(Protocol):
    """Rendered documents by the fingerprint of what they state: a PDF is made once."""

    async def get(self, key: str) -> bytes | None: ...
    async def put(self, key: str, content: bytes) -> None: ...


class PdfRenderer(Protocol):
    def pdf(self, documento: Any) -> bytes: ...


@dataclass
class Dependencias:
    """Everything the use cases take, wired by `bootstrap`."""

    projection: Projection
    statements: Statements
    operadora: Operadora
    renderer: PdfRenderer
    # (payload, key, correlation_id) -> outbox entry
    event: Callable[..., dict[str, Any]]
    notify: Callable[..., None] = lambda *_: None
    cache: DocumentCache | None = None
    # Runs a coroutine off the consumer's path (the service); None: awaited in line (tests).
    background: Callable[[Awaitable[None]], None] | None = None
