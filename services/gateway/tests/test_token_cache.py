"""API tokens a gateway process has just read are trusted for a few seconds (ADR 0020):
an upload no longer waits for two database reads, and a revoked token is still refused
at once through this process, or within the bound when revoked elsewhere (fakes of the
two collections, counting reads; no server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.security import HTTPAuthorizationCredentials
from tissflow_gateway import auth
from tissflow_gateway.core import ApiError

TOKEN = "tf_segredo-de-teste"
USER = {
    "_id": "odontoarte",
    "nome": "Faturamento",
    "role": "prestador",
    "provider_id": "07906129000102",
    "provider_nome": "ODONTO ARTE LTDA",
}


class FakeCollection:
    """`find_one`/`delete_one`/`update_one` by `_id`, counting the reads."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = {d["_id"]: dict(d) for d in docs}
        self.reads = 0
        self.gate: asyncio.Event | None = None  # a read waits for it when set

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        self.reads += 1
        found = self.docs.get(query["_id"])
        if self.gate is not None:
            await self.gate.wait()
        return dict(found) if found else None

    async def delete_one(self, query: dict[str, Any]) -> None:
        self.docs.pop(query["_id"], None)

    async def update_one(self, query: dict[str, Any], update: dict[str, Any], **_: Any) -> None:
        self.docs.setdefault(query["_id"], {"_id": query["_id"]}).update(update["$set"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


World = tuple[FakeCollection, FakeCollection, Clock]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    tokens = FakeCollection(
        [
            {
                "_id": auth._digest(TOKEN),
                "username": "odontoarte",
                "expires_at": datetime.now(UTC) + timedelta(days=30),
            }
        ]
    )
    users = FakeCollection([USER])
    clock = Clock()
    monkeypatch.setattr(auth, "tokens", tokens)
    monkeypatch.setattr(auth, "users", users)
    monkeypatch.setattr(auth, "token_cache", auth.TokenCache(5.0, clock=clock))
    yield tokens, users, clock


async def who(token: str = TOKEN) -> auth.User:
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    return await auth.api_user(None, credentials)  # type: ignore[arg-type]


async def test_a_token_is_read_once_then_trusted_until_the_bound(world: Any) -> None:
    tokens, users, clock = world
    for _ in range(3):
        assert (await who()).provider_id == "07906129000102"
    assert (tokens.reads, users.reads) == (1, 1)
    clock.now += 5.1  # past auth_cache_seconds: read again
    await who()
    assert (tokens.reads, users.reads) == (2, 2)


async def test_a_token_revoked_through_this_process_is_refused_at_once(world: Any) -> None:
    await who()
    await auth.revoke_token(TOKEN)
    with pytest.raises(ApiError) as refused:
        await who()
    assert refused.value.status_code == 401
    assert refused.value.detail["message"] == "Token inválido ou expirado."


async def test_a_token_revoked_elsewhere_is_refused_within_the_bound(world: Any) -> None:
    tokens, _, clock = world
    await who()
    del tokens.docs[auth._digest(TOKEN)]  # another gateway process revoked it
    clock.now += 4.9
    await who()  # still trusted here, inside the stated bound
    clock.now += 0.2
    with pytest.raises(ApiError):
        await who()


async def test_a_read_racing_a_revocation_does_not_put_the_token_back(world: Any) -> None:
    tokens, _, _ = world
    tokens.gate = asyncio.Event()
    reading = asyncio.create_task(who())  # read the token before the delete...
    await asyncio.sleep(0)
    await auth.revoke_token(TOKEN)  # ...and this request revoked it meanwhile
    tokens.gate.set()
    await reading  # what it read was valid when it read it
    tokens.gate = None
    with pytest.raises(ApiError):
        await who()


async def test_a_user_changed_here_counts_at_once(world: Any) -> None:
    await who()
    await auth.upsert_user("odontoarte", "nova-senha-123", "Faturamento", "ops")
    assert (await who()).role == "ops"


async def test_a_trusted_token_still_ends_at_its_expiry(world: Any) -> None:
    tokens, _, _ = world
    tokens.docs[auth._digest(TOKEN)]["expires_at"] = datetime.now(UTC) + timedelta(seconds=0.2)
    await who()
    await asyncio.sleep(0.25)
    with pytest.raises(ApiError):
        await who()
