"""What a batch of `file.uploaded` events reads once instead of once per file.

The consumer handles a batch of records concurrently (ADR 0019). Every file asks the
same questions of the operator's data: its rule settings, whether a registry of
prestadores or beneficiários is loaded, the sending clinic's record. Inside
`batch_scope()` those answers are read once and shared by the batch's files (concurrent
askers wait for the one read); outside a batch (the internal API, a replay) every call
reads the database as before. A batch lives for one poll of Kafka (tens of
milliseconds), so an operator's change is seen by the next batch, as it was seen by the
next file before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from tissflow_validation.service_layer.ports import Registry, Rules

T = TypeVar("T")

_cache: ContextVar[dict[Hashable, asyncio.Future[Any]] | None] = ContextVar(
    "validation_batch_cache", default=None
)


@asynccontextmanager
async def batch_scope() -> AsyncIterator[None]:
    """Share look-ups between the handlers of one batch (tasks started inside inherit it)."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


async def _once(key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    cache = _cache.get()
    if cache is None:
        return await read()
    future = cache.get(key)
    if future is None:
        future = asyncio.get_running_loop().create_future()
        cache[key] = future
        try:
            future.set_result(await read())
        except BaseException as exc:
            # The askers waiting for it see the failure; the next asker reads again.
            del cache[key]
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning if none waits
            raise
    result: T = await asyncio.shield(future)
    return result


class BatchRegistry:
    """`Registry` whose per-file questions are answered once per batch."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    async def has_prestadores(self) -> bool:
        return await _once(("has_prestadores",), self._registry.has_prestadores)

    async def has_beneficiarios(self) -> bool:
        return await _once(("has_beneficiarios",), self._registry.has_beneficiarios)

    async def prestador(self, key: str) -> dict[str, Any] | None:
        return await _once(("prestador", key), lambda: self._registry.prestador(key))

    async def prestadores_by_keys(self, keys: list[str]) -> dict[str, Any]:
        return await self._registry.prestadores_by_keys(keys)

    async def beneficiarios_by_keys(self, keys: list[str]) -> dict[str, Any]:
        return await self._registry.beneficiarios_by_keys(keys)

    async def upsert(self, tipo: str, records: list[dict[str, Any]], ordered: bool) -> None:
        await self._registry.upsert(tipo, records, ordered)


class BatchRules:
    """`Rules` read once per batch."""

    def __init__(self, rules: Rules) -> None:
        self._rules = rules

    async def all(self) -> list[dict[str, Any]]:
        return await _once(("rules",), self._rules.all)

    async def save(self, codigo: str, setting: dict[str, Any]) -> None:
        await self._rules.save(codigo, setting)
