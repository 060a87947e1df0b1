"""What the use cases need from the outside world, as protocols (real: `adapters/`)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from tissflow_runtime.publisher import Publisher

__all__ = [
    "Adapters",
    "CorrectionStates",
    "Guides",
    "Ingest",
    "Publisher",
    "Registry",
    "Results",
    "Rules",
]


class Results(Protocol):
    """Each judged revision: its verdict, critiques and the `file.validated` outbox."""

    async def exists(self, result_id: str) -> bool: ...

    async def insert(self, doc: dict[str, Any]) -> bool:
        """False when the revision was judged already (a redelivery won the race)."""
        ...

    async def latest(self, file_id: str) -> dict[str, Any] | None:
        """The latest revision's result, without its outbox."""
        ...


class Guides(Protocol):
    """The guide numbers presented per provider (for 1308 "guia já apresentada")."""

    async def claim(self, doc: dict[str, Any]) -> bool:
        """Insert one claim (`_id` = provider:numero); False when someone holds it."""
        ...

    async def claim_all(self, docs: list[dict[str, Any]]) -> list[bool]:
        """`claim` of each doc in one round trip: for each, whether it was inserted."""
        ...

    async def holder(self, key: str) -> str | None:
        """The file holding a claim."""
        ...

    async def release(self, keys: list[str], file_id: str) -> None: ...

    async def forget_file(self, provider_id: str, file_id: str) -> None: ...

    async def presented_elsewhere(
        self, provider_id: str, file_id: str, numeros: list[str]
    ) -> set[str]:
        """Which of `numeros` another file of the provider holds."""
        ...


class Registry(Protocol):
    """The operator's registry: prestadores (by CNPJ/CPF and code) and beneficiários."""

    async def has_prestadores(self) -> bool: ...

    async def has_beneficiarios(self) -> bool: ...

    async def prestador(self, key: str) -> dict[str, Any] | None: ...

    async def prestadores_by_keys(self, keys: list[str]) -> dict[str, Any]:
        """Each key (CNPJ/CPF or codigo_prestador) found, with its record."""
        ...

    async def beneficiarios_by_keys(self, keys: list[str]) -> dict[str, Any]:
        """Each carteira found: `{nome, ativo}`."""
        ...

    async def upsert(self, tipo: str, records: list[dict[str, Any]], ordered: bool) -> None:
        """Add or update records (`_id` = key); in order when a later line must win."""
        ...


class Rules(Protocol):
    """The operator's rule settings, one per configured table-38 code."""

    async def all(self) -> list[dict[str, Any]]: ...

    async def save(self, codigo: str, setting: dict[str, Any]) -> None: ...


class CorrectionStates(Protocol):
    """One document per file: pending corrections, ignored critiques, reprocess in flight.

    `lock()` serialises a read-modify-write in this process (FerretDB applies concurrent
    updates without isolation); `update_if_version` is the optimistic guard.
    """

    def lock(self) -> AbstractAsyncContextManager[Any]: ...

    async def get(self, file_id: str) -> dict[str, Any] | None: ...

    async def insert(self, doc: dict[str, Any]) -> bool: ...

    async def update_if_version(
        self, file_id: str, versao: int, changes: dict[str, Any]
    ) -> bool: ...


class Ingest(Protocol):
    """The owner of the files and their revisions (raises domain errors)."""

    async def file(self, file_id: str) -> dict[str, Any]: ...

    async def content(self, file_id: str, revision: int) -> bytes: ...

    async def content_at(self, path: str) -> bytes:
        """The bytes at an event's `content_url` (the claim check)."""
        ...

    async def store_revision(
        self, file_id: str, content: bytes, *, by: str, base_revision: int, reason: str
    ) -> dict[str, Any]: ...


@dataclass
class Adapters:
    """Everything a use case may need, wired once by `bootstrap` (real or fake)."""

    registro_ans: str
    results: Results
    guides: Guides
    registry: Registry
    rules: Rules
    states: CorrectionStates
    ingest: Ingest
    publisher: Publisher
