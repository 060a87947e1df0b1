"""Consumers that ack only after a durable effect, retry, and dead-letter poison messages.

A handler receives the parsed `Envelope`. It must be idempotent: the usual way is one
single-document update guarded by `not_handled(event_id)` that also records the id
(`mark_handled(event_id)`), so a redelivered event matches nothing and changes nothing.
A handler that raises is retried `max_attempts` times; then the original bytes go to
`<topic>.dlq` with the error in the headers, and the consumer moves on. An outage of a
dependency (connection refused, timeout, HTTP 5xx, MongoDB without a primary) is not the
message's fault: it is retried with growing pauses (at most `max_backoff_seconds`, 2 s by
default, so recovery follows the dependency within seconds) until it is back, or until the
service stops (then the message is not acknowledged and the next process gets it). A message that is
not a valid envelope, or whose payload does not validate, is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)
from tissflow_contracts import Envelope, dlq

from tissflow_runtime.logs import correlation_id
from tissflow_runtime.metrics import HANDLER_SECONDS, MESSAGES_DEAD_LETTERED, MESSAGES_HANDLED

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
# Wraps the handling of one batch (`Consumers.register(..., batch_scope=...)`).
BatchScope = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


class PermanentError(Exception):
    """A failure that retrying cannot fix: the message goes straight to the DLQ."""


class TransientError(Exception):
    """A dependency is down or overloaded: retry until it is back, never dead-letter."""


class OutageAtShutdown(Exception):
    """The service stops while a dependency is down: the message stays unacknowledged."""


_TRANSIENT = (
    TransientError,
    httpx.TransportError,
    AutoReconnect,
    ServerSelectionTimeoutError,
    NetworkTimeout,
    ConnectionError,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """Outages (connection refused, timeouts, 5xx, no primary) rather than bad messages."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, _TRANSIENT)


def not_handled(event_id: Any) -> dict[str, Any]:
    """Filter fragment matching a document that has not yet handled `event_id`."""
    return {"handled": {"$ne": str(event_id)}}


def mark_handled(event_id: Any) -> dict[str, Any]:
    """`$push` fragment recording `event_id` as handled in the same update."""
    return {"handled": str(event_id)}


# How long an empty batch poll waits for a record (it returns as soon as one arrives).
BATCH_POLL_MS = 100


