"""The local FerretDB finds documents through indexes, not by reading every one (ADR 0015).

FerretDB 1.24's SQLite backend read the whole table for every lookup, update and delete
by `_id`, and for every other filter; `deploy/local/ferretdb/*.patch` makes it search the
`_id` index, and the index a field leads when the filter asks that field to equal
strings. What the services rely on: the answers are MongoDB's (the pushed-down part only
narrows what is read; the whole filter still decides), and the plan names the index.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.collection import Collection

from tests.conftest import MONGO

pytestmark = pytest.mark.integration


@pytest.fixture
def files() -> Iterator[Collection[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(MONGO)
    db = client[f"idx{uuid.uuid4().hex[:8]}"]
    files = db["files"]
    files.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
    files.insert_many(
        [
            {
                "_id": f"f{i:05d}",
                "provider_id": f"p{i % 10}",
                "status": "importado" if i % 3 else "invalido",
                "created_at": i,
                "outbox": [],
            }
            for i in range(2_000)
        ]
    )
    try:
        yield files
    finally:
        client.drop_database(db.name)
        client.close()


def _plan(files: Collection[dict[str, Any]], flt: dict[str, Any]) -> str:
    explained = files.database.command("explain", {"find": files.name, "filter": flt})
    return " ".join(explained.get("queryPlanner", {}).get("Plan", []))


def test_filters_answer_as_mongodb_does_through_the_indexes(
    files: Collection[dict[str, Any]],
) -> None:
    is_ferretdb = "ferretdbVersion" in files.database.command("buildInfo")
    # `_id` with other conditions: the other conditions still decide.
    assert files.find_one({"_id": "f00004", "status": "importado"})["_id"] == "f00004"
    assert files.find_one({"_id": "f00003", "status": "importado"}) is None
    # `$in` on `_id`, `$eq`, and an indexed field with conditions on others.
    wanted = ["f00001", "f00002", "f00999", "nao-existe"]
    assert sorted(d["_id"] for d in files.find({"_id": {"$in": wanted}})) == wanted[:3]
    assert files.count_documents({"provider_id": {"$eq": "p3"}}) == 200
    page = list(
        files.find({"provider_id": "p3", "status": "invalido"}).sort("created_at", -1).limit(3)
    )
    assert [d["_id"] for d in page] == ["f01983", "f01953", "f01923"]
    assert (
        files.count_documents({"provider_id": {"$in": ["p1", "p2"]}, "created_at": {"$gt": 1000}})
        == 200
    )
    # Writes by `_id`, with and without more conditions.
    files.update_one({"_id": "f00007", "status": "importado"}, {"$push": {"outbox": {"e": 1}}})
    assert files.find_one({"_id": "f00007"})["outbox"] == [{"e": 1}]
    assert (
        files.delete_many(
            {"_id": {"$in": ["f00009", "f00010"]}, "status": "importado"}
        ).deleted_count
        == 1
    )
    if is_ferretdb:
        for flt in (
            {"_id": "f00004"},
            {"_id": "f00004", "status": "importado"},
            {"_id": {"$in": wanted}},
            {"provider_id": "p3", "status": "invalido"},
            {"provider_id": {"$in": ["p1", "p2"]}},
        ):
            assert "USING INDEX" in _plan(files, flt), flt
        # A field no index leads is still read from every document (and still answered).
        assert "USING INDEX" not in _plan(files, {"status": "invalido"})
        assert files.count_documents({"status": "invalido"}) == 667
