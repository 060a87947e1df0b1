"""Where typed guides and typed lotes live (`guias_digitadas`, `lotes_digitados`, numbering
counters) and the ingest client a typed lote's XML is submitted through."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from tissflow_batching.digitacao.domain.lotes import DigitacaoRecusada


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
            raise DigitacaoRecusada("guia_nao_encontrada", "Guia digitada não encontrada.", 404)
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
            raise DigitacaoRecusada("lote_nao_encontrado", "Lote digitado não encontrado.", 404)
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


class Ingest(Protocol):
    async def enviar(
        self, provider_id: str, nome: str, por: str, chave: str, conteudo: bytes
    ) -> dict[str, Any]: ...


class IngestHttp:
    """Submits a typed lote's XML to ingest like an upload, with canal "digitacao".

    The idempotency key is the typed lote's: a retry after a crash gets the same file.
    """

    def __init__(self, http: Callable[[], httpx.AsyncClient], base_url: str) -> None:
        self.http = http  # the service's client, created once it runs
        self.base_url = base_url

    async def enviar(
        self, provider_id: str, nome: str, por: str, chave: str, conteudo: bytes
    ) -> dict[str, Any]:
        params = {
            "provider_id": provider_id,
            "filename": nome,
            "uploaded_by": por,
            "idempotency_key": chave,
            "canal": "digitacao",
        }
        try:
            response = await self.http().post(
                f"{self.base_url}/internal/files",
                params=params,
                content=conteudo,
                headers={"Content-Type": "application/xml"},
            )
        except httpx.HTTPError as exc:
            raise DigitacaoRecusada(
                "ingest_indisponivel",
                "O recebimento de arquivos está indisponível; tente gerar o lote de novo em "
                "instantes (as guias continuam salvas).",
                503,
            ) from exc
        if response.status_code >= 400:
            raise DigitacaoRecusada(
                "ingest_recusou",
                "O arquivo do lote não foi aceito pelo recebimento; as guias continuam salvas.",
                502,
                response.text[:500],
            )
        return response.json()
