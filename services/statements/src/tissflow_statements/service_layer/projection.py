"""Use cases fed by events: keep the projection, and announce per-protocol statements.

Each handler records the event id in the same write as the state it derives (a replay
changes nothing), then reconciles the protocol's statements: the index record of each
statement its situation calls for is created or updated with a `statement.ready` in its
outbox. Reconciling is idempotent, so a crash between the two writes is repaired by the
redelivery.
"""

from __future__ import annotations

from typing import Any

from tissflow_contracts import (
    Envelope,
    LoteSent,
    ProtocoloStatusChanged,
    RecursoAnswered,
    StatementReady,
)

from tissflow_statements.domain.conta import conta_de
from tissflow_statements.domain.projecao import demonstrativos_devidos, mesclar_situacao
from tissflow_statements.service_layer import build
from tissflow_statements.service_layer.ports import Dependencias


async def lote_sent(deps: Dependencias, envelope: Envelope) -> None:
    event = envelope.payload_as(LoteSent)
    await deps.projection.record_lote(str(envelope.event_id), event.model_dump(mode="json"))
    # A protocol event that came first waited for its lote.
    for protocolo in await deps.projection.protocolos_do_lote(event.lote_id):
        await reconcile(deps, protocolo, envelope.correlation_id)


async def status_changed(deps: Dependencias, envelope: Envelope) -> None:
    event = envelope.payload_as(ProtocoloStatusChanged)
    atual = await deps.projection.protocolo(event.peg)
    estado = mesclar_situacao(atual, event.model_dump(mode="json"))
    if estado is None:
        await deps.projection.mark_protocolo_handled(str(envelope.event_id), event.peg)
    else:
        await deps.projection.record_protocolo(str(envelope.event_id), estado)
    protocolo = await deps.projection.protocolo(event.peg)
    if protocolo is not None:
        await reconcile(deps, protocolo, envelope.correlation_id)


async def recurso_answered(deps: Dependencias, envelope: Envelope) -> None:
    """The operator's answer to a recurso de glosa: what it accepted is credited in the
    provider's next Demonstrativo de Pagamento."""
    event = envelope.payload_as(RecursoAnswered)
    await deps.projection.record_recurso(str(envelope.event_id), event.model_dump(mode="json"))


def _resumo(tipo: str, conta: Any, protocolo: dict[str, Any]) -> dict[str, Any]:
    return {
        "tipo": tipo,
        "peg": conta.peg,
        "lote_id": conta.lote_id,
        "provider_id": conta.prestador.provider_id,
        "registro_ans": protocolo.get("registro_ans"),
        "numero_lote": conta.numero_lote,
        # The Análise de Conta is about figures: a later payment does not renew it.
        "situacao": conta.situacao if tipo == "pagamento" else None,
        "data_pagamento": conta.data_pagamento if tipo == "pagamento" else None,
        "valor_informado": conta.valor_informado,
        "valor_liberado": conta.valor_liberado,
        "valor_glosado": conta.valor_glosado,
    }


async def reconcile(deps: Dependencias, protocolo: dict[str, Any], correlation_id: str) -> None:
    """Create or update the per-protocol statements the protocol's situation calls for;
    nothing while its lote has not reached the projection."""
    lotes = await deps.projection.lotes([protocolo["lote_id"]])
    lote = lotes.get(protocolo["lote_id"])
    if lote is None:
        return
    conta = conta_de(lote, protocolo)
    for tipo in demonstrativos_devidos(conta):
        resumo = _resumo(tipo, conta, protocolo)
        statement_id = f"{tipo}-{conta.peg}"
        if deps.cache is not None:
            # Rendered ahead, off the consumer's path in the service (the projection never
            # waits for a PDF): the clinic's download finds it ready.
            aquecer = build.aquecer(deps, await build.documento_de(deps, tipo, conta))
            if deps.background is not None:
                deps.background(aquecer)
            else:
                await aquecer
        payload = StatementReady(
            statement_id=statement_id,
            **{k: v for k, v in resumo.items() if k != "situacao"},
        )
        evento = deps.event(payload, key=conta.peg, correlation_id=correlation_id)
        stored = {
            **payload.model_dump(mode="json", exclude={"statement_id"}),
            "situacao": resumo["situacao"],
        }
        if await deps.statements.save(statement_id, stored, evento):
            deps.notify("demonstrativos", statement_id)
