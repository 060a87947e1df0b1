"""The event envelope: identity, type, time and correlation around every payload."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

P = TypeVar("P", bound=BaseModel)


class Envelope(BaseModel):
    """What travels on every topic. Payloads carry ids and hashes, never file bytes."""

    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = Field(description="Unique id; consumers skip ids they handled")
    type: str = Field(description="Event type, e.g. `file.uploaded`")
    version: int = Field(default=1, ge=1, description="Payload schema version")
    occurred_at: datetime = Field(description="When the state change happened (UTC)")
    correlation_id: str = Field(description="Follows one file from upload to statement")
    producer: str = Field(description="The service that produced the event")
    key: str = Field(description="Entity id the topic is keyed by (file id, lote id, PEG)")
    payload: dict[str, Any]

    def payload_as(self, model: builtins.type[P]) -> P:
        return model.model_validate(self.payload)


def new_envelope(
    payload: BaseModel,
    *,
    correlation_id: str,
    producer: str,
    key: str,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """Wrap a payload model in an envelope of the type registered for it."""
    from tissflow_contracts.events import spec_for_model

    spec = spec_for_model(type(payload))
    return Envelope(
        event_id=event_id or uuid.uuid4(),
        type=spec.type,
        version=spec.version,
        occurred_at=datetime.now(UTC),
        correlation_id=correlation_id,
        producer=producer,
        key=key,
        payload=payload.model_dump(mode="json"),
    )
