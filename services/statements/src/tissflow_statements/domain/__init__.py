"""The demonstrativos' domain: plain values and rules, no Kafka, MongoDB or FastAPI.

`conta` turns the statements projection (a lote as sent, a protocol as analysed) into the
facts of one protocol's account; `documentos` makes the two statements of the TISS layout
from those facts; `xml` writes them as TISS messages through `tissflow_tiss`.
"""
