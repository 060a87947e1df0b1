"""Statements: the demonstrativos a provider gets when its protocol is analysed and paid.

Consumes `protocolo.status_changed`: status 5 (Liberado para Faturamento) makes a
Demonstrativo de Análise de Conta, status 3 (Faturado) a Demonstrativo de Pagamento; each is
recorded once, with its TISS XML and PDF, and announced with `statement.ready`. The guides
and their values come from batching's lote and validation's result for that file (claim
check). Owns `<prefix>_statements`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote

from bson import Binary
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import Envelope, ProtocoloStatusChanged, StatementReady, Topic
from tissflow_runtime.consumer import PermanentError
from tissflow_runtime.listing import match, page_of
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings
from tissflow_tiss import erros_de_schema

from tissflow_statements.documento import (
    TITULOS,
    Demonstrativo,
    guias_da_analise,
    guias_do_resultado,
    mensagem_xml,
    money,
)
from tissflow_statements.pdf import render_pdf

settings = ServiceSettings()
runtime = ServiceRuntime("statements", settings)
runtime.outbox_collections("demonstrativos")
demonstrativos = runtime.db["demonstrativos"]
# The XML and PDF of each statement, `_id` "<statement_id>.xml|pdf": a few tens of kB each.
arquivos = runtime.db["arquivos"]
router = APIRouter(prefix="/internal")
NOT_FOUND = {"code": "demonstrativo_nao_encontrado", "message": "Demonstrativo não encontrado."}
FORMATOS = {"xml": "application/xml", "pdf": "application/pdf"}

KIND_BY_STATUS: dict[int, Literal["analise", "pagamento"]] = {5: "analise", 3: "pagamento"}
TITLES = TITULOS


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await demonstrativos.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])


def public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox"}}
    out["statement_id"] = doc["_id"]
    out["titulo"] = TITLES[doc["tipo"]]
    return out


async def _get_json(url: str) -> dict[str, Any] | None:
    """An internal GET: None when the thing is gone (404); outages raise and are retried."""
    response = await runtime.http.get(url)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def validated_file(lote: dict[str, Any] | None) -> dict[str, Any]:
    """Validation's result for the lote's revision (guides with values, the provider's
    name); empty when the file or its result is gone: the statement then shows lote totals."""
    if not lote or not lote.get("file_id"):
        return {}
    url = f"{settings.validation_url}/internal/results/{quote(lote['file_id'], safe='')}"
    found = await _get_json(url)
    if found is None:
        return {}
    if lote.get("file_revision") and found.get("revision") != lote["file_revision"]:
        return {}  # another revision's guides are not what was sent
    result: dict[str, Any] = found.get("result") or {}
    return result


async def gather_facts(
    kind: Literal["analise", "pagamento"], event: ProtocoloStatusChanged
) -> Demonstrativo:
    """What the statement states: the event, the lote, its guides and the protocol's date."""
    lote_url = f"{settings.batching_url}/internal/lotes/{quote(event.lote_id, safe='')}"
    lote = await _get_json(lote_url)
    result = await validated_file(lote)
    protocolo = await _get_json(
        f"{settings.protocol_url}/internal/protocolos/{quote(event.peg, safe='')}"
    )
    if event.guias:
        # The operator's analysis per guide: its values and glosa codes.
        analise = [g.model_dump(mode="json") for g in event.guias]
        guias = guias_da_analise(result.get("guias") or [], analise)
    else:
        # Glosa: what the operator reported for the protocol, spread over the guides.
        guias = guias_do_resultado(result.get("guias") or [], event.valor_glosado)
    if event.valor_informado is not None:
        informado = money(event.valor_informado)
    else:
        informado = sum((g.valor_informado for g in guias), Decimal("0.00"))
    glosado = money(event.valor_glosado)
    liberado = (
        money(event.valor_liberado) if event.valor_liberado is not None else informado - glosado
    )
    criado = (protocolo or {}).get("created_at")
    data_protocolo = date.fromisoformat(criado[:10]) if criado else event.changed_at.date()
    prestador = result.get("prestador") or {}
    return Demonstrativo(
        tipo=kind,
        numero=f"{'DAC' if kind == 'analise' else 'DP'}{event.peg}",
        peg=event.peg,
        # The provider's own lote number (XML numeroLote); the portal's is `numero_lote`.
        numero_lote=(lote or {}).get("numero_lote_prestador")
        or event.numero_lote
        or (lote or {}).get("numero_lote")
        or "0",
        situacao=event.status,
        registro_ans=event.registro_ans or settings.operadora_registro_ans,
        operadora_nome=settings.operadora_nome,
        operadora_cnpj=settings.operadora_cnpj,
        provider_id=event.provider_id,
        prestador_nome=prestador.get("nome"),
        emitido_em=event.changed_at.astimezone(UTC),
        data_protocolo=data_protocolo,
        data_pagamento=event.data_pagamento,
        valor_informado=informado,
        valor_processado=informado,
        valor_liberado=liberado,
        valor_glosado=glosado,
        guias=guias,
        numeros_guias=list((lote or {}).get("numeros_guias") or []),
    )


@runtime.consumers.on(Topic.PROTOCOLO_STATUS_CHANGED)
async def on_status_changed(envelope: Envelope) -> None:
    event = envelope.payload_as(ProtocoloStatusChanged)
    kind = KIND_BY_STATUS.get(event.status)
    if kind is None:
        return
    statement_id = f"{kind}-{event.peg}"
    if await demonstrativos.find_one({"_id": statement_id}, {"_id": 1}) is not None:
        return  # a redelivery: recorded with its documents
    facts = await gather_facts(kind, event)
    xml = mensagem_xml(facts)
    if problems := erros_de_schema(xml):
        raise PermanentError(f"demonstrativo {statement_id} fora do XSD: {problems[:3]}")
    pdf = await asyncio.to_thread(render_pdf, facts)
    # Documents first, keyed by the statement: a redelivery after a crash overwrites them
    # with the same bytes, and the statement (with its outbox) only exists once they do.
    for fmt, content in (("xml", xml), ("pdf", pdf)):
        await arquivos.replace_one(
            {"_id": f"{statement_id}.{fmt}"},
            {"content": Binary(content), "size": len(content), "media_type": FORMATOS[fmt]},
            upsert=True,
        )
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
        "numero": facts.numero,
        "guias_detalhadas": facts.por_guia,
        "formatos": sorted(FORMATOS),
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
        raise HTTPException(404, NOT_FOUND)
    return public(doc)


@router.get("/demonstrativos/{statement_id}/{formato}")
async def get_document(statement_id: str, formato: Literal["xml", "pdf"]) -> Response:
    """The statement's TISS XML or PDF bytes."""
    doc = await arquivos.find_one({"_id": f"{statement_id}.{formato}"})
    if doc is None:
        raise HTTPException(404, NOT_FOUND)
    return Response(bytes(doc["content"]), media_type=FORMATOS[formato])


app = runtime.create_app([router])
