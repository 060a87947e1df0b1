"""While Kafka is down its client repeats one error many times a second: the log keeps
the first and a count, while the service's own event lines all pass (issue 22, item 15)."""

from __future__ import annotations

import logging

import pytest
from tissflow_runtime import logs
from tissflow_runtime.logs import RepeatLimiter


def _record(logger: str, msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(logger, logging.ERROR, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_a_client_error_repeated_a_thousand_times_is_logged_once_per_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [0.0]
    monkeypatch.setattr(logs.time, "monotonic", lambda: clock[0])
    limiter = RepeatLimiter(seconds=30)
    passed = []
    for i in range(1000):
        clock[0] = i * 0.01  # 100 a second for 10 s
        record = _record("aiokafka.conn", "Unable connect to node with id %s", node=1)
        if limiter.filter(record):
            passed.append(record)
    assert len(passed) == 1
    clock[0] = 31.0
    later = _record("aiokafka.conn", "Unable connect to node with id %s")
    assert limiter.filter(later)
    assert later.repeated == 999  # the count of what was held back


def test_the_services_own_lines_always_pass() -> None:
    limiter = RepeatLimiter(seconds=30)
    assert all(limiter.filter(_record("tissflow_runtime.consumer", "handled")) for _ in range(50))
    relay = [
        _record("tissflow_runtime.outbox", "relay failed", rate_limited=True) for _ in range(5)
    ]
    assert [limiter.filter(r) for r in relay] == [True, False, False, False, False]
