"""The relay reads only the documents writers name; scans are the fallback (fakes, fast)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from tissflow_contracts import OperadoraReport
from tissflow_runtime.outbox import OutboxRelay, outbox_entry


class FakeCollection:
    """Enough of a PyMongo async collection for the relay (copies out, like a server),
    counting what it reads."""

    def __init__(self) -> None:
        self.docs: dict[Any, dict[str, Any]] = {}
        self.scanned = 0
        self.by_id = 0

    def find(self, filter: dict[str, Any], projection: dict[str, Any]) -> Any:
        if set(filter) == {"_id"}:  # `_id $in`: read through the index, one query
            self.by_id += 1
            named = [self.docs[i] for i in filter["_id"]["$in"] if i in self.docs]

            async def by_id() -> Any:
                for doc in named:
                    yield copy.deepcopy(doc)

            return by_id()
        docs = list(self.docs.values())

        async def gen() -> Any:
            for doc in docs:
                self.scanned += 1
                if doc.get("outbox"):
                    yield copy.deepcopy(doc)

        return gen()

    async def find_one(self, filter: dict[str, Any], projection: dict[str, Any]) -> Any:
        assert set(filter) == {"_id"}, "FerretDB scans for any other filter"
        self.by_id += 1
        doc = self.docs.get(filter["_id"])
        return copy.deepcopy(doc) if doc and doc.get("outbox") else None

    async def find_one_and_update(
        self, filter: dict[str, Any], update: dict[str, Any], **kwargs: Any
    ) -> Any:
        assert set(filter) == {"_id"}, "FerretDB scans for any other filter"
        doc = self.docs.get(filter["_id"])
        if doc is None:
            return None
        before = copy.deepcopy(doc)
        if doc["outbox"]:
            doc["outbox"].pop(0)
        return before


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
    things.docs["new"] = {"_id": "new", "outbox": [first, second]}
    relay.notify("things", "new")
    assert await relay.drain_hinted() == 2
    assert sent == [first["event_id"], second["event_id"]]
    assert (things.scanned, things.by_id) == (0, 1)
    assert things.docs["new"]["outbox"] == []
    assert await relay.drain_hinted() == 0  # hints are used once


async def test_running_relay_scans_at_start_then_follows_hints() -> None:
    things = FakeCollection()
    left = entry(2)  # left behind by a crashed process: nobody will name it
    things.docs["old"] = {"_id": "old", "outbox": [left]}
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
        things.docs["fresh"] = {"_id": "fresh", "outbox": [fresh]}
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
    things.docs["x"] = {"_id": "x", "outbox": [pending]}
    sent: list[str] = []
    relay = relay_over(things, sent, scan_seconds=3600)
    relay.start()
    try:
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.01)
        again = entry(6)
        things.docs["y"] = {"_id": "y", "outbox": [again]}
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
    things.docs["d"] = {"_id": "d", "outbox": list(entries)}
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
        things.docs["fresh"] = {"_id": "fresh", "outbox": [fresh]}
        relay.notify("things", "fresh")
        for _ in range(300):
            if sent:
                break
            await asyncio.sleep(0.01)
        assert sent == [fresh["event_id"]]
        assert things.docs["fresh"]["outbox"] == []
    finally:
        await relay.stop()


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
