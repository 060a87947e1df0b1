"""Operations: the health of every service, the messages they parked (with replay), and
the figures the ops page charts (files per status, verdict times, consumer lag, outbox).

Each service records what it dead-lettered (`/internal/dlq`) and can run its handler on
one again; this module asks them all, so the ops team sees one list.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from fastapi.encoders import jsonable_encoder
from faststream.kafka.security import parse_security
from tissflow_runtime.local import SERVICES
from tissflow_runtime.service import kafka_security

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


async def summaries() -> list[dict[str, Any]]:
    """Every service's outbox backlog and parked messages by status (`None` figures for a
    service that did not answer)."""

    async def one(service: str) -> dict[str, Any]:
        try:
            if service == runtime.name:
                return await runtime.ops_summary()
            return await call("GET", service, "/internal/dlq/resumo")
        except Exception:  # noqa: BLE001 - one service down must not hide the others
            return {"service": service, "outbox": None, "mensagens_paradas": None}

    return list(await asyncio.gather(*(one(s) for s in SERVICES)))


async def file_stats(horas: int) -> dict[str, Any] | None:
    """Files per status over the last `horas` (hourly up to two days, daily past that) and
    their upload-to-verdict times, from ingest's registry; None when ingest is down."""
    passo = "hora" if horas <= 48 else "dia"
    try:
        return await call(
            "GET",
            "ingest",
            "/internal/estatisticas/arquivos",
            params={"horas": horas, "passo": passo},
        )
    except Exception:  # noqa: BLE001 - the page shows the rest without this chart
        return None


async def consumer_lag() -> dict[str, Any]:
    """Per service's consumer group and topic: messages not yet consumed (end offset minus
    the committed one), read from Kafka with an admin client and a group-less consumer."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "request_timeout_ms": 5000,
        **parse_security(kafka_security(settings)),
    }
    admin = AIOKafkaAdminClient(**kwargs)
    consumer = AIOKafkaConsumer(**kwargs, enable_auto_commit=False)
    grupos: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(10):
            await admin.start()
            await consumer.start()
            for service in SERVICES:
                offsets = await admin.list_consumer_group_offsets(f"{settings.db_prefix}-{service}")
                if not offsets:
                    continue
                ends = await consumer.end_offsets(list(offsets))
                por_topico: dict[str, int] = {}
                for tp, meta in offsets.items():
                    lag = ends[tp] - meta.offset if meta.offset >= 0 else ends[tp]
                    por_topico[tp.topic] = por_topico.get(tp.topic, 0) + max(0, lag)
                grupos.append(
                    {
                        "service": service,
                        "topicos": [{"topico": t, "lag": n} for t, n in sorted(por_topico.items())],
                        "lag": sum(por_topico.values()),
                    }
                )
    except (TimeoutError, KafkaError, OSError) as exc:
        return {"grupos": grupos, "erro": type(exc).__name__}
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await admin.stop()
    return {"grupos": grupos, "erro": None}
