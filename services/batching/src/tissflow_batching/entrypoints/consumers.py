"""Batching's Kafka consumers: one handler per consumed topic, each idempotent.

`file.validated` (importado) opens a lote (read in batches); `protocolo.status_changed`
shows the protocol's situation and the operator's values on it. Both record the event id
in the lote's write.
"""

from __future__ import annotations

from tissflow_contracts import Envelope, FileValidated, ProtocoloStatusChanged, Topic
from tissflow_runtime.service import ServiceRuntime

from tissflow_batching.service_layer import lotes
from tissflow_batching.service_layer.lotes import Deps

# `file.validated` records read and handled together (ADR 0019, 0021): one commit per
# batch, the files' lotes opened concurrently (a file's own records in order).
FILE_VALIDATED_BATCH = 32


def register(runtime: ServiceRuntime, deps: Deps) -> None:
    async def on_file_validated(envelope: Envelope) -> None:
        event = envelope.payload_as(FileValidated)
        await lotes.open_lote_from_file(
            deps, event, str(envelope.event_id), envelope.correlation_id
        )

    runtime.consumers.register(Topic.FILE_VALIDATED, on_file_validated, batch=FILE_VALIDATED_BATCH)

    @runtime.consumers.on(Topic.PROTOCOLO_STATUS_CHANGED)
    async def on_protocolo_status(envelope: Envelope) -> None:
        event = envelope.payload_as(ProtocoloStatusChanged)
        await lotes.apply_protocol_status(deps, event, str(envelope.event_id))
