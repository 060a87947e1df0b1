"""Batching: lotes de pagamento made from imported files, closed, reopened and sent.

Consumes `file.validated` (an imported file opens a lote) and `protocolo.status_changed`
(the lote shows its protocol's progress); produces `lote.sent`. Owns `<prefix>_batching`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import (
    Envelope,
    FileValidated,
    LoteDeleted,
    LoteSent,
    ProtocoloStatusChanged,
    Topic,
)
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.listing import HIDDEN, match, page_of
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_batching.digitacao.bootstrap import routes as digitacao_routes
from tissflow_batching.domain import (
    STATUS_LABELS,
    LoteActionRefused,
    LoteStatus,
    allowed_from,
    next_status,
)

runtime = ServiceRuntime("batching", ServiceSettings())
runtime.outbox_collections("lotes")
lotes = runtime.db["lotes"]
router = APIRouter(prefix="/internal")

NOT_FOUND = {"code": "lote_nao_encontrado", "message": "Lote não encontrado."}


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await lotes.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
    await lotes.create_index([("protocolo.peg", ASCENDING)])


def lote_id_for_file(file_id: str) -> str:
    """One imported file makes one lote, whatever the number of deliveries."""
    return uuid.uuid5(uuid.NAMESPACE_OID, f"lote/{file_id}").hex


def public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox", "handled"}}
    out["lote_id"] = doc["_id"]
    out["status_label"] = STATUS_LABELS[LoteStatus(doc["status"])]
    return out


@runtime.consumers.on(Topic.FILE_VALIDATED)
async def on_file_validated(envelope: Envelope) -> None:
    event = envelope.payload_as(FileValidated)
    if event.status != "importado":
        return
    now = datetime.now(UTC)
    doc = {
        "_id": lote_id_for_file(event.file_id),
        "provider_id": event.provider_id,
        "registro_ans": event.registro_ans,
        "numero_lote": event.numero_lote or "",
        "canal": event.canal,
        "file_id": event.file_id,
        "file_revision": event.revision,
        "sha256": event.sha256,
        "tipo_guia": event.tipo_guia,
        "quantidade_guias": event.quantidade_guias,
        "valor_total": str(event.valor_total) if event.valor_total is not None else None,
        "numeros_guias": event.numeros_guias,
        "status": LoteStatus.ABERTO.value,
        "created_at": now,
        "updated_at": now,
        "correlation_id": envelope.correlation_id,
        "protocolo": None,
        "log": [{"at": now, "by": "sistema", "acao": "criado", "detalhe": "Upload XML"}],
        "handled": [str(envelope.event_id)],
        "outbox": [],
    }
    try:
        await lotes.insert_one(doc)
    except DuplicateKeyError:
        return  # the lote exists: a redelivery or a later revision of the same file


@runtime.consumers.on(Topic.PROTOCOLO_STATUS_CHANGED)
async def on_protocolo_status(envelope: Envelope) -> None:
    event = envelope.payload_as(ProtocoloStatusChanged)
    async with runtime.write_lock:
        await lotes.update_one(
            {"_id": event.lote_id, **not_handled(envelope.event_id)},
            {
                "$set": {
                    "protocolo": {
                        "peg": event.peg,
                        "status": event.status,
                        "data_pagamento": event.data_pagamento.isoformat()
                        if event.data_pagamento
                        else None,
                        "atualizado_em": event.changed_at,
                    },
                    "updated_at": datetime.now(UTC),
                },
                "$push": mark_handled(envelope.event_id),
            },
        )


class Actor(BaseModel):
    by: str = Field(min_length=1, description="Who asks (user login)")


async def _act(lote_id: str, action: str, actor: Actor) -> dict[str, Any]:
    doc = await lotes.find_one({"_id": lote_id})
    if doc is None:
        raise HTTPException(404, NOT_FOUND)
    current = LoteStatus(doc["status"])
    try:
        target = next_status(action, current)
    except LoteActionRefused as exc:
        raise HTTPException(409, {"code": exc.code, "message": exc.message}) from exc
    if current == target:
        return public(doc)
    now = datetime.now(UTC)
    update: dict[str, Any] = {
        "$set": {"status": target.value, "updated_at": now},
        "$push": {"log": {"at": now, "by": actor.by, "acao": action}},
    }
    if target == LoteStatus.ENVIADO:
        payload = LoteSent(
            lote_id=lote_id,
            provider_id=doc["provider_id"],
            registro_ans=doc.get("registro_ans"),
            numero_lote=doc["numero_lote"],
            canal=doc["canal"],
            file_id=doc.get("file_id"),
            file_revision=doc.get("file_revision"),
            sha256=doc.get("sha256"),
            tipo_guia=doc.get("tipo_guia"),
            quantidade_guias=doc["quantidade_guias"],
            valor_total=Decimal(doc["valor_total"]) if doc.get("valor_total") else None,
            sent_by=actor.by,
            sent_at=now,
        )
        update["$set"]["sent_at"] = now
        update["$push"]["outbox"] = runtime.event(
            payload, key=lote_id, correlation_id=doc["correlation_id"]
        )
    if target == LoteStatus.EXCLUIDO:
        deleted = LoteDeleted(
            lote_id=lote_id,
            provider_id=doc["provider_id"],
            file_id=doc.get("file_id"),
            file_revision=doc.get("file_revision"),
            numeros_guias=doc.get("numeros_guias", []),
            deleted_by=actor.by,
            deleted_at=now,
        )
        update["$push"]["outbox"] = runtime.event(
            deleted, key=lote_id, correlation_id=doc["correlation_id"]
        )
    # Conditional on the state we read: a concurrent action makes this match nothing.
    async with runtime.write_lock:
        updated = await lotes.find_one_and_update(
            {"_id": lote_id, "status": {"$in": allowed_from(action)}},
            update,
            return_document=ReturnDocument.AFTER,
        )
    if updated is None:
        again = await lotes.find_one({"_id": lote_id})
        if again is not None and again["status"] == target.value:
            return public(again)
        raise HTTPException(
            409, {"code": "lote_alterado", "message": "O lote mudou de situação; recarregue."}
        )
    runtime.relay.notify()
    return public(updated)


@router.post("/lotes/{lote_id}/{action}")
async def act(lote_id: str, action: str, actor: Actor) -> dict[str, Any]:
    if action not in {"fechar", "reabrir", "enviar", "excluir"}:
        raise HTTPException(404, {"code": "acao_desconhecida", "message": "Ação desconhecida."})
    return await _act(lote_id, action, actor)


@router.get("/lotes")
async def list_lotes(
    provider_id: str | None = None,
    status: LoteStatus | None = None,
    numero_lote: str | None = None,
    file_id: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    query = match(
        provider_id=provider_id,
        status=status.value if status else {"$ne": LoteStatus.EXCLUIDO.value},
        numero_lote=numero_lote,
        file_id=file_id,
    )
    return await page_of(lotes, query, page, page_size, public)


@router.get("/lotes/{lote_id}")
async def get_lote(lote_id: str) -> dict[str, Any]:
    doc = await lotes.find_one({"_id": lote_id}, HIDDEN)
    if doc is None:
        raise HTTPException(404, NOT_FOUND)
    return public(doc)


app = runtime.create_app([router, digitacao_routes(runtime)])
