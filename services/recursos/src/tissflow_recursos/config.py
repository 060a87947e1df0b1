"""Settings of the recursos service: connections plus the operator's recurso rules."""

from __future__ import annotations

from tissflow_runtime.settings import ServiceSettings


class RecursosSettings(ServiceSettings):
    # Days, from the emission of the Demonstrativo de Análise, to appeal (last day counts).
    recurso_prazo_dias: int = 30
    # Whether an item whose recurso was answered may be appealed again.
    recurso_permite_reapresentacao: bool = False
    # Days the operator has to answer a recurso after receiving it.
    recurso_prazo_resposta_dias: int = 30
    # Attachments: PDF and images, each at most this size.
    recurso_anexo_max_bytes: int = 5 * 1024 * 1024
    # The demo operator answers a recurso this many seconds after receiving it.
    demo_recurso_seconds: float = 20.0
