"""The publisher a use case takes as an argument: it makes outbox entries and wakes the relay.

A use case never talks to Kafka: it puts `publisher.entry(payload, ...)` into the
document it writes (the outbox, ADR 0005) and calls `publisher.notify()` once the write
is durable. `RuntimePublisher` is the real one; `RecordingPublisher` serves unit tests.
"""

from __future__ import annotations

import hashlib
import hmac
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

    def seal(self, text: str) -> str:
        """HMAC of `text` under this deployment's key (its internal token and database
        prefix): an event's consumer in the same deployment can tell it is ours, one of
        another deployment sharing the broker (parallel test stacks) cannot (ADR 0021)."""
        ...


def content_seal_text(file_id: str, revision: int, sha256: str) -> str:
    """What `Publisher.seal` signs for bytes a `file.uploaded` carries (ADR 0021)."""
    return f"{file_id}:{revision}:{sha256}"


def _seal(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


class RuntimePublisher:
    """Outbox entries produced by one service, relayed by its runtime."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        settings = runtime.settings
        self._key = f"{settings.internal_token}\0{settings.db_prefix}"

    def seal(self, text: str) -> str:
        return _seal(self._key, text)

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

    def __init__(self, producer: str = "test", key: str = "test") -> None:
        self.producer = producer
        self._key = key
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

    def seal(self, text: str) -> str:
        return _seal(self._key, text)


class EnvelopePublisher(RecordingPublisher):
    """For tests that read the event as it would travel: real outbox entries (the
    envelope JSON in `data`), no relay."""

    def entry(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]:
        from tissflow_runtime.outbox import outbox_entry

        made = outbox_entry(payload, key=key, correlation_id=correlation_id, producer=self.producer)
        self.entries.append(made)
        return made
