"""Ingest's adapters: the file registry in MongoDB and the bytes in GridFS."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import FileValidated
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.listing import match, page_of
from tissflow_runtime.outbox import marked

from tissflow_ingest.domain import public


class MongoFileRepository:
    """The `files` collection: one document per file, its revisions and its outbox."""

    def __init__(self, db: AsyncDatabase, write_lock: asyncio.Lock) -> None:
        self.collection = db["files"]
        # FerretDB: every update of a document that may carry an outbox takes this lock.
        self._lock = write_lock

    async def create_indexes(self) -> None:
        await self.collection.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
        # The operator's pages (no clinic filter) walk this one, newest first (ADR 0018).
        await self.collection.create_index([("created_at", DESCENDING)])
        await self.collection.create_index(
            [("provider_id", ASCENDING), ("idempotency_key", ASCENDING)]
        )

    async def get(self, file_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one({"_id": file_id})
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
        return await page_of(self.collection, query, page, page_size, public)


class GridFsStore:
    """A file's revisions as GridFS files (bucket `xml`)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name="xml")

    async def put(self, file_id: str, revision: int, content: bytes) -> Any:
        return await self.bucket.upload_from_stream(
            f"{file_id}.r{revision}.xml",
            content,
            metadata={"file_id": file_id, "revision": revision},
        )

    async def get(self, ref: Any) -> bytes:
        stream = await self.bucket.open_download_stream(ref)
        content: bytes = await stream.read()
        return content

    async def delete(self, ref: Any) -> None:
        await self.bucket.delete(ref)
