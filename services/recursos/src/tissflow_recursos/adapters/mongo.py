"""MongoDB repositories of the recursos service (database `<prefix>_recursos`).

- `contas`: the projection of each lote (`_id` lote_id) from `lote.sent` (guides, items,
  dates, procedures) and `protocolo.status_changed` (PEG, analysis, emission date);
- `recursos`: the clinic's recursos (drafts included), one guide each, with their outbox;
- `operadora_recursos`: the operator's side — received recursos and answers, with outbox;
- `arquivos`: TISS XML and attachments (bytes, ≤ 5 MB each);
- `contadores`: the operator's recurso protocol numbers;
- `claims`: one document per glossed line and appeal round (`<peg>|<linha>|<round>`):
  the unique `_id` lets exactly one recurso take a line when two clerks appeal it at
  once (as protocol claims its PEGs, ADR 0012).
Every consumer write is guarded by the event id it records (`handled`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bson import Binary
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.outbox import marked


class Repos:
    """The collections, and the writes that must stay single-document and guarded."""

    def __init__(self, db: AsyncDatabase, write_lock: asyncio.Lock | None = None) -> None:
        self.db = db
        self.contas = db["contas"]
        self.recursos = db["recursos"]
        self.operadora = db["operadora_recursos"]
        self.arquivos = db["arquivos"]
        self.contadores = db["contadores"]
        self.claims = db["claims"]
        # Shared with the outbox relay: FerretDB updates of one document are not isolated.
        self.lock = write_lock or asyncio.Lock()

    async def create_indexes(self) -> None:
        await self.contas.create_index([("peg", ASCENDING)])
        await self.contas.create_index([("provider_id", ASCENDING)])
        await self.recursos.create_index([("provider_id", ASCENDING), ("peg", ASCENDING)])
        await self.operadora.create_index([("prazo_resposta", ASCENDING)])

    # -- projection ---------------------------------------------------------------------
    async def project(self, lote_id: str, event_id: str, fields: dict[str, Any]) -> bool:
        """Apply one event to a lote's projection once; False when already applied."""
        async with self.lock:
            try:
                result = await self.contas.update_one(
                    {"_id": lote_id, **not_handled(event_id)},
                    {"$set": fields, "$push": mark_handled(event_id)},
                    upsert=True,
                )
            except DuplicateKeyError:
                return False  # the document exists and has handled this event
        return result.modified_count > 0 or result.upserted_id is not None

    async def conta_by_peg(self, peg: str) -> dict[str, Any] | None:
        return await self.contas.find_one({"peg": peg}, {"handled": 0})

    async def contas_of(self, provider_id: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "peg": {"$exists": True},
            "$or": [{"analise.0": {"$exists": True}}, {"glosas_protocolo.0": {"$exists": True}}],
        }
        if provider_id:
            query["provider_id"] = provider_id
        return await self.contas.find(query, {"handled": 0}).sort("peg", -1).to_list()

    # -- the clinic's recursos ----------------------------------------------------------
    async def recursos_of(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self.recursos.find(query, {"outbox": 0, "handled": 0})
        return await cursor.sort("criado_em", -1).to_list()

    async def respostas_novas(self, provider_id: str | None) -> int:
        """Answers the clinic has not opened yet (the menu's badge)."""
        query: dict[str, Any] = {"resposta_nova": True}
        if provider_id:
            query["provider_id"] = provider_id
        return await self.recursos.count_documents(query)

    async def recurso(self, recurso_id: str) -> dict[str, Any] | None:
        return await self.recursos.find_one({"_id": recurso_id}, {"outbox": 0, "handled": 0})

    async def recurso_with_handled(self, recurso_id: str) -> dict[str, Any] | None:
        return await self.recursos.find_one({"_id": recurso_id}, {"outbox": 0})

    async def insert_recursos(self, docs: list[dict[str, Any]]) -> None:
        await self.recursos.insert_many([marked(d) for d in docs])

    async def update_recurso(
        self, recurso_id: str, condition: dict[str, Any], update: dict[str, Any]
    ) -> bool:
        async with self.lock:
            result = await self.recursos.update_one(
                {"_id": recurso_id, **condition}, marked(update)
            )
        return result.modified_count > 0

    # -- claims: one recurso per glossed line and round -----------------------------------
    async def claim(self, claim_id: str, recurso_id: str, at: datetime) -> str | None:
        """Take a line for `recurso_id`; None when taken, else the holder's recurso id."""
        try:
            await self.claims.insert_one({"_id": claim_id, "recurso_id": recurso_id, "at": at})
        except DuplicateKeyError:
            found = await self.claims.find_one({"_id": claim_id})
            return found["recurso_id"] if found else ""
        return None

    async def claim_of(self, claim_id: str) -> dict[str, Any] | None:
        return await self.claims.find_one({"_id": claim_id})

    async def release(self, claim_id: str, recurso_id: str) -> None:
        """Give a line back (only the holder's claim: never another recurso's)."""
        await self.claims.delete_one({"_id": claim_id, "recurso_id": recurso_id})

    # -- the operator's side ------------------------------------------------------------
    async def next_protocolo(self, year: int) -> str:
        counter = await self.contadores.find_one_and_update(
            {"_id": f"recurso-{year}"},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return f"{year}{counter['seq']:06d}"

    async def insert_operadora(self, doc: dict[str, Any]) -> bool:
        try:
            await self.operadora.insert_one(marked(doc))
        except DuplicateKeyError:
            return False
        return True

    async def operadora_recurso(self, recurso_id: str) -> dict[str, Any] | None:
        return await self.operadora.find_one({"_id": recurso_id}, {"outbox": 0})

    async def operadora_list(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self.operadora.find(query, {"outbox": 0})
        return await cursor.sort([("prazo_resposta", 1), ("recebido_em", 1)]).to_list()

    async def update_operadora(
        self, recurso_id: str, condition: dict[str, Any], update: dict[str, Any]
    ) -> bool:
        async with self.lock:
            result = await self.operadora.update_one(
                {"_id": recurso_id, **condition}, marked(update)
            )
        return result.modified_count > 0

    # -- files --------------------------------------------------------------------------
    async def put_file(self, file_id: str, content: bytes, media_type: str, **meta: Any) -> None:
        try:
            await self.arquivos.replace_one(
                {"_id": file_id},
                {
                    "content": Binary(content),
                    "size": len(content),
                    "media_type": media_type,
                    "stored_at": datetime.now(UTC),
                    **meta,
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # Two upserts of one id at once (the same recurso sent twice at once): the
            # other one inserted it; files are named by their content, so it holds these.
            pass

    async def get_file(self, file_id: str) -> dict[str, Any] | None:
        return await self.arquivos.find_one({"_id": file_id})
