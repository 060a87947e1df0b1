"""Statements: the demonstrativos a provider gets when its protocol is analysed and paid.

Consumes `protocolo.status_changed`: status 5 (Liberado para Faturamento) makes a
Demonstrativo de Análise de Conta, status 3 (Faturado) a Demonstrativo de Pagamento; each is
recorded once and announced with `statement.ready`. Owns `<prefix>_statements`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import Envelope, ProtocoloStatusChanged, StatementReady, Topic
from tissflow_runtime.listing import match, page_of
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

runtime = ServiceRuntime("statements", ServiceSettings())
runtime.outbox_collections("demonstrativos")
demonstrativos = runtime.db["demonstrativos"]
router = APIRouter(prefix="/internal")

KIND_BY_STATUS: dict[int, Literal["analise", "pagamento"]] = {5: "analise", 3: "pagamento"}
TITLES = {
    "analise": "Demonstrativo de Análise de Conta",
    "pagamento": "Demonstrativo de Pagamento",
}


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await demonstrativos.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])


def public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox"}}
    out["statement_id"] = doc["_id"]
    out["titulo"] = TITLES[doc["tipo"]]
    return out


@runtime.consumers.on(Topic.PROTOCOLO_STATUS_CHANGED)
async def on_status_changed(envelope: Envelope) -> None:
    event = envelope.payload_as(ProtocoloStatusChanged)
    kind = KIND_BY_STATUS.get(event.status)
    if kind is None:
        return
    statement_id = f"{kind}-{event.peg}"
    payload = StatementReady(
        statement_id=statement_id,
        tipo=kind,
        peg=event.peg,
        lote_id=event.lote_id,
        provider_id=event.provider_id,
        registro_ans=event.registro_ans,
        numero_lote=event.numero_lote,
        data_pagamento=event.data_pagamento,
        valor_informado=event.valor_informado,
        valor_liberado=event.valor_liberado,
        valor_glosado=event.valor_glosado,
    )
    doc = {
        "_id": statement_id,
        **payload.model_dump(mode="json", exclude={"statement_id"}),
        "created_at": datetime.now(UTC),
        "source_event_id": str(envelope.event_id),
        "outbox": [runtime.event(payload, key=event.peg, correlation_id=envelope.correlation_id)],
    }
    try:
        await demonstrativos.insert_one(doc)
    except DuplicateKeyError:
        return  # one statement of each kind per protocol
    runtime.relay.notify()


@router.get("/demonstrativos")
async def list_demonstrativos(
    provider_id: str | None = None,
    tipo: Literal["analise", "pagamento"] | None = None,
    peg: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    query = match(provider_id=provider_id, tipo=tipo, peg=peg)
    return await page_of(demonstrativos, query, page, page_size, public)


@router.get("/demonstrativos/{statement_id}")
async def get_demonstrativo(statement_id: str) -> dict[str, Any]:
    doc = await demonstrativos.find_one({"_id": statement_id}, {"outbox": 0})
    if doc is None:
        raise HTTPException(
            404,
            {"code": "demonstrativo_nao_encontrado", "message": "Demonstrativo não encontrado."},
        )
    return public(doc)


app = runtime.create_app([router])
