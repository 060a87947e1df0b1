"""API of the operations team: every service's readiness and the parked messages (DLQ),
with replay."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tissflow_gateway import ops
from tissflow_gateway.deps import OpsUser
from tissflow_gateway.routes.common import COMMON, errors

router = APIRouter(prefix="/api/v1", responses=COMMON)


class ServiceHealth(BaseModel):
    service: str
    ready: bool
    checks: dict[str, str]


class Health(BaseModel):
    items: list[ServiceHealth]


class DeadLetter(BaseModel, extra="allow"):
    id: str
    service: str
    topic: str
    key: str | None
    error: str
    attempts: int
    status: str


class DeadLetters(BaseModel):
    items: list[DeadLetter]
    total: int
    indisponiveis: list[str]


@router.get("/ops/saude", tags=["operações"], responses=errors(403))
async def ops_health(user: OpsUser) -> Health:
    """Readiness of every service (its Kafka and MongoDB connections)."""
    return Health(items=[ServiceHealth(**h) for h in await ops.health()])


@router.get("/ops/mensagens-paradas", tags=["operações"], responses=errors(403))
async def ops_dead_letters(
    user: OpsUser, status: Literal["pendente", "reprocessado"] | None = None
) -> DeadLetters:
    """Messages a consumer gave up on (also on `<topic>.dlq`), newest first."""
    return DeadLetters(**await ops.dead_letters(status))


@router.post(
    "/ops/mensagens-paradas/{service}/{dead_letter_id}/reprocessar",
    tags=["operações"],
    responses=errors(403, 404, 409),
)
async def ops_replay(service: str, dead_letter_id: str, user: OpsUser) -> DeadLetter:
    """Run the consumer's handler on a parked message again (handlers are idempotent)."""
    return DeadLetter(**await ops.replay(service, dead_letter_id))


class Painel(BaseModel):
    arquivos: dict[str, Any] | None
    atraso_consumidores: dict[str, Any]
    servicos: list[dict[str, Any]]


@router.get("/ops/painel", tags=["operações"], responses=errors(403))
async def ops_panel(user: OpsUser, horas: Annotated[int, Query(ge=1, le=24 * 92)] = 24) -> Painel:
    """What the ops page charts: files per status and upload-to-verdict seconds per period
    (`arquivos`; null when ingest does not answer), messages not yet consumed per consumer
    group and topic, and each service's outbox backlog and parked messages."""
    arquivos, lag, servicos = await asyncio.gather(
        ops.file_stats(horas), ops.consumer_lag(), ops.summaries()
    )
    return Painel(arquivos=arquivos, atraso_consumidores=lag, servicos=servicos)
