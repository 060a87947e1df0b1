"""Concurrent look-ups of single keys become one query for all of them (ADR 0019).

A consumer that handles a batch of records concurrently asks the same questions for
each record at about the same moment: "is this revision judged?", "what is this file's
state?", "what are this revision's bytes?". `KeyBatcher.get(key)` waits one turn of the
event loop, so that every handler running in that turn asks too, then reads all the keys
asked in one query (`_id $in`: one round trip, and the filter FerretDB answers through
its index). Nothing is cached: every answer comes from a query issued after it was
asked, so a caller sees what one query of its own would have seen.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from pymongo.errors import BulkWriteError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

FetchMany = Callable[[list[K]], Awaitable[dict[K, V]]]


class KeyBatcher(Generic[K, V]):
    """`await get(key)` → the value `fetch_many` found for it, or None."""

    def __init__(self, fetch_many: FetchMany[K, V], max_keys: int = 500) -> None:
        self._fetch_many = fetch_many
        self._max_keys = max_keys
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # referenced while they run

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): nothing carries over
            self._loop, self._waiting, self._scheduled = loop, {}, False
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if not self._scheduled:
            self._scheduled = True
            task = loop.create_task(self._run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        wanted = list(dict.fromkeys(keys))
        found = await asyncio.gather(*(self.get(k) for k in wanted))
        return {k: v for k, v in zip(wanted, found, strict=True) if v is not None}

    async def _run(self) -> None:
        await asyncio.sleep(0)  # the other handlers of this turn ask too
        self._scheduled = False
        waiting, self._waiting = self._waiting, {}
        keys = list(waiting)
        for start in range(0, len(keys), self._max_keys):
            part = keys[start : start + self._max_keys]
            try:
                found = await self._fetch_many(part)
            except asyncio.CancelledError:  # the service stops: so do its askers
                for future in (f for k in keys[start:] for f in waiting[k]):
                    future.cancel()
                raise
            except Exception as exc:  # each asker sees the failure as its own
                for key in part:
                    for future in waiting[key]:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for key in part:
                value = found.get(key)
                for n, future in enumerate(waiting[key]):
                    if not future.done():
                        # Two askers of one key never share a mutable answer.
                        future.set_result(value if n == 0 else copy.deepcopy(value))


def by_id(
    collection: Any, projection: dict[str, Any] | None = None, max_keys: int = 500
) -> KeyBatcher[Any, Any]:
    """Concurrent `find_one({"_id": key}, projection)` of one collection as one `_id $in`
    query."""

    async def fetch(keys: list[Any]) -> dict[Any, Any]:
        return {d["_id"]: d async for d in collection.find({"_id": {"$in": keys}}, projection)}

    return KeyBatcher(fetch, max_keys)


class InsertBatcher:
    """Concurrent inserts into one collection as one `insert_many(ordered=False)`
    (ADR 0021): `await insert(doc)` waits one turn of the event loop, so every handler of
    a batch inserting in that turn joins, then one round trip writes them all. Each
    answer is the document's own: True when inserted, False when its `_id` exists (a
    duplicate key), and any other error of that document raised to its inserter alone.
    Every document is still its own single-document write (ADR 0005): nothing is made
    to depend on another document of the batch."""

    def __init__(self, collection: Any, max_docs: int = 500) -> None:
        self._collection = collection
        self._max_docs = max_docs
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def insert(self, doc: dict[str, Any]) -> bool:
        return (await self.insert_all([doc]))[0]

    async def insert_all(self, docs: list[dict[str, Any]]) -> list[bool]:
        if not docs:
            return []
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): nothing carries over
            self._loop, self._pending, self._scheduled = loop, [], False
        futures = [loop.create_future() for _ in docs]
        self._pending.extend(zip(docs, futures, strict=True))
        if not self._scheduled:
            self._scheduled = True
            task = loop.create_task(self._run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return list(await asyncio.gather(*futures))

    async def _run(self) -> None:
        await asyncio.sleep(0)  # the other handlers of this turn insert too
        self._scheduled = False
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), self._max_docs):
            part = pending[start : start + self._max_docs]
            errors: dict[int, dict[str, Any]] = {}
            try:
                await self._collection.insert_many([d for d, _ in part], ordered=False)
            except asyncio.CancelledError:  # the service stops: so do its inserters
                for _, future in pending[start:]:
                    future.cancel()
                raise
            except BulkWriteError as exc:
                errors = {e["index"]: e for e in exc.details.get("writeErrors", [])}
            except Exception as exc:  # the whole write failed: each inserter sees it
                for _, future in part:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for n, (_, future) in enumerate(part):
                if future.done():
                    continue
                error = errors.get(n)
                if error is None:
                    future.set_result(True)
                elif error.get("code") == 11000:
                    future.set_result(False)
                else:
                    future.set_exception(BulkWriteError({"writeErrors": [error]}))
