"""In-memory fakes of batching's ports, for unit tests of the use cases."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from tissflow_batching.domain import ConfigOperadora
from tissflow_batching.service_layer.lotes import Deps
from tissflow_batching.service_layer.ports import Pesquisa


class FakeLotes:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def get(self, lote_id: str) -> dict[str, Any] | None:
        doc = self.docs.get(lote_id)
        return copy.deepcopy(doc) if doc else None

    async def active_for_file(self, file_id: str) -> dict[str, Any] | None:
        for doc in self.docs.values():
            if doc.get("file_id") == file_id and doc["status"] != "excluido":
                return copy.deepcopy(doc)
        return None

    async def add(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.docs:
            return False
        self.docs[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def transition(self, lote_id, from_states, sets, log, outbox):  # type: ignore[no-untyped-def]
        doc = self.docs.get(lote_id)
        if doc is None or doc["status"] not in from_states:
            return None
        doc.update(copy.deepcopy(sets))
        doc["log"].append(log)
        if outbox is not None:
            doc["outbox"].append(outbox)
        return copy.deepcopy(doc)

    async def append_log(self, lote_id: str, log: dict[str, Any]) -> None:
        self.docs[lote_id]["log"].append(log)

    async def update_fields(self, lote_id, sets, log=None, event_id=None, only_status=None):  # type: ignore[no-untyped-def]
        doc = self.docs.get(lote_id)
        if doc is None or (event_id and event_id in doc["handled"]):
            return None
        if only_status and doc["status"] != only_status:
            return None
        for key, value in copy.deepcopy(sets).items():
            head, dot, tail = key.partition(".")  # Mongo's "field.sub" sets one sub-field
            if dot:
                doc.setdefault(head, {})[tail] = value
            else:
                doc[key] = value
        if log:
            doc["log"].append(log)
        if event_id:
            doc["handled"].append(event_id)
        return copy.deepcopy(doc)

    async def search(self, pesquisa: Pesquisa, page: int, page_size: int):  # type: ignore[no-untyped-def]
        found = [
            d
            for d in self.docs.values()
            if (not pesquisa.provider_id or d["provider_id"] == pesquisa.provider_id)
            and (not pesquisa.status or d["status"] == pesquisa.status)
        ]
        return copy.deepcopy(found[(page - 1) * page_size : page * page_size]), len(found)


class FakeNumbers:
    def __init__(self) -> None:
        self.seqs: dict[str, int] = {}

    async def next(self, key: str) -> int:
        self.seqs[key] = self.seqs.get(key, 0) + 1
        return self.seqs[key]


class FakeOutbox:
    def __init__(self) -> None:
        self.notified = 0

    def event(self, payload: Any, *, key: str, correlation_id: str) -> dict[str, Any]:
        return {"type": type(payload).__name__, "key": key, "payload": payload}

    def notify(self, collection: str | None = None, doc_id: Any = None) -> None:
        self.notified += 1


class FakeConfig:
    def __init__(self, config: ConfigOperadora | None = None) -> None:
        self.config = config or ConfigOperadora()

    async def get(self) -> ConfigOperadora:
        return self.config

    async def save(self, config: ConfigOperadora, by: str) -> dict[str, Any]:
        self.config = config
        return {}


class FakeNotas:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}

    async def put(self, lote_id: str, content: bytes, media_type: str, filename: str) -> None:
        self.files[lote_id] = (content, media_type, filename)

    async def get(self, lote_id: str) -> tuple[bytes, str, str] | None:
        return self.files.get(lote_id)


class Clock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 4, 17, 16, 34, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def fake_deps() -> Deps:
    return Deps(
        lotes=FakeLotes(),
        numbers=FakeNumbers(),
        outbox=FakeOutbox(),
        config=FakeConfig(),
        notas=FakeNotas(),
        clock=Clock(),
    )
