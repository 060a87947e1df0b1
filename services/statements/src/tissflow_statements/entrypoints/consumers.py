"""One consumer per topic statements reads: each feeds the projection (service layer)."""

from __future__ import annotations

from tissflow_contracts import Envelope, Topic
from tissflow_runtime.consumer import Consumers

from tissflow_statements.service_layer import projection
from tissflow_statements.service_layer.ports import Dependencias


def register(consumers: Consumers, deps: Dependencias) -> None:
    @consumers.on(Topic.LOTE_SENT)
    async def on_lote_sent(envelope: Envelope) -> None:
        await projection.lote_sent(deps, envelope)

    @consumers.on(Topic.PROTOCOLO_STATUS_CHANGED)
    async def on_status_changed(envelope: Envelope) -> None:
        await projection.status_changed(deps, envelope)

    @consumers.on(Topic.RECURSO_ANSWERED)
    async def on_recurso_answered(envelope: Envelope) -> None:
        await projection.recurso_answered(deps, envelope)
