"""Where typed guides and typed lotes live (`guias_digitadas`, `lotes_digitados` and the
numbering counters)."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from tissflow_batching.digitacao.domain.lotes import DigitacaoNaoEncontrada


class Repositorio:
    """Mongo repositories of the typed guides and lotes (single-document writes)."""

    def __init__(self, db: AsyncDatabase, lock: asyncio.Lock) -> None:
        self.guias = db["guias_digitadas"]
        self.lotes = db["lotes_digitados"]
        self.contadores = db["contadores_digitacao"]
        # FerretDB applies concurrent updates of one document without isolation: numbering
        # and membership changes of this process are serialised (see ServiceRuntime).
        self.lock = lock

    async def criar_indices(self) -> None:
        await self.guias.create_index([("provider_id", ASCENDING), ("updated_at", DESCENDING)])
        await self.guias.create_index([("lote_digitado_id", ASCENDING)])
        await self.lotes.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])

    async def proximo(self, provider_id: str, serie: str) -> int:
        async with self.lock:
            doc = await self.contadores.find_one_and_update(
                {"_id": f"{provider_id}:{serie}"},
                {"$inc": {"valor": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        return int(doc["valor"])

    # guides
    async def guia(self, provider_id: str, guia_id: str) -> dict[str, Any]:
        doc = await self.guias.find_one({"_id": guia_id, "provider_id": provider_id})
        if doc is None:
            raise DigitacaoNaoEncontrada("guia_nao_encontrada", "Guia digitada não encontrada.")
        return doc

    async def inserir_guia(self, doc: dict[str, Any]) -> None:
        await self.guias.insert_one(doc)

    async def atualizar_guia(
        self, guia_id: str, condicao: dict[str, Any], mudanca: dict[str, Any]
    ) -> dict[str, Any] | None:
        async with self.lock:
            return await self.guias.find_one_and_update(
                {"_id": guia_id, **condicao},
                {"$set": mudanca},
                return_document=ReturnDocument.AFTER,
            )

    async def excluir_guia(self, guia_id: str, condicao: dict[str, Any]) -> bool:
        async with self.lock:
            r = await self.guias.delete_one({"_id": guia_id, **condicao})
        return r.deleted_count == 1

    async def listar_guias(
        self, query: dict[str, Any], skip: int = 0, limit: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        total = await self.guias.count_documents(query)
        if skip and skip >= total:  # past the end (a 2^63 skip overflows)
            return [], total
        cursor = self.guias.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return [d async for d in cursor], total

    # lotes
    async def lote(self, provider_id: str, lote_id: str) -> dict[str, Any]:
        doc = await self.lotes.find_one({"_id": lote_id, "provider_id": provider_id})
        if doc is None:
            raise DigitacaoNaoEncontrada("lote_nao_encontrado", "Lote digitado não encontrado.")
        return doc

    async def inserir_lote(self, doc: dict[str, Any]) -> None:
        await self.lotes.insert_one(doc)

    async def atualizar_lote(
        self, lote_id: str, condicao: dict[str, Any], mudanca: dict[str, Any]
    ) -> dict[str, Any] | None:
        async with self.lock:
            return await self.lotes.find_one_and_update(
                {"_id": lote_id, **condicao},
                mudanca,
                return_document=ReturnDocument.AFTER,
            )

    async def listar_lotes(self, query: dict[str, Any], limit: int = 200) -> list[dict[str, Any]]:
        cursor = self.lotes.find(query).sort([("created_at", DESCENDING)]).limit(limit)
        return [d async for d in cursor]
