"""Look-ups the typing forms ask while a clerk types: a carteira in the operator's registry
and procedure codes in TUSS (by code or description, with vigência).

Validation owns both (the registry it imports, the TUSS terminology of the installed
`tiss` package), so the answers are the ones the engine will judge the guide by.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from typing import Annotated, Any, Protocol

import tiss.tuss
from fastapi import APIRouter, HTTPException, Query

MAX_RESULTADOS = 20


def _vigente(row: dict[str, Any], dia: str) -> bool:
    inicio, fim = row.get("vigencia_inicio") or "", row.get("vigencia_fim") or ""
    return (not inicio or dia >= inicio) and (not fim or dia <= fim)


def buscar_tuss(texto: str, tabela: str | None, dia: date) -> list[dict[str, Any]]:
    """Codes whose code, term or description match `texto`, those in force on `dia` first."""
    texto = texto.strip()
    if texto.isdigit():
        rows = tiss.tuss.lookup(texto, tabela=tabela, include_expired=True)
    else:
        rows = tiss.tuss.search(texto, tabela, include_expired=True, today=dia)
    iso = dia.isoformat()
    out = [
        {
            "tabela": r["tabela"],
            "codigo": r["codigo"],
            "termo": r.get("termo") or r.get("descricao") or "",
            "vigencia_inicio": r.get("vigencia_inicio") or None,
            "vigencia_fim": r.get("vigencia_fim") or None,
            "vigente": _vigente(r, iso),
        }
        for r in rows
    ]
    out.sort(key=lambda r: not r["vigente"])
    return out[:MAX_RESULTADOS]


def _aquecer() -> None:
    """Load the TUSS index (seconds, once per process) before the first clerk asks."""
    tiss.tuss.search("consulta")


class Beneficiarios(Protocol):
    """The registry's beneficiaries (the service's Registry port has these two)."""

    async def has_beneficiarios(self) -> bool: ...

    async def beneficiarios_by_keys(self, keys: list[str]) -> dict[str, Any]:
        """Each carteira found: `{nome, ativo}`."""
        ...


def build_router(adapters: Any) -> APIRouter:
    """For a bootstrap that builds routers from its adapters (`adapters.registry`)."""
    return router_consultas(adapters.registry)


def router_consultas(registro: Beneficiarios) -> APIRouter:
    router = APIRouter(prefix="/internal/consultas", tags=["consultas"])
    threading.Thread(target=_aquecer, name="tuss-index", daemon=True).start()

    @router.get("/beneficiarios/{numero_carteira}")
    async def carteira(numero_carteira: str) -> dict[str, Any]:
        chave = numero_carteira.strip()
        doc = (await registro.beneficiarios_by_keys([chave])).get(chave)
        if doc is None:
            vazio = not await registro.has_beneficiarios()
            raise HTTPException(
                404,
                {
                    "code": "carteira_nao_encontrada",
                    "message": "O cadastro de beneficiários da operadora está vazio."
                    if vazio
                    else f"Carteira {numero_carteira} não consta no cadastro da operadora.",
                },
            )
        return {
            "numero_carteira": chave,
            "nome": doc.get("nome"),
            "ativo": bool(doc.get("ativo", True)),
        }

    @router.get("/tuss")
    async def tuss(
        q: Annotated[str, Query(min_length=2, max_length=100)],
        tabela: Annotated[str | None, Query(pattern=r"^(18|19|20|22)$")] = None,
        data: date | None = None,
    ) -> dict[str, Any]:
        itens = await asyncio.to_thread(buscar_tuss, q, tabela, data or date.today())
        return {"items": itens, "total": len(itens)}

    return router
