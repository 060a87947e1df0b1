"""The local FerretDB finds documents through indexes, not by reading every one (ADR 0015).

FerretDB 1.24's SQLite backend read the whole table for every lookup, update and delete
by `_id`, and for every other filter; `deploy/local/ferretdb/*.patch` makes it search the
`_id` index, and the index a field leads when the filter asks that field to equal
strings. A sorted page reads the clinic's documents in the order of the index on its
first sort key, only up to the page's end, and a count the indexed conditions decide is
SQLite's COUNT. What the services rely on: the answers are MongoDB's (the pushed-down
part only narrows what is read; the whole filter still decides; values whose JSON text
does not sort as MongoDB sorts them are sorted in memory), and the plan names the index.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
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


@pytest.fixture
def lotes() -> Iterator[Collection[dict[str, Any]]]:
    """A clinic's lotes as batching stores them, plus documents whose sort field is not a
    recent date (an int, a string, null, missing, a date before 2001)."""
    client: MongoClient[dict[str, Any]] = MongoClient(MONGO)
    db = client[f"idx{uuid.uuid4().hex[:8]}"]
    lotes = db["lotes"]
    lotes.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
    lotes.create_index([("provider_id", ASCENDING), ("status", ASCENDING)])
    lotes.create_index([("created_at", DESCENDING)])  # the operator's pages, every clinic
    base = datetime(2026, 3, 1, tzinfo=UTC)
    rng = random.Random(20)
    docs: list[dict[str, Any]] = [
        {
            "_id": f"l{i:05d}",
            "provider_id": f"p{i % 4}",
            "status": rng.choice(["enviado", "protocolado", "excluido"]),
            # ties of the first sort key: the other keys decide
            "created_at": base + timedelta(seconds=rng.randrange(400)),
            "numero": rng.randrange(1_000),
            "guias": [{"numero": str(g), "itens": ["x" * 50] * 5} for g in range(3)],
        }
        for i in range(1_600)
    ]
    odd: list[Any] = [7, 1_000, "2026-01-01", None, datetime(1999, 1, 1, tzinfo=UTC)]
    for j, value in enumerate(odd):
        docs.append({"_id": f"o{j}", "provider_id": "p9", "status": "enviado", "numero": j})
        docs.append({"_id": f"o{j}b", "provider_id": "p9", "status": "enviado", "numero": j})
        docs[-2]["created_at"] = value
    docs += [
        {"_id": f"n{i:03d}", "provider_id": "p9", "created_at": base + timedelta(days=i)}
        for i in range(60)
    ]
    lotes.insert_many(docs)
    try:
        yield lotes
    finally:
        client.drop_database(db.name)
        client.close()


def _keys(docs: Iterable[dict[str, Any]], sort: list[tuple[str, int]]) -> list[tuple[Any, ...]]:
    return [tuple(d.get(k) for k, _ in sort) for d in docs]


def test_sorted_pages_and_counts_answer_as_mongodb_does(
    lotes: Collection[dict[str, Any]],
) -> None:
    """A page (sort, skip, limit) and a count are the answers of a reading that sorts and
    counts every matching document itself (an aggregation: FerretDB pushes neither
    down there); on FerretDB the page walks the index and the count is SQLite's."""
    is_ferretdb = "ferretdbVersion" in lotes.database.command("buildInfo")
    sorts = [
        [("created_at", DESCENDING), ("_id", ASCENDING)],  # Histórico, Demonstrativos
        [("created_at", DESCENDING), ("numero", DESCENDING)],  # Pesquisa de Lotes
        [("created_at", ASCENDING), ("numero", ASCENDING)],
    ]
    filters: list[dict[str, Any]] = [
        {"provider_id": "p1"},
        {"provider_id": "p2", "status": {"$ne": "excluido"}},
        {"provider_id": "p3", "status": "protocolado"},
        {"provider_id": "p9"},  # sort values that are not recent dates: sorted in memory
        {"provider_id": "p9", "status": {"$ne": "enviado"}},  # `status` missing: counted
        {"provider_id": {"$in": ["p0", "p9"]}},
        {"numero": {"$lt": 500}},  # filtered in memory, read in `created_at`'s order
        {},  # every clinic
    ]
    for flt in filters:
        for sort in sorts:
            for skip in (0, 20, 40, 390):
                page = lotes.find(flt).sort(sort).skip(skip).limit(20)
                reference = lotes.aggregate(
                    [{"$match": flt}, {"$sort": dict(sort)}, {"$skip": skip}, {"$limit": 20}]
                )
                assert _keys(page, sort) == _keys(reference, sort), (flt, sort, skip)
        counted = next(lotes.aggregate([{"$match": flt}, {"$count": "n"}]), {"n": 0})["n"]
        assert lotes.count_documents(flt) == counted, flt
    assert lotes.count_documents({"provider_id": "p2", "status": {"$ne": "excluido"}}) > 0
    assert lotes.count_documents({"provider_id": "nenhum"}) == 0
    assert lotes.count_documents({"provider_id": "p9", "status": {"$ne": "enviado"}}) == 60
    if is_ferretdb:
        explained = lotes.database.command(
            "explain",
            {
                "find": lotes.name,
                "filter": {"provider_id": "p2", "status": {"$ne": "excluido"}},
                "sort": {"created_at": -1, "numero": -1},
                "limit": 20,
            },
        )
        plan = " ".join(explained["queryPlanner"]["Plan"])
        assert "USING INDEX" in plan and "provider_id_1_created_at_-1" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # read in the index's order, not sorted
        explained = lotes.database.command(
            "explain", {"find": lotes.name, "filter": {}, "sort": {"created_at": -1}, "limit": 20}
        )
        plan = " ".join(explained["queryPlanner"]["Plan"])
        assert "USING INDEX" in plan and "created_at_-1" in plan, plan
