"""In-memory adapters with the MongoDB ones' behaviour: unit tests and `make bench` run
the use cases on them in milliseconds."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from tissflow_statements.adapters.repository import CAMPOS_DO_RESUMO, public


class MemoryProjection:
    def __init__(self) -> None:
        self.lotes_docs: dict[str, dict[str, Any]] = {}
        self.protocolos_docs: dict[str, dict[str, Any]] = {}
        self.recursos_docs: dict[str, dict[str, Any]] = {}

    async def record_recurso(self, event_id: str, resposta: dict[str, Any]) -> None:
        self.recursos_docs.setdefault(resposta["recurso_id"], copy.deepcopy(resposta))

    async def recursos(self, provider_id: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(r)
            for _, r in sorted(self.recursos_docs.items())
            if r["provider_id"] == provider_id
        ]

    async def record_lote(self, event_id: str, lote: dict[str, Any]) -> None:
        doc = self.lotes_docs.setdefault(lote["lote_id"], {"handled": []})
        if event_id not in doc["handled"]:
            doc["lote"] = copy.deepcopy(lote)
            doc["handled"].append(event_id)

    async def record_protocolo(self, event_id: str, estado: dict[str, Any]) -> None:
        doc = self.protocolos_docs.setdefault(estado["peg"], {"handled": []})
        if event_id not in doc["handled"]:
            doc["estado"] = copy.deepcopy(estado)
            doc["handled"].append(event_id)

    async def mark_protocolo_handled(self, event_id: str, peg: str) -> None:
        doc = self.protocolos_docs.get(peg)
        if doc is not None and event_id not in doc["handled"]:
            doc["handled"].append(event_id)

    async def protocolo(self, peg: str) -> dict[str, Any] | None:
        doc = self.protocolos_docs.get(peg)
        return copy.deepcopy(doc["estado"]) if doc and "estado" in doc else None

    async def lotes(self, lote_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {
            i: copy.deepcopy(self.lotes_docs[i]["lote"]) for i in lote_ids if i in self.lotes_docs
        }

    def _estados(self) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(d["estado"])
            for _, d in sorted(self.protocolos_docs.items())
            if "estado" in d
        ]

    async def protocolos_do_lote(self, lote_id: str) -> list[dict[str, Any]]:
        return [e for e in self._estados() if e["lote_id"] == lote_id]

    async def protocolos(self, pegs: list[str]) -> list[dict[str, Any]]:
        return [e for e in self._estados() if e["peg"] in pegs]

    async def datas_pagas(self, provider_id: str | None) -> list[str]:
        datas = {
            e["data_pagamento"]
            for e in self._estados()
            if e["status"] in (3, 6)
            and e.get("data_pagamento")
            and (provider_id is None or e["provider_id"] == provider_id)
        }
        return sorted(datas, reverse=True)

    async def pagos_entre(self, provider_id: str, inicio: str, fim: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self._estados()
            if e["provider_id"] == provider_id
            and e["status"] in (3, 6)
            and e.get("data_pagamento")
            and inicio <= e["data_pagamento"] <= fim
        ]


class MemoryStatements:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.published: list[dict[str, Any]] = []

    async def get(self, statement_id: str) -> dict[str, Any] | None:
        doc = self.docs.get(statement_id)
        return copy.deepcopy(doc) if doc else None

    async def save(self, statement_id: str, resumo: dict[str, Any], evento: dict[str, Any]) -> bool:
        atual = self.docs.get(statement_id)
        now = datetime.now(UTC)
        if atual is None:
            self.docs[statement_id] = {
                "_id": statement_id,
                **resumo,
                "created_at": now,
                "aberto_em": None,
                "formatos": ["pdf", "xml"],
            }
        elif all(atual.get(k) == resumo.get(k) for k in CAMPOS_DO_RESUMO):
            return False
        else:
            atual.update(resumo, aberto_em=None)
        self.published.append(evento)
        return True

    async def mark_opened(self, statement_id: str, when: Any) -> None:
        if statement_id in self.docs and self.docs[statement_id]["aberto_em"] is None:
            self.docs[statement_id]["aberto_em"] = when

    async def page(self, query: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
        docs = [
            d
            for d in self.docs.values()
            if all((d["_id"] if k == "_id" else d.get(k)) == v for k, v in query.items())
        ]
        docs.sort(key=lambda d: d["created_at"], reverse=True)
        items = [public(d) for d in docs[(page - 1) * page_size : page * page_size]]
        return {"items": items, "total": len(docs), "page": page, "page_size": page_size}


class MemoryDocumentCache:
    def __init__(self) -> None:
        self.docs: dict[str, bytes] = {}

    async def get(self, key: str) -> bytes | None:
        return self.docs.get(key)

    async def put(self, key: str, content: bytes) -> None:
        self.docs[key] = content
