"""pt-BR numbers and dates as every page, PDF and message shows them, written once.

Each caller keeps its own wording for a missing value ("—", "R$0,00") and its own
currency sign; the grouping and the decimal comma are these.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def numero_br(value: Decimal | int | float) -> str:
    """Two decimals, dot for thousands and comma for cents: 1234.5 → '1.234,50'."""
    return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def data_br(value: date) -> str:
    """dd/mm/aaaa, as the ANS manual and the clerk write dates."""
    return value.strftime("%d/%m/%Y")
