"""JSON logs, one object a line, carrying the current event's correlation_id."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from datetime import UTC, datetime

from tissflow_runtime.telemetry import current_trace_id

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
_service: str = "tissflow"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": _service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        trace_id = current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        for key in ("event_id", "event_type", "topic", "file_id", "lote_id", "peg", "repeated"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RepeatLimiter(logging.Filter):
    """Lets one record per (logger, message template) through every `seconds`.

    While Kafka is down aiokafka and FastStream log the same connection error many times a
    second (125 MB in one outage); the first goes out at once, then one a window with
    how many were held back (`repeated`), so an outage stays visible but cheap.
    Applies to the clients' loggers and to records logged with `extra={"rate_limited":
    True}`; the service's own event lines ("handled" ...) always pass.
    """

    LIMITED = ("aiokafka", "kafka", "faststream", "pymongo")

    def __init__(self, seconds: float = 30.0, max_keys: int = 2000) -> None:
        super().__init__()
        self.seconds = seconds
        self.max_keys = max_keys
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not (record.name.startswith(self.LIMITED) or getattr(record, "rate_limited", False)):
            return True
        key = (record.name, str(record.msg)[:200])
        now = time.monotonic()
        last = self._seen.get(key)
        if last is None or now - last[0] >= self.seconds:
            if len(self._seen) >= self.max_keys:
                self._seen.clear()
            self._seen[key] = (now, 0)
            if last is not None and last[1]:
                record.repeated = last[1]
            return True
        self._seen[key] = (last[0], last[1] + 1)
        return False


def setup_logging(service: str, level: str = "INFO") -> None:
    global _service
    _service = service
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatLimiter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "pymongo", "httpx", "httpcore", "faststream"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
