"""Kafka consumers: the glosa projection, the operator's inbound recursos, and the clinic's
side of receipts and answers. Each is idempotent (the event id is recorded in the write)."""

from __future__ import annotations

from tissflow_contracts import (
    Envelope,
    LoteSent,
    ProtocoloStatusChanged,
    RecursoAnswered,
    RecursoReceived,
    RecursoSent,
    Topic,
)
from tissflow_runtime.consumer import PermanentError
from tissflow_runtime.service import ServiceRuntime

from tissflow_recursos.adapters.mongo import Repos
from tissflow_recursos.config import RecursosSettings
from tissflow_recursos.domain.model import RecursoError
from tissflow_recursos.service_layer import use_cases as uc


def register(runtime: ServiceRuntime, repos: Repos, cfg: RecursosSettings) -> None:
    consumers = runtime.consumers

    @consumers.on(Topic.LOTE_SENT)
    async def on_lote_sent(envelope: Envelope) -> None:
        await uc.project_lote_sent(repos, str(envelope.event_id), envelope.payload_as(LoteSent))

    @consumers.on(Topic.PROTOCOLO_STATUS_CHANGED)
    async def on_status_changed(envelope: Envelope) -> None:
        event = envelope.payload_as(ProtocoloStatusChanged)
        await uc.project_status_changed(repos, str(envelope.event_id), event)

    @consumers.on(Topic.RECURSO_SENT)
    async def on_recurso_sent(envelope: Envelope) -> None:
        # The operator's inbound side: the same use case as its API.
        try:
            await uc.receber(
                repos,
                cfg,
                runtime,
                uc.utcnow(),
                envelope.payload_as(RecursoSent),
                envelope.correlation_id,
            )
        except RecursoError as exc:
            raise PermanentError(exc.message) from exc
        runtime.relay.notify("operadora_recursos", envelope.payload_as(RecursoSent).recurso_id)

    @consumers.on(Topic.RECURSO_RECEIVED)
    async def on_recurso_received(envelope: Envelope) -> None:
        await uc.on_received(repos, str(envelope.event_id), envelope.payload_as(RecursoReceived))

    @consumers.on(Topic.RECURSO_ANSWERED)
    async def on_recurso_answered(envelope: Envelope) -> None:
        await uc.on_answered(repos, str(envelope.event_id), envelope.payload_as(RecursoAnswered))
