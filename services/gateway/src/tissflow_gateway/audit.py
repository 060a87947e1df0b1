"""The access log: who did what, when, through which route and with what result.

Every request that changes something (any method but GET/HEAD/OPTIONS), every download
and every login attempt is recorded by the gateway's middleware (`app.py`) in
`<prefix>_gateway.audit_log`; a provider reads its own users' records and the operator's
staff read all (`GET /api/v1/auditoria`), as ANS's security component asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError
from tissflow_runtime.listing import page_of

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, db

log = logging.getLogger(__name__)
audit_log = db["audit_log"]
# Downloads are reads worth recording: a file's XML, a demonstrativo, a lote's cover.
AUDITED_READS = ("/content", "/xml", "/pdf", "/capa")


def audited(method: str, path: str) -> bool:
    return method not in ("GET", "HEAD", "OPTIONS") or path.endswith(AUDITED_READS)


class AuditWriter:
    """Writes access-log entries off the request's path, in batches, until they are stored.

    `add` only queues the entry (with its `_id` already chosen) and wakes one writer task;
    the writer stores whatever is queued with one `insert_many`, so under load many
    requests' entries cost one database write (ADR 0020). A failed write is retried
    (0.2 s doubling to 5 s) with the same entries: their `_id`s make a write that had
    landed before its answer was lost count as done, never as a second record. The
    queue holds at most `max_queued` entries while the database is down (past that a
    new entry is dropped, and said so in the log); the service's shutdown flushes the rest.
    """

    def __init__(self, collection: AsyncCollection, batch: int = 500, max_queued: int = 100_000):
        self.collection = collection
        self.batch = batch
        self.max_queued = max_queued
        self._queue: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, entry: dict[str, Any]) -> None:
        if len(self._queue) >= self.max_queued:
            log.error("access log queue full (database down?): an entry was dropped")
            return
        entry.setdefault("_id", ObjectId())
        self._queue.append(entry)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(self._run(), name="audit-writer")
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
            try:
                await self.flush_once()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - kept queued, written on a retry
                failures += 1
                log.warning(
                    "access log write failed (%s); %d entries wait",
                    type(exc).__name__,
                    len(self._queue),
                    extra={"rate_limited": True},
                )
                await asyncio.sleep(min(5.0, 0.2 * 2 ** min(failures - 1, 5)))

    async def flush_once(self) -> int:
        """Store up to `batch` queued entries; they leave the queue only once stored."""
        entries = list(islice(self._queue, self.batch))
        if not entries:
            return 0
        try:
            await self.collection.insert_many(entries, ordered=False)
        except BulkWriteError as exc:
            # Entries already stored by an earlier try come back as duplicate keys: done.
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
            if exc.details.get("writeConcernErrors"):
                raise
        for _ in entries:
            self._queue.popleft()
        return len(entries)

    async def flush(self) -> None:
        """Store what is queued (the service stops; the runtime bounds how long). The
        writer task stops first, so no two writes take the same entries off the queue
        (one it had sent is sent again: its `_id`s make that a no-op)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        try:
            while self._queue:
                try:
                    await self.flush_once()
                except Exception as exc:  # noqa: BLE001 - stopping: try again until cut off
                    log.warning("access log flush failed: %s", type(exc).__name__)
                    await asyncio.sleep(0.2)
        finally:
            if self._queue:
                log.error("access log: %d entries not stored at shutdown", len(self._queue))

    @property
    def queued(self) -> int:
        return len(self._queue)


writer = AuditWriter(audit_log)


def record(
    who: dict[str, Any], method: str, route: str, path: str, status: int, address: str
) -> None:
    """Queue one entry without holding up the response it describes (`AuditWriter`)."""
    writer.add(
        {
            "at": datetime.now(UTC),
            "username": who.get("username"),
            "role": who.get("role"),
            "provider_id": who.get("provider_id"),
            "method": method,
            "route": route,
            "path": path[:500],
            "status": status,
            "address": address,
        }
    )


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    doc["id"] = str(doc.pop("_id"))
    return doc


async def entries(user: User, page: int, page_size: int) -> dict[str, Any]:
    """The records a user may read: a provider its own, the operator's staff all."""
    if user.role == "prestador":
        query: dict[str, Any] = {"provider_id": user.provider_id}
    elif user.role == "operadora":
        query = {}
    else:
        raise ApiError(403, "acesso_negado", "O registro de acessos é do prestador e da operadora.")
    return await page_of(audit_log, query, page, page_size, _public, newest_first_by="at")
