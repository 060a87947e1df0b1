"""An in-memory protocol repository with the MongoDB one's behaviour, for unit tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


class MemoryProtocolos:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.pegs: dict[int, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.outbox: list[dict[str, Any]] = []

    async def get(self, peg: str) -> dict[str, Any] | None:
        doc = self.docs.get(peg)
        return copy.deepcopy(doc) if doc else None

    async def find_by_lote(self, lote_id: str) -> dict[str, Any] | None:
        for doc in self.docs.values():
            if doc["lote_id"] == lote_id:
                return copy.deepcopy(doc)
        return None

    async def claim_peg(self, lote_id: str, make: Callable[[int], str]) -> str:
        for claim in self.pegs.values():
            if claim["lote_id"] == lote_id:
                return str(claim["peg"])
        seq = max(self.pegs, default=0) + 1
        self.pegs[seq] = {"lote_id": lote_id, "peg": make(seq)}
        return make(seq)

    async def insert(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.docs or await self.find_by_lote(doc["lote_id"]):
            return False
        stored = copy.deepcopy(doc)
        self.outbox += stored.pop("outbox", [])
        self.docs[doc["_id"]] = stored
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
        doc = self.docs.get(peg)
        if doc is None or (expected_status is not None and doc["status"] != expected_status):
            return None
        if event_id and event_id in doc.get("handled", []):
            return None
        for key, value in sets.items():
            _set(doc, key, copy.deepcopy(value))
        for key, value in pushes.items():
            if key == "outbox":
                self.outbox.append(copy.deepcopy(value))
            else:
                doc.setdefault(key, []).append(copy.deepcopy(value))
        for key, value in (incs or {}).items():
            head, _, tail = key.partition(".")
            doc.setdefault(head, {})[tail] = doc.get(head, {}).get(tail, 0) + value
        if event_id:
            doc.setdefault("handled", []).append(event_id)
        return copy.deepcopy(doc)

    async def page(
        self, query: dict[str, Any], page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]:
        found = [d for d in self.docs.values() if all(d.get(k) == v for k, v in query.items())]
        return copy.deepcopy(found[(page - 1) * page_size : page * page_size]), len(found)

    async def nao_lidas(self, papel: str, provider_id: str | None) -> int:
        return sum(
            d.get("nao_lidas", {}).get(papel, 0)
            for d in self.docs.values()
            if provider_id in (None, d["provider_id"])
        )

    async def save_file(self, doc: dict[str, Any]) -> None:
        self.files.setdefault(doc["_id"], doc)

    async def get_file(self, file_id: str) -> dict[str, Any] | None:
        return self.files.get(file_id)

    def notify(self) -> None:
        pass


def _set(doc: dict[str, Any], key: str, value: Any) -> None:
    head, _, tail = key.partition(".")
    if tail:
        doc.setdefault(head, {})[tail] = value
    else:
        doc[head] = value
