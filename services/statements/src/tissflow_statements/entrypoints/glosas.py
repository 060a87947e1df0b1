"""Internal read of the projection for the glosa analytics (Painel de Glosa): one row per
guide of every protocol, with what was presented, processed, released and glossed (and
under which table-38 codes), the dates of protocol and payment, and what recursos won back.

The gateway composes the panel (totals, percentages, rankings, CSV) from these rows; this
module only reads `protocolos`, `lotes` and `recursos` (`GET /internal/glosas/guias`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pymongo.asynchronous.database import AsyncDatabase


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _txt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _glosas(guia: dict[str, Any]) -> list[dict[str, str]]:
    """The guide's glosas by code: its own and its items'."""
    por_codigo: dict[str, Decimal] = {}
    for g in [*guia.get("glosas", []), *(g for i in guia.get("itens", []) for g in i["glosas"])]:
        por_codigo[g["codigo"]] = por_codigo.get(g["codigo"], Decimal(0)) + Decimal(g["valor"])
    return [{"codigo": c, "valor": str(v)} for c, v in sorted(por_codigo.items())]


def linhas_de_guias(
    estado: dict[str, Any],
    lote: dict[str, Any] | None,
    recursos: Iterable[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The rows of one protocol: every guide the lote presented (or, without the lote, the
    guides the analysis names), joined with its analysis and its recursos' answers."""
    analise = {g["numero_guia_prestador"]: g for g in estado.get("guias") or []}
    apresentadas = {g["numero_guia_prestador"]: g for g in (lote or {}).get("guias") or []}
    acatado: dict[str, Decimal] = {}
    recursado: dict[str, Decimal] = {}
    for r in recursos:
        n = r["numero_guia_prestador"]
        acatado[n] = acatado.get(n, Decimal(0)) + Decimal(r["valor_total_acatado"])
        recursado[n] = recursado.get(n, Decimal(0)) + Decimal(r["valor_total_recursado"])
    prestador = estado.get("prestador") or (lote or {}).get("prestador") or {}
    tipo_guia = estado.get("tipo_guia") or (lote or {}).get("tipo_guia")
    linhas = []
    for numero in [*apresentadas, *(n for n in analise if n not in apresentadas)]:
        a = analise.get(numero)
        informado = _dec(apresentadas.get(numero, {}).get("valor_informado"))
        linhas.append(
            {
                "provider_id": estado["provider_id"],
                "prestador_nome": prestador.get("nome"),
                "peg": estado["peg"],
                "numero_lote": estado.get("numero_lote"),
                "tipo_guia": tipo_guia,
                "status": estado.get("status"),
                "data_protocolo": estado.get("data_protocolo"),
                "data_pagamento": estado.get("data_pagamento"),
                "numero_guia_prestador": numero,
                "valor_informado": _txt(informado),
                "valor_processado": a and a["valor_processado"],
                "valor_liberado": a and a["valor_liberado"],
                "valor_glosado": a and a["valor_glosado"],
                "glosas": _glosas(a) if a else [],
                "valor_recursado": _txt(recursado.get(numero)),
                "valor_acatado": _txt(acatado.get(numero)),
            }
        )
    return linhas


def router_for(db: AsyncDatabase) -> APIRouter:
    router = APIRouter(prefix="/internal/glosas")

    @router.get("/guias")
    async def guias(
        provider_id: str | None = None, de: str | None = None, ate: str | None = None
    ) -> dict[str, Any]:
        """Rows of the protocols of `provider_id` (all when absent) whose protocol date is
        between `de` and `ate` (YYYY-MM-DD, inclusive; protocols without a date are kept
        only when no period is asked)."""
        query: dict[str, Any] = {"provider_id": provider_id} if provider_id else {}
        protocolos = [doc["estado"] async for doc in db["protocolos"].find(query, {"estado": 1})]
        if de or ate:
            protocolos = [
                p
                for p in protocolos
                if p.get("data_protocolo")
                and (not de or p["data_protocolo"] >= de)
                and (not ate or p["data_protocolo"] <= ate)
            ]
        lote_ids = list({p["lote_id"] for p in protocolos})
        lotes = {
            doc["_id"]: doc["lote"]
            async for doc in db["lotes"].find({"_id": {"$in": lote_ids}}, {"lote": 1})
        }
        pegs = {p["peg"] for p in protocolos}
        por_peg: dict[str, list[dict[str, Any]]] = {}
        async for doc in db["recursos"].find(query, {"resposta": 1}):
            r = doc["resposta"]
            if r["peg"] in pegs:
                por_peg.setdefault(r["peg"], []).append(r)
        items = [
            linha
            for p in sorted(protocolos, key=lambda p: p["peg"])
            for linha in linhas_de_guias(p, lotes.get(p["lote_id"]), por_peg.get(p["peg"], []))
        ]
        return {"items": items}

    return router