class PromptBatchSubscriber(BatchSubscriber):
    """FastStream's batch subscriber without the pause after an empty poll: `getmany`
    already waited `batch_timeout_ms` for records, and returns the moment one arrives;
    the extra sleep only delayed a record arriving during it."""

    __slots__ = ()

    async def get_msg(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
        messages = await consumer.getmany(
            timeout_ms=self.batch_timeout_ms, max_records=self.max_records
        )
        return tuple(itertools.chain.from_iterable(messages.values()))


class Consumers:
    """Registers one FastStream subscriber per topic for a service's consumer group."""

    def __init__(
        self,
        broker: KafkaBroker,
        group_id: str,
        max_attempts: int = 3,
        retry_backoff_seconds: float = 0.2,
        max_backoff_seconds: float = 2.0,
        instance_id: str | None = None,
        session_timeout_ms: int = 10_000,
    ) -> None:
        self._broker = broker
        self.group_id = group_id
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._instance_id = instance_id
        self._session_timeout_ms = session_timeout_ms
        # Set on shutdown: a handler waiting out an outage gives up (without acking).
        self.stopping = False
        self.topics: list[str] = []
        self.handlers: dict[str, Handler] = {}
        # Where parked messages are also recorded, for the ops pages and replay.
        self.dead_letters: AsyncCollection | None = None

    def register(
        self,
        topic: str,
        handler: Handler,
        *,
        batch: int = 1,
        batch_scope: BatchScope | None = None,
    ) -> None:
        """Subscribe `handler` to `topic`. With `batch` > 1 the consumer reads up to that
        many records at once and handles them concurrently, a key's records one after the
        other in offset order (an entity's events stay in order); the batch is committed
        once, after every record in it is handled or parked, so nothing is committed past
        a record whose effect is not durable. `batch_scope` wraps the handling of a
        batch (a cache the handlers share, for example)."""
        self.topics.append(topic)
        self.handlers[topic] = handler
        static: dict[str, Any] = {}
        if self._instance_id:
            # Static membership: the same process identity after a restart takes its
            # partitions back at once (no wait for the dead member's session to expire).
            static["group_instance_id"] = f"{self.group_id}:{topic}:{self._instance_id}"
        if batch > 1:
            # An empty poll waits up to this long for a record and returns as soon as one
            # arrives (aiokafka's fetcher wakes it). FastStream would then sleep as long
            # again; `PromptBatchSubscriber` does not, so a record on an idle topic is
            # handled at once (ADR 0021; it waited up to 20 ms more with a 20 ms poll).
            static.update(batch=True, max_records=batch, batch_timeout_ms=BATCH_POLL_MS)

            async def consume(msg: KafkaMessage) -> None:
                await self._consume_batch(topic, handler, msg, batch_scope)

        else:

            async def consume(msg: KafkaMessage) -> None:
                await self._consume(topic, handler, msg)

        consume.__name__ = f"consume_{topic.replace('.', '_')}"
        subscriber = self._broker.subscriber(
            topic,
            **static,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(500, self._session_timeout_ms // 5),
            group_id=self.group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            title=f"{self.group_id}:{topic}",
        )
        if type(subscriber) is BatchSubscriber:
            subscriber.__class__ = PromptBatchSubscriber
        subscriber(consume)

    def on(self, topic: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.register(topic, handler)
            return handler

        return decorator

    async def _consume(self, topic: str, handler: Handler, msg: Any) -> None:
        error, attempts = await self._handle(topic, handler, msg.body)
        if error is None:
            await msg.ack()
        elif await self._dead_letter(topic, msg.raw_message, msg.body, error, attempts):
            await msg.ack()
        else:
            await self._rewind(msg)

    async def _consume_batch(
        self, topic: str, handler: Handler, msg: Any, scope: BatchScope | None
    ) -> None:
        raw = msg.raw_message
        records = tuple(raw) if isinstance(raw, tuple | list) else (raw,)
        if not records:
            return
        by_key: dict[Any, list[Any]] = {}
        for record in records:  # in offset order within each partition
            by_key.setdefault((record.partition, record.key), []).append(record)

        async def in_order(chain: list[Any]) -> bool:
            for record in chain:
                error, attempts = await self._handle(topic, handler, record.value)
                if error is not None and not await self._dead_letter(
                    topic, record, record.value, error, attempts
                ):
                    return False  # not parked: the batch is read again
            return True

        async with scope() if scope is not None else contextlib.nullcontext():
            # Every chain runs to its end before anything is decided: an exception (the
            # service stopping during an outage) leaves the batch unacknowledged.
            done = await asyncio.gather(
                *(in_order(chain) for chain in by_key.values()), return_exceptions=True
            )
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
        if all(done):
            await msg.ack()  # commits the positions after the batch's last records
        else:
            await self._rewind(msg)

    async def _rewind(self, msg: Any) -> None:
        # Could not park a message: rewind so it is seen again, never lost.
        await msg.nack()
        await asyncio.sleep(self._backoff)

    async def _handle(self, topic: str, handler: Handler, raw: bytes) -> tuple[str | None, int]:
        """Run the handler on one record with the retry policy: `(None, attempts)` when
        its effect is durable, `(error, attempts)` when it must be dead-lettered."""
        try:
            envelope = Envelope.model_validate_json(raw)
        except ValidationError as exc:
            return f"envelope inválido: {exc}", 1
        token = correlation_id.set(envelope.correlation_id)
        extra = {"event_id": envelope.event_id, "event_type": envelope.type, "topic": topic}
        try:
            error: str | None = None
            attempt = failures = 0
            while True:
                attempt += 1
                started = time.perf_counter()
                try:
                    await handler(envelope)
                except (PermanentError, ValidationError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    break
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if is_transient(exc):
                        # An outage, not a bad message: wait it out, never park it.
                        if self.stopping:
                            raise OutageAtShutdown(error) from exc
                        delay = min(self._max_backoff, self._backoff * 2 ** min(attempt, 10))
                        if attempt == 1 or attempt % 30 == 0:  # not one line per retry
                            log.warning(
                                "dependency unavailable (attempt %d), retrying every %.1f s: %s",
                                attempt,
                                delay,
                                error,
                                extra=extra,
                            )
                        await asyncio.sleep(delay)
                        continue
                    failures += 1
                    log.warning(
                        "handler failed (%d/%d): %s",
                        failures,
                        self._max_attempts,
                        error,
                        extra=extra,
                    )
                    if failures >= self._max_attempts:
                        break
                    await asyncio.sleep(self._backoff * 2 ** (failures - 1))
                else:
                    error = None
                    break
                finally:
                    HANDLER_SECONDS.labels(topic).observe(time.perf_counter() - started)
            if error is None:
                MESSAGES_HANDLED.labels(topic, "ok").inc()
                log.info("handled", extra=extra)
            return error, attempt
        finally:
            correlation_id.reset(token)

    async def _dead_letter(
        self, topic: str, raw: Any, body: bytes, error: str, attempts: int
    ) -> bool:
        """Park one record in `<topic>.dlq` (and the ops collection); False if it could not."""
        headers = {
            "x-error": error[:2000],
            "x-attempts": str(attempts),
            "x-consumer-group": self.group_id,
            "x-original-topic": topic,
            "x-original-partition": str(getattr(raw, "partition", "")),
            "x-original-offset": str(getattr(raw, "offset", "")),
        }
        key = getattr(raw, "key", None)
        try:
            await self._broker.publish(body, topic=dlq(topic), key=key, headers=headers)
            if self.dead_letters is not None:
                await self._record(topic, raw, body, key, error, attempts)
        except Exception:
            log.exception("could not publish to %s; message will be redelivered", dlq(topic))
            return False
        MESSAGES_DEAD_LETTERED.labels(topic).inc()
        MESSAGES_HANDLED.labels(topic, "dead_lettered").inc()
        log.error("dead-lettered after %d attempt(s): %s", attempts, error, extra={"topic": topic})
        return True

    async def _record(
        self, topic: str, raw: Any, body: bytes, key: bytes | None, error: str, attempts: int
    ) -> None:
        assert self.dead_letters is not None
        doc_id = f"{topic}:{getattr(raw, 'partition', '-')}:{getattr(raw, 'offset', uuid.uuid4())}"
        try:
            await self.dead_letters.insert_one(
                {
                    "_id": doc_id,
                    "topic": topic,
                    "key": key.decode(errors="replace") if key else None,
                    "body": body.decode(errors="replace"),
                    "error": error[:2000],
                    "attempts": attempts,
                    "group": self.group_id,
                    "at": datetime.now(UTC),
                    "status": "pendente",
                }
            )
        except DuplicateKeyError:
            pass  # parked before a crash, redelivered and parked again

    async def replay(self, dead_letter_id: str) -> dict[str, Any]:
        """Run the topic's handler again on a parked message (handlers are idempotent)."""
        assert self.dead_letters is not None
        doc = await self.dead_letters.find_one({"_id": dead_letter_id})
        if doc is None:
            raise LookupError(dead_letter_id)
        try:
            envelope = Envelope.model_validate_json(doc["body"])
            await self.handlers[doc["topic"]](envelope)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            await self.dead_letters.update_one(
                {"_id": dead_letter_id}, {"$set": {"error": error}, "$inc": {"attempts": 1}}
            )
            raise PermanentError(error) from exc
        await self.dead_letters.update_one(
            {"_id": dead_letter_id},
            {"$set": {"status": "reprocessado", "replayed_at": datetime.now(UTC)}},
        )
        doc["status"] = "reprocessado"
        return doc
