"""The protocol repository on MongoDB (FerretDB locally): protocols, PEG claims, files.

PEG numbers: FerretDB applies concurrent `$inc`s on one document without isolation (ADR
0005), so a counter document could hand the same number to two instances. The sequence
is instead claimed by inserting `{_id: n, lote_id}` into `pegs`: the unique `_id` makes
one insert win per number, the unique `lote_id` one number per lote; a loser tries the
next number, or reads the PEG its lote already got. A claim is never deleted, so a number
is never reused, and a crash after the claim finds it again on redelivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.listing import HIDDEN
from tissflow_runtime.outbox import marked

HEAVY = {**HIDDEN, "recebimento_xml": 0}


class MongoProtocolos:
    def __init__(self, db: AsyncDatabase, write_lock: asyncio.Lock, notify: Callable[..., None]):
        self.protocolos = db["protocolos"]
        self.pegs = db["pegs"]
        self.files = db["arquivos"]
        self._lock = write_lock
        self._notify = notify

    async def create_indexes(self) -> None:
        await self.protocolos.create_index([("lote_id", ASCENDING)], unique=True)
        await self.protocolos.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
        # The operator's pages (no clinic filter) walk this one, newest first (ADR 0018).
        await self.protocolos.create_index([("created_at", DESCENDING)])
        await self.pegs.create_index([("lote_id", ASCENDING)], unique=True)
        await self.files.create_index([("peg", ASCENDING)])

    async def get(self, peg: str) -> dict[str, Any] | None:
        return await self.protocolos.find_one({"_id": peg}, {"outbox": 0})

    async def find_by_lote(self, lote_id: str) -> dict[str, Any] | None:
        return await self.protocolos.find_one({"lote_id": lote_id}, {"outbox": 0})

    async def claim_peg(self, lote_id: str, make: Callable[[int], str]) -> str:
        while True:
            claimed = await self.pegs.find_one({"lote_id": lote_id})
            if claimed is not None:
                return str(claimed["peg"])
            last = await self.pegs.find_one({}, sort=[("_id", DESCENDING)])
            seq = (int(last["_id"]) if last else 0) + 1
            try:
                await self.pegs.insert_one({"_id": seq, "lote_id": lote_id, "peg": make(seq)})
            except DuplicateKeyError:
                continue  # another instance took this number, or this lote: look again
            return make(seq)

    async def insert(self, doc: dict[str, Any]) -> bool:
        try:
            await self.protocolos.insert_one(marked(doc))
        except DuplicateKeyError:
            return False
        self._notify("protocolos", doc["_id"])
        return True

    async def update(
        self,
        peg: str,
        *,
        expected_status: int | None,
        sets: dict[str, Any],
        pushes: dict[str, Any],
        incs: dict[str, int] | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any] | None:
        query: dict[str, Any] = {"_id": peg}
        if expected_status is not None:
            query["status"] = expected_status
        if event_id:
            query.update(not_handled(event_id))
            pushes = {**pushes, **mark_handled(event_id)}
        update: dict[str, Any] = {}
        if sets:
            update["$set"] = sets
        if pushes:
            update["$push"] = pushes
        if incs:
            update["$inc"] = incs
        # Serialised with the relay's outbox pops (FerretDB updates are not isolated).
        async with self._lock:
            # No projection: FerretDB does not implement one on findAndModify.
            doc = await self.protocolos.find_one_and_update(
                query, marked(update), return_document=ReturnDocument.AFTER
            )
        if doc is None:
            return None
        doc.pop("outbox", None)
        if "outbox" in pushes:
            self._notify("protocolos", peg)
        return doc

    async def page(
        self, query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]:
        total = await self.protocolos.count_documents(query)
        if (page - 1) * page_size >= total:  # past the end (a 2^63 skip overflows)
            return [], total
        cursor = (
            self.protocolos.find(query, HEAVY)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return [d async for d in cursor], total

    async def nao_lidas(self, papel: str, provider_id: str | None) -> int:
        query: dict[str, Any] = {f"nao_lidas.{papel}": {"$gt": 0}}
        if provider_id:
            query["provider_id"] = provider_id
        total = 0
        async for doc in self.protocolos.find(query, {"nao_lidas": 1}):
            total += int((doc.get("nao_lidas") or {}).get(papel, 0))
        return total

    async def save_file(self, doc: dict[str, Any]) -> None:
        try:
            await self.files.insert_one(doc)
        except DuplicateKeyError:
            pass  # the same file id stored before a retry

    async def get_file(self, file_id: str) -> dict[str, Any] | None:
        return await self.files.find_one({"_id": file_id})

    def notify(self) -> None:
        self._notify()
