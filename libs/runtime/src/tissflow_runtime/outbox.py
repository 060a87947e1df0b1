"""Transactional outbox on single MongoDB documents, and the relay that publishes it.

FerretDB has no multi-document transactions, so a state change and the events it causes
are written in the same document: the writer `$push`es `outbox_entry(...)` into the
document's `outbox` array in the same update that changes the state. The relay publishes
each pending entry (waiting for the broker's acknowledgement) and only then removes it.
A crash between publish and removal publishes the entry again with the same `event_id`, which
consumers skip: at-least-once delivery, exactly-once effect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase
from tissflow_contracts import new_envelope, spec_for_type

from tissflow_runtime.metrics import OUTBOX_PUBLISHED

log = logging.getLogger(__name__)

PublishFn = Callable[[str, str, bytes, dict[str, str]], Awaitable[None]]
PENDING = {"outbox.0": {"$exists": True}}


def outbox_entry(
    payload: BaseModel, *, key: str, correlation_id: str, producer: str
) -> dict[str, Any]:
    """An event ready to be stored in a document's `outbox` array."""
    envelope = new_envelope(payload, correlation_id=correlation_id, producer=producer, key=key)
    return {
        "event_id": str(envelope.event_id),
        "topic": str(spec_for_type(envelope.type).topic),
        "key": key,
        "type": envelope.type,
        "data": envelope.model_dump_json(),
    }


class OutboxRelay:
    """Publishes the pending outbox entries of the given collections, oldest document first."""

    def __init__(
        self,
        db: AsyncDatabase,
        collections: Sequence[str],
        publish: PublishFn,
        poll_seconds: float = 1.0,
        write_lock: asyncio.Lock | None = None,
    ) -> None:
        self._db = db
        self.collections = list(collections)
        self._publish = publish
        self._poll_seconds = poll_seconds
        self._write_lock = write_lock or asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Called after a write that added outbox entries, so they go out at once."""
        self._wake.set()

    async def drain(self) -> int:
        """Publish everything pending now; returns how many entries went out."""
        sent = 0
        for name in self.collections:
            collection = self._db[name]
            async for doc in collection.find(PENDING, {"outbox": 1}):
                for entry in doc["outbox"]:
                    headers = {"event_id": entry["event_id"], "type": entry["type"]}
                    await self._publish(
                        entry["topic"], entry["key"], entry["data"].encode(), headers
                    )
                    # `$pop` of the head, guarded by its id: FerretDB ignores a `$pull`
                    # with a condition, and writers only ever append to the tail.
                    async with self._write_lock:
                        popped = await collection.update_one(
                            {"_id": doc["_id"], "outbox.0.event_id": entry["event_id"]},
                            {"$pop": {"outbox": -1}},
                        )
                    OUTBOX_PUBLISHED.labels(entry["topic"]).inc()
                    sent += 1
                    if popped.modified_count == 0:
                        break  # another relay got there first; re-read next round
        return sent

    async def _run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                await self.drain()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Kafka or MongoDB down: back off (up to 5 s) and say so once in a while.
                failures += 1
                log.warning(
                    "outbox relay failed (%s); retrying",
                    type(exc).__name__,
                    exc_info=failures == 1,
                    extra={"rate_limited": True},
                )
            pause = self._poll_seconds if not failures else min(5.0, 0.5 * 2 ** min(failures, 4))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=pause)
            except TimeoutError:
                pass

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
