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
