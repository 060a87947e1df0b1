"""Ops figures of the file registry: files per status over time and upload-to-verdict time.

The ops page charts them; the gateway reads `GET /internal/estatisticas/arquivos`.
`resumo_arquivos` is pure (documents in, figures out); the route only reads the documents
of the window, projected to the few fields it needs.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pymongo.asynchronous.database import AsyncDatabase

from tissflow_ingest.domain import FileStatus

Passo = Literal["hora", "dia"]
_PASSOS = {"hora": timedelta(hours=1), "dia": timedelta(days=1)}


def _inicio(at: datetime, passo: Passo) -> datetime:
    at = at.astimezone(UTC)
    if passo == "dia":
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(minute=0, second=0, microsecond=0)


def _percentil(valores: list[float], p: float) -> float:
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, round(p * (len(ordenados) - 1)))]


def resumo_arquivos(
    docs: Iterable[dict[str, Any]], desde: datetime, ate: datetime, passo: Passo
) -> dict[str, Any]:
    """Per period (hour or day, UTC) of upload: the files by their current status, and the
    median, 95th percentile and maximum seconds from the current revision's upload to its
    verdict (files still `em_processamento` have none yet)."""
    inicio = _inicio(desde, passo)
    periodos: dict[datetime, dict[str, Any]] = {}
    at = inicio
    while at <= ate:
        periodos[at] = {"contagem": {s.value: 0 for s in FileStatus}, "latencias": []}
        at += _PASSOS[passo]
    for doc in docs:
        periodo = periodos.get(_inicio(doc["created_at"], passo))
        if periodo is None:
            continue
        status = doc.get("status", FileStatus.EM_PROCESSAMENTO.value)
        periodo["contagem"][status] = periodo["contagem"].get(status, 0) + 1
        revisoes = doc.get("revisions") or []
        if status != FileStatus.EM_PROCESSAMENTO.value and revisoes and doc.get("updated_at"):
            enviado = revisoes[-1]["created_at"]
            periodo["latencias"].append(max(0.0, (doc["updated_at"] - enviado).total_seconds()))
    serie = []
    todas: list[float] = []
    for at, periodo in periodos.items():
        lat = periodo["latencias"]
        todas.extend(lat)
        serie.append(
            {
                "inicio": at.isoformat(),
                **periodo["contagem"],
                "latencia_mediana": statistics.median(lat) if lat else None,
                "latencia_p95": _percentil(lat, 0.95) if lat else None,
                "latencia_max": max(lat) if lat else None,
            }
        )
    return {
        "passo": passo,
        "serie": serie,
        "total": {s.value: sum(p[s.value] for p in serie) for s in FileStatus},
        "latencia_mediana": statistics.median(todas) if todas else None,
        "latencia_p95": _percentil(todas, 0.95) if todas else None,
    }


def build_router(db: AsyncDatabase) -> APIRouter:
    router = APIRouter(prefix="/internal/estatisticas")
    files = db["files"]

    @router.get("/arquivos")
    async def arquivos(
        desde: datetime | None = None,
        passo: Passo = "hora",
        horas: Annotated[int, Query(ge=1, le=24 * 92)] = 24,
    ) -> dict[str, Any]:
        ate = datetime.now(UTC)
        desde = desde or ate - timedelta(hours=horas)
        cursor = files.find(
            {"created_at": {"$gte": _inicio(desde, passo)}},
            {"created_at": 1, "updated_at": 1, "status": 1, "revisions": 1},
        )
        return resumo_arquivos([doc async for doc in cursor], desde, ate, passo)

    return router
