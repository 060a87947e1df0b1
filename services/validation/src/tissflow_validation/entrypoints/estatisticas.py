"""Internal read of the critiques validation gave, counted for the glosa analytics: which
table-38 codes each clinic gets most, per provider, guide type and month of validation.

`contar_criticas` is pure (result documents in, counts out); the route reads the results
of the period (`GET /internal/estatisticas/criticas`), every revision judged included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pymongo.asynchronous.database import AsyncDatabase

LOCAL = ZoneInfo("America/Sao_Paulo")


def contar_criticas(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (code, provider, guide type, month): how many critiques, with the
    code's description. Ignored critiques count too: the clinic still got them."""
    contagem: Counter[tuple[str, str, str | None, str]] = Counter()
    descricoes: dict[str, str] = {}
    for doc in docs:
        result = doc.get("result") or {}
        at = doc["validated_at"]
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        mes = at.astimezone(LOCAL).strftime("%Y-%m")
        for c in result.get("critiques") or []:
            codigo = c.get("codigo")
            if not codigo:
                continue
            descricoes.setdefault(codigo, c.get("descricao") or "")
            contagem[(codigo, doc["provider_id"], result.get("tipo_guia"), mes)] += 1
    return [
        {
            "codigo": codigo,
            "descricao": descricoes[codigo],
            "provider_id": provider_id,
            "tipo_guia": tipo_guia,
            "mes": mes,
            "quantidade": n,
        }
        for (codigo, provider_id, tipo_guia, mes), n in sorted(contagem.items(), key=str)
    ]


def build_router(db: AsyncDatabase) -> APIRouter:
    router = APIRouter(prefix="/internal/estatisticas", tags=["estatisticas"])

    @router.get("/criticas")
    async def criticas(
        provider_id: str | None = None, de: datetime | None = None, ate: datetime | None = None
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"provider_id": provider_id} if provider_id else {}
        periodo = {**({"$gte": de} if de else {}), **({"$lte": ate} if ate else {})}
        if periodo:
            query["validated_at"] = periodo
        # Only what is counted: a result also holds every guide of the file.
        campos = {"provider_id": 1, "validated_at": 1, "result.critiques": 1, "result.tipo_guia": 1}
        cursor = db["results"].find(query, campos)
        return {"items": contar_criticas([doc async for doc in cursor])}

    return router
