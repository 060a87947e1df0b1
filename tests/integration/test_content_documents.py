"""Ingest keeps a revision's bytes in documents named by `_id` (ADR 0019): what is stored
is read back byte for byte, whatever its size; two requests racing for one revision
each keep their own bytes; revisions stored in GridFS before are still read."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from gridfs import AsyncGridFSBucket
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from tissflow_ingest.adapters import ContentDocuments

from tests.conftest import MONGO

pytestmark = pytest.mark.integration


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase]:
    client: AsyncMongoClient = AsyncMongoClient(MONGO)
    name = f"conteudo{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_small_and_large_revisions_are_read_back_byte_for_byte(db: AsyncDatabase) -> None:
    store = ContentDocuments(db)
    small = b"<?xml version='1.0'?><mensagemTISS/>"
    large = os.urandom(ContentDocuments.PART * 2 + 1234)  # three parts
    refs = [await store.put("f1", 1, small), await store.put("f1", 2, large)]
    assert refs[1]["partes"] == 3
    assert await store.get(refs[0]) == small
    assert await store.get(refs[1]) == large


async def test_racing_requests_for_one_revision_keep_their_own_bytes(db: AsyncDatabase) -> None:
    store = ContentDocuments(db)
    winner = await store.put("f2", 1, b"do vencedor")
    loser = await store.put("f2", 1, b"do perdedor")
    await store.delete(loser)  # the losing request cleans up what it stored
    assert await store.get(winner) == b"do vencedor"
    with pytest.raises(LookupError):
        await store.get(loser)


async def test_a_revision_stored_in_gridfs_before_is_still_read(db: AsyncDatabase) -> None:
    legacy = await AsyncGridFSBucket(db, bucket_name="xml").upload_from_stream(
        "f3.r1.xml", b"<antigo/>"
    )
    assert await ContentDocuments(db).get(legacy) == b"<antigo/>"
