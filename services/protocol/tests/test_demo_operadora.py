"""The demo operator pays on the 10th, and at 5 reports an analysis per guide and item with
real table-38 glosas and reasons on a few items."""

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


def test_payment_reports_irrf_withheld_and_the_bank_account() -> None:
    protocolo = {"peg": "2026000001", "valor_informado": "150.40", "valor_liberado": "140.00"}
    faturado = report_for(protocolo, 3, date(2026, 11, 25))
    [irrf] = faturado.debitos_creditos
    assert (irrf.indicador, irrf.tipo, irrf.valor) == ("debito", "01", Decimal("2.10"))
    assert irrf.descricao == "IRRF retido 1,5%"
    assert faturado.dados_bancarios is not None and faturado.dados_bancarios.banco == "341"
    # Only with the payment: the analysis and the final 6 carry none of their own.
    for status in (2, 5, 6):
        report = report_for(protocolo, status, date(2026, 11, 25))
        assert report.debitos_creditos == [] and report.dados_bancarios is None


def test_analysis_glosses_one_item_of_the_first_and_every_third_guide_with_a_reason() -> None:
    item = {"sequencial_item": 1, "codigo_procedimento": "81000065", "valor_total": "100.40"}
    guias = [
        {
            "numero_guia_prestador": f"700{n}",
            "valor_informado": "150.40",
            "itens": [item, {**item, "sequencial_item": 2, "valor_total": "50.00"}],
        }
        for n in range(4)
    ]
    protocolo = {"peg": "2026000001", "valor_informado": "601.60", "guias_lote": guias}
    report = report_for(protocolo, 5, date(2026, 11, 25))
    glosadas = [g for g in report.guias if g.valor_glosado]
    assert [g.numero_guia_prestador for g in glosadas] == ["7000", "7003"]
    primeira = glosadas[0]
    assert primeira.valor_glosado == Decimal("10.04")
    assert primeira.itens[0].glosas[0].codigo == "1705"
    assert primeira.itens[0].glosas[0].observacao
    assert glosadas[1].itens[0].glosas[0].codigo == "1801"
    for g in report.guias:
        assert g.valor_liberado + g.valor_glosado == g.valor_processado == Decimal("150.40")
