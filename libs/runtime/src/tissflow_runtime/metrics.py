"""Prometheus metrics shared by all services."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_HANDLED = Counter(
    "tissflow_messages_handled_total", "Messages a consumer handled", ["topic", "outcome"]
)
MESSAGES_DEAD_LETTERED = Counter(
    "tissflow_messages_dead_lettered_total", "Messages sent to a DLQ", ["topic"]
)
OUTBOX_PUBLISHED = Counter(
    "tissflow_outbox_published_total", "Events the outbox relay published", ["topic"]
)
HANDLER_SECONDS = Histogram(
    "tissflow_handler_seconds", "Time spent in a consumer handler", ["topic"]
)
OUTBOX_SCAN_PENDING = Gauge(
    "tissflow_outbox_scan_pending",
    "Entries the last fallback scan found pending (0 when writers' hints keep up)",
    ["collection"],
)
OUTBOX_FAILURES = Counter(
    "tissflow_outbox_failures_total", "Relay rounds that failed (Kafka or MongoDB down)"
)
