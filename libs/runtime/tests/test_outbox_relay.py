"""The relay reads only the documents writers name; scans are the fallback (fakes, fast)."""

from __future__ import annotations

import asyncio
import copy
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from tissflow_contracts import OperadoraReport
from tissflow_runtime.outbox import MARKED, PENDING_FIELD, OutboxRelay, marked, outbox_entry


def _matches(doc: dict[str, Any], filter: dict[str, Any]) -> bool:
    for key, want in filter.items():
        if key == "outbox.0":
            if bool(doc.get("outbox")) != want["$exists"]:
                return False
        elif key == "outbox.0.event_id":
            if not doc.get("outbox") or doc["outbox"][0]["event_id"] != want:
                return False
        elif isinstance(want, dict) and "$size" in want:
            if len(doc.get(key) or []) != want["$size"]:
                return False
        elif doc.get(key) != want:
            return False
    return True


class FakeCollection:
    """Enough of a PyMongo async collection for the relay (copies out, like a server),
    counting the documents it reads: a scan for the mark reads only marked documents
    (its index), any other scan reads them all."""

    def __init__(self, indexed: bool = True) -> None:
        self.docs: dict[Any, dict[str, Any]] = {}
        self.indexes = {"_id_": {}, "outbox_pending_1": {}} if indexed else {"_id_": {}}
        self.scanned = 0
        self.by_id = 0

    async def index_information(self) -> dict[str, Any]:
        return dict(self.indexes)

    async def create_index(self, key: str) -> str:
        self.indexes[f"{key}_1"] = {}
        return f"{key}_1"

    def find(self, filter: dict[str, Any], projection: dict[str, Any]) -> Any:
        if set(filter) == {"_id"}:  # `_id $in`: read through the index, one query
            self.by_id += 1
            named = [self.docs[i] for i in filter["_id"]["$in"] if i in self.docs]

            async def by_id() -> Any:
                for doc in named:
                    yield copy.deepcopy(doc)

            return by_id()
        docs = list(self.docs.values())
        if filter == MARKED:
            docs = [d for d in docs if d.get(PENDING_FIELD)]

        async def gen() -> Any:
            for doc in docs:
                self.scanned += 1
                if _matches(doc, filter):
                    yield copy.deepcopy(doc)

        return gen()

    async def find_one(self, filter: dict[str, Any], projection: dict[str, Any]) -> Any:
        assert set(filter) == {"_id"}, "named documents are read by `_id`"
        self.by_id += 1
        doc = self.docs.get(filter["_id"])
        return copy.deepcopy(doc) if doc and doc.get("outbox") else None

    def _update(self, doc: dict[str, Any], update: dict[str, Any]) -> None:
        for op, fields in update.items():
            for key, value in fields.items():
                if op == "$pop":
                    doc[key].pop(0)
                elif op == "$unset":
                    doc.pop(key, None)
                elif op == "$set":
                    doc[key] = value
                elif op == "$push":
                    doc.setdefault(key, []).append(value)

    async def update_one(self, filter: dict[str, Any], update: dict[str, Any]) -> Any:
        doc = self.docs.get(filter["_id"])
        matched = doc is not None and _matches(doc, filter)
        if doc is not None and matched:
            self._update(doc, update)
        return SimpleNamespace(matched_count=int(matched))

    def write(self, doc_id: Any, *entries: dict[str, Any]) -> None:
        """A writer: pushes entries and marks the document, in one update."""
        if doc_id not in self.docs:
            self.docs[doc_id] = marked({"_id": doc_id, "outbox": list(entries)})
            return
        for e in entries:
            self._update(self.docs[doc_id], marked({"$push": {"outbox": e}}))


def entry(status: int) -> dict[str, Any]:
    report = OperadoraReport(peg="1", status=status)
    return outbox_entry(report, key="1", correlation_id="c", producer="t")


def relay_over(collection: FakeCollection, sent: list[str], **kwargs: Any) -> OutboxRelay:
    async def publish(topic: str, key: str, data: bytes, headers: dict[str, str]) -> None:
        sent.append(headers["event_id"])

    return OutboxRelay({"things": collection}, ["things"], publish, **kwargs)  # type: ignore[arg-type]


async def test_a_named_document_is_read_by_id_not_by_scanning() -> None:
    things = FakeCollection()
    for i in range(500):  # a year of documents with nothing pending
        things.docs[i] = {"_id": i, "outbox": []}
    sent: list[str] = []
    relay = relay_over(things, sent)
    first, second = entry(2), entry(5)
    things.write("new", first, second)
    relay.notify("things", "new")
    assert await relay.drain_hinted() == 2
    assert sent == [first["event_id"], second["event_id"]]
    assert (things.scanned, things.by_id) == (0, 1)
    assert things.docs["new"]["outbox"] == []
    assert await relay.drain_hinted() == 0  # hints are used once


