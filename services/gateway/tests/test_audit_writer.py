"""The access log is written off the request's path, in batches, and nothing it was given
is lost or stored twice when the database fails for a while (a fake collection that
fails on demand and refuses a repeated `_id` as MongoDB does; no server)."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.errors import AutoReconnect, BulkWriteError
from tissflow_gateway.audit import AuditWriter


class FlakyCollection:
    def __init__(self) -> None:
        self.stored: dict[Any, dict[str, Any]] = {}
        self.calls: list[int] = []
        self.fail_next = 0  # that many insert_many calls fail before writing anything
        self.lose_answer_next = 0  # that many write everything, then fail

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> None:
        self.calls.append(len(docs))
        await asyncio.sleep(0.01)
        if self.fail_next:
            self.fail_next -= 1
            raise AutoReconnect("banco fora")
        errors = []
        for n, doc in enumerate(docs):
            if doc["_id"] in self.stored:
                errors.append({"index": n, "code": 11000, "errmsg": "duplicate key"})
            else:
                self.stored[doc["_id"]] = dict(doc)
        if self.lose_answer_next:
            self.lose_answer_next -= 1
            raise AutoReconnect("resposta perdida")
        if errors:
            raise BulkWriteError({"writeErrors": errors, "writeConcernErrors": []})


async def wait_until(condition: Any, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "tempo esgotado"
        await asyncio.sleep(0.01)


async def test_entries_of_many_requests_are_stored_in_few_writes() -> None:
    collection = FlakyCollection()
    writer = AuditWriter(collection)  # type: ignore[arg-type]
    for n in range(50):
        writer.add({"path": f"/api/v1/uploads#{n}"})
    await wait_until(lambda: len(collection.stored) == 50)
    assert len(collection.calls) <= 2 and writer.queued == 0
    await writer.flush()


async def test_a_database_outage_delays_entries_but_loses_and_repeats_none() -> None:
    collection = FlakyCollection()
    collection.fail_next = 2
    collection.lose_answer_next = 1  # stored, but the answer never came: tried again
    writer = AuditWriter(collection)  # type: ignore[arg-type]
    for n in range(10):
        writer.add({"path": f"/p{n}"})
    await wait_until(lambda: writer.queued == 0, seconds=10)
    assert sorted(d["path"] for d in collection.stored.values()) == sorted(
        f"/p{n}" for n in range(10)
    )
    assert len(collection.calls) >= 4
    await writer.flush()


async def test_what_is_queued_at_shutdown_is_stored() -> None:
    collection = FlakyCollection()
    collection.fail_next = 1
    writer = AuditWriter(collection)  # type: ignore[arg-type]
    writer.add({"path": "/ultimo"})
    await writer.flush()
    assert [d["path"] for d in collection.stored.values()] == ["/ultimo"]
    assert writer.queued == 0
