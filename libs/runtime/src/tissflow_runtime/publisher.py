"""The publisher a use case takes as an argument: it makes outbox entries and wakes the relay.

A use case never talks to Kafka: it puts `publisher.entry(payload, ...)` into the
document it writes (the outbox, ADR 0005) and calls `publisher.notify()` once the write
is durable. `RuntimePublisher` is the real one; `RecordingPublisher` serves unit tests.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel


class Publisher(Protocol):
    def entry(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]:
        """An outbox entry for `payload`, to be stored with the state change."""
        ...

    def notify(
        self, collection: str | None = None, doc_id: Any = None, written: Any = None
    ) -> None:
        """A document with a pending outbox entry was written: publish soon. Naming it
        (`collection`, `doc_id`) lets the relay read just that document (ADR 0007);
        handing over a document just inserted (`written`) spares even that read (ADR 0021)."""
        ...


class RuntimePublisher:
    """Outbox entries produced by one service, relayed by its runtime."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime

    def entry(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._runtime.event(
            payload, key=key, correlation_id=correlation_id
        )
        return result

    def notify(
        self, collection: str | None = None, doc_id: Any = None, written: Any = None
    ) -> None:
        self._runtime.relay.notify(collection, doc_id, written)


class RecordingPublisher:
    """For unit tests: entries are plain dicts with the payload; notifications counted."""

    def __init__(self, producer: str = "test") -> None:
        self.producer = producer
        self.entries: list[dict[str, Any]] = []
        self.notified = 0

    def entry(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]:
        made = {
            "type": type(payload).__name__,
            "key": key,
            "correlation_id": correlation_id,
            "payload": payload,
        }
        self.entries.append(made)
        return made

    def notify(
        self, collection: str | None = None, doc_id: Any = None, written: Any = None
    ) -> None:
        self.notified += 1


class EnvelopePublisher(RecordingPublisher):
    """For tests that read the event as it would travel: real outbox entries (the
    envelope JSON in `data`), no relay."""

    def entry(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]:
        from tissflow_runtime.outbox import outbox_entry

        made = outbox_entry(payload, key=key, correlation_id=correlation_id, producer=self.producer)
        self.entries.append(made)
        return made
