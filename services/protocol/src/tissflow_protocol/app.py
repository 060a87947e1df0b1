"""Protocol: gives each sent lote a PEG and a PROTOCOLO_RECEBIMENTO, follows it through
the operator's analysis (status, values, glosas), the messages and the Capa do Lote.

Consumes `lote.sent` and `operadora.inbound`; produces `protocolo.status_changed`.
Owns `<prefix>_protocol`. The service's rooms: domain/, service_layer/, adapters/,
entrypoints/, wired in bootstrap.py.
"""

from __future__ import annotations

from tissflow_protocol.bootstrap import build

runtime, deps, app = build()
