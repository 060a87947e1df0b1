"""An in-memory stand-in for the few PyMongo collection calls the credentials and the
login limits make, so the SOAP door's unit tests run with no database."""

from __future__ import annotations

import copy
from typing import Any

from pymongo.errors import DuplicateKeyError


def _matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, cond in query.items():
        value = doc.get(key)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                if op == "$lte" and not (value is not None and value <= arg):
                    return False
                if op == "$ne" and value == arg:
                    return False
        elif value != cond:
            return False
    return True


class _Cursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def sort(self, key: str, direction: int) -> _Cursor:
        self.docs.sort(key=lambda d: d.get(key), reverse=direction < 0)
        return self

    def limit(self, n: int) -> _Cursor:
        self.docs = self.docs[:n]
        return self

    async def to_list(self) -> list[dict[str, Any]]:
        return self.docs


class FakeCollection:
    def __init__(self) -> None:
        self.docs: dict[Any, dict[str, Any]] = {}

    async def insert_one(self, doc: dict[str, Any]) -> None:
        if doc["_id"] in self.docs:
            raise DuplicateKeyError("duplicate _id")
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def find_one(
        self, query: dict[str, Any], sort: list[tuple[str, int]] | None = None
    ) -> dict[str, Any] | None:
        found = [d for d in self.docs.values() if _matches(d, query)]
        if sort:
            key, direction = sort[0]
            found.sort(key=lambda d: d.get(key), reverse=direction < 0)
        return copy.deepcopy(found[0]) if found else None

    def find(self, query: dict[str, Any]) -> _Cursor:
        return _Cursor([copy.deepcopy(d) for d in self.docs.values() if _matches(d, query)])

    async def update_one(self, query: dict[str, Any], update: dict[str, Any]) -> None:
        for doc in self.docs.values():
            if _matches(doc, query):
                doc.update(copy.deepcopy(update.get("$set", {})))
                return

    async def delete_one(self, query: dict[str, Any]) -> None:
        for key, doc in list(self.docs.items()):
            if _matches(doc, query):
                del self.docs[key]
                return

    async def delete_many(self, query: dict[str, Any]) -> None:
        for key, doc in list(self.docs.items()):
            if _matches(doc, query):
                del self.docs[key]
