"""The demonstrativo builders: schema-valid TISS XML of both kinds, its hash, and the PDF."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree
from tissflow_statements.documento import (
    Demonstrativo,
    guias_da_analise,
    guias_do_resultado,
    mensagem_xml,
    ratear_glosa,
)
from tissflow_statements.pdf import render_pdf
from tissflow_tiss import NS, erros_de_schema

GUIAS = [
    {
        "numero_guia_prestador": "7001",
        "numero_carteira": "0001234",
        "valor_total": "100.50",
        "data": "2026-11-01",
    },
    {
        "numero_guia_prestador": "7002",
        "numero_carteira": "0005678",
        "valor_total": "50.00",
        "data": None,
    },
]


def demonstrativo(tipo: str = "analise", **changes: object) -> Demonstrativo:
    base = Demonstrativo(
        tipo=tipo,  # type: ignore[arg-type]
        numero="DAC2026000042",
        peg="2026000042",
        numero_lote="900777",
        situacao=5 if tipo == "analise" else 3,
        registro_ans="331988",
        operadora_nome="PASA",
        operadora_cnpj="33198800000118",
        provider_id="07906129000102",
        prestador_nome="ODONTO ARTE LTDA",
        emitido_em=datetime(2026, 11, 25, 10, 30, tzinfo=UTC),
        data_protocolo=date(2026, 11, 20),
        data_pagamento=date(2026, 12, 10) if tipo == "pagamento" else None,
        valor_informado=Decimal("150.50"),
        valor_processado=Decimal("150.50"),
        valor_liberado=Decimal("140.50"),
        valor_glosado=Decimal("10.00"),
        guias=guias_do_resultado(GUIAS, Decimal("10.00")),
        numeros_guias=["7001", "7002"],
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def text(xml: bytes, local: str) -> list[str]:
    return [e.text for e in etree.fromstring(xml).iter(f"{{{NS}}}{local}")]


@pytest.mark.parametrize("tipo", ["analise", "pagamento"])
@pytest.mark.parametrize("por_guia", [True, False])
def test_message_is_valid_against_the_xsd(tipo: str, por_guia: bool) -> None:
    d = demonstrativo(tipo) if por_guia else demonstrativo(tipo, guias=[])
    xml = mensagem_xml(d)
    assert erros_de_schema(xml) == []
    assert text(xml, "tipoTransacao") == [
        "DEMONSTRATIVO_ANALISE_CONTA" if tipo == "analise" else "DEMONSTRATIVO_PAGAMENTO"
    ]
    assert text(xml, "Padrao") == ["4.03.00"]
    assert text(xml, "numeroProtocolo") == ["2026000042"]
    root = etree.fromstring(xml)
    origem = root.find(f"{{{NS}}}cabecalho/{{{NS}}}origem/{{{NS}}}registroANS")
    assert origem is not None and origem.text == "331988"
    destino = root.find(f".//{{{NS}}}destino/{{{NS}}}identificacaoPrestador/{{{NS}}}CNPJ")
    assert destino is not None and destino.text == "07906129000102"


def test_analise_lists_each_guide_with_its_values() -> None:
    xml = mensagem_xml(demonstrativo("analise"))
    assert text(xml, "numeroGuiaPrestador") == ["7001", "7002"]
    assert text(xml, "valorInformadoGuia") == ["100.50", "50.00"]
    assert text(xml, "valorGlosaGuia") == ["6.68", "3.32"]
    assert text(xml, "valorLiberadoGuia") == ["93.82", "46.68"]
    assert text(xml, "valorLiberadoGeral") == ["140.50"]


def test_pagamento_carries_the_payment_date_and_totals() -> None:
    xml = mensagem_xml(demonstrativo("pagamento"))
    assert text(xml, "dataPagamento") == ["2026-12-10"]
    assert text(xml, "valorLiberadoDemonstrativo") == ["140.50"]
    assert text(xml, "numeroLote") == ["900777"]


def test_epilogue_hash_is_md5_of_the_leaf_texts() -> None:
    xml = mensagem_xml(demonstrativo("pagamento"))
    root = etree.fromstring(xml)
    leaves = [
        e.text or ""
        for e in root.iter()
        if isinstance(e.tag, str) and len(e) == 0 and etree.QName(e).localname != "hash"
    ]
    expected = hashlib.md5("".join(leaves).encode("iso-8859-1")).hexdigest()
    assert text(xml, "hash") == [expected]
    # The validation service, which checks the providers' messages, agrees.
    from tissflow_validation.engine.documento import hash_para

    assert hash_para(root, "iso-8859-1") == expected


def test_same_facts_same_bytes() -> None:
    assert mensagem_xml(demonstrativo()) == mensagem_xml(demonstrativo())


def test_glosa_is_spread_to_the_centavo() -> None:
    partes = ratear_glosa([Decimal("100.50"), Decimal("50.00")], Decimal("10.00"))
    assert sum(partes) == Decimal("10.00")
    assert ratear_glosa([Decimal("10")], Decimal("0")) == [Decimal("0.00")]
    assert ratear_glosa([], Decimal("5")) == []


@pytest.mark.parametrize("tipo", ["analise", "pagamento"])
def test_pdf_shows_peg_lote_guides_and_values(tipo: str) -> None:
    pdf = render_pdf(demonstrativo(tipo))
    assert pdf.startswith(b"%PDF")
    texto = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    titulo = "Análise de Conta" if tipo == "analise" else "Demonstrativo de Pagamento"
    for esperado in (
        titulo,
        "2026000042",
        "900777",
        "7001",
        "7002",
        "R$ 150,50",
        "R$ 140,50",
        "R$ 10,00",
        "07.906.129/0001-02",
        "ODONTO ARTE LTDA",
        "331988",
    ):
        assert esperado in texto, (esperado, texto)
    if tipo == "pagamento":
        assert "10/12/2026" in texto


ANALISE = [
    {
        "numero_guia_prestador": "7001",
        "valor_processado": "100.50",
        "valor_liberado": "90.50",
        "valor_glosado": "10.00",
        "glosas": [
            {"codigo": "1705", "valor": "7.00", "descricao": "VALOR APRESENTADO A MAIOR"},
            {"codigo": "1801", "valor": "3.00", "descricao": "PROCEDIMENTO INVÁLIDO"},
        ],
    },
    {
        "numero_guia_prestador": "7002",
        "valor_processado": "50.00",
        "valor_liberado": "50.00",
        "valor_glosado": "0",
        "glosas": [],
    },
]


def analisado(tipo: str = "analise") -> Demonstrativo:
    return demonstrativo(tipo, guias=guias_da_analise(GUIAS, ANALISE))


@pytest.mark.parametrize("tipo", ["analise", "pagamento"])
def test_operator_analysis_per_guide_is_valid_and_carries_glosa_codes(tipo: str) -> None:
    xml = mensagem_xml(analisado(tipo))
    assert erros_de_schema(xml) == []
    assert text(xml, "valorGlosaGuia") == ["10.00", "0.00"]  # not spread: as reported
    assert text(xml, "valorLiberadoGuia") == ["90.50", "50.00"]
    if tipo == "analise":
        root = etree.fromstring(xml)
        guias = root.findall(f".//{{{NS}}}relacaoGuias")
        motivos = guias[0].findall(f"{{{NS}}}motivoGlosaGuia")
        assert [m.findtext(f"{{{NS}}}codigoGlosa") for m in motivos] == ["1705", "1801"]
        assert motivos[0].findtext(f"{{{NS}}}descricaoGlosa") == "VALOR APRESENTADO A MAIOR"
        assert guias[1].findall(f"{{{NS}}}motivoGlosaGuia") == []


def test_a_code_newer_than_the_schema_goes_to_the_guide_observation() -> None:
    analise = [{**ANALISE[0], "glosas": [{"codigo": "5063", "valor": "10.00", "descricao": "X"}]}]
    xml = mensagem_xml(demonstrativo(guias=guias_da_analise(GUIAS, analise)))
    assert erros_de_schema(xml) == []
    assert text(xml, "codigoGlosa") == []
    assert text(xml, "observacao") == ["Glosa 5063 (X): 10.00"]


def test_a_guide_the_analysis_leaves_out_is_shown_as_informed() -> None:
    guias = guias_da_analise(GUIAS, ANALISE[:1])
    assert [g.numero_guia_prestador for g in guias] == ["7001", "7002"]
    assert guias[1].valor_liberado == Decimal("50.00") and guias[1].glosas == ()
    assert guias[0].valor_informado == Decimal("100.50")


def test_pdf_shows_each_glosa_code_with_its_description() -> None:
    texto = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=render_pdf(analisado()),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "Glosas" in texto
    for esperado in ("1705", "VALOR APRESENTADO A MAIOR", "1801", "PROCEDIMENTO INVÁLIDO"):
        assert esperado in texto, (esperado, texto)
    assert "R$ 7,00" in texto and "R$ 90,50" in texto
