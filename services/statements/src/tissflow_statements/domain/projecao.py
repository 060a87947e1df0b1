"""How one event changes the statements projection: pure merges, no storage.

A protocol's state is the latest `protocolo.status_changed` snapshot, except that what a
later event leaves out (the analysis per guide, glosas, débitos/créditos, bank data, the
payment date) stays as the earlier one reported it: a move from 5 to 3 does not erase
the analysis. An event older than the state (a redelivery out of order) changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tissflow_statements.domain.conta import ANALISADO, PAGO, Conta

# Kept from earlier events when a later one does not carry them.
PERSISTENTES = (
    "guias",
    "glosas_protocolo",
    "debitos_creditos",
    "dados_bancarios",
    "data_pagamento",
    "data_protocolo",
    "prestador",
    "numero_lote_prestador",
    "valor_informado",
    "valor_processado",
    "valor_liberado",
    "valor_glosado",
)


def _instante(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def mesclar_situacao(atual: dict[str, Any] | None, evento: dict[str, Any]) -> dict[str, Any] | None:
    """The protocol's state after `evento` (a status_changed payload as JSON), or None
    when the event is older than what the projection already holds."""
    if atual and _instante(evento["changed_at"]) < _instante(atual["changed_at"]):
        return None
    novo = {k: v for k, v in evento.items() if k != "status_anterior"}
    for campo in PERSISTENTES:
        if novo.get(campo) in (None, [], {}) and atual and atual.get(campo) not in (None, []):
            novo[campo] = atual[campo]
    novo["primeira_mudanca"] = (atual or {}).get("primeira_mudanca") or evento["changed_at"]
    return novo


def demonstrativos_devidos(conta: Conta) -> list[str]:
    """Which per-protocol statements a protocol has in its situation: the Análise de Conta
    once analysed (Liberado para Faturamento onwards), the Pagamento once it has a
    payment date (Faturado, Pagamento efetuado)."""
    tipos = []
    if conta.situacao in ANALISADO:
        tipos.append("analise")
    if conta.situacao in PAGO and conta.data_pagamento is not None:
        tipos.append("pagamento")
    return tipos
