"""Ops figures of one service: its outbox backlog (entries not yet published, and the age of
the oldest) and its parked messages by status, for the ops page's charts.

Served on `GET /internal/dlq/resumo` by every service (the gateway reads its own in process).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from tissflow_runtime.outbox import PENDING

# Enough to see a backlog grow; the count past it is still exact (count_documents).
_AMOSTRA = 1000


def _quando(entry: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(entry["data"])["occurred_at"])
    except (KeyError, TypeError, ValueError):
        return None


async def outbox_backlog(db: AsyncDatabase, collections: list[str]) -> list[dict[str, Any]]:
    """Per outbox collection: documents with pending entries, the entries (in the first
    documents read) and the age in seconds of the oldest entry."""
    now = datetime.now(UTC)
    out = []
    for name in collections:
        col = db[name]
        documentos = await col.count_documents(PENDING)
        entradas = 0
        mais_antigo: datetime | None = None
        if documentos:
            async for doc in col.find(PENDING, {"outbox": 1}).limit(_AMOSTRA):
                for entry in doc.get("outbox") or []:
                    entradas += 1
                    at = _quando(entry)
                    if at and (mais_antigo is None or at < mais_antigo):
                        mais_antigo = at
        out.append(
            {
                "collection": name,
                "documentos": documentos,
                "pendentes": entradas,
                "idade_segundos": (now - mais_antigo).total_seconds() if mais_antigo else None,
            }
        )
    return out


async def dead_letter_counts(db: AsyncDatabase) -> dict[str, int]:
    dead = db["dead_letters"]
    return {s: await dead.count_documents({"status": s}) for s in ("pendente", "reprocessado")}
