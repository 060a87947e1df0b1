"""In-memory adapters of ingest for unit tests: the same contracts as MongoDB and GridFS."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime
from typing import Any

from tissflow_contracts import FileValidated
from tissflow_ingest.domain import INLINE_FIELD, public


class FakeFiles:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def get(self, file_id: str, *, content: bool = False) -> dict[str, Any] | None:
        doc = self.docs.get(file_id)
        if doc is None:
            return None
        found = copy.deepcopy(doc)
        if not content:
            found.pop(INLINE_FIELD, None)
        return found

    async def insert(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.docs:
            return False
        self.docs[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def add_revision(
        self,
        file_id: str,
        base_revision: int,
        fields: dict[str, Any],
        revision: dict[str, Any],
        event: dict[str, Any],
    ) -> dict[str, Any] | None:
        doc = self.docs.get(file_id)
        if doc is None or doc["current_revision"] != base_revision:
            return None
        doc.update(fields)
        doc["revisions"].append(revision)
        doc.setdefault("outbox", []).append(event)
        return copy.deepcopy(doc)

    async def record_verdict(self, event_id: str, verdict: FileValidated, at: datetime) -> None:
        doc = self.docs.get(verdict.file_id)
        if doc is None or doc["current_revision"] != verdict.revision:
            return
        if event_id in doc["handled"]:
            return
        doc["status"] = verdict.status
        doc["updated_at"] = at
        doc["validacao"] = {"revision": verdict.revision, "critiques": verdict.critiques}
        doc["handled"].append(event_id)

    async def page(self, **filters: Any) -> dict[str, Any]:
        items = [public(d) for d in self.docs.values()]
        return {"items": items, "total": len(items), "page": 1, "page_size": len(items)}


class FakeStore:
    def __init__(self) -> None:
        self.blobs: dict[int, bytes] = {}
        self._ids = itertools.count(1)

    async def put(self, file_id: str, revision: int, content: bytes) -> Any:
        ref = next(self._ids)
        self.blobs[ref] = content
        return ref

    async def get(self, ref: Any) -> bytes:
        return self.blobs[ref]

    async def delete(self, ref: Any) -> None:
        self.blobs.pop(ref, None)
