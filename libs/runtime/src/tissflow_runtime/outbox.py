"""Transactional outbox on single MongoDB documents, and the relay that publishes it.

FerretDB has no multi-document transactions, so a state change and the events it causes
are written in the same document: the writer `$push`es `outbox_entry(...)` into the
document's `outbox` array in the same update that changes the state, and marks the
document pending (`marked(update)`: `outbox_pending: true`, an indexed field) in that
same update. The relay publishes each pending entry (waiting for the broker's
acknowledgement) and only then removes it; the removal that empties the outbox clears the
mark in the same update. A crash between publish and removal publishes the entry again
with the same `event_id`, which consumers skip: at-least-once delivery, exactly-once effect.

Finding the pending entries must not cost more as documents pile up (an operator keeps
years of files). So the writer tells the relay which document it wrote (`notify(collection,
doc_id)`) and the relay reads just that one by `_id`, at once. The scan is the fallback
for what no hint names: at start (entries a crashed process left behind), after a failed
round, on a bare `notify()`, and every `scan_seconds` (5 minutes by default) for entries
another instance wrote and could not publish before it died. It reads only the documents
marked pending, through the mark's index; once per collection (when the relay first
creates that index) it reads every document, for entries written before the mark existed.
Named documents are always served before a scan (ADR 0015).

Why the mark cannot lose an entry: the writer sets it in the update that pushes the entry,
and the relay clears it only in a `$pop` whose filter asks the outbox to hold exactly the
one entry it removes (`{_id, outbox: {$size: 1}}`), so a push that came first keeps it
set and a push that comes later sets it again. Both are single-document updates under
the service's write lock (FerretDB does not isolate concurrent updates of a document:
ADR 0005).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pymongo
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase
from tissflow_contracts import new_envelope, spec_for_type

from tissflow_runtime.metrics import OUTBOX_FAILURES, OUTBOX_PUBLISHED, OUTBOX_SCAN_PENDING

log = logging.getLogger(__name__)

PublishFn = Callable[[str, str, bytes, dict[str, str]], Awaitable[None]]
PENDING_FIELD = "outbox_pending"
# What the fallback scan reads (through the index on the mark).
MARKED = {PENDING_FIELD: True}
# Documents with entries not yet published.
PENDING = {PENDING_FIELD: True, "outbox.0": {"$exists": True}}
# Before the mark existed (see `OutboxRelay._prepare`).
_UNMARKED = {"outbox.0": {"$exists": True}}


def marked(write: dict[str, Any]) -> dict[str, Any]:
    """The same write with the document marked pending when it adds outbox entries: an
    update with `$push: {outbox: ...}` gets `$set: {outbox_pending: true}`, a document to
    insert with a non-empty `outbox` gets `outbox_pending: true`. Every writer of an
    outbox collection passes its update (or new document) through this."""
    push = write.get("$push")
    if push is not None:
        if "outbox" not in push:
            return write
        return {**write, "$set": {**write.get("$set", {}), PENDING_FIELD: True}}
    if write.get("outbox"):
        return {**write, PENDING_FIELD: True}
    return write


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
    """Publishes the pending outbox entries of the given collections: the documents writers
    name at once, the rest by a periodic scan (see the module's docstring)."""

    def __init__(
        self,
        db: AsyncDatabase,
        collections: Sequence[str],
        publish: PublishFn,
        scan_seconds: float = 300.0,
        write_lock: asyncio.Lock | None = None,
        scan_timeout: float = 600.0,
    ) -> None:
        self._db = db
        self.collections = list(collections)
        self._publish = publish
        self._scan_seconds = scan_seconds
        self._scan_timeout = scan_timeout
        self._write_lock = write_lock or asyncio.Lock()
        self._wake = asyncio.Event()
        # Named documents, in the order named; the value is the document as its writer
        # wrote it when that is all it can hold (a new document), else None: read it.
        self._hints: dict[tuple[str, Any], dict[str, Any] | None] = {}
        self._scan_requested = True  # the first round scans: a crash may have left entries
        self._prepared = False
        self._unmarked: set[str] = set()  # collections to read whole once (see _prepare)
        self._unmarked_writers: set[str] = set()  # warned about once
        self._task: asyncio.Task[None] | None = None

    def notify(
        self,
        collection: str | None = None,
        doc_id: Any = None,
        written: dict[str, Any] | None = None,
    ) -> None:
        """Called after a write that added outbox entries, so they go out at once. Name the
        document (`collection`, `doc_id`) so the relay reads only it; a bare call asks
        for a scan of every collection. A writer that has just inserted the document may
        hand it over (`written`): the relay then publishes its entries without reading it
        back (ADR 0021); a stale copy costs at most a repeated event, as the removal is
        guarded by the entry's `event_id`."""
        if collection is None or doc_id is None:
            self._scan_requested = True
        else:
            key = (collection, doc_id)
            # Named again without the document (another write): read it after all.
            self._hints[key] = written if self._hints.get(key, written) is not None else None
        self._wake.set()

    async def drain(self) -> int:
        """Publish everything pending now, scanning every collection's marked documents;
        returns how many entries went out."""
        sent = 0
        for name in self.collections:
            unmarked = name in self._unmarked
            found = 0
            async for doc in self._db[name].find(_UNMARKED if unmarked else MARKED, {"outbox": 1}):
                if doc.get("outbox"):
                    found += len(doc["outbox"])
                    sent += await self._publish_document(name, doc)
                else:
                    await self._clear_mark(name, doc["_id"])
            self._unmarked.discard(name)
            OUTBOX_SCAN_PENDING.labels(name).set(found)
        return sent

    async def _prepare(self) -> None:
        """Index the mark. A collection whose index the relay creates now may hold entries
        written before the mark existed: its next scan reads every document, once."""
        for name in self.collections:
            collection = self._db[name]
            if f"{PENDING_FIELD}_1" not in await collection.index_information():
                await collection.create_index(PENDING_FIELD)
                self._unmarked.add(name)
        self._prepared = True

    async def _clear_mark(self, name: str, doc_id: Any) -> None:
        # Marked with nothing to publish (an insert that was marked with an empty outbox,
        # say): clear it unless an entry arrived meanwhile.
        async with self._write_lock:
            await self._db[name].update_one(
                {"_id": doc_id, "outbox.0": {"$exists": False}}, {"$unset": {PENDING_FIELD: ""}}
            )

    async def drain_hinted(self) -> int:
        """Publish the pending entries of the documents writers named since the last round;
        returns how many entries went out. The named documents of a collection are read
        with one `_id $in` query (the filter FerretDB answers through its index), and
        documents whose events have different keys are published concurrently, so a
        round costs about one broker round trip, not one per document (ADR 0019); the
        documents of one key go out one after the other, in the order they were named."""
        hints, self._hints = self._hints, {}
        try:
            wanted: dict[str, list[Any]] = {}
            for name, doc_id in hints:
                wanted.setdefault(name, []).append(doc_id)
            chains: dict[Any, list[tuple[str, dict[str, Any]]]] = {}
            for name, ids in wanted.items():
                found = {
                    doc_id: written
                    for doc_id in ids
                    if (written := hints[(name, doc_id)]) is not None
                }
                unread = [doc_id for doc_id in ids if doc_id not in found]
                if unread:
                    async for d in self._db[name].find(
                        {"_id": {"$in": unread}}, {"outbox": 1, PENDING_FIELD: 1}
                    ):
                        if d.get("outbox"):
                            self._check_mark(name, d)
                        found[d["_id"]] = d
                for doc_id in ids:
                    doc = found.get(doc_id)
                    if doc is not None and doc.get("outbox"):
                        chains.setdefault(doc["outbox"][0]["key"], []).append((name, doc))

            async def in_order(chain: list[tuple[str, dict[str, Any]]]) -> int:
                return sum([await self._publish_document(name, doc) for name, doc in chain])

            done = await asyncio.gather(
                *(in_order(chain) for chain in chains.values()), return_exceptions=True
            )
        except BaseException:
            # Keep what was named for the next round (publish is idempotent), read afresh.
            for hint in hints:
                self._hints[hint] = None
            raise
        failed = [d for d in done if isinstance(d, BaseException)]
        if failed:
            for hint in hints:
                self._hints[hint] = None
            raise failed[0]
        return sum(d for d in done if not isinstance(d, BaseException))

    def _check_mark(self, name: str, doc: dict[str, Any]) -> None:
        if not doc.get(PENDING_FIELD) and name not in self._unmarked_writers:
            # A writer that forgot `marked(...)`: had its process died before this round,
            # the scan would never have found these entries.
            self._unmarked_writers.add(name)
            log.warning("outbox entries in %s without the pending mark", name)

    async def _publish_document(self, name: str, doc: dict[str, Any]) -> int:
        collection = self._db[name]
        sent = 0
        for entry in doc["outbox"]:
            await self._send(entry)
            sent += 1
            # Remove the head, only if it is still this entry (the guard is its
            # `event_id`): writers only append to the tail and relays remove only what
            # they published, so a head that is not ours means another relay published
            # ours and removed it; read the document again next round. The last entry's
            # removal also clears the mark, in the same update. Plain updates: nothing
            # comes back (a `find_one_and_update` returned the whole document, a large
            # verdict's result with it).
            async with self._write_lock:
                head = {"_id": doc["_id"], "outbox.0.event_id": entry["event_id"]}
                done = await collection.update_one(
                    {**head, "outbox": {"$size": 1}},
                    {"$pop": {"outbox": -1}, "$unset": {PENDING_FIELD: ""}},
                )
                if not done.matched_count:
                    done = await collection.update_one(head, {"$pop": {"outbox": -1}})
            if not done.matched_count:
                self._hints[(name, doc["_id"])] = None
                break
        return sent

    async def _send(self, entry: dict[str, Any]) -> None:
        headers = {"event_id": entry["event_id"], "type": entry["type"]}
        await self._publish(entry["topic"], entry["key"], entry["data"].encode(), headers)
        OUTBOX_PUBLISHED.labels(entry["topic"]).inc()

    async def _round(self) -> None:
        # Named documents first, always: a scan that is slow (it reads every document)
        # or failing must never hold back what writers just named.
        await self.drain_hinted()
        if not self._prepared:
            await self._prepare()
        if self._scan_requested:
            self._scan_requested = False
            # Its own deadline: reading a large collection may take longer than one
            # ordinary operation may (the client's timeoutMS).
            with pymongo.timeout(self._scan_timeout):
                await self.drain()

    async def _run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                await self._round()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Kafka or MongoDB down: scan again once back, back off (up to 5 s) and say
                # so once in a while.
                self._scan_requested = True
                OUTBOX_FAILURES.inc()
                failures += 1
                log.warning(
                    "outbox relay failed (%s); retrying",
                    type(exc).__name__,
                    exc_info=failures == 1,
                    extra={"rate_limited": True},
                )
                await asyncio.sleep(min(5.0, 0.5 * 2 ** min(failures, 4)))
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._scan_seconds)
            except TimeoutError:
                self._scan_requested = True

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
