"""The ops figures every service serves (`/internal/dlq/resumo`), on the real FerretDB: the
outbox backlog counts pending entries and ages the oldest; parked messages by status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient
from tissflow_contracts import OperadoraReport
from tissflow_runtime.backlog import dead_letter_counts, outbox_backlog
from tissflow_runtime.outbox import marked, outbox_entry

from tests.conftest import MONGO

pytestmark = pytest.mark.integration


async def test_backlog_counts_pending_entries_and_ages_the_oldest() -> None:
    client: AsyncMongoClient = AsyncMongoClient(MONGO, tz_aware=True)
    db = client[f"backlog_{uuid.uuid4().hex[:8]}"]
    try:
        entries = [
            outbox_entry(
                OperadoraReport(peg="1", status=s), key="1", correlation_id="c", producer="t"
            )
            for s in (2, 5)
        ]
        await db.things.insert_one(marked({"_id": "a", "outbox": entries}))
        await db.things.insert_one({"_id": "b", "outbox": []})  # published: not a backlog
        await db.empty.insert_one({"_id": "c"})
        await db.dead_letters.insert_many(
            [{"_id": "d1", "status": "pendente"}, {"_id": "d2", "status": "reprocessado"}]
        )
        before = datetime.now(UTC)

        things, empty = await outbox_backlog(db, ["things", "empty"])

        assert (things["collection"], things["documentos"], things["pendentes"]) == ("things", 1, 2)
        age = timedelta(seconds=things["idade_segundos"])
        assert timedelta(0) <= age <= datetime.now(UTC) - before + timedelta(seconds=60)
        assert (empty["documentos"], empty["pendentes"], empty["idade_segundos"]) == (0, 0, None)
        assert await dead_letter_counts(db) == {"pendente": 1, "reprocessado": 1}
    finally:
        await client.drop_database(db.name)
        await client.close()
