"""MongoDB adapters: the projection (`lotes`, `protocolos`) and the statement index.

Idempotent writes: each projection document records the event ids it absorbed in the same
update (`handled`), so a redelivered event matches nothing. The statement index carries its
`statement.ready` outbox in the same document as the change it announces (ADR 0005), and
takes the runtime's write lock like every other outbox document.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bson import Binary
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.listing import page_of
from tissflow_runtime.outbox import marked

from tissflow_statements.domain.documentos import TITULOS

# What decides whether a statement changed (and the clinic should look again).
CAMPOS_DO_RESUMO = (
    "situacao",
    "data_pagamento",
    "valor_informado",
    "valor_liberado",
    "valor_glosado",
)


async def create_indexes(db: AsyncDatabase) -> None:
    await db["protocolos"].create_index([("lote_id", ASCENDING)])
    await db["protocolos"].create_index(
        [("provider_id", ASCENDING), ("status", ASCENDING), ("data_pagamento", ASCENDING)]
    )
    await db["recursos"].create_index([("provider_id", ASCENDING)])
    await db["demonstrativos"].create_index(
        [("provider_id", ASCENDING), ("created_at", DESCENDING)]
    )
    # The operator's pages (no clinic filter) walk this one, newest first (ADR 0018).
    await db["demonstrativos"].create_index([("created_at", DESCENDING)])


class MongoProjection:
    def __init__(self, db: AsyncDatabase) -> None:
        self.lotes_col = db["lotes"]
        self.protocolos_col = db["protocolos"]
        self.recursos_col = db["recursos"]

    async def _guarded(self, col: Any, _id: str, event_id: str, changes: dict[str, Any]) -> None:
        try:
            await col.update_one(
                {"_id": _id, **not_handled(event_id)},
                {"$set": changes, "$push": mark_handled(event_id)},
                upsert=True,
            )
        except DuplicateKeyError:
            return  # the document exists and already handled this event

    async def record_lote(self, event_id: str, lote: dict[str, Any]) -> None:
        await self._guarded(self.lotes_col, lote["lote_id"], event_id, {"lote": lote})

    async def record_protocolo(self, event_id: str, estado: dict[str, Any]) -> None:
        await self._guarded(
            self.protocolos_col, estado["peg"], event_id, {"estado": estado, **_chaves(estado)}
        )

    async def mark_protocolo_handled(self, event_id: str, peg: str) -> None:
        await self.protocolos_col.update_one(
            {"_id": peg, **not_handled(event_id)}, {"$push": mark_handled(event_id)}
        )

    async def protocolo(self, peg: str) -> dict[str, Any] | None:
        doc = await self.protocolos_col.find_one({"_id": peg}, {"estado": 1})
        return doc["estado"] if doc else None

    async def lotes(self, lote_ids: list[str]) -> dict[str, dict[str, Any]]:
        cursor = self.lotes_col.find({"_id": {"$in": lote_ids}}, {"lote": 1})
        return {doc["_id"]: doc["lote"] async for doc in cursor}

    async def protocolos_do_lote(self, lote_id: str) -> list[dict[str, Any]]:
        cursor = self.protocolos_col.find({"lote_id": lote_id}, {"estado": 1})
        return [doc["estado"] async for doc in cursor]

    async def protocolos(self, pegs: list[str]) -> list[dict[str, Any]]:
        cursor = self.protocolos_col.find({"_id": {"$in": pegs}}, {"estado": 1})
        return [doc["estado"] async for doc in cursor]

    async def record_recurso(self, event_id: str, resposta: dict[str, Any]) -> None:
        await self._guarded(
            self.recursos_col,
            resposta["recurso_id"],
            event_id,
            {"resposta": resposta, "provider_id": resposta["provider_id"]},
        )

    async def recursos(self, provider_id: str) -> list[dict[str, Any]]:
        cursor = self.recursos_col.find({"provider_id": provider_id}, {"resposta": 1})
        return [doc["resposta"] async for doc in cursor.sort("_id", ASCENDING)]

    async def datas_pagas(self, provider_id: str | None) -> list[str]:
        """Every payment date of the provider's protocols (3, 6), newest first."""
        query: dict[str, Any] = {"status": {"$in": [3, 6]}, "data_pagamento": {"$ne": None}}
        if provider_id:
            query["provider_id"] = provider_id
        datas = {
            doc["data_pagamento"]
            async for doc in self.protocolos_col.find(query, {"data_pagamento": 1})
        }
        return sorted(datas, reverse=True)

    async def pagos_entre(self, provider_id: str, inicio: str, fim: str) -> list[dict[str, Any]]:
        query = {
            "provider_id": provider_id,
            "status": {"$in": [3, 6]},
            "data_pagamento": {"$gte": inicio, "$lte": fim},
        }
        cursor = self.protocolos_col.find(query, {"estado": 1}).sort("_id", ASCENDING)
        return [doc["estado"] async for doc in cursor]


