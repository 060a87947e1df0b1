"""Ingest's adapters: the file registry in MongoDB and the bytes of each revision."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime
from typing import Any

from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import FileValidated
from tissflow_runtime.coalesce import KeyBatcher, by_id
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.listing import HIDDEN, match, page_of
from tissflow_runtime.outbox import marked

from tissflow_ingest.domain import INLINE_FIELD, public

WITHOUT_BYTES = {INLINE_FIELD: 0}


class MongoFileRepository:
    """The `files` collection: one document per file, its revisions and its outbox."""

    def __init__(self, db: AsyncDatabase, write_lock: asyncio.Lock) -> None:
        self.collection = db["files"]
        # A small upload's bytes are in its document (ADR 0020): only the claim check
        # reads them; the registry's other reads leave them in the database.
        self._by_id: KeyBatcher[str, dict[str, Any]] = by_id(self.collection, WITHOUT_BYTES)
        self._with_bytes: KeyBatcher[str, dict[str, Any]] = by_id(self.collection)
        # FerretDB: every update of a document that may carry an outbox takes this lock.
        self._lock = write_lock

    async def create_indexes(self) -> None:
        await self.collection.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
        # The operator's pages (no clinic filter) walk this one, newest first (ADR 0018).
        await self.collection.create_index([("created_at", DESCENDING)])
        await self.collection.create_index(
            [("provider_id", ASCENDING), ("idempotency_key", ASCENDING)]
        )

    async def get(self, file_id: str, *, content: bool = False) -> dict[str, Any] | None:
        # Claim checks arrive together (validation judges a batch at once): one query.
        doc: dict[str, Any] | None = await (self._with_bytes if content else self._by_id).get(
            file_id
        )
        return doc

    async def insert(self, doc: dict[str, Any]) -> bool:
        try:
            await self.collection.insert_one(marked(doc))
        except DuplicateKeyError:
            return False
        return True

    async def add_revision(
        self,
        file_id: str,
        base_revision: int,
        fields: dict[str, Any],
        revision: dict[str, Any],
        event: dict[str, Any],
    ) -> dict[str, Any] | None:
        async with self._lock:
            doc: dict[str, Any] | None = await self.collection.find_one_and_update(
                {"_id": file_id, "current_revision": base_revision},
                marked({"$set": fields, "$push": {"revisions": revision, "outbox": event}}),
                return_document=ReturnDocument.AFTER,
            )
        return doc

    async def record_verdict(self, event_id: str, verdict: FileValidated, at: datetime) -> None:
        async with self._lock:
            await self.collection.update_one(
                {
                    "_id": verdict.file_id,
                    "current_revision": verdict.revision,
                    **not_handled(event_id),
                },
                {
                    "$set": {
                        "status": verdict.status,
                        "updated_at": at,
                        "validacao": {
                            "revision": verdict.revision,
                            "critiques": verdict.critiques,
                            "numero_lote": verdict.numero_lote,
                            "tipo_guia": verdict.tipo_guia,
                            "quantidade_guias": verdict.quantidade_guias,
                            "valor_total": str(verdict.valor_total)
                            if verdict.valor_total is not None
                            else None,
                            "versao_tiss": verdict.versao_tiss,
                        },
                    },
                    "$push": mark_handled(event_id),
                },
            )

    async def page(
        self,
        *,
        provider_id: str | None,
        status: str | None,
        nome: str | None,
        de: datetime | None,
        ate: datetime | None,
        page: int,
        page_size: int,
    ) -> dict[str, Any]:
        """Histórico de Arquivos Enviados: one page, newest first, with its filters."""
        query = match(
            provider_id=provider_id,
            status=status,
            filename={"$regex": re.escape(nome), "$options": "i"} if nome else None,
            created_at={**({"$gte": de} if de else {}), **({"$lte": ate} if ate else {})} or None,
        )
        return await page_of(
            self.collection, query, page, page_size, public, hidden=HIDDEN | WITHOUT_BYTES
        )


class ContentDocuments:
    """A revision's bytes in `conteudos`, in parts of at most `PART` bytes, each part a
    document whose `_id` names it (`<file>.r<revision>.<unique>.<n>`), read back with one
    `_id $in` query (ADR 0019).

    Why not GridFS: GridFS finds a file's chunks by `files_id`, an ObjectId, which our
    FerretDB (SQLite) answers by reading every chunk stored (70 ms at 446 files, growing
    with the operator's history: every claim check paid it); `_id` alone is what FerretDB
    reads through its index, and MongoDB does too. One upload is one insert instead of
    GridFS's two, one claim check one query instead of two. Revisions stored in GridFS
    before (their reference is an ObjectId) are still read from the `xml` bucket.
    """

    PART = 4 * 1024 * 1024  # four parts hold the largest upload (15 MB) under BSON's 16 MB

    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["conteudos"]
        # Concurrent claim checks read their parts in one query (the cursor returns them
        # in batches; validation asks for at most one batch of files at a time).
        self._parts: KeyBatcher[str, dict[str, Any]] = by_id(self.collection, max_keys=32)
        self.bucket = AsyncGridFSBucket(db, bucket_name="xml")

    async def put(self, file_id: str, revision: int, content: bytes) -> Any:
        # Unique per call: two requests racing for one revision (the same idempotency
        # key, two corrections of one base) each store their own bytes, and the loser
        # deletes only its own.
        base = f"{file_id}.r{revision}.{uuid.uuid4().hex[:12]}"
        parts = [content[i : i + self.PART] for i in range(0, len(content), self.PART)] or [b""]
        docs = [{"_id": f"{base}.{n}", "data": part} for n, part in enumerate(parts)]
        await self.collection.insert_many(docs, ordered=True)
        return {"conteudo": base, "partes": len(docs)}

    async def get(self, ref: Any) -> bytes:
        if not isinstance(ref, dict):  # stored in GridFS before ADR 0019
            stream = await self.bucket.open_download_stream(ref)
            content: bytes = await stream.read()
            return content
        ids = [f"{ref['conteudo']}.{n}" for n in range(ref["partes"])]
        found = await self._parts.get_many(ids)
        if len(found) != len(ids):
            raise LookupError(f"conteúdo incompleto: {ref['conteudo']}")
        return b"".join(bytes(found[i]["data"]) for i in ids)

    async def delete(self, ref: Any) -> None:
        if not isinstance(ref, dict):
            await self.bucket.delete(ref)
            return
        ids = [f"{ref['conteudo']}.{n}" for n in range(ref["partes"])]
        await self.collection.delete_many({"_id": {"$in": ids}})
