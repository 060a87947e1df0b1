"""Kafka topic names and their partition counts: the one list every service and script uses."""

from enum import StrEnum

DLQ_SUFFIX = ".dlq"


class Topic(StrEnum):
    FILE_UPLOADED = "file.uploaded"
    FILE_VALIDATED = "file.validated"
    LOTE_SENT = "lote.sent"
    LOTE_DELETED = "lote.deleted"
    PROTOCOLO_STATUS_CHANGED = "protocolo.status_changed"
    STATEMENT_READY = "statement.ready"
    # Recurso de glosa: the clinic's appeal, the operator's receipt and its answer.
    RECURSO_SENT = "recurso.sent"
    RECURSO_RECEIVED = "recurso.received"
    RECURSO_ANSWERED = "recurso.answered"
    # The operator's core systems publish analysis results and status changes here.
    OPERADORA_INBOUND = "operadora.inbound"


# Explicit partition counts: events are keyed by entity id, so one entity stays in order.
PARTITIONS: dict[str, int] = {
    Topic.FILE_UPLOADED: 3,
    Topic.FILE_VALIDATED: 3,
    Topic.LOTE_SENT: 3,
    Topic.LOTE_DELETED: 3,
    Topic.PROTOCOLO_STATUS_CHANGED: 3,
    Topic.STATEMENT_READY: 3,
    Topic.RECURSO_SENT: 3,
    Topic.RECURSO_RECEIVED: 3,
    Topic.RECURSO_ANSWERED: 3,
    Topic.OPERADORA_INBOUND: 3,
}


def dlq(topic: str) -> str:
    """Name of the dead-letter topic that receives `topic`'s poison messages."""
    return f"{topic}{DLQ_SUFFIX}"


def _all_topics() -> dict[str, int]:
    topics = dict(PARTITIONS)
    for name in PARTITIONS:
        topics[dlq(name)] = 1
    return topics


ALL_TOPICS: dict[str, int] = _all_topics()
