"""Protocol: gives each sent lote a PEG number and follows it through the operator's analysis.

Consumes `lote.sent` and the operator's inbound topic; produces `protocolo.status_changed`.
Operator systems change a status through the internal API (the gateway's operator routes)
or by publishing `operadora.report`. Owns `<prefix>_protocol`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import Envelope, LoteSent, OperadoraReport, ProtocoloStatusChanged, Topic
from tissflow_contracts.events import AnaliseGuia
from tissflow_runtime.consumer import PermanentError, TransientError, mark_handled, not_handled
from tissflow_runtime.listing import HIDDEN, match, page_of
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_protocol.domain import (
    PORTAL_STAGE,
    STATUS_ANS,
    TransitionRefused,
    check_transition,
    format_peg,
    label,
)
from tissflow_protocol.glosas import descricao

runtime = ServiceRuntime("protocol", ServiceSettings())
runtime.outbox_collections("protocolos")
protocolos = runtime.db["protocolos"]
counters = runtime.db["counters"]
router = APIRouter(prefix="/internal")
NOT_FOUND = {"code": "protocolo_nao_encontrado", "message": "Protocolo não encontrado."}


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await protocolos.create_index([("lote_id", ASCENDING)], unique=True)
    await protocolos.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])


def public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox", "handled"}}
    out["peg"] = doc["_id"]
    out["status_label"] = STATUS_ANS[doc["status"]]
    out["etapa"] = PORTAL_STAGE.get(doc["status"], STATUS_ANS[doc["status"]])
    return out


def _money(value: Any) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _status_event(doc: dict[str, Any], previous: int | None, at: datetime) -> dict[str, Any]:
    payload = ProtocoloStatusChanged(
        peg=doc["_id"],
        lote_id=doc["lote_id"],
        provider_id=doc["provider_id"],
        registro_ans=doc.get("registro_ans"),
        numero_lote=doc["numero_lote"],
        status=doc["status"],
        status_anterior=previous,
        data_pagamento=date.fromisoformat(doc["data_pagamento"])
        if doc.get("data_pagamento")
        else None,
        valor_informado=_money(doc.get("valor_informado")),
        valor_liberado=_money(doc.get("valor_liberado")),
        valor_glosado=_money(doc.get("valor_glosado")),
        guias=[AnaliseGuia.model_validate(g) for g in doc.get("guias") or []],
        changed_at=at,
    )
    return runtime.event(payload, key=doc["_id"], correlation_id=doc["correlation_id"])


@runtime.consumers.on(Topic.LOTE_SENT)
async def on_lote_sent(envelope: Envelope) -> None:
    event = envelope.payload_as(LoteSent)
    if await protocolos.find_one({"lote_id": event.lote_id}, {"_id": 1}) is not None:
        return  # a redelivery: the lote already has its PEG
    now = datetime.now(UTC)
    async with runtime.write_lock:
        counter = await counters.find_one_and_update(
            {"_id": f"peg-{now.year}"},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    doc: dict[str, Any] = {
        "_id": format_peg(counter["seq"], now.year),
        "lote_id": event.lote_id,
        "provider_id": event.provider_id,
        "registro_ans": event.registro_ans,
        "numero_lote": event.numero_lote,
        "file_id": event.file_id,
        "quantidade_guias": event.quantidade_guias,
        "valor_informado": str(event.valor_total) if event.valor_total is not None else None,
        "status": 1,
        "created_at": now,
        "updated_at": now,
        "data_pagamento": None,
        "historico": [{"status": 1, "at": now, "by": "sistema"}],
        "correlation_id": envelope.correlation_id,
        "handled": [str(envelope.event_id)],
    }
    doc["outbox"] = [_status_event(doc, None, now)]
    try:
        await protocolos.insert_one(doc)
    except DuplicateKeyError:
        return  # unique lote_id: another delivery won the race
    runtime.relay.notify()


class StatusChange(BaseModel):
    status: int = Field(ge=1, le=10, description="ANS dm_statusProtocolo code")
    data_pagamento: date | None = None
    valor_liberado: Decimal | None = None
    valor_glosado: Decimal | None = None
    guias: list[AnaliseGuia] = Field(
        default_factory=list,
        description="The operator's analysis per guide: values and table-38 glosa codes",
    )
    by: str = Field(min_length=1)


def _invalid(message: str, details: dict[str, Any] | None = None) -> HTTPException:
    return HTTPException(
        422, {"code": "analise_invalida", "message": message, "details": details or {}}
    )


def _describe(glosas: list[Any], where: str) -> list[dict[str, Any]]:
    out = []
    for glosa in glosas:
        try:
            texto = descricao(glosa.codigo)
        except KeyError:
            raise _invalid(
                f"Código de glosa {glosa.codigo} ({where}) não existe na tabela 38 da TISS.",
                {"codigo": glosa.codigo},
            ) from None
        out.append({**glosa.model_dump(mode="json"), "descricao": glosa.descricao or texto})
    return out


async def _numeros_guias(lote_id: str) -> list[str]:
    """The guide numbers of the sent lote, from batching (claim check)."""
    url = f"{runtime.settings.batching_url}/internal/lotes/{quote(lote_id, safe='')}"
    try:
        response = await runtime.http.get(url)
    except httpx.HTTPError as exc:
        raise HTTPException(
            503,
            {"code": "servico_indisponivel", "message": "Lotes indisponíveis; tente de novo."},
        ) from exc
    if response.status_code == 404:
        return []
    if response.status_code >= 400:
        raise HTTPException(
            503,
            {"code": "servico_indisponivel", "message": "Lotes indisponíveis; tente de novo."},
        )
    return [str(n) for n in response.json().get("numeros_guias") or []]


async def analise_guias(doc: dict[str, Any], change: StatusChange) -> list[dict[str, Any]]:
    """The reported per-guide analysis, checked (guides of this lote, table-38 codes, sums)
    and with each code's description; 422 pt-BR when it does not hold."""
    lote = set(await _numeros_guias(doc["lote_id"]))
    vistos: set[str] = set()
    out = []
    for guia in change.guias:
        numero = guia.numero_guia_prestador
        if numero not in lote:
            raise _invalid(
                f"A guia {numero} não faz parte do lote {doc['numero_lote']} "
                f"(protocolo {doc['_id']}).",
                {"numero_guia_prestador": numero},
            )
        if numero in vistos:
            raise _invalid(f"A guia {numero} foi informada mais de uma vez.", {"guia": numero})
        vistos.add(numero)
        if guia.valor_liberado + guia.valor_glosado != guia.valor_processado:
            raise _invalid(
                f"Guia {numero}: valor liberado + glosado deve ser igual ao processado.",
                {"numero_guia_prestador": numero},
            )
        if guia.glosas and sum(g.valor for g in guia.glosas) != guia.valor_glosado:
            raise _invalid(
                f"Guia {numero}: a soma das glosas difere do valor glosado da guia.",
                {"numero_guia_prestador": numero},
            )
        if guia.valor_glosado > 0 and not guia.glosas:
            raise _invalid(
                f"Guia {numero}: informe o código (tabela 38) de cada glosa.",
                {"numero_guia_prestador": numero},
            )
        data = guia.model_dump(mode="json")
        data["glosas"] = _describe(guia.glosas, f"guia {numero}")
        for item, raw in zip(guia.itens, data["itens"], strict=True):
            where = f"guia {numero}, item {item.sequencial_item}"
            raw["glosas"] = _describe(item.glosas, where)
        out.append(data)
    for field in ("valor_liberado", "valor_glosado"):
        total = sum((getattr(g, field) for g in change.guias), Decimal("0"))
        given = getattr(change, field)
        if given is not None and given != total:
            raise _invalid(
                f"O {field.replace('_', ' ')} do protocolo ({given}) difere da soma das guias "
                f"({total}).",
                {"campo": field},
            )
    return out