async def test_running_relay_scans_at_start_then_follows_hints() -> None:
    things = FakeCollection()
    left = entry(2)  # left behind by a crashed process: nobody will name it
    things.write("old", left)
    for i in range(100):
        things.docs[i] = {"_id": i, "outbox": []}
    sent: list[str] = []
    relay = relay_over(things, sent, scan_seconds=3600)
    relay.start()
    try:
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.01)
        assert sent == [left["event_id"]]
        scanned = things.scanned
        fresh = entry(3)
        things.write("fresh", fresh)
        relay.notify("things", "fresh")
        for _ in range(100):
            if len(sent) == 2:
                break
            await asyncio.sleep(0.01)
        assert sent[1] == fresh["event_id"]
        assert things.scanned == scanned, "a named write must not trigger a scan"
    finally:
        await relay.stop()


async def test_a_bare_notify_still_scans_everything() -> None:
    things = FakeCollection()
    pending = entry(5)
    things.write("x", pending)
    sent: list[str] = []
    relay = relay_over(things, sent, scan_seconds=3600)
    relay.start()
    try:
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.01)
        again = entry(6)
        things.write("y", again)
        relay.notify()
        for _ in range(100):
            if len(sent) == 2:
                break
            await asyncio.sleep(0.01)
        assert sent == [pending["event_id"], again["event_id"]]
    finally:
        await relay.stop()


async def test_racing_relays_lose_nothing() -> None:
    """Two instances publish the same document: whatever the interleaving, every entry
    goes out at least once (consumers skip repeats) and the outbox ends empty."""
    things = FakeCollection()
    entries = [entry(s) for s in (2, 5, 3, 6)]
    things.write("d", *entries)
    sent_a: list[str] = []
    sent_b: list[str] = []
    a, b = relay_over(things, sent_a), relay_over(things, sent_b)
    snapshot = copy.deepcopy(things.docs["d"])  # both read the document before either pops
    await a._publish_document("things", copy.deepcopy(snapshot))
    await b._publish_document("things", copy.deepcopy(snapshot))
    while a._hints or b._hints:
        await a.drain_hinted()
        await b.drain_hinted()
    assert things.docs["d"]["outbox"] == []
    assert {e["event_id"] for e in entries} <= set(sent_a) | set(sent_b)


async def test_named_documents_go_out_while_the_scan_fails() -> None:
    """A scan reads every document: on a large collection it may fail (a deadline) again
    and again; what writers name must still go out at once (issue 20)."""

    class SlowToScan(FakeCollection):
        def find(self, filter: dict[str, Any], projection: dict[str, Any]) -> Any:
            if set(filter) == {"_id"}:  # a named read goes through the index
                return super().find(filter, projection)
            self.scanned += 1
            raise TimeoutError("the scan took too long")

    things = SlowToScan()
    sent: list[str] = []
    relay = relay_over(things, sent, scan_seconds=3600)
    relay.start()
    try:
        for _ in range(100):
            if things.scanned:
                break
            await asyncio.sleep(0.01)
        assert things.scanned, "the first round scans (and fails)"
        fresh = entry(4)
        things.write("fresh", fresh)
        relay.notify("things", "fresh")
        for _ in range(300):
            if sent:
                break
            await asyncio.sleep(0.01)
        assert sent == [fresh["event_id"]]
        assert things.docs["fresh"]["outbox"] == []
    finally:
        await relay.stop()


async def test_the_scan_reads_only_marked_documents_and_the_last_pop_clears_the_mark() -> None:
    things = FakeCollection()
    for i in range(1_000):  # a year of published documents: no mark
        things.docs[i] = {"_id": i, "outbox": []}
    first, second = entry(2), entry(5)
    things.write("d", first, second)
    sent: list[str] = []
    relay = relay_over(things, sent)
    assert await relay.drain() == 2
    assert sent == [first["event_id"], second["event_id"]]
    assert things.scanned == 1
    assert things.docs["d"]["outbox"] == [] and PENDING_FIELD not in things.docs["d"]
    assert await relay.drain() == 0
    assert things.scanned == 1  # nothing marked is left to read


async def test_a_push_racing_the_relays_pops_keeps_the_document_marked() -> None:
    """The writer pushes while the relay publishes: the entry the relay did not see keeps
    the mark, whether it came before the relay's last pop or after it."""
    things = FakeCollection()
    e1, e2, e3 = entry(2), entry(5), entry(3)
    things.write("d", e1)
    sent: list[str] = []
    relay = relay_over(things, sent)
    seen = copy.deepcopy(things.docs["d"])  # the relay read [e1]...
    things.write("d", e2)  # ...then the writer pushed e2
    await relay._publish_document("things", seen)  # publishes e1 and pops it
    assert things.docs["d"]["outbox"] == [e2] and things.docs["d"][PENDING_FIELD] is True
    relay._hints.clear()  # the writer's process died before it named the document
    assert await relay.drain() == 1  # the fallback scan finds e2 through the mark
    assert PENDING_FIELD not in things.docs["d"]
    things.write("d", e3)  # a push after the pop that cleared the mark sets it again
    assert await relay.drain() == 1
    assert sent == [e1["event_id"], e2["event_id"], e3["event_id"]]
    assert things.docs["d"]["outbox"] == [] and PENDING_FIELD not in things.docs["d"]


