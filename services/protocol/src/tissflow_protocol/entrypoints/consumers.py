"""Kafka consumers: `lote.sent` (a PEG and a receipt per lote) and `operadora.inbound`
(the operator's core reports status and analysis). Both are idempotent by event id; a
report the rules refuse is parked in the DLQ with its pt-BR reason for ops to see."""

from __future__ import annotations

from tissflow_contracts import Envelope, LoteSent, OperadoraReport, Topic
from tissflow_runtime.consumer import PermanentError
from tissflow_runtime.service import ServiceRuntime

from tissflow_protocol.domain.errors import ConcurrentChange, DomainError, NotFound
from tissflow_protocol.service_layer import use_cases
from tissflow_protocol.service_layer.ports import Deps


def register(runtime: ServiceRuntime, deps: Deps) -> None:
    @runtime.consumers.on(Topic.LOTE_SENT)
    async def on_lote_sent(envelope: Envelope) -> None:
        event = envelope.payload_as(LoteSent)
        await use_cases.receive_lote(deps, event, str(envelope.event_id), envelope.correlation_id)

    @runtime.consumers.on(Topic.OPERADORA_INBOUND)
    async def on_operadora_report(envelope: Envelope) -> None:
        report = envelope.payload_as(OperadoraReport)
        change = use_cases.StatusChange(
            status=report.status,
            by=report.reported_by,
            data_pagamento=report.data_pagamento,
            valor_liberado=report.valor_liberado,
            valor_glosado=report.valor_glosado,
            guias=report.guias,
            glosas_protocolo=report.glosas_protocolo,
            debitos_creditos=report.debitos_creditos,
            dados_bancarios=report.dados_bancarios,
        )
        try:
            await use_cases.change_status(deps, report.peg, change, event_id=str(envelope.event_id))
        except NotFound as exc:
            # Parked, not dropped: ops can replay it once the PEG exists.
            raise PermanentError(f"protocolo {report.peg} não encontrado") from exc
        except ConcurrentChange:
            raise  # retried: the next attempt reads the protocol as it now is
        except DomainError as exc:
            raise PermanentError(exc.message) from exc
