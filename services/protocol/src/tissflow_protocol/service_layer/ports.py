"""What the use cases need from the outside: where protocols live, and the operator's
identity. MongoDB implements the repository (adapters/mongo.py), a dict the unit tests'
fake (adapters/memory.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel


class ProtocoloRepository(Protocol):
    async def get(self, peg: str) -> dict[str, Any] | None: ...

    async def find_by_lote(self, lote_id: str) -> dict[str, Any] | None: ...

    async def claim_peg(self, lote_id: str, make: Callable[[int], str]) -> str:
        """The PEG of `lote_id`: the one already claimed for it, else the next number of
        the sequence (never reused, unique across concurrent instances)."""
        ...

    async def insert(self, doc: dict[str, Any]) -> bool:
        """False when the PEG or the lote already has its protocol (a redelivery)."""
        ...

    async def update(
        self,
        peg: str,
        *,
        expected_status: int | None,
        sets: dict[str, Any],
        pushes: dict[str, Any],
        incs: dict[str, int] | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any] | None:
        """One guarded single-document write: None when the status changed meanwhile or
        the event was already handled."""
        ...

    async def page(
        self, query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]: ...

    async def nao_lidas(self, papel: str, provider_id: str | None) -> int: ...

    async def save_file(self, doc: dict[str, Any]) -> None: ...

    async def get_file(self, file_id: str) -> dict[str, Any] | None: ...

    def notify(self) -> None:
        """Outbox entries were written: let the relay publish them now."""
        ...


EventFactory = Callable[[BaseModel, str, str], dict[str, Any]]
"""(payload, key, correlation_id) → an outbox entry."""


@dataclass(frozen=True)
class Operadora:
    """The configured operator (`TISSFLOW_OPERADORA_*`) the Capa and the receipts state."""

    registro_ans: str
    nome: str
    razao_social: str
    cnpj: str
    nome_fantasia: str = ""
    endereco: str = ""


@dataclass
class Deps:
    """Everything a use case touches, passed in (real adapters or fakes)."""

    repo: ProtocoloRepository
    event: EventFactory
    operadora: Operadora
    descreve_glosa: Callable[[str], str | None]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
