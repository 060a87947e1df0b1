"""Protocol (PEG) statuses as ANS dm_statusProtocolo, and which moves are allowed (no I/O).

The portal's stages map to the ANS codes: Enviado para a Operadora (1 Recebido), Em análise
(2), Liberado para Faturamento (5 Analisado e aguardando liberação para o pagamento),
Faturado (3 Liberado para pagamento). Along the main line a protocol only moves forward
(it may skip a stage); the other codes are side states the operator may report.
"""

from __future__ import annotations

from datetime import date

from tissflow_contracts.dominios import ETAPA_PORTAL, STATUS_PROTOCOLO

from tissflow_protocol.domain.errors import TransitionRefused

# The ANS table and the portal's stages live in contracts: the gateway shows them too.
STATUS_ANS = STATUS_PROTOCOLO
PORTAL_STAGE = ETAPA_PORTAL

# The main line, in order; a move along it must go forward.
MAIN_LINE = (1, 2, 5, 3, 6)
TERMINAL = frozenset({4, 6, 7, 9})
# Side states: where each may be entered from, and where it may return to.
SIDE_FROM: dict[int, frozenset[int]] = {
    4: frozenset({1, 2, 5, 8}),
    7: frozenset({1}),
    8: frozenset({1, 2}),
    9: frozenset({1, 2, 5, 8}),
    10: frozenset({1, 2, 5, 3}),
}
SIDE_TO: dict[int, frozenset[int]] = {
    8: frozenset({2, 5, 4, 9}),
    10: frozenset({2, 5, 3, 6, 4}),
}


# Statuses after which the analysis (values, glosas) is closed: it was paid on it.
ANALYSIS_CLOSED = frozenset({3, 4, 6, 7, 9, 10})
__all__ = ["TransitionRefused", "check_transition", "etapa", "format_peg", "label"]


def etapa(status: int) -> str:
    return PORTAL_STAGE.get(status, STATUS_ANS[status])


def label(status: int) -> str:
    return f"{status} - {STATUS_ANS[status]}"


def check_transition(current: int, target: int, data_pagamento: date | None) -> None:
    """Raise TransitionRefused (pt-BR) unless `current` → `target` is allowed."""
    if target not in STATUS_ANS:
        raise TransitionRefused(f"Situação {target} não existe em dm_statusProtocolo.")
    if target == 3 and data_pagamento is None:
        raise TransitionRefused("Informe a data de pagamento para liberar para pagamento (3).")
    if target == 6 and current not in (3, 10):
        raise TransitionRefused(
            f"{label(6)} só depois de {label(3)}; o protocolo está em {label(current)}."
        )
    if current in TERMINAL:
        raise TransitionRefused(
            f"O protocolo está encerrado ({label(current)}): não pode ir para {label(target)}."
        )
    if current in SIDE_TO:
        if target in SIDE_TO[current]:
            return
        raise TransitionRefused(f"De {label(current)} não é possível ir para {label(target)}.")
    if target in SIDE_FROM:
        if current in SIDE_FROM[target]:
            return
        raise TransitionRefused(f"De {label(current)} não é possível ir para {label(target)}.")
    if MAIN_LINE.index(target) <= MAIN_LINE.index(current):
        raise TransitionRefused(
            f"A situação só avança: o protocolo já está em {label(current)}, "
            f"não pode voltar para {label(target)}."
        )


def format_peg(sequence: int, year: int) -> str:
    """PEG numbers: the year then a zero-padded sequence, e.g. 2026000123."""
    return f"{year}{sequence:06d}"
