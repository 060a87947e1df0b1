"""In-memory adapters of validation for unit tests: the same contracts as `adapters/`."""

from __future__ import annotations

import asyncio
import copy
import hashlib
from contextlib import AbstractAsyncContextManager
from typing import Any

from tissflow_contracts.errors import Conflict, NotFound
from tissflow_runtime.publisher import RecordingPublisher
from tissflow_validation.service_layer.ports import Adapters


class FakeResults:
    def __init__(self, only_file: str | None = None) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        # On a shared real Kafka, other tests' files look judged already (skipped).
        self.only_file = only_file

    async def exists(self, result_id: str) -> bool:
        if self.only_file and not result_id.startswith(f"{self.only_file}:"):
            return True
        return result_id in self.docs

    async def insert(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.docs:
            return False
        self.docs[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def latest(self, file_id: str) -> dict[str, Any] | None:
        mine = [d for d in self.docs.values() if d["file_id"] == file_id]
        if not mine:
            return None
        doc = copy.deepcopy(max(mine, key=lambda d: d["revision"]))
        doc.pop("outbox", None)
        return doc


class FakeGuides:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def claim(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.docs:
            return False
        self.docs[doc["_id"]] = dict(doc)
        return True

    async def claim_all(self, docs: list[dict[str, Any]]) -> list[bool]:
        return [await self.claim(doc) for doc in docs]

    async def holder(self, key: str) -> str | None:
        doc = self.docs.get(key)
        return None if doc is None else doc["file_id"]

    async def release(self, keys: list[str], file_id: str) -> None:
        for key in keys:
            if self.docs.get(key, {}).get("file_id") == file_id:
                del self.docs[key]

    async def forget_file(self, provider_id: str, file_id: str) -> None:
        for key, doc in list(self.docs.items()):
            if doc["provider_id"] == provider_id and doc["file_id"] == file_id:
                del self.docs[key]

    async def presented_elsewhere(
        self, provider_id: str, file_id: str, numeros: list[str]
    ) -> set[str]:
        return {
            d["numero_guia"]
            for d in self.docs.values()
            if d["provider_id"] == provider_id
            and d["numero_guia"] in numeros
            and d["file_id"] != file_id
        }


class FakeRegistry:
    def __init__(self) -> None:
        self.prestadores: dict[str, dict[str, Any]] = {}
        self.beneficiarios: dict[str, dict[str, Any]] = {}

    async def has_prestadores(self) -> bool:
        return bool(self.prestadores)

    async def has_beneficiarios(self) -> bool:
        return bool(self.beneficiarios)

    async def prestador(self, key: str) -> dict[str, Any] | None:
        return self.prestadores.get(key)

    async def prestadores_by_keys(self, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for doc in self.prestadores.values():
            for key in (doc["_id"], doc.get("codigo_prestador")):
                if key in keys:
                    found[key] = doc
        return found

    async def beneficiarios_by_keys(self, keys: list[str]) -> dict[str, Any]:
        return {
            k: {"nome": d.get("nome"), "ativo": bool(d.get("ativo", True))}
            for k, d in self.beneficiarios.items()
            if k in keys
        }

    async def upsert(self, tipo: str, records: list[dict[str, Any]], ordered: bool) -> None:
        target = self.prestadores if tipo == "prestadores" else self.beneficiarios
        for record in records:
            target.setdefault(record["_id"], {}).update(record)


class FakeRules:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def all(self) -> list[dict[str, Any]]:
        return [{"_id": k, **v} for k, v in self.docs.items()]

    async def save(self, codigo: str, setting: dict[str, Any]) -> None:
        self.docs.setdefault(codigo, {}).update(setting)


class FakeStates:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    def lock(self) -> AbstractAsyncContextManager[Any]:
        return self._lock

    async def get(self, file_id: str) -> dict[str, Any] | None:
        doc = self.docs.get(file_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def insert(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.docs:
            return False
        self.docs[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def update_if_version(self, file_id: str, versao: int, changes: dict[str, Any]) -> bool:
        doc = self.docs.get(file_id)
        if doc is None or int(doc.get("versao", 0)) != versao:
            return False
        doc.update(copy.deepcopy(changes))
        return True


class FakeIngest:
    """Ingest's files and revisions in memory, with its refusals."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[tuple[str, int], bytes] = {}

    def add(self, file_id: str, content: bytes, status: str = "invalido") -> None:
        self.files[file_id] = {
            "file_id": file_id,
            "status": status,
            "current_revision": 1,
            "revisions": [{"revision": 1, "sha256": hashlib.sha256(content).hexdigest()}],
        }
        self.contents[(file_id, 1)] = content

    async def file(self, file_id: str) -> dict[str, Any]:
        if file_id not in self.files:
            raise NotFound("arquivo_nao_encontrado", "Arquivo não encontrado.")
        return copy.deepcopy(self.files[file_id])

    async def content(self, file_id: str, revision: int) -> bytes:
        if (file_id, revision) not in self.contents:
            raise NotFound("revisao_nao_encontrada", "Revisão não encontrada.")
        return self.contents[(file_id, revision)]

    async def content_at(self, path: str) -> bytes:
        parts = path.strip("/").split("/")  # internal/files/<id>/revisions/<n>/content
        return await self.content(parts[2], int(parts[4]))

    async def store_revision(
        self, file_id: str, content: bytes, *, by: str, base_revision: int, reason: str
    ) -> dict[str, Any]:
        doc = self.files[file_id]
        if doc["current_revision"] != base_revision:
            raise Conflict("revisao_desatualizada", "O arquivo mudou.")
        number = base_revision + 1
        doc["current_revision"] = number
        doc["status"] = "em_processamento"
        doc["revisions"].append(
            {"revision": number, "sha256": hashlib.sha256(content).hexdigest(), "reason": reason}
        )
        self.contents[(file_id, number)] = content
        return copy.deepcopy(doc)


def fake_adapters() -> Adapters:
    return Adapters(
        registro_ans="331988",
        results=FakeResults(),
        guides=FakeGuides(),
        registry=FakeRegistry(),
        rules=FakeRules(),
        states=FakeStates(),
        ingest=FakeIngest(),
        publisher=RecordingPublisher("validation"),
    )
