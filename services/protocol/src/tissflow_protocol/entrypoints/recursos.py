"""The protocol's consumer of `recurso.answered`: the value a recurso recovered reaches
its protocol (idempotent: the event id is recorded in the protocol's write)."""

from __future__ import annotations

from tissflow_contracts import Envelope, RecursoAnswered, Topic
from tissflow_runtime.service import ServiceRuntime

from tissflow_protocol.service_layer.ports import Deps
from tissflow_protocol.service_layer.recursos import apply_recurso_answered


def register(runtime: ServiceRuntime, deps: Deps) -> None:
    @runtime.consumers.on(Topic.RECURSO_ANSWERED)
    async def on_recurso_answered(envelope: Envelope) -> None:
        event = envelope.payload_as(RecursoAnswered)
        await apply_recurso_answered(deps, event, str(envelope.event_id))
