"""The lote's four values (informado, processado, glosado, liberado), per guide and in total.

Filled as the operator's analysis arrives in `protocolo.status_changed`: per guide when it
reports guides, else the protocol's totals. Money travels as strings of Decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def aplicar_analise(
    guias: list[dict[str, Any]],
    analise: list[dict[str, Any]],
    valor_liberado: Any = None,
    valor_glosado: Any = None,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Guides with the operator's values, and the lote's totals.

    With a per-guide analysis each guide gets its processado/glosado/liberado; without
    it, only the totals are known (liberado and glosado as reported, processado their sum).
    """
    por_numero = {str(a["numero_guia_prestador"]): a for a in analise}
    novas: list[dict[str, Any]] = []
    for guia in guias:
        a = por_numero.get(str(guia.get("numero_guia_prestador")))
        if a is not None:
            guia = {
                **guia,
                "valor_processado": money(_d(a.get("valor_processado"))),
                "valor_glosado": money(_d(a.get("valor_glosado"))),
                "valor_liberado": money(_d(a.get("valor_liberado"))),
            }
        novas.append(guia)
    informado = sum((_d(g.get("valor_informado")) for g in novas), ZERO)
    if analise:
        processado = sum((_d(g.get("valor_processado")) for g in novas), ZERO)
        glosado = sum((_d(g.get("valor_glosado")) for g in novas), ZERO)
        liberado = sum((_d(g.get("valor_liberado")) for g in novas), ZERO)
    else:
        glosado = _d(valor_glosado)
        liberado = _d(valor_liberado) if valor_liberado is not None else informado - glosado
        processado = liberado + glosado
    return novas, {
        "valor_processado": money(processado),
        "valor_glosado": money(glosado),
        "valor_liberado": money(liberado),
    }


def liberar_sem_glosa(guias: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The operator released the protocol without reporting values: every guide is
    processed and released as informed, nothing glosed."""
    novas = [
        {
            **g,
            "valor_processado": money(_d(g.get("valor_informado"))),
            "valor_glosado": money(ZERO),
            "valor_liberado": money(_d(g.get("valor_informado"))),
        }
        for g in guias
    ]
    informado = sum((_d(g.get("valor_informado")) for g in novas), ZERO)
    return novas, {
        "valor_processado": money(informado),
        "valor_glosado": money(ZERO),
        "valor_liberado": money(informado),
    }