def _differs(doc: dict[str, Any], change: StatusChange) -> bool:
    """Whether a repeated status report carries data other than what is recorded."""
    given = {
        "data_pagamento": change.data_pagamento.isoformat() if change.data_pagamento else None,
        "valor_liberado": change.valor_liberado,
        "valor_glosado": change.valor_glosado,
    }
    for field, value in given.items():
        if value is None:
            continue
        recorded = doc.get(field)
        if field == "data_pagamento":
            if recorded != value:
                return True
        elif recorded is None or Decimal(recorded) != value:
            return True
    if change.guias:
        given_guias = [g.model_dump(mode="json", exclude={"glosas", "itens"}) for g in change.guias]
        recorded_guias = [
            {k: v for k, v in g.items() if k not in {"glosas", "itens"}}
            for g in doc.get("guias") or []
        ]
        if given_guias != recorded_guias:
            return True
    return False


async def change_status(
    peg: str, change: StatusChange, event_id: str | None = None
) -> dict[str, Any]:
    doc = await protocolos.find_one({"_id": peg})
    if doc is None:
        raise HTTPException(404, NOT_FOUND)
    if doc["status"] == change.status:
        if _differs(doc, change):
            raise HTTPException(
                409,
                {
                    "code": "situacao_ja_informada",
                    "message": f"O protocolo já está em {label(change.status)} com outros "
                    "dados (data de pagamento ou valores); a correção de dados não é aceita "
                    "por repetição da situação.",
                },
            )
        return public(doc)  # repeated report: nothing changes
    try:
        check_transition(doc["status"], change.status, change.data_pagamento)
    except TransitionRefused as exc:
        raise HTTPException(409, {"code": "transicao_invalida", "message": exc.message}) from exc
    guias = await analise_guias(doc, change) if change.guias else None
    now = datetime.now(UTC)
    new = {**doc, "status": change.status}
    sets: dict[str, Any] = {"status": change.status, "updated_at": now}
    if guias is not None:
        sets["guias"] = new["guias"] = guias
        for field in ("valor_liberado", "valor_glosado"):
            if getattr(change, field) is None:
                total = sum((getattr(g, field) for g in change.guias), Decimal("0"))
                sets[field] = new[field] = str(total)
    if change.data_pagamento:
        sets["data_pagamento"] = new["data_pagamento"] = change.data_pagamento.isoformat()
    for field in ("valor_liberado", "valor_glosado"):
        value = getattr(change, field)
        if value is not None:
            sets[field] = new[field] = str(value)
    pushes: dict[str, Any] = {
        "historico": {"status": change.status, "at": now, "by": change.by},
        "outbox": _status_event(new, doc["status"], now),
    }
    if event_id:
        pushes.update(mark_handled(event_id))
    # Only from the status we checked: a concurrent change makes this match nothing.
    async with runtime.write_lock:
        updated = await protocolos.find_one_and_update(
            {"_id": peg, "status": doc["status"], **(not_handled(event_id) if event_id else {})},
            {"$set": sets, "$push": pushes},
            return_document=ReturnDocument.AFTER,
        )
    if updated is None:
        raise HTTPException(
            409, {"code": "protocolo_alterado", "message": "O protocolo mudou; tente de novo."}
        )
    runtime.relay.notify()
    return public(updated)


