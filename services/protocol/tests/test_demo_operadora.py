"""The demo operator pays on the 10th and releases what was billed."""

from datetime import date
from decimal import Decimal

from tissflow_protocol.demo_operadora import next_payment_date, report_for


def test_payment_date_is_the_next_10th() -> None:
    assert next_payment_date(date(2026, 11, 3)) == date(2026, 11, 10)
    assert next_payment_date(date(2026, 11, 25)) == date(2026, 12, 10)
    assert next_payment_date(date(2026, 12, 10)) == date(2027, 1, 10)


def test_reports_carry_values_and_date_only_where_they_belong() -> None:
    protocolo = {"peg": "2026000001", "valor_informado": "150.40"}
    em_analise = report_for(protocolo, 2, date(2026, 11, 25))
    assert em_analise.valor_liberado is None and em_analise.data_pagamento is None
    faturado = report_for(protocolo, 3, date(2026, 11, 25))
    assert faturado.valor_liberado == Decimal("150.40")
    assert faturado.data_pagamento == date(2026, 12, 10)
