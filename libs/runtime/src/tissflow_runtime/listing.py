"""Paginated listings, newest first, shared by every service's internal API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

# Bookkeeping fields no listing returns.
HIDDEN = {"outbox": 0, "handled": 0}


def match(**filters: Any) -> dict[str, Any]:
    """A query from the filters that were given (None and "" mean "any")."""
    return {key: value for key, value in filters.items() if value not in (None, "")}


async def page_of(
    collection: AsyncCollection,
    query: dict[str, Any],
    page: int,
    page_size: int,
    public: Callable[[dict[str, Any]], dict[str, Any]],
    newest_first_by: str = "created_at",
) -> dict[str, Any]:
    """`{items, total, page, page_size}` for one page, newest first (ties by `_id`)."""
    total = await collection.count_documents(query)
    cursor = (
        collection.find(query, HIDDEN)
        .sort([(newest_first_by, DESCENDING), ("_id", ASCENDING)])
        .skip((page - 1) * page_size)
        .limit(page_size)
    )
    return {
        "items": [public(doc) async for doc in cursor],
        "total": total,
        "page": page,
        "page_size": page_size,
    }