@runtime.consumers.on(Topic.OPERADORA_INBOUND)
async def on_operadora_report(envelope: Envelope) -> None:
    report = envelope.payload_as(OperadoraReport)
    doc = await protocolos.find_one({"_id": report.peg}, {"handled": 1})
    if doc is None:
        # Parked, not dropped: ops can replay it once the PEG exists.
        raise PermanentError(f"protocolo {report.peg} não encontrado")
    if str(envelope.event_id) in doc.get("handled", []):
        return
    change = StatusChange(
        status=report.status,
        data_pagamento=report.data_pagamento,
        valor_liberado=report.valor_liberado,
        valor_glosado=report.valor_glosado,
        guias=report.guias,
        by=report.reported_by,
    )
    try:
        await change_status(report.peg, change, event_id=str(envelope.event_id))
    except HTTPException as exc:
        if exc.status_code == 409 and exc.detail.get("code") == "transicao_invalida":
            raise PermanentError(exc.detail["message"]) from exc
        if exc.status_code == 422:
            # Parked with the reason: the operator's core must correct and resend it.
            raise PermanentError(exc.detail["message"]) from exc
        if exc.status_code == 503:
            raise TransientError(exc.detail["message"]) from exc
        raise


@router.post("/protocolos/{peg}/status")
async def post_status(peg: str, change: StatusChange) -> dict[str, Any]:
    return await change_status(peg, change)


@router.get("/protocolos")
async def list_protocolos(
    provider_id: str | None = None,
    lote_id: str | None = None,
    status: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    query = match(provider_id=provider_id, lote_id=lote_id, status=status)
    return await page_of(protocolos, query, page, page_size, public)


@router.get("/protocolos/{peg}")
async def get_protocolo(peg: str) -> dict[str, Any]:
    doc = await protocolos.find_one({"_id": peg}, HIDDEN)
    if doc is None:
        raise HTTPException(404, NOT_FOUND)
    return public(doc)


app = runtime.create_app([router])
