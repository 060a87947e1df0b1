"""Operations: the health of every service and the messages they parked, with replay.

Each service records what it dead-lettered (`/internal/dlq`) and can run its handler on
one again; this module asks them all, so the ops team sees one list.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi.encoders import jsonable_encoder
from tissflow_runtime.local import SERVICES

from tissflow_gateway.core import ApiError, call, runtime, seg, settings


async def _ready(service: str) -> dict[str, Any]:
    url = f"{getattr(settings, f'{service}_url')}/readyz"
    try:
        response = await runtime.http.get(url, timeout=3)
        body = response.json()
        return {"service": service, "ready": response.status_code == 200, "checks": body["checks"]}
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return {"service": service, "ready": False, "checks": {"http": type(exc).__name__}}


async def health() -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(_ready(s) for s in SERVICES)))


async def dead_letters(status: str | None = None, limit: int = 100) -> dict[str, Any]:
    """The newest `limit` parked messages of all services, and how many there are."""
    params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}

    async def one(service: str) -> dict[str, Any]:
        try:
            if service == runtime.name:  # in process: the public port has no /internal/dlq
                # As JSON, like the others' answers (their `at` is a string to sort with).
                return jsonable_encoder(await runtime.list_dead_letters(status, limit))
            return await call("GET", service, "/internal/dlq", params=params)
        except Exception:  # noqa: BLE001 - one service down must not hide the others
            return {"items": [], "total": 0, "indisponivel": service}

    answers = await asyncio.gather(*(one(s) for s in SERVICES))
    items = sorted(
        (item for a in answers for item in a["items"]), key=lambda i: i["at"], reverse=True
    )[:limit]
    return {
        "items": items,
        "total": sum(a["total"] for a in answers),
        "indisponiveis": [a["indisponivel"] for a in answers if "indisponivel" in a],
    }


async def replay(service: str, dead_letter_id: str) -> dict[str, Any]:
    if service not in SERVICES:
        raise ApiError(404, "servico_desconhecido", f"Serviço {service!r} não existe.")
    if service == runtime.name:
        return await runtime.replay_dead_letter(dead_letter_id)
    return await call("POST", service, f"/internal/dlq/{seg(dead_letter_id)}/reprocessar")
