"""The portal's own lote numbers: one sequence per operator, never reused.

The number a clinic sees as "Nº Lote" is the operator's (like Conecta's 1002270), distinct
from the `numeroLote` in the provider's XML, which stays visible as "Nº do lote no
prestador". A number is taken before the lote is written: a crash in between leaves a gap,
never a repeat.
"""

from __future__ import annotations

NUMERO_INICIAL = 1_000_000


def counter_id(registro_ans: str | None) -> str:
    """The counter document of one operator's sequence."""
    return f"lote-{registro_ans or 'sem-operadora'}"


def numero_do_lote(seq: int) -> int:
    """The lote number for the n-th value of the operator's sequence (n ≥ 1)."""
    if seq < 1:
        raise ValueError("a sequência começa em 1")
    return NUMERO_INICIAL + seq
