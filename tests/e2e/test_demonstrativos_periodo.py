"""Demonstrativos built from the statements projection, through `/api/v1`: the Análise de
Conta of several protocols in one request, the Demonstrativo de Pagamento by payment date
and by competência (exactly the protocols paid then, following Pagamento efetuado), the
operator's configured identity on each, and the "novo" flag until the clinic opens one."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from importlib import resources

import pytest
from lxml import etree
from tissflow_demo.samples import build_lote

from tests.support import Api, Stack, fresh_guia, wait_for

pytestmark = pytest.mark.e2e
NS = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}


def xsd() -> etree.XMLSchema:
    folder = resources.files("tiss") / "_data" / "schemas" / "4.03.00"
    with resources.as_file(folder) as path:
        return etree.XMLSchema(etree.parse(str(path / "tissV4_03_00.xsd")))


def pdf_text(content: bytes) -> str:
    raw = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", " ", raw)


def protocolo_enviado(clinica: Api, numero_lote: str) -> str:
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=2, numero_lote=numero_lote, numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename=f"lote-{numero_lote}.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    return clinica.enviar_e_aguardar_peg(clinica.lote_do_arquivo(file_id)["lote_id"])


def situacoes(operadora: Api, peg: str, *bodies: dict) -> None:
    for body in bodies:
        response = operadora.post(f"/operadora/protocolos/{peg}/status", json=body)
        assert response.status_code == 200, response.text


PAGAMENTO_P3 = {
    "debitos_creditos": [
        {"indicador": "debito", "tipo": "01", "descricao": "IRRF retido", "valor": "1.00"},
        {
            "indicador": "credito",
            "tipo": "08",
            "descricao": "Ajuste lote anterior",
            "valor": "0.50",
        },
    ],
    "dados_bancarios": {"banco": "341", "agencia": "1234", "conta": "56789-0"},
}


def test_statements_by_period_and_of_several_protocols(
    clinica: Api, outra_clinica: Api, operadora: Api
) -> None:
    p1, p2, p3 = (protocolo_enviado(clinica, n) for n in ("900401", "900402", "900403"))
    for peg, dia in ((p1, "2031-03-10"), (p2, "2031-03-10")):
        situacoes(
            operadora,
            peg,
            {"status": 2},
            {"status": 5, "valor_glosado": "2.00"},
            {"status": 3, "data_pagamento": dia},
        )
    # p3's payment carries the operator's débitos/créditos and the bank account paid.
    situacoes(
        operadora,
        p3,
        {"status": 2},
        {"status": 5, "valor_glosado": "2.00"},
        {"status": 3, "data_pagamento": "2031-03-22", **PAGAMENTO_P3},
    )
    # p2 is paid (6) the next day: it leaves the 10th and joins the 11th.
    situacoes(operadora, p2, {"status": 6, "data_pagamento": "2031-03-11"})

    def pagamento(formato: str, **params: str) -> bytes:
        response = clinica.get(
            f"/demonstrativos/pagamento/{formato}", params={"operadora": "331988", **params}
        )
        assert response.status_code == 200, response.text
        return response.content

    def protocolos(xml: bytes) -> list[str]:
        doc = etree.fromstring(xml)
        return [e.text for e in doc.iterfind(".//ans:relacaoProtocolos/ans:numeroProtocolo", NS)]

    schema = xsd()

    def no_dia_11() -> bytes | None:
        response = clinica.get(
            "/demonstrativos/pagamento/xml", params={"operadora": "331988", "data": "2031-03-11"}
        )
        return response.content if response.status_code == 200 else None

    xml = wait_for(no_dia_11, what="o pagamento efetuado em 11/03/2031")
    assert protocolos(xml) == [p2]
    doc = etree.fromstring(xml)
    assert schema.validate(doc), schema.error_log
    assert doc.findtext(".//ans:cabecalhoDemonstrativo/ans:numeroCNPJ", namespaces=NS) == (
        "39419809000198"
    )
    assert doc.findtext(".//ans:nomeOperadora", namespaces=NS) == (
        "PASA - PLANO DE ASSISTENCIA A SAUDE DO APOSENTADO DA VALE"
    )
    assert protocolos(pagamento("xml", data="2031-03-10")) == [p1]
    competencia = pagamento("xml", competencia="2031-03")
    assert schema.validate(etree.fromstring(competencia))
    assert sorted(protocolos(competencia)) == sorted([p1, p2, p3])
    texto = pdf_text(pagamento("pdf", competencia="2031-03"))
    assert "Por Competência Competência 03/2031" in texto
    assert f"{p2} " in texto and "6 - Pagamento efetuado" in texto
    assert "4 - CNPJ da Operadora 39.419.809/0001-98" in texto
    assert "33.198.800" not in texto

    # The operator's débitos/créditos and bank data, from its report to both documents.
    def no_dia_22() -> bytes | None:
        response = clinica.get(
            "/demonstrativos/pagamento/xml", params={"operadora": "331988", "data": "2031-03-22"}
        )
        return response.content if response.status_code == 200 else None

    dia22 = etree.fromstring(wait_for(no_dia_22, what="o pagamento de 22/03/2031"))
    assert schema.validate(dia22), schema.error_log
    valores = [e.text for e in dia22.iterfind(".//ans:debitosCreditos/ans:valorDbCr", NS)]
    indicadores = [e.text for e in dia22.iterfind(".//ans:debitosCreditos/ans:indicador", NS)]
    assert (indicadores, valores) == (["1", "2"], ["1.00", "0.50"])
    bruto = Decimal(dia22.findtext(".//ans:valorLiberadoBruto", namespaces=NS))
    liquido = Decimal(dia22.findtext(".//ans:valorLiberadoDemonstrativo", namespaces=NS))
    assert liquido == bruto - Decimal("0.50")
    assert dia22.findtext(".//ans:dadosPagamento/ans:banco", namespaces=NS) == "341"
    texto22 = pdf_text(pagamento("pdf", data="2031-03-22"))
    assert "Banco 341 Agência 1234 Conta 56789-0" in texto22
    assert "Débito (IRRF): IRRF retido -R$ 1,00" in texto22
    assert "Crédito (Ajuste de pagamento anterior): Ajuste lote anterior R$ 0,50" in texto22

    vazio = clinica.get(
        "/demonstrativos/pagamento/pdf", params={"operadora": "331988", "data": "2031-03-12"}
    )
    assert vazio.status_code == 404
    assert vazio.json()["code"] == "nenhum_pagamento_no_periodo"
    outra = clinica.get(
        "/demonstrativos/pagamento/pdf", params={"operadora": "999999", "data": "2031-03-10"}
    )
    assert outra.status_code == 404 and "331988" in outra.json()["message"]
    # Another provider paid nothing then: its statement of the same day is empty.
    alheio = outra_clinica.get(
        "/demonstrativos/pagamento/xml", params={"operadora": "331988", "data": "2031-03-10"}
    )
    assert alheio.status_code == 404

    # Gerar Demonstrativo: the Análise de Conta of the three protocols at once.
    analise = clinica.get(
        "/demonstrativos/analise/xml", params=[("protocolo", p) for p in (p3, p1, p2)]
    )
    assert analise.status_code == 200, analise.text
    doc = etree.fromstring(analise.content)
    assert schema.validate(doc), schema.error_log
    assert [e.text for e in doc.iterfind(".//ans:dadosProtocolo/ans:numeroProtocolo", NS)] == (
        sorted([p1, p2, p3])
    )
    assert [e.text for e in doc.iterfind(".//ans:valorGlosaProtocolo", NS)] == ["2.00"] * 3
    assert doc.findtext(".//ans:valorGlosaGeral", namespaces=NS) == "6.00"
    pdf = clinica.get("/demonstrativos/analise/pdf", params=[("protocolo", p1), ("protocolo", p2)])
    texto = pdf_text(pdf.content)
    assert f"10 - Número do Protocolo {p1}" in texto and f"10 - Número do Protocolo {p2}" in texto
    assert "47 - Valor Glosa Geral (R$) 4,00" in texto
    demais = clinica.get(
        "/demonstrativos/analise/pdf", params=[("protocolo", str(n)) for n in range(31)]
    )
    assert demais.status_code == 422 and "30" in demais.json()["message"]
    alheia = outra_clinica.get("/demonstrativos/analise/pdf", params={"protocolo": p1})
    assert alheia.status_code == 404

    # "novo" until the clinic opens it.
    def analise_de_p1() -> dict | None:
        items = clinica.get("/demonstrativos", params={"peg": p1, "tipo": "analise"}).json()
        return (items["items"] or [None])[0]

    statement = wait_for(analise_de_p1, what="o demonstrativo de análise")
    assert statement["novo"] is True
    assert clinica.get(f"/demonstrativos/{statement['statement_id']}/pdf").status_code == 200
    assert analise_de_p1()["novo"] is False  # type: ignore[index]


def test_the_operators_mover_etapa_form_reports_debits_credits_and_the_bank(
    stack: Stack, clinica: Api, operadora: Api
) -> None:
    """The operator's staff, on the portal's Mover etapa form, give the payment its
    débitos/créditos and bank account; the Demonstrativo de Pagamento shows them."""
    import httpx

    peg = protocolo_enviado(clinica, "900404")
    situacoes(operadora, peg, {"status": 2}, {"status": 5, "valor_glosado": "2.00"})
    base = stack.services.url("gateway")
    with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as web:
        login = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").text)
        assert login
        entrou = web.post(
            "/login",
            data={"username": "operadora", "password": "operadora123", "csrf_token": login[1]},
        )
        assert entrou.status_code == 303
        pagina = web.get(f"/operadora/protocolos/{peg}").text
        assert "Débitos, créditos e dados bancários" in pagina and "01 – IRRF" in pagina
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', pagina)
        assert csrf
        form = {
            "csrf_token": csrf[1],
            "status": "3",
            "data_pagamento": "23/03/2031",
            "dc_indicador": ["debito", "credito", "debito"],
            "dc_tipo": ["02", "08", "01"],
            "dc_descricao": ["ISS retido", "Ajuste", ""],
            "dc_valor": ["1,25", "0,75", ""],
            "banco": "001",
            "agencia": "4321",
            "conta": "9876-5",
        }
        # A row with a description and no value is refused with its number, in pt-BR.
        ruim = web.post(
            f"/operadora/protocolos/{peg}/status",
            data={**form, "dc_valor": ["1,25", "", ""]},
        )
        assert ruim.status_code == 422 and "Débito/crédito 2" in ruim.text
        feito = web.post(f"/operadora/protocolos/{peg}/status", data=form)
        assert feito.status_code == 303, feito.text

    def no_dia_23() -> bytes | None:
        response = clinica.get(
            "/demonstrativos/pagamento/xml", params={"operadora": "331988", "data": "2031-03-23"}
        )
        return response.content if response.status_code == 200 else None

    doc = etree.fromstring(wait_for(no_dia_23, what="o pagamento de 23/03/2031"))
    schema = xsd()
    assert schema.validate(doc), schema.error_log
    linhas = [
        (e.findtext("ans:indicador", namespaces=NS), e.findtext("ans:valorDbCr", namespaces=NS))
        for e in doc.iterfind(".//ans:debitosCreditos", NS)
    ]
    assert linhas == [("1", "1.25"), ("2", "0.75")]
    texto = pdf_text(pagamento_pdf(clinica, "2031-03-23"))
    assert "ISS retido" in texto and "Ajuste" in texto
    assert "Banco 001 Agência 4321 Conta 9876-5" in texto


def pagamento_pdf(clinica: Api, data: str) -> bytes:
    response = clinica.get(
        "/demonstrativos/pagamento/pdf", params={"operadora": "331988", "data": data}
    )
    assert response.status_code == 200, response.text
    return response.content
