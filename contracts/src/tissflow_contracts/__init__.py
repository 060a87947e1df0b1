"""Event contracts shared by every tissflow service: envelope, payloads, topic names."""

from tissflow_contracts.envelope import Envelope, new_envelope
from tissflow_contracts.events import (
    EVENTS,
    AnaliseGuia,
    AnaliseItem,
    EventSpec,
    FileUploaded,
    FileValidated,
    GlosaAnalise,
    GuiaLote,
    ItemGuia,
    LoteDeleted,
    LoteSent,
    OperadoraReport,
    Prestador,
    ProtocoloStatusChanged,
    StatementReady,
    spec_for_topic,
    spec_for_type,
)
from tissflow_contracts.topics import ALL_TOPICS, DLQ_SUFFIX, Topic, dlq

__all__ = [
    "ALL_TOPICS",
    "AnaliseGuia",
    "AnaliseItem",
    "DLQ_SUFFIX",
    "EVENTS",
    "Envelope",
    "EventSpec",
    "FileUploaded",
    "FileValidated",
    "GlosaAnalise",
    "GuiaLote",
    "ItemGuia",
    "LoteDeleted",
    "LoteSent",
    "OperadoraReport",
    "Prestador",
    "ProtocoloStatusChanged",
    "StatementReady",
    "Topic",
    "dlq",
    "new_envelope",
    "spec_for_topic",
    "spec_for_type",
]
