"""pt-BR money and dates, the one way every service writes them."""

from datetime import date, datetime
from decimal import Decimal

from tissflow_contracts.formato import data_br, numero_br


def test_money_has_dots_for_thousands_and_a_decimal_comma() -> None:
    assert numero_br(Decimal("1234567.5")) == "1.234.567,50"
    assert numero_br(Decimal("0")) == "0,00"
    assert numero_br(Decimal("-10")) == "-10,00"
    assert numero_br(Decimal("417.625")) == "417,62"  # half-even, as Decimal rounds
    assert numero_br(1234.5) == "1.234,50"  # a chart's float
    assert numero_br(7) == "7,00"


def test_dates_are_day_month_year() -> None:
    assert data_br(date(2026, 4, 7)) == "07/04/2026"
    assert data_br(datetime(2026, 12, 31, 23, 59)) == "31/12/2026"
