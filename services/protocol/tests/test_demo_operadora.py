"""The demo operator pays on the 10th, releases what was billed but a small 1705 glosa on
the first guide, and reports that analysis per guide."""

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
    liberado = report_for(protocolo, 5, date(2026, 11, 25))
    assert liberado.valor_liberado == Decimal("150.40") and liberado.guias == []
    faturado = report_for(protocolo, 3, date(2026, 11, 25))
    assert faturado.data_pagamento == date(2026, 12, 10)
    # Payment keeps the analysis reported at 5: no values of its own.
    assert faturado.valor_liberado is None and faturado.guias == []


def test_analysis_per_guide_glosses_the_first_guide_under_1705() -> None:
    protocolo = {"peg": "2026000001", "valor_informado": "150.40"}
    guias = [
        {"numero_guia_prestador": "7001", "valor_total": "100.40"},
        {"numero_guia_prestador": "7002", "valor_total": "50.00"},
    ]
    report = report_for(protocolo, 5, date(2026, 11, 25), guias)
    primeira, segunda = report.guias
    assert primeira.valor_glosado == Decimal("5.02")
    assert [(g.codigo, g.valor) for g in primeira.glosas] == [("1705", Decimal("5.02"))]
    assert primeira.valor_liberado + primeira.valor_glosado == primeira.valor_processado
    assert segunda.glosas == [] and segunda.valor_liberado == Decimal("50.00")
    assert report.valor_glosado == Decimal("5.02")
    assert report.valor_liberado == Decimal("145.38")
