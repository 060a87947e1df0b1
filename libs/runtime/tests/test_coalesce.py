"""Concurrent look-ups of single keys are answered by one query (fakes, fast)."""

from __future__ import annotations

import asyncio

from tissflow_runtime.coalesce import KeyBatcher


async def test_concurrent_askers_share_one_query_each_gets_its_own_answer() -> None:
    queries: list[list[str]] = []

    async def fetch(keys: list[str]) -> dict[str, dict[str, str]]:
        queries.append(sorted(keys))
        return {k: {"v": k.upper()} for k in keys if k != "ausente"}

    batcher = KeyBatcher(fetch)
    answers = await asyncio.gather(
        batcher.get("a"), batcher.get("b"), batcher.get("a"), batcher.get("ausente")
    )
    assert queries == [["a", "ausente", "b"]]
    assert answers == [{"v": "A"}, {"v": "B"}, {"v": "A"}, None]
    assert answers[0] is not answers[2]  # two askers of a key never share a mutable answer
    assert await batcher.get_many(["c", "ausente"]) == {"c": {"v": "C"}}
    assert queries[-1] == ["ausente", "c"]  # a later ask is a new query: nothing cached


async def test_a_failed_query_fails_every_asker_and_the_next_ask_queries_again() -> None:
    calls = 0

    async def fetch(keys: list[str]) -> dict[str, str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("banco fora do ar")
        return dict.fromkeys(keys, "ok")

    batcher = KeyBatcher(fetch)
    failed = await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True)
    assert all(isinstance(f, ConnectionError) for f in failed)
    assert await batcher.get("a") == "ok"


def test_a_batcher_outlives_an_event_loop() -> None:
    import asyncio

    async def fetch(keys: list[str]) -> dict[str, str]:
        return dict.fromkeys(keys, "ok")

    batcher = KeyBatcher(fetch)
    assert asyncio.run(batcher.get("a")) == "ok"
    assert asyncio.run(batcher.get("b")) == "ok"  # a second loop (another test) is served


class FakeInserts:
    """`insert_many(ordered=False)` as a server answers it: every document that can be
    written is, the others are named in the error (duplicate key 11000, or another)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, str]] = {}
        self.calls: list[list[str]] = []

    async def insert_many(self, docs: list[dict[str, str]], ordered: bool) -> None:
        from pymongo.errors import BulkWriteError

        assert not ordered
        self.calls.append([d["_id"] for d in docs])
        errors = []
        for n, doc in enumerate(docs):
            if doc["_id"] in self.docs:
                errors.append({"index": n, "code": 11000, "errmsg": "duplicate key"})
            elif doc.get("grande"):
                errors.append({"index": n, "code": 10334, "errmsg": "too large"})
            else:
                self.docs[doc["_id"]] = doc
        if errors:
            raise BulkWriteError({"writeErrors": errors})


async def test_concurrent_inserts_are_one_write_each_answered_for_its_own_documents() -> None:
    from pymongo.errors import BulkWriteError
    from tissflow_runtime.coalesce import InsertBatcher

    collection = FakeInserts()
    collection.docs["velho"] = {"_id": "velho"}
    batcher = InsertBatcher(collection)
    answers = await asyncio.gather(
        batcher.insert({"_id": "a"}),
        batcher.insert_all([{"_id": "b"}, {"_id": "velho"}]),
        batcher.insert({"_id": "c", "grande": "sim"}),
        return_exceptions=True,
    )
    assert collection.calls == [["a", "b", "velho", "c"]]
    assert answers[:2] == [True, [True, False]]
    assert isinstance(answers[2], BulkWriteError)  # its error is its own, not the others'
    assert set(collection.docs) == {"velho", "a", "b"}
    assert await batcher.insert({"_id": "a"}) is False  # a later insert is a new write
    assert collection.calls[-1] == ["a"]
