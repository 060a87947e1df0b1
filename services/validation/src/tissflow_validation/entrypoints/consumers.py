"""Validation's consumers: `file.uploaded` (judge the revision) and `lote.deleted`.

`file.uploaded` is consumed in batches (ADR 0019): its handler asks the operator's rules
and registry through `batch_cache`, so the files of one batch share those reads.
Each maps the use case's failures to the runtime's retry policy: an unreachable or
failing ingest is transient (retried until it is back), bytes that do not match the
event are permanent (dead-lettered at once).
"""

from __future__ import annotations

from tissflow_contracts import Envelope, FileUploaded, LoteDeleted, Topic
from tissflow_contracts.errors import Unavailable, UpstreamFailed
from tissflow_runtime.consumer import Handler, PermanentError, TransientError

from tissflow_validation.domain.errors import ContentMismatch
from tissflow_validation.service_layer import judge
from tissflow_validation.service_layer.batch_cache import BatchRegistry, BatchRules
from tissflow_validation.service_layer.ports import Adapters


def build_consumers(a: Adapters) -> dict[str, Handler]:
    registry, rules = BatchRegistry(a.registry), BatchRules(a.rules)

    async def on_file_uploaded(envelope: Envelope) -> None:
        event = envelope.payload_as(FileUploaded)
        try:
            await judge.judge_revision(
                registro_ans=a.registro_ans,
                results=a.results,
                guides=a.guides,
                registry=registry,
                rules=rules,
                states=a.states,
                ingest=a.ingest,
                publisher=a.publisher,
                event=event,
                correlation_id=envelope.correlation_id,
            )
        except ContentMismatch as exc:
            raise PermanentError(str(exc)) from exc
        except (Unavailable, UpstreamFailed) as exc:
            raise TransientError(f"{exc.code}: {exc.message}") from exc

    async def on_lote_deleted(envelope: Envelope) -> None:
        """A lote deleted before sending was never presented: its guides may come again."""
        event = envelope.payload_as(LoteDeleted)
        await judge.forget_lote_guides(a.guides, event.provider_id, event.file_id)

    return {Topic.LOTE_DELETED: on_lote_deleted, Topic.FILE_UPLOADED: on_file_uploaded}
