"""The access log: who did what, when, through which route and with what result.

Every request that changes something (any method but GET/HEAD/OPTIONS), every download
and every login attempt is recorded by the gateway's middleware (`app.py`) in
`<prefix>_gateway.audit_log`; a provider reads its own users' records and the operator's
staff read all (`GET /api/v1/auditoria`), as ANS's security component asks.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from tissflow_runtime.listing import page_of

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, db

log = logging.getLogger(__name__)
audit_log = db["audit_log"]
# Downloads are reads worth recording: a file's XML, a demonstrativo, a lote's cover.
AUDITED_READS = ("/content", "/xml", "/pdf", "/capa")
_pending: set[asyncio.Task[None]] = set()


def audited(method: str, path: str) -> bool:
    return method not in ("GET", "HEAD", "OPTIONS") or path.endswith(AUDITED_READS)


async def _insert(entry: dict[str, Any]) -> None:
    try:
        await audit_log.insert_one(entry)
    except Exception as exc:  # noqa: BLE001 - the request is done; say it and go on
        log.warning("access log write failed: %s", type(exc).__name__)


def record(
    who: dict[str, Any], method: str, route: str, path: str, status: int, address: str
) -> None:
    """Store one entry without holding up the response it describes."""
    entry = {
        "at": datetime.now(UTC),
        "username": who.get("username"),
        "role": who.get("role"),
        "provider_id": who.get("provider_id"),
        "method": method,
        "route": route,
        "path": path[:500],
        "status": status,
        "address": address,
    }
    task = asyncio.create_task(_insert(entry))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    doc["id"] = str(doc.pop("_id"))
    return doc


async def entries(user: User, page: int, page_size: int) -> dict[str, Any]:
    """The records a user may read: a provider its own, the operator's staff all."""
    if user.role == "prestador":
        query: dict[str, Any] = {"provider_id": user.provider_id}
    elif user.role == "operadora":
        query = {}
    else:
        raise ApiError(403, "acesso_negado", "O registro de acessos é do prestador e da operadora.")
    return await page_of(audit_log, query, page, page_size, _public, newest_first_by="at")
