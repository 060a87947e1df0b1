"""Validation's MongoDB repositories (database `<prefix>_validation`).

The look-ups every `file.uploaded` makes (is it judged, its correction state, the
carteiras and guides it names) go through `KeyBatcher`: the files of a batch, handled
concurrently, ask in the same turn and are answered by one `_id $in` query (ADR 0019).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tissflow_runtime.coalesce import InsertBatcher, by_id
from tissflow_runtime.outbox import marked


async def _insert(collection: Any, doc: dict[str, Any]) -> bool:
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


class MongoResults:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["results"]
        self._judged = by_id(self.collection, {"_id": 1})
        self._inserts = InsertBatcher(self.collection)

    async def create_indexes(self) -> None:
        await self.collection.create_index([("file_id", ASCENDING), ("revision", DESCENDING)])

    async def exists(self, result_id: str) -> bool:
        return await self._judged.get(result_id) is not None

    async def insert(self, doc: dict[str, Any]) -> bool:
        # The verdicts of a batch written together: one `insert_many` (ADR 0021).
        return await self._inserts.insert(marked(doc))

    async def latest(self, file_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one(
            {"file_id": file_id}, {"outbox": 0}, sort=[("revision", -1)]
        )
        return doc


class MongoGuides:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["guias"]
        self._claims = by_id(self.collection, {"numero_guia": 1, "file_id": 1})
        self._inserts = InsertBatcher(self.collection)

    async def create_indexes(self) -> None:
        await self.collection.create_index([("provider_id", ASCENDING)])
        # `presented_elsewhere` on every file: the clinic's guides by number, not all of
        # them (at 2,000 guides per clinic it read each one: ADR 0018).
        await self.collection.create_index([("provider_id", ASCENDING), ("numero_guia", ASCENDING)])

    async def claim(self, doc: dict[str, Any]) -> bool:
        return await _insert(self.collection, doc)

    async def claim_all(self, docs: list[dict[str, Any]]) -> list[bool]:
        """Insert every claim in one round trip (with the claims other files of the batch
        make at that moment); for each, whether it was inserted (False: someone holds
        that `_id`)."""
        return await self._inserts.insert_all(docs)

    async def holder(self, key: str) -> str | None:
        doc = await self._claims.get(key)
        return None if doc is None else str(doc["file_id"])

    async def release(self, keys: list[str], file_id: str) -> None:
        await self.collection.delete_many({"_id": {"$in": keys}, "file_id": file_id})

    async def forget_file(self, provider_id: str, file_id: str) -> None:
        await self.collection.delete_many({"provider_id": provider_id, "file_id": file_id})

    async def presented_elsewhere(
        self, provider_id: str, file_id: str, numeros: list[str]
    ) -> set[str]:
        # By `_id` (`provider:numero`), the one filter our FerretDB reads through an index
        # whatever the collection holds; by `provider_id` it read the clinic's whole
        # history of guides for every file (ADR 0019).
        found = await self._claims.get_many(f"{provider_id}:{n}" for n in numeros)
        return {d["numero_guia"] for d in found.values() if d.get("file_id") != file_id}


class MongoRegistry:
    def __init__(self, db: AsyncDatabase) -> None:
        self.prestadores = db["prestadores"]
        self.beneficiarios = db["beneficiarios"]
        self._beneficiarios = by_id(self.beneficiarios, {"nome": 1, "ativo": 1})
        self._prestadores = by_id(self.prestadores)

    async def create_indexes(self) -> None:
        # A provider is named by its CNPJ/CPF (`_id`) or by its code at the operator.
        await self.prestadores.create_index([("codigo_prestador", ASCENDING)])

    async def has_prestadores(self) -> bool:
        return await self.prestadores.find_one({}, {"_id": 1}) is not None

    async def has_beneficiarios(self) -> bool:
        return await self.beneficiarios.find_one({}, {"_id": 1}) is not None

    async def prestador(self, key: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.prestadores.find_one({"_id": key})
        return doc

    async def prestadores_by_keys(self, keys: list[str]) -> dict[str, Any]:
        # Two indexed questions at once, not one `$or`: our FerretDB answers an `$or` by
        # reading the whole registry, for every file (ADR 0021); by `_id` the files of a
        # batch share one query.
        async def by_code() -> list[dict[str, Any]]:
            return [d async for d in self.prestadores.find({"codigo_prestador": {"$in": keys}})]

        named, coded = await asyncio.gather(self._prestadores.get_many(keys), by_code())
        found: dict[str, Any] = {}
        for d in [*named.values(), *coded]:
            for key in (d["_id"], d.get("codigo_prestador")):
                if key in keys:
                    found[key] = d
        return found

    async def beneficiarios_by_keys(self, keys: list[str]) -> dict[str, Any]:
        found = await self._beneficiarios.get_many(keys)
        return {
            k: {"nome": d.get("nome"), "ativo": bool(d.get("ativo", True))}
            for k, d in found.items()
        }

    async def upsert(self, tipo: str, records: list[dict[str, Any]], ordered: bool) -> None:
        collection = self.prestadores if tipo == "prestadores" else self.beneficiarios
        ops = [
            UpdateOne(
                {"_id": r["_id"]},
                {"$set": {k: v for k, v in r.items() if k != "_id"}},
                upsert=True,
            )
            for r in records
        ]
        if ops:
            await collection.bulk_write(ops, ordered=ordered)


class MongoRules:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["regras"]

    async def all(self) -> list[dict[str, Any]]:
        return [d async for d in self.collection.find({})]

    async def save(self, codigo: str, setting: dict[str, Any]) -> None:
        await self.collection.update_one({"_id": codigo}, {"$set": setting}, upsert=True)


class MongoCorrectionStates:
    """One document per file (collection `arquivos`): the online-correction state."""

    def __init__(self, db: AsyncDatabase, write_lock: asyncio.Lock) -> None:
        self.collection = db["arquivos"]
        self._by_id = by_id(self.collection)
        self._lock = write_lock

    def lock(self) -> AbstractAsyncContextManager[Any]:
        return self._lock

    async def get(self, file_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self._by_id.get(file_id)
        return doc

    async def insert(self, doc: dict[str, Any]) -> bool:
        return await _insert(self.collection, doc)

    async def update_if_version(self, file_id: str, versao: int, changes: dict[str, Any]) -> bool:
        done = await self.collection.update_one(
            {"_id": file_id, "versao": versao}, {"$set": changes}
        )
        return bool(done.matched_count)
