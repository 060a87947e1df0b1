"""The consumer wrapper on FastStream's in-memory broker: ack, retry, dead-letter."""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from tissflow_contracts import OperadoraReport, Topic, dlq, new_envelope
from tissflow_runtime.consumer import (
    BATCH_POLL_MS,
    Consumers,
    PermanentError,
    PromptBatchSubscriber,
)


def _message(status: int = 2) -> bytes:
    env = new_envelope(
        OperadoraReport(peg="9", status=status), correlation_id="c", producer="t", key="9"
    )
    return env.model_dump_json().encode()


def _setup(handler):  # noqa: ANN001, ANN202
    broker = KafkaBroker()
    consumers = Consumers(broker, group_id="g-test", max_attempts=3, retry_backoff_seconds=0)
    consumers.register(Topic.OPERADORA_INBOUND, handler)
    parked: list[tuple[bytes, dict]] = []

    @broker.subscriber(dlq(Topic.OPERADORA_INBOUND))
    async def dead(msg: KafkaMessage) -> None:
        parked.append((msg.body, msg.headers))

    return broker, parked


@pytest.mark.asyncio
async def test_handler_gets_the_envelope_and_nothing_is_parked() -> None:
    seen = []

    async def handler(envelope) -> None:  # noqa: ANN001
        seen.append(envelope.payload_as(OperadoraReport).status)

    broker, parked = _setup(handler)
    async with TestKafkaBroker(broker) as br:
        await br.publish(_message(5), topic=Topic.OPERADORA_INBOUND)
    assert seen == [5]
    assert parked == []


@pytest.mark.asyncio
async def test_failing_handler_is_retried_then_dead_lettered_with_the_error() -> None:
    calls = []

    async def handler(envelope) -> None:  # noqa: ANN001
        calls.append(1)
        raise RuntimeError("banco fora do ar")

    broker, parked = _setup(handler)
    original = _message()
    async with TestKafkaBroker(broker) as br:
        await br.publish(original, topic=Topic.OPERADORA_INBOUND)
    assert len(calls) == 3
    assert len(parked) == 1
    body, headers = parked[0]
    assert body == original  # the original bytes travel to the DLQ
    assert headers["x-attempts"] == "3"
    assert "banco fora do ar" in headers["x-error"]
    assert headers["x-original-topic"] == Topic.OPERADORA_INBOUND


@pytest.mark.asyncio
async def test_permanent_errors_and_garbage_are_parked_without_retry() -> None:
    calls = []

    async def handler(envelope) -> None:  # noqa: ANN001
        calls.append(1)
        raise PermanentError("transição inválida")

    broker, parked = _setup(handler)
    async with TestKafkaBroker(broker) as br:
        await br.publish(_message(), topic=Topic.OPERADORA_INBOUND)
        await br.publish(b"not json", topic=Topic.OPERADORA_INBOUND)
    assert len(calls) == 1
    assert [h["x-attempts"] for _, h in parked] == ["1", "1"]
    assert parked[1][0] == b"not json"
    assert "envelope inválido" in parked[1][1]["x-error"]


@pytest.mark.asyncio
async def test_an_outage_is_waited_out_not_dead_lettered() -> None:
    import httpx

    calls = []

    async def handler(envelope) -> None:  # noqa: ANN001
        calls.append(1)
        if len(calls) <= 5:  # more failures than max_attempts: still not parked
            raise httpx.ConnectError("ingest fora do ar")

    broker, parked = _setup(handler)
    async with TestKafkaBroker(broker) as br:
        await br.publish(_message(), topic=Topic.OPERADORA_INBOUND)
    assert len(calls) == 6
    assert parked == []


def _keyed(peg: str, status: int) -> bytes:
    env = new_envelope(
        OperadoraReport(peg=peg, status=status), correlation_id="c", producer="t", key=peg
    )
    return env.model_dump_json().encode()


def _setup_batch(handler, scope=None):  # noqa: ANN001, ANN202
    broker = KafkaBroker()
    consumers = Consumers(broker, group_id="g-test", max_attempts=3, retry_backoff_seconds=0)
    consumers.register(Topic.OPERADORA_INBOUND, handler, batch=10, batch_scope=scope)
    parked: list[tuple[bytes, dict]] = []

    @broker.subscriber(dlq(Topic.OPERADORA_INBOUND))
    async def dead(msg: KafkaMessage) -> None:
        parked.append((msg.body, msg.headers))

    return broker, parked


@pytest.mark.asyncio
async def test_a_batch_is_handled_together_a_poison_record_parked_alone() -> None:
    import asyncio
    import contextlib

    seen: list[tuple[str, int]] = []
    scopes: list[str] = []

    async def handler(envelope) -> None:  # noqa: ANN001
        report = envelope.payload_as(OperadoraReport)
        if report.status == 9:
            raise PermanentError("registro envenenado")
        await asyncio.sleep(0.01 if report.status == 1 else 0)  # the first waits a little
        seen.append((report.peg, report.status))

    @contextlib.asynccontextmanager
    async def scope():  # noqa: ANN202
        scopes.append("open")
        yield
        scopes.append("closed")

    broker, parked = _setup_batch(handler, scope)
    async with TestKafkaBroker(broker) as br:
        await br.publish_batch(
            _keyed("A", 1),
            _keyed("B", 9),
            _keyed("A", 2),
            _keyed("C", 3),
            b"not json",
            topic=Topic.OPERADORA_INBOUND,
        )
    # One entity's records in their order, whatever the others do; the poison and the
    # garbage parked; the whole batch in one scope.
    assert [s for p, s in seen if p == "A"] == [1, 2]
    assert sorted(seen) == [("A", 1), ("A", 2), ("C", 3)]
    errors = sorted(h["x-error"].split(":")[0] for _, h in parked)
    assert errors == ["PermanentError", "envelope inválido"]
    assert scopes == ["open", "closed"]


@pytest.mark.asyncio
async def test_an_empty_batch_poll_is_not_followed_by_a_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A record arriving on an idle topic is handled as soon as the poll sees it: the
    batch subscriber polls again at once after an empty poll (FastStream's own one
    sleeps as long as it polled, and a record arriving meanwhile waited)."""
    import faststream.kafka.subscriber.usecase as usecase

    async def no_pause(seconds: float) -> None:
        raise AssertionError(f"paused {seconds} s after an empty poll")

    monkeypatch.setattr(usecase.anyio, "sleep", no_pause)

    class IdleThenOne:
        def __init__(self) -> None:
            self.polls: list[tuple[int, int | None]] = []

        async def getmany(self, timeout_ms: int, max_records: int | None) -> dict:
            self.polls.append((timeout_ms, max_records))
            return {} if len(self.polls) == 1 else {"tp": ["record"]}

    broker, _ = _setup_batch(lambda envelope: None)
    [subscriber] = [s for s in broker.subscribers if s.topic_names == [Topic.OPERADORA_INBOUND]]
    assert isinstance(subscriber, PromptBatchSubscriber)
    consumer = IdleThenOne()
    assert await subscriber.get_msg(consumer) == ()  # type: ignore[arg-type]
    assert await subscriber.get_msg(consumer) == ("record",)  # type: ignore[arg-type]
    assert consumer.polls == [(BATCH_POLL_MS, 10), (BATCH_POLL_MS, 10)]