def _chaves(estado: dict[str, Any]) -> dict[str, Any]:
    """Top-level copies of what queries select on (the state itself is nested)."""
    return {
        "lote_id": estado["lote_id"],
        "provider_id": estado["provider_id"],
        "status": estado["status"],
        "data_pagamento": estado.get("data_pagamento"),
    }


class MongoStatements:
    def __init__(self, db: AsyncDatabase, write_lock: asyncio.Lock) -> None:
        self.col = db["demonstrativos"]
        self.lock = write_lock

    async def get(self, statement_id: str) -> dict[str, Any] | None:
        return await self.col.find_one({"_id": statement_id}, {"outbox": 0})

    async def save(self, statement_id: str, resumo: dict[str, Any], evento: dict[str, Any]) -> bool:
        """Create the statement, or update it when its figures or situation changed (then
        it is "novo" again); each with its `statement.ready`. False when nothing changed."""
        async with self.lock:
            atual = await self.col.find_one({"_id": statement_id}, {"outbox": 0})
            now = datetime.now(UTC)
            if atual is None:
                try:
                    await self.col.insert_one(
                        marked(
                            {
                                "_id": statement_id,
                                **resumo,
                                "created_at": now,
                                "updated_at": now,
                                "aberto_em": None,
                                "formatos": ["pdf", "xml"],
                                "outbox": [evento],
                            }
                        )
                    )
                except DuplicateKeyError:
                    return False
                return True
            if all(atual.get(k) == resumo.get(k) for k in CAMPOS_DO_RESUMO):
                return False
            await self.col.update_one(
                {"_id": statement_id},
                marked(
                    {
                        "$set": {**resumo, "updated_at": now, "aberto_em": None},
                        "$push": {"outbox": evento},
                    }
                ),
            )
            return True

    async def page(self, query: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
        return await page_of(self.col, query, page, page_size, public)

    async def mark_opened(self, statement_id: str, when: Any) -> None:
        async with self.lock:
            await self.col.update_one(
                {"_id": statement_id, "aberto_em": None}, {"$set": {"aberto_em": when}}
            )


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A statement as the internal API lists it: `novo` until the clinic opens it."""
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox", "handled"}}
    out["statement_id"] = doc["_id"]
    out["titulo"] = TITULOS[doc["tipo"]]
    out["novo"] = doc.get("aberto_em") is None
    return out


class MongoDocumentCache:
    """Rendered XML/PDF by fingerprint (`arquivos`): a few tens of kB each, written once."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.col = db["arquivos"]

    async def get(self, key: str) -> bytes | None:
        doc = await self.col.find_one({"_id": key})
        return bytes(doc["content"]) if doc else None

    async def put(self, key: str, content: bytes) -> None:
        try:
            await self.col.replace_one(
                {"_id": key}, {"content": Binary(content), "size": len(content)}, upsert=True
            )
        except DuplicateKeyError:
            # Two renders of one fingerprint raced to insert it: rendering is
            # deterministic, so the document the other one stored has these bytes.
            return
