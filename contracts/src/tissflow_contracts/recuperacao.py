"""What the recursos de glosa recovered on a lote or a protocol: the answers, summed.

The one rule both consumers of `recurso.answered` (batching for the lote, protocol for the
protocol) apply, so the lote page and the protocol page never disagree. Each answer is
kept by recurso id (`recursos_glosa`), so two answers of one lote or protocol never
overwrite each other and a redelivery adds nothing. The record keeps its glosa inicial
(`valor_glosado`, as the analysis reported); the recovered value is shown apart, with the
glosa final and the liberado after recurso it implies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def resposta_de_recurso(
    *,
    numero_guia: str,
    numero_protocolo_recurso: str,
    valor_recursado: Decimal,
    valor_acatado: Decimal,
    respondido_em: str,
) -> dict[str, str]:
    """One recurso's answer as the lote or protocol keeps it."""
    return {
        "numero_guia": numero_guia,
        "numero_protocolo_recurso": numero_protocolo_recurso,
        "valor_recursado": _money(valor_recursado),
        "valor_acatado": _money(valor_acatado),
        "respondido_em": respondido_em,
    }


def com_recuperado(doc: dict[str, Any]) -> dict[str, Any]:
    """The lote's or protocol's values after its recursos' answers: totals and per guide.

    Adds `valor_recursado`, `valor_recuperado`, `valor_glosado_final` and
    `valor_liberado_final` (glosa inicial minus, liberado plus what was recovered)."""
    respostas = list((doc.get("recursos_glosa") or {}).values())
    recuperado = sum((_d(r.get("valor_acatado")) for r in respostas), ZERO)
    recursado = sum((_d(r.get("valor_recursado")) for r in respostas), ZERO)
    por_guia: dict[str, Decimal] = {}
    for r in respostas:
        if r.get("numero_guia"):
            numero = str(r["numero_guia"])
            por_guia[numero] = por_guia.get(numero, ZERO) + _d(r.get("valor_acatado"))
    guias: list[dict[str, Any]] = []
    for guia in doc.get("guias") or []:
        valor = por_guia.get(str(guia.get("numero_guia_prestador")))
        if valor is not None:
            guia = {
                **guia,
                "valor_recuperado": _money(valor),
                "valor_glosado_final": _money(max(ZERO, _d(guia.get("valor_glosado")) - valor)),
            }
        guias.append(guia)
    out: dict[str, Any] = {"guias": guias} if "guias" in doc else {}
    return {
        **out,
        "recursos_respondidos": len(respostas),
        "valor_recursado": _money(recursado),
        "valor_recuperado": _money(recuperado),
        # Never below zero: an operator cannot give back more than it glossed.
        "valor_glosado_final": _money(max(ZERO, _d(doc.get("valor_glosado")) - recuperado)),
        "valor_liberado_final": _money(_d(doc.get("valor_liberado")) + recuperado),
    }
