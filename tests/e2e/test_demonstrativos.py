"""Demonstrativos as documents: once the operator analyses (5) and pays (3) a protocol, the
provider downloads each as schema-valid TISS XML and as PDF; another provider cannot."""

from __future__ import annotations

import subprocess
from importlib import resources

import pytest
from lxml import etree
from tissflow_demo.samples import build_lote

from tests.support import Api, fresh_guia, wait_for

pytestmark = pytest.mark.e2e
NS = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}


def xsd() -> etree.XMLSchema:
    folder = resources.files("tiss") / "_data" / "schemas" / "4.03.00"
    with resources.as_file(folder) as path:
        return etree.XMLSchema(etree.parse(str(path / "tissV4_03_00.xsd")))


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def test_provider_downloads_both_demonstrativos(
    clinica: Api, outra_clinica: Api, operadora: Api
) -> None:
    primeira = fresh_guia()
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=2, numero_lote="900301", numero_guia_inicial=primeira
    )
    file_id = clinica.upload(content, filename="lote-900301.xml").json()["file_id"]
    arquivo = clinica.wait_file(file_id)
    assert arquivo["status"] == "importado", clinica.get(f"/files/{file_id}/criticas").text
    guias = clinica.get(f"/files/{file_id}/criticas").json()["result"]["guias"]
    lote = clinica.lote_do_arquivo(file_id)
    peg = clinica.enviar_e_aguardar_peg(lote["lote_id"])
    for body in (
        {"status": 2},
        {"status": 5, "valor_glosado": "1.00"},
        {"status": 3, "data_pagamento": "2026-12-10"},
    ):
        response = operadora.post(f"/operadora/protocolos/{peg}/status", json=body)
        assert response.status_code == 200, response.text

    def both() -> list[dict] | None:
        items = clinica.get("/demonstrativos", params={"peg": peg}).json()["items"]
        return items if len(items) == 2 else None

    statements = {d["tipo"]: d for d in wait_for(both, what="os dois demonstrativos")}
    schema = xsd()
    for tipo, transacao in (
        ("analise", "DEMONSTRATIVO_ANALISE_CONTA"),
        ("pagamento", "DEMONSTRATIVO_PAGAMENTO"),
    ):
        sid = statements[tipo]["statement_id"]
        xml = clinica.get(f"/demonstrativos/{sid}/xml")
        assert xml.status_code == 200, xml.text
        assert xml.headers["content-type"].startswith("application/xml")
        assert f"demonstrativo-{tipo}-{peg}.xml" in xml.headers["content-disposition"]
        doc = etree.fromstring(xml.content)
        assert schema.validate(doc), schema.error_log
        assert doc.findtext(".//ans:tipoTransacao", namespaces=NS) == transacao
        assert doc.findtext(".//ans:origem/ans:registroANS", namespaces=NS) == "331988"
        assert doc.findtext(".//ans:numeroProtocolo", namespaces=NS) == peg
        numeros = {g["numero_guia_prestador"] for g in guias}
        found = {e.text for e in doc.iterfind(".//ans:numeroGuiaPrestador", namespaces=NS)}
        assert found == numeros

        pdf = clinica.get(f"/demonstrativos/{sid}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert f"demonstrativo-{tipo}-{peg}.pdf" in pdf.headers["content-disposition"]
        texto = pdf_text(pdf.content)
        assert peg in texto and "900301" in texto
        assert all(n in texto for n in numeros)
        # The glosa the operator reported: the Análise's field 47, the payment's total.
        if tipo == "analise":
            assert "47 - Valor Glosa Geral (R$)" in texto and "1,00" in texto
        else:
            assert "R$ 1,00" in texto
        if tipo == "pagamento":
            assert "10/12/2026" in texto
            assert doc.findtext(".//ans:dataPagamento", namespaces=NS) == "2026-12-10"

        for fmt in ("xml", "pdf"):
            other = outra_clinica.get(f"/demonstrativos/{sid}/{fmt}")
            assert other.status_code == 404
    assert clinica.get(f"/demonstrativos/{sid}/docx").status_code == 422
    assert clinica.get("/demonstrativos/nao-existe/pdf").status_code == 404


def test_operator_analysis_per_guide_reaches_the_demonstrativos(
    clinica: Api, operadora: Api
) -> None:
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=2, numero_lote="900302", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="lote-900302.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    guias = clinica.get(f"/files/{file_id}/criticas").json()["result"]["guias"]
    lote = clinica.lote_do_arquivo(file_id)
    peg = clinica.enviar_e_aguardar_peg(lote["lote_id"])
    glosada, inteira = (g["numero_guia_prestador"] for g in guias)
    valores = {g["numero_guia_prestador"]: g["valor_total"] for g in guias}
    processado = float(valores[glosada])
    analise = [
        {
            "numero_guia_prestador": glosada,
            "valor_processado": f"{processado:.2f}",
            "valor_liberado": f"{processado - 1.25:.2f}",
            "valor_glosado": "1.25",
            "glosas": [{"codigo": "1705", "valor": "1.25"}],
        },
        {
            "numero_guia_prestador": inteira,
            "valor_processado": valores[inteira],
            "valor_liberado": valores[inteira],
        },
    ]
    url = f"/operadora/protocolos/{peg}/status"
    assert operadora.post(url, json={"status": 2}).status_code == 200
    for wrong, trecho in (
        ([{**analise[0], "glosas": [{"codigo": "9999", "valor": "1.25"}]}], "tabela 38"),
        ([{**analise[1], "numero_guia_prestador": "1"}], "não faz parte do lote"),
    ):
        refused = operadora.post(url, json={"status": 5, "guias": wrong})
        assert refused.status_code == 422, refused.text
        assert trecho in refused.json()["message"]
    response = operadora.post(url, json={"status": 5, "guias": analise})
    assert response.status_code == 200, response.text
    protocolo = response.json()
    assert protocolo["valor_glosado"] == "1.25"
    assert protocolo["guias"][0]["glosas"][0]["descricao"] == "VALOR APRESENTADO A MAIOR"

    statement = wait_for(
        lambda: (
            clinica.get("/demonstrativos", params={"peg": peg, "tipo": "analise"}).json()["items"]
            or [None]
        )[0],
        what="o demonstrativo de análise",
    )
    sid = statement["statement_id"]
    doc = etree.fromstring(clinica.get(f"/demonstrativos/{sid}/xml").content)
    schema = xsd()
    assert schema.validate(doc), schema.error_log
    por_guia = {
        g.findtext("ans:numeroGuiaPrestador", namespaces=NS): g
        for g in doc.iterfind(".//ans:relacaoGuias", namespaces=NS)
    }
    assert por_guia[glosada].findtext("ans:valorGlosaGuia", namespaces=NS) == "1.25"
    motivo = por_guia[glosada].find("ans:motivoGlosaGuia", namespaces=NS)
    assert motivo is not None
    assert motivo.findtext("ans:codigoGlosa", namespaces=NS) == "1705"
    assert motivo.findtext("ans:descricaoGlosa", namespaces=NS) == "VALOR APRESENTADO A MAIOR"
    assert por_guia[inteira].find("ans:motivoGlosaGuia", namespaces=NS) is None
    assert por_guia[inteira].findtext("ans:valorGlosaGuia", namespaces=NS) == "0.00"

    texto = pdf_text(clinica.get(f"/demonstrativos/{sid}/pdf").content)
    assert "Glosas" in texto and "1705" in texto and "VALOR APRESENTADO A MAIOR" in texto
    assert "R$ 1,25" in texto
