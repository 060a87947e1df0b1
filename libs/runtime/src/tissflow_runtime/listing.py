"""Paginated listings, newest first, shared by every service's internal API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

# Bookkeeping fields no listing returns.
HIDDEN = {"outbox": 0, "handled": 0}


def utc_bound(value: datetime) -> datetime:
    """An instant in UTC that BSON can store: `9999-12-31T23:59:59-03:00` is past the last
    UTC instant Python has, so a filter bound like it is clamped to the end of time
    instead of failing the whole request with an OverflowError."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (
            datetime.max.replace(tzinfo=UTC) if value.year > 1 else datetime.min.replace(tzinfo=UTC)
        )


def _safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_bound(value)
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    return value


def match(**filters: Any) -> dict[str, Any]:
    """A query from the filters that were given (None and "" mean "any"); date bounds
    are normalised to UTC (see `utc_bound`)."""
    return {key: _safe(value) for key, value in filters.items() if value not in (None, "")}


async def page_of(
    collection: AsyncCollection,
    query: dict[str, Any],
    page: int,
    page_size: int,
    public: Callable[[dict[str, Any]], dict[str, Any]],
    newest_first_by: str = "created_at",
    hidden: dict[str, Any] = HIDDEN,
) -> dict[str, Any]:
    """`{items, total, page, page_size}` for one page, newest first (ties by `_id`);
    the fields in `hidden` (an exclusion projection) are not read.

    A page past the last one is empty, whatever its number (a skip of 2^63 would
    overflow the database's 64-bit integer)."""
    total = await collection.count_documents(query)
    skip = (page - 1) * page_size
    items: list[dict[str, Any]] = []
    if skip < total:
        cursor = (
            collection.find(query, hidden)
            .sort([(newest_first_by, DESCENDING), ("_id", ASCENDING)])
            .skip(skip)
            .limit(page_size)
        )
        items = [public(doc) async for doc in cursor]
    return {
        "items": items,
        "total": total,
        "page": page,
        "page_size": page_size,
    }