async def test_a_collection_without_the_marks_index_is_read_whole_once() -> None:
    """Entries written before the mark existed: the relay that creates the index reads
    every document once, then only marked ones."""
    things = FakeCollection(indexed=False)
    old = entry(2)
    things.docs["old"] = {"_id": "old", "outbox": [old]}  # no mark
    for i in range(50):
        things.docs[i] = {"_id": i, "outbox": []}
    sent: list[str] = []
    relay = relay_over(things, sent, scan_seconds=3600)
    relay.start()
    try:
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.01)
        assert sent == [old["event_id"]]
        assert "outbox_pending_1" in things.indexes
        scanned = things.scanned
        assert scanned == 51
        things.write("new", entry(4))
        relay.notify()  # a bare notify: a scan, of the marked documents only
        for _ in range(100):
            if len(sent) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(sent) == 2 and things.scanned == scanned + 1
    finally:
        await relay.stop()


def test_marked_marks_writes_that_add_entries_only() -> None:
    e = entry(2)
    assert marked({"$set": {"a": 1}, "$push": {"outbox": e}}) == {
        "$set": {"a": 1, PENDING_FIELD: True},
        "$push": {"outbox": e},
    }
    assert marked({"$push": {"log": 1}}) == {"$push": {"log": 1}}
    assert marked({"_id": "x", "outbox": [e]})[PENDING_FIELD] is True
    assert PENDING_FIELD not in marked({"_id": "x", "outbox": []})


async def test_a_writer_that_forgets_the_mark_is_named_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    things = FakeCollection()
    forgotten = entry(2)
    things.docs["d"] = {"_id": "d", "outbox": [forgotten]}  # pushed without `marked`
    sent: list[str] = []
    relay = relay_over(things, sent)
    relay.notify("things", "d")
    with caplog.at_level(logging.WARNING, logger="tissflow_runtime.outbox"):
        assert await relay.drain_hinted() == 1
    assert "outbox entries in things without the pending mark" in caplog.text


async def test_named_documents_are_read_in_one_query_each_keys_entries_in_order() -> None:
    things = FakeCollection()
    sent: list[str] = []
    relay = relay_over(things, sent)
    entries = {}
    for n in range(10):
        report = OperadoraReport(peg=str(n % 3), status=2)
        entries[n] = outbox_entry(report, key=str(n % 3), correlation_id="c", producer="t")
        things.docs[n] = {"_id": n, "outbox": [entries[n]]}
        relay.notify("things", n)
    assert await relay.drain_hinted() == 10
    assert things.by_id == 1 and things.scanned == 0
    assert sorted(sent) == sorted(e["event_id"] for e in entries.values())
    for key in range(3):  # one key's events in the order their documents were named
        mine = [entries[n]["event_id"] for n in range(10) if n % 3 == key]
        assert [e for e in sent if e in mine] == mine


async def test_a_document_handed_over_by_its_writer_goes_out_without_a_read() -> None:
    """A writer that has just inserted a document hands it to the relay (ADR 0021): no
    read by `_id`; named again without it (another write), the relay reads it after all."""
    things = FakeCollection()
    sent: list[str] = []
    relay = relay_over(things, sent)
    fresh = entry(2)
    things.write("new", fresh)
    relay.notify("things", "new", {"_id": "new", "outbox": [fresh]})
    assert await relay.drain_hinted() == 1
    assert sent == [fresh["event_id"]] and things.by_id == 0
    assert things.docs["new"]["outbox"] == [] and PENDING_FIELD not in things.docs["new"]
    first, second = entry(5), entry(3)
    things.write("other", first)
    relay.notify("things", "other", {"_id": "other", "outbox": [first]})
    things.write("other", second)
    relay.notify("things", "other")
    assert await relay.drain_hinted() == 2
    assert sent[1:] == [first["event_id"], second["event_id"]] and things.by_id == 1


async def test_a_stale_handed_over_document_repeats_an_event_at_most_and_loses_none() -> None:
    """The copy a writer handed over was published meanwhile by another relay: the
    removal, guarded by the entry's `event_id`, removes nothing it did not publish."""
    things = FakeCollection()
    e1, e2 = entry(2), entry(5)
    things.write("d", e1)
    stale = copy.deepcopy(things.docs["d"])
    sent_other: list[str] = []
    assert await relay_over(things, sent_other).drain() == 1  # another instance's scan
    things.write("d", e2)
    sent: list[str] = []
    relay = relay_over(things, sent)
    relay.notify("things", "d", stale)
    while relay._hints or not things.docs["d"]["outbox"] == []:
        await relay.drain_hinted()
    assert things.docs["d"]["outbox"] == []
    assert sent == [e1["event_id"], e2["event_id"]]  # e1 twice overall: consumers skip it
