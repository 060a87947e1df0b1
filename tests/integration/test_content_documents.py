"""Ingest keeps a revision's bytes in documents named by `_id` (ADR 0019): what is stored
is read back byte for byte, whatever its size; two requests racing for one revision
each keep their own bytes; revisions stored in GridFS before are still read. A small
upload keeps its bytes in its own file document (ADR 0020)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from gridfs import AsyncGridFSBucket
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from tissflow_ingest import service_layer
from tissflow_ingest.adapters import ContentDocuments, MongoFileRepository
from tissflow_ingest.domain import INLINE_FIELD
from tissflow_runtime.publisher import EnvelopePublisher

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


async def test_a_small_uploads_bytes_are_read_only_by_the_claim_check(db: AsyncDatabase) -> None:
    """ADR 0020: up to 64 KB the bytes are in the file document. The claim check reads
    them back byte for byte; the registry's other reads (a file, a page of files) leave
    them in the database."""
    files = MongoFileRepository(db, asyncio.Lock())
    store = ContentDocuments(db)
    content = b"<?xml version='1.0'?><mensagemTISS>" + os.urandom(30_000) + b"</mensagemTISS>"
    stored = await service_layer.store_upload(
        files,
        store,
        EnvelopePublisher("ingest"),
        provider_id="07906129000102",
        filename="pequeno.xml",
        uploaded_by="odontoarte",
        content=content,
        idempotency_key="chave-1",
    )
    file_id = stored.file["file_id"]
    assert await db["conteudos"].count_documents({}) == 0, "no separate bytes document"
    assert (await service_layer.read_revision(files, store, file_id, 1))[0] == content
    assert INLINE_FIELD not in (await files.get(file_id) or {})
    page = await files.page(
        provider_id="07906129000102", status=None, nome=None, de=None, ate=None, page=1, page_size=5
    )
    assert [i["file_id"] for i in page["items"]] == [file_id]
    assert INLINE_FIELD not in page["items"][0]
    # The same key again: the first file, nothing written twice.
    again = await service_layer.store_upload(
        files,
        store,
        EnvelopePublisher("ingest"),
        provider_id="07906129000102",
        filename="pequeno.xml",
        uploaded_by="odontoarte",
        content=content,
        idempotency_key="chave-1",
    )
    assert not again.created and again.file["file_id"] == file_id
    assert await db["files"].count_documents({}) == 1
