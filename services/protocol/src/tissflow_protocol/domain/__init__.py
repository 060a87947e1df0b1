"""The protocol's domain: statuses and their moves, the analysis and its sums, messages.

Pure Python: no Kafka, MongoDB or FastAPI. Rules that refuse raise `DomainError`s whose
messages are pt-BR, ready for a clerk; entrypoints map them to HTTP codes or the DLQ.
"""
