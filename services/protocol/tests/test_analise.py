"""The operator's analysis per guide and item is checked before it is recorded: guides of
the lote, table-38 codes, values to the cent, and sums that add up (informado = liberado +
glosado); a report that does not add up names the guide and the difference in pt-BR."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from tissflow_contracts import AnaliseGuia, AnaliseItem, GlosaAnalise, GuiaLote, ItemGuia
from tissflow_protocol.bootstrap import descreve_glosa
from tissflow_protocol.domain.analise import conferir, glosar
from tissflow_protocol.domain.errors import AnaliseInvalida

D = Decimal
LOTE = [
    GuiaLote(
        numero_guia_prestador="7001",
        valor_informado=D("100.00"),
        itens=[
            ItemGuia(sequencial_item=1, codigo_procedimento="81000065", valor_total=D("60.00")),
            ItemGuia(sequencial_item=2, codigo_procedimento="81000073", valor_total=D("40.00")),
        ],
    ),
    GuiaLote(numero_guia_prestador="7002", valor_informado=D("50.00")),
]


def item(seq: int, valor: str, glosa: str = "0", codigo: str = "1705") -> AnaliseItem:
    g = D(glosa)
    return AnaliseItem(
        sequencial_item=seq,
        valor_processado=D(valor),
        valor_liberado=D(valor) - g,
        valor_glosado=g,
        glosas=[GlosaAnalise(codigo=codigo, valor=g)] if g else [],
    )


def guia(numero: str, valor: str, glosa: str = "0", itens=(), **kw) -> AnaliseGuia:
    g = D(glosa)
    return AnaliseGuia(
        numero_guia_prestador=numero,
        valor_processado=D(valor),
        valor_liberado=D(valor) - g,
        valor_glosado=g,
        itens=list(itens),
        **kw,
    )


def check(*guias: AnaliseGuia, **kw):
    return conferir(
        list(guias), kw.pop("protocolo", []), LOTE, descreve_glosa, numero_lote="900777", **kw
    )


def test_a_reconciled_analysis_gets_each_code_described_and_totals() -> None:
    analise = check(
        guia("7001", "100.00", "6.00", [item(1, "60.00", "6.00"), item(2, "40.00")]),
        guia("7002", "50.00"),
    )
    primeira = analise.guias[0]
    assert primeira["itens"][0]["glosas"][0]["descricao"] == "VALOR APRESENTADO A MAIOR"
    assert (analise.valor_processado, analise.valor_liberado, analise.valor_glosado) == (
        D("150.00"),
        D("144.00"),
        D("6.00"),
    )


def test_protocol_level_glosa_moves_released_value_to_glosado() -> None:
    analise = check(
        guia("7001", "100.00", itens=[item(1, "60.00"), item(2, "40.00")]),
        guia("7002", "50.00"),
        protocolo=[GlosaAnalise(codigo="1304", valor=D("10.00"))],
    )
    assert (analise.valor_liberado, analise.valor_glosado) == (D("140.00"), D("10.00"))
    assert analise.glosas_protocolo[0]["descricao"] == "COBRANÇA EM GUIA INDEVIDA"


@pytest.mark.parametrize(
    ("guias", "fragmento"),
    [
        # liberado + glosado must be the value informed by the provider: 5,00 short.
        (
            (guia("7001", "95.00"), guia("7002", "50.00")),
            "Guia 7001: liberado + glosado = R$ 95,00, mas o valor informado pelo prestador "
            "é R$ 100,00 (diferença de R$ 5,00)",
        ),
        (
            (guia("7001", "100.00", "3.00"), guia("7002", "50.00")),
            "Guia 7001: informe o código (tabela 38)",
        ),
        (
            (
                guia("7001", "100.00", "5.00", glosas=[GlosaAnalise(codigo="9999", valor=D("5"))]),
                guia("7002", "50.00"),
            ),
            "Código de glosa 9999 (guia 7001) não existe na tabela 38",
        ),
        (
            (guia("7001", "100.00"), guia("7002", "50.00"), guia("7003", "1.00")),
            "A guia 7003 não faz parte do lote 900777",
        ),
        ((guia("7001", "100.00"),), "não traz a(s) guia(s) 7002"),
        (
            (
                guia("7001", "100.00", "6.00", [item(1, "60.00", "5.00"), item(2, "40.00")]),
                guia("7002", "50.00"),
            ),
            "Guia 7001: o glosado da guia (R$ 6,00) difere das glosas dos itens (R$ 5,00) "
            "e da guia (R$ 0,00) em R$ 1,00",
        ),
        (
            (
                guia("7001", "100.00", itens=[item(1, "59.00"), item(2, "41.00")]),
                guia("7002", "50.00"),
            ),
            "Guia 7001, item 1: liberado + glosado = R$ 59,00, mas o valor informado pelo "
            "prestador é R$ 60,00 (diferença de R$ 1,00)",
        ),
        ((guia("7001", "100.001"), guia("7002", "50.00")), "mais de duas casas decimais"),
    ],
)
def test_an_analysis_that_does_not_add_up_is_refused_naming_guide_and_difference(
    guias, fragmento
) -> None:
    with pytest.raises(AnaliseInvalida) as refused:
        check(*guias)
    assert fragmento in refused.value.message


def test_given_protocol_totals_must_match_the_guides() -> None:
    expected = (
        "valor liberado informado (R$ 149,00) difere da soma das guias (R$ 150,00) em R$ 1,00"
    )
    with pytest.raises(AnaliseInvalida, match=re.escape(expected)):
        check(guia("7001", "100.00"), guia("7002", "50.00"), valor_liberado=D("149.00"))


def test_liberado_plus_glosado_must_equal_processado() -> None:
    bad = AnaliseGuia(
        numero_guia_prestador="7001",
        valor_processado=D("100.00"),
        valor_liberado=D("90.00"),
        valor_glosado=D("5.00"),
        glosas=[GlosaAnalise(codigo="1705", valor=D("5.00"))],
    )
    with pytest.raises(AnaliseInvalida, match="diferença de R\\$ 5,00"):
        check(bad, guia("7002", "50.00"))


def test_glosar_moves_value_of_one_item_and_refuses_more_than_released() -> None:
    start = [
        guia("7001", "100.00", itens=[item(1, "60.00"), item(2, "40.00")]),
        guia("7002", "50.00"),
    ]
    out = glosar(start, "7001", 2, GlosaAnalise(codigo="1801", valor=D("15.00")))
    assert out[0].valor_glosado == D("15.00") and out[0].itens[1].valor_liberado == D("25.00")
    assert check(*out).valor_glosado == D("15.00")
    with pytest.raises(AnaliseInvalida, match="passa do valor liberado"):
        glosar(out, "7001", 2, GlosaAnalise(codigo="1801", valor=D("25.01")))
