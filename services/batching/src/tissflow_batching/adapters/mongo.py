"""MongoDB (FerretDB) adapters: lotes, the per-operator number sequence, the operator's
settings and the invoices' files.

FerretDB applies concurrent updates of one document without isolation (ADR 0005): every
update of a lote, and the counter's `$inc`, runs under the service's write lock; the
lote's state change and its outgoing event are one document write (outbox).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bson import Binary
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.listing import HIDDEN
from tissflow_runtime.outbox import marked

from tissflow_batching.domain import ConfigOperadora
from tissflow_batching.service_layer.ports import Pesquisa

SORTS = {
    "data_inclusao": "created_at",
    "numero": "numero",
    "situacao": "status",
    "protocolo": "protocolo.peg",
    "situacao_protocolo": "situacao_protocolo",
    "tipo_guia": "tipo_guia",
}


class MongoLoteRepository:
    def __init__(self, db: AsyncDatabase, lock: asyncio.Lock) -> None:
        self.collection = db["lotes"]
        self.lock = lock

    async def create_indexes(self) -> None:
        c = self.collection
        await c.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
        # The operator's pages (no clinic filter) walk this one, newest first (ADR 0018).
        await c.create_index([("created_at", DESCENDING)])
        # The Pesquisa de Lotes counts a clinic's lotes but the excluded ones: with `status`
        # in an index the local FerretDB counts them in SQLite (ADR 0015).
        await c.create_index([("provider_id", ASCENDING), ("status", ASCENDING)])
        await c.create_index([("protocolo.peg", ASCENDING)])
        await c.create_index([("file_id", ASCENDING)])
        # Second line behind the counter: a portal number names one lote per operator.
        await c.create_index([("registro_ans", ASCENDING), ("numero", ASCENDING)], unique=True)

    async def get(self, lote_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": lote_id}, {"outbox": 0})

    async def active_for_file(self, file_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one(
            {"file_id": file_id, "status": {"$ne": "excluido"}}, HIDDEN
        )

    async def add(self, doc: dict[str, Any]) -> bool:
        try:
            await self.collection.insert_one(marked(doc))
        except DuplicateKeyError:
            return False
        return True

    async def transition(
        self,
        lote_id: str,
        from_states: list[str],
        sets: dict[str, Any],
        log: dict[str, Any],
        outbox: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        push: dict[str, Any] = {"log": log}
        if outbox is not None:
            push["outbox"] = outbox
        async with self.lock:
            return await self.collection.find_one_and_update(
                {"_id": lote_id, "status": {"$in": from_states}},
                marked({"$set": sets, "$push": push}),
                return_document=ReturnDocument.AFTER,
            )

    async def append_log(self, lote_id: str, log: dict[str, Any]) -> None:
        async with self.lock:
            await self.collection.update_one({"_id": lote_id}, {"$push": {"log": log}})

    async def update_fields(
        self,
        lote_id: str,
        sets: dict[str, Any],
        log: dict[str, Any] | None = None,
        event_id: str | None = None,
        only_status: str | None = None,
    ) -> dict[str, Any] | None:
        query: dict[str, Any] = {"_id": lote_id}
        push: dict[str, Any] = {}
        if event_id:
            query.update(not_handled(event_id))
            push.update(mark_handled(event_id))
        if only_status:
            query["status"] = only_status
        if log:
            push["log"] = log
        update: dict[str, Any] = {}
        if sets:
            update["$set"] = sets
        if push:
            update["$push"] = push
        if not update:
            return await self.get(lote_id)
        async with self.lock:
            return await self.collection.find_one_and_update(
                query, update, return_document=ReturnDocument.AFTER
            )

    @staticmethod
    def query_of(p: Pesquisa) -> dict[str, Any]:
        q: dict[str, Any] = {}
        if p.provider_id:
            q["provider_id"] = p.provider_id
        if p.registro_ans:
            q["registro_ans"] = p.registro_ans
        if p.numero:
            numero = p.numero.strip()
            alternatives: list[dict[str, Any]] = [{"numero_lote_prestador": numero}]
            if numero.isdigit():
                alternatives.append({"numero": int(numero)})
            q["$or"] = alternatives
        if p.numero_lote_prestador:
            q["numero_lote_prestador"] = p.numero_lote_prestador
        if p.protocolo:
            q["protocolo.peg"] = p.protocolo.strip()
        if p.tipo_guia:
            q["tipo_guia"] = p.tipo_guia
        if p.status:
            q["status"] = p.status
        elif not p.incluir_excluidos:
            q["status"] = {"$ne": "excluido"}
        if p.situacao_protocolo:
            q["situacao_protocolo"] = p.situacao_protocolo
        elif p.situacoes:
            q["situacao_protocolo"] = {"$in": p.situacoes}
        if p.file_id:
            q["file_id"] = p.file_id
        if p.canal:
            q["canal"] = p.canal
        if p.sem_nf:
            q["nf"] = None
        period: dict[str, Any] = {}
        if p.de:
            period["$gte"] = p.de
        if p.ate:
            period["$lte"] = p.ate
        if period:
            q["created_at"] = period
        return q

    async def search(
        self, pesquisa: Pesquisa, page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]:
        query = self.query_of(pesquisa)
        total = await self.collection.count_documents(query)
        if (page - 1) * page_size >= total:  # past the end (a 2^63 skip overflows)
            return [], total
        order = DESCENDING if pesquisa.decrescente else ASCENDING
        sort = [(SORTS.get(pesquisa.ordem, "created_at"), order), ("numero", order)]
        cursor = (
            self.collection.find(query, HIDDEN)
            .sort(sort)
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return [doc async for doc in cursor], total


class MongoNumberSequence:
    """A counter document per sequence, `$inc` under the write lock (ADR 0005)."""

    def __init__(self, db: AsyncDatabase, lock: asyncio.Lock) -> None:
        self.collection = db["counters"]
        self.lock = lock

    async def next(self, key: str) -> int:
        async with self.lock:
            doc = await self.collection.find_one_and_update(
                {"_id": key},
                {"$inc": {"seq": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        return int(doc["seq"])


class MongoConfigRepository:
    """The operator's billing calendar and NF rules: one document."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["config"]

    async def get(self) -> ConfigOperadora:
        doc = await self.collection.find_one({"_id": "operadora"}) or {}
        fields = {k: doc[k] for k in asdict(ConfigOperadora()) if k in doc}
        return ConfigOperadora(**fields)

    async def get_doc(self) -> dict[str, Any]:
        doc = await self.collection.find_one({"_id": "operadora"}) or {}
        config = await self.get()
        return {
            **asdict(config),
            "atualizado_por": doc.get("atualizado_por"),
            "atualizado_em": doc.get("atualizado_em"),
        }

    async def save(self, config: ConfigOperadora, by: str) -> dict[str, Any]:
        await self.collection.update_one(
            {"_id": "operadora"},
            {"$set": {**asdict(config), "atualizado_por": by, "atualizado_em": datetime.now(UTC)}},
            upsert=True,
        )
        return await self.get_doc()


class MongoNotaFiscalStore:
    """The NF files, one per lote (≤ 5 MB, so a document rather than GridFS)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["notas_fiscais"]

    async def put(self, lote_id: str, content: bytes, media_type: str, filename: str) -> None:
        await self.collection.replace_one(
            {"_id": lote_id},
            {"content": Binary(content), "media_type": media_type, "filename": filename},
            upsert=True,
        )

    async def get(self, lote_id: str) -> tuple[bytes, str, str] | None:
        doc = await self.collection.find_one({"_id": lote_id})
        if doc is None:
            return None
        return bytes(doc["content"]), doc["media_type"], doc["filename"]
