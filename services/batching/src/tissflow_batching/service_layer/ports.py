"""What the use cases need from the outside world: repositories, the outbox, a clock.

The Mongo adapters implement these for the process; the unit tests' fakes implement them
in memory. Nothing here knows about Kafka, MongoDB or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from tissflow_batching.domain import ConfigOperadora


@dataclass
class Pesquisa:
    """Pesquisa de Lotes: every filter optional; none means "any"."""

    provider_id: str | None = None
    registro_ans: str | None = None
    numero: str | None = None
    numero_lote_prestador: str | None = None
    protocolo: str | None = None
    tipo_guia: str | None = None
    status: str | None = None
    situacao_protocolo: str | None = None
    file_id: str | None = None
    canal: str | None = None
    de: datetime | None = None
    ate: datetime | None = None
    incluir_excluidos: bool = False
    sem_nf: bool = False
    situacoes: list[str] = field(default_factory=list)
    ordem: str = "data_inclusao"
    decrescente: bool = True


class LoteRepository(Protocol):
    async def get(self, lote_id: str) -> dict[str, Any] | None: ...

    async def active_for_file(self, file_id: str) -> dict[str, Any] | None: ...

    async def add(self, doc: dict[str, Any]) -> bool:
        """Insert a new lote; False when its `_id` already exists."""
        ...

    async def transition(
        self,
        lote_id: str,
        from_states: list[str],
        sets: dict[str, Any],
        log: dict[str, Any],
        outbox: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        """Apply `sets` (and log, outbox) only if the lote is in one of `from_states`;
        atomic per lote. The updated lote, or None when its state was another."""
        ...

    async def append_log(self, lote_id: str, log: dict[str, Any]) -> None: ...

    async def update_fields(
        self,
        lote_id: str,
        sets: dict[str, Any],
        log: dict[str, Any] | None = None,
        event_id: str | None = None,
        only_status: str | None = None,
    ) -> dict[str, Any] | None:
        """Set fields (recording `event_id` as handled in the same write, skipping a lote
        that already handled it; only while `only_status` when given)."""
        ...

    async def search(
        self, pesquisa: Pesquisa, page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]: ...


class NumberSequence(Protocol):
    async def next(self, key: str) -> int:
        """The next value (1, 2, ...) of the named sequence; never the same twice."""
        ...


class Outbox(Protocol):
    def event(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]:
        """An outbox entry to write in the same document as the state change."""
        ...

    def notify(self, collection: str | None = None, doc_id: Any = None) -> None:
        """Wake the relay: an entry was written."""
        ...


class ConfigRepository(Protocol):
    async def get(self) -> ConfigOperadora: ...

    async def save(self, config: ConfigOperadora, by: str) -> dict[str, Any]: ...


class NotaFiscalStore(Protocol):
    async def put(self, lote_id: str, content: bytes, media_type: str, filename: str) -> None: ...

    async def get(self, lote_id: str) -> tuple[bytes, str, str] | None: ...
