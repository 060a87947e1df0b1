"""The outbox relay against the real FerretDB: each entry published once, in order."""

from __future__ import annotations

import uuid

import pytest
from pymongo import AsyncMongoClient
from tissflow_contracts import OperadoraReport
from tissflow_runtime.outbox import OutboxRelay, outbox_entry

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
    await db.things.insert_one({"_id": doc_id, "outbox": entries})
    await db.things.insert_one({"_id": uuid.uuid4().hex, "outbox": []})
    relay = OutboxRelay(db, ["things"], publish)
    try:
        assert await relay.drain() == 3
        assert await relay.drain() == 0
        assert [p[2].decode() for p in published] == [e["data"] for e in entries]
        assert {p[0] for p in published} == {"operadora.inbound"}
        assert (await db.things.find_one({"_id": doc_id}))["outbox"] == []
    finally:
        await client.drop_database(db.name)
        await client.close()
