"""Batching's Mongo adapters on the real FerretDB: the portal's lote numbers stay unique
under concurrency, and a lote's conditional transition has one winner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient
from tissflow_batching.adapters.mongo import MongoLoteRepository, MongoNumberSequence

from tests.support import Stack

pytestmark = pytest.mark.integration


def test_forty_concurrent_numbers_are_forty_distinct_numbers(stack: Stack) -> None:
    async def run() -> list[int]:
        client: AsyncMongoClient = AsyncMongoClient(stack.mongo, tz_aware=True)
        try:
            db = client[f"{stack.prefix}_numeros_{uuid.uuid4().hex[:6]}"]
            numbers = MongoNumberSequence(db, asyncio.Lock())
            return await asyncio.gather(*(numbers.next("lote-331988") for _ in range(40)))
        finally:
            await client.close()

    got = asyncio.run(run())
    assert sorted(got) == list(range(1, 41))


def test_one_of_many_concurrent_sends_wins(stack: Stack) -> None:
    async def run() -> list[object]:
        client: AsyncMongoClient = AsyncMongoClient(stack.mongo, tz_aware=True)
        try:
            db = client[f"{stack.prefix}_lotes_{uuid.uuid4().hex[:6]}"]
            repo = MongoLoteRepository(db, asyncio.Lock())
            await repo.create_indexes()
            doc = {
                "_id": "L1",
                "numero": 1_000_001,
                "registro_ans": "331988",
                "status": "fechado",
                "log": [],
                "outbox": [],
            }
            assert await repo.add(doc)
            assert not await repo.add(doc)  # the same lote twice: refused, not duplicated
            now = datetime.now(UTC)
            results = await asyncio.gather(
                *(
                    repo.transition(
                        "L1",
                        ["fechado"],
                        {"status": "enviado"},
                        {"at": now, "by": f"u{i}", "acao": "enviar"},
                        {"event": i},
                    )
                    for i in range(20)
                )
            )
            stored = await db["lotes"].find_one({"_id": "L1"})
            assert stored is not None
            assert len(stored["outbox"]) == 1 and len(stored["log"]) == 1
            return [r for r in results if r is not None]
        finally:
            await client.close()

    assert len(asyncio.run(run())) == 1
