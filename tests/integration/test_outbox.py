"""The outbox relay against the real FerretDB: each entry published once, in order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from tissflow_contracts import OperadoraReport
from tissflow_runtime.outbox import MARKED, PENDING_FIELD, OutboxRelay, marked, outbox_entry

from tests.support import Stack

pytestmark = pytest.mark.integration


async def test_relay_publishes_each_entry_once_in_order(stack: Stack) -> None:
    client: AsyncMongoClient = AsyncMongoClient(stack.mongo)
    db = client[f"{stack.prefix}_outboxtest"]
    published: list[tuple[str, str, bytes]] = []

    async def publish(topic: str, key: str, data: bytes, headers: dict[str, str]) -> None:
        published.append((topic, key, data))

    entries = [
        outbox_entry(OperadoraReport(peg="1", status=s), key="1", correlation_id="c", producer="t")
        for s in (2, 5, 3)
    ]
    doc_id = uuid.uuid4().hex
    await db.things.insert_one(marked({"_id": doc_id, "outbox": entries}))
    await db.things.insert_one({"_id": uuid.uuid4().hex, "outbox": []})
    relay = OutboxRelay(db, ["things"], publish)
    try:
        assert await relay.drain() == 3
        assert await relay.drain() == 0
        assert [p[2].decode() for p in published] == [e["data"] for e in entries]
        assert {p[0] for p in published} == {"operadora.inbound"}
        published_doc = await db.things.find_one({"_id": doc_id})
        assert published_doc["outbox"] == [] and PENDING_FIELD not in published_doc
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_the_fallback_scan_reads_only_marked_documents(stack: Stack) -> None:
    """Writers mark what they push (`marked`); the scan finds pending entries through the
    mark's index, and the pop that empties the outbox clears the mark."""
    client: AsyncMongoClient = AsyncMongoClient(stack.mongo)
    db = client[f"{stack.prefix}_outboxscan"]
    published: list[str] = []

    async def publish(topic: str, key: str, data: bytes, headers: dict[str, str]) -> None:
        published.append(headers["event_id"])

    def report(status: int) -> dict[str, Any]:
        payload = OperadoraReport(peg="1", status=status)
        return outbox_entry(payload, key="1", correlation_id="c", producer="t")

    try:
        await db.things.insert_many([{"_id": f"old{i}", "outbox": []} for i in range(300)])
        relay = OutboxRelay(db, ["things"], publish)
        await relay._prepare()  # what the running relay does first: index the mark
        assert await relay.drain() == 0
        first, second = report(2), report(5)
        await db.things.insert_one(marked({"_id": "new", "outbox": [first]}))
        await db.things.update_one(
            {"_id": "old7"}, marked({"$set": {"x": 1}, "$push": {"outbox": second}})
        )
        assert await relay.drain() == 2
        assert sorted(published) == sorted([first["event_id"], second["event_id"]])
        assert await db.things.count_documents({PENDING_FIELD: True}) == 0
        assert await relay.drain() == 0
        if "ferretdbVersion" in await db.command("buildInfo"):
            explained = await db.command("explain", {"find": "things", "filter": MARKED})
            plan = " ".join(explained["queryPlanner"]["Plan"])
            assert "USING INDEX" in plan and "outbox_pending_1" in plan, plan
    finally:
        await client.drop_database(db.name)
        await client.close()
