"""Demonstrativo de Análise de Conta: fields 1–47 in the PDF (by label) and in the TISS XML
(XSD-valid, hash checked), every figure reconciling with the operator's analysis; several
protocols in one request up to the standard's 30; pages that break where people can read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lxml import etree
from tissflow_contracts import GlosaAnalise
from tissflow_demo import statement_samples as samples
from tissflow_statements.domain.errors import (
    NaoEncontrado,
    PedidoInvalido,
    ProtocoloNaoAnalisado,
)
from tissflow_statements.service_layer import build, projection
from tissflow_statements.service_layer.ports import Dependencias
from tissflow_tiss import erros_de_schema, leaf_text

T2 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
T5 = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
CONSULTA = "Consulta em consultório (no horário normal ou preestabelecido)"


async def protocolo_analisado(
    deps: Dependencias,
    peg: str,
    lote_id: str,
    *,
    n_guias: int = 2,
    n_itens: int = 3,
    **lote: object,
) -> samples.LoteSent:
    """A lote sent, then the operator's analysis (5): each guide's first item glosed 10,00."""
    sent = samples.lote_sent(lote_id, n_guias=n_guias, n_itens=n_itens, **lote)  # type: ignore[arg-type]
    n = int(peg[-4:]) * 10
    await projection.lote_sent(deps, samples.envelope(sent, n))
    await projection.status_changed(deps, samples.envelope(samples.status(peg, sent, 2, T2), n + 1))
    await projection.status_changed(
        deps,
        samples.envelope(
            samples.status(
                peg,
                sent,
                5,
                T5,
                guias=samples.analise_com_glosa(sent),
                glosas_protocolo=[GlosaAnalise(codigo="1705", valor=Decimal("20.00"))],
            ),
            n + 2,
        ),
    )
    return sent


def hash_ok(xml: bytes) -> None:
    root = etree.fromstring(xml)
    expected = hashlib.md5(leaf_text(root).encode("iso-8859-1")).hexdigest()
    assert root.findtext(".//{*}epilogo/{*}hash") == expected


async def test_fields_1_to_47_in_the_pdf_by_label_and_in_the_xml(deps: Dependencias, ler) -> None:
    await protocolo_analisado(deps, "202600000042", "L42")
    documento = await build.analise_de(deps, ["202600000042"], "07906129000102")
    pdf = build.render(deps, documento, "pdf")
    xml = build.render(deps, documento, "xml")
    assert erros_de_schema(xml) == []
    hash_ok(xml)
    texto = ler.pdf_text(pdf)
    ler.save_pngs(pdf, "analise-1-protocolo")

    cabecalho = {
        "1 - Registro ANS": "331988",
        "2 - Nº": "202600000042",
        "3 - Nome da Operadora": "PASA - PLANO DE ASSISTENCIA A SAUDE DO APOSENTADO DA VALE",
        "4 - CNPJ da Operadora": "39.419.809/0001-98",
        "5 - Data de emissão": "25/11/2026",
        "7 - Nome do Contratado": "ODONTO ARTE LTDA",
        "8 - Código CNES": "2345678",
        "9 - Código na Operadora": "1001",
        "10 - Número do Protocolo": "202600000042",
        "11 - Data do Protocolo": "20/11/2026",
        "12 - Código da Glosa do Protocolo": "1705",
        "13 - Código da Situação do Protocolo": "5 - Analisado e aguardando liberação",
        "40 - Valor Informado do Protocolo (R$)": "600,00",
        "41 - Valor Processado do Protocolo (R$)": "600,00",
        "42 - Valor Liberado do Protocolo (R$)": "580,00",
        "43 - Valor Glosa do Protocolo (R$)": "20,00",
        "44 - Valor Informado Geral (R$)": "600,00",
        "45 - Valor Processado Geral (R$)": "600,00",
        "46 - Valor Liberado Geral (R$)": "580,00",
        "47 - Valor Glosa Geral (R$)": "20,00",
    }
    for rotulo, valor in cabecalho.items():
        assert f"{rotulo} {valor}" in texto, rotulo
    assert "33.198.800" not in texto and "33198800" not in texto
    for n, numero in enumerate(("7001", "7002")):
        guia = {
            "14 - Número da Guia no Prestador": numero,
            "15 - Número da Guia Atribuído pela Operadora": f"OP{numero}",
            "16 - Senha": f"S{numero}",
            "17 - Nome do Beneficiário": f"BENEFICIARIO {n + 1:03d} DA SILVA",
            "18 - Número da Carteira": f"00090025012300{n:02d}",
            "19 - Data do Início do Faturamento": f"0{3 + n}/11/2026",
            "20 - Hora do Início do Faturamento": "08:30",
            "21 - Data do Fim do Faturamento": f"0{3 + n}/11/2026",
            "22 - Hora do Fim do Faturamento": "09:45",
            "23 - Código da Glosa da Guia": "1705",
            "24 - Código da Situação da Guia": "5",
            "36 - Valor Informado da Guia (R$)": "300,00",
            "37 - Valor Processado da Guia (R$)": "300,00",
            "38 - Valor Liberado da Guia (R$)": "290,00",
            "39 - Valor Glosa da Guia (R$)": "10,00",
        }
        for rotulo, valor in guia.items():
            assert f"{rotulo} {valor}" in texto, (numero, rotulo)
        data = f"0{3 + n}/11/2026"
        # 25–35 of each item, in column order: glosed first item, the others as billed.
        assert f"{data} 22 10101012 {CONSULTA} 00 100,00 1 100,00 90,00 10,00 1705" in texto
        assert (
            f"{data} 22 40301630 Hemograma com contagem de plaquetas 100,00 1 100,00 100,00 0,00"
            in texto
        )
        assert (
            f"{data} 22 40302040 Glicose - pesquisa e/ou dosagem 100,00 1 100,00 100,00 0,00"
            in texto
        )
    for rotulo in (
        "25 - Data de realização",
        "26 - Tabela",
        "27 - Código do procedimento",
        "28 - Descrição",
        "29 - Grau de participação",
        "30 - Valor informado",
        "31 - Quant. executada",
        "32 - Valor processado",
        "33 - Valor liberado",
        "34 - Valor glosa",
        "35 - Código da glosa",
    ):
        assert rotulo in texto

    # The same figures in the XML, field by field.
    one, all_ = ler.xml_one, ler.xml_all
    dem = ".//ans:demonstrativoAnaliseConta"
    assert one(xml, f"{dem}/ans:cabecalhoDemonstrativo/ans:registroANS") == "331988"  # 1
    assert one(xml, f"{dem}//ans:numeroDemonstrativo") == "202600000042"  # 2
    assert one(xml, f"{dem}//ans:nomeOperadora") == cabecalho["3 - Nome da Operadora"]  # 3
    assert one(xml, f"{dem}//ans:numeroCNPJ") == "39419809000198"  # 4
    assert one(xml, f"{dem}//ans:dataEmissao") == "2026-11-25"  # 5
    assert one(xml, f"{dem}/ans:dadosPrestador/ans:CNES") == "2345678"  # 8
    assert one(xml, f"{dem}//ans:codigoPrestadorNaOperadora") == "1001"  # 9
    protocolo = f"{dem}/ans:dadosConta/ans:dadosProtocolo"
    assert one(xml, f"{protocolo}/ans:numeroProtocolo") == "202600000042"  # 10
    assert one(xml, f"{protocolo}/ans:dataProtocolo") == "2026-11-20"  # 11
    assert one(xml, f"{protocolo}/ans:GlosaProtocolo/ans:codigoGlosa") == "1705"  # 12
    assert one(xml, f"{protocolo}/ans:situacaoProtocolo") == "5"  # 13
    guias = f"{protocolo}/ans:relacaoGuias"
    assert all_(xml, f"{guias}/ans:numeroGuiaPrestador") == ["7001", "7002"]  # 14
    assert all_(xml, f"{guias}/ans:numeroGuiaOperadora") == ["OP7001", "OP7002"]  # 15
    assert all_(xml, f"{guias}/ans:senha") == ["S7001", "S7002"]  # 16
    assert all_(xml, f"{guias}/ans:numeroCarteira") == ["0009002501230000", "0009002501230001"]
    assert all_(xml, f"{guias}/ans:dataInicioFat") == ["2026-11-03", "2026-11-04"]  # 19
    assert all_(xml, f"{guias}/ans:horaInicioFat") == ["08:30:00", "08:30:00"]  # 20
    assert all_(xml, f"{guias}/ans:dataFimFat") == ["2026-11-03", "2026-11-04"]  # 21
    assert all_(xml, f"{guias}/ans:horaFimFat") == ["09:45:00", "09:45:00"]  # 22
    assert all_(xml, f"{guias}/ans:motivoGlosaGuia/ans:codigoGlosa") == ["1705", "1705"]  # 23
    assert all_(xml, f"{guias}/ans:situacaoGuia") == ["5", "5"]  # 24
    itens = f"{guias}/ans:detalhesGuia"
    assert all_(xml, f"{itens}/ans:dataRealizacao") == ["2026-11-03"] * 3 + ["2026-11-04"] * 3
    assert all_(xml, f"{itens}/ans:procedimento/ans:codigoTabela") == ["22"] * 6  # 26
    assert (
        all_(xml, f"{itens}/ans:procedimento/ans:codigoProcedimento")
        == [
            "10101012",
            "40301630",
            "40302040",
        ]
        * 2
    )  # 27
    assert all_(xml, f"{itens}/ans:procedimento/ans:descricaoProcedimento")[0] == CONSULTA  # 28
    assert all_(xml, f"{itens}/ans:grauParticipacao") == ["00", "00"]  # 29
    assert all_(xml, f"{itens}/ans:valorInformado") == ["100.00"] * 6  # 30
    assert all_(xml, f"{itens}/ans:qtdExecutada") == ["1"] * 6  # 31
    assert all_(xml, f"{itens}/ans:valorProcessado") == ["100.00"] * 6  # 32
    assert all_(xml, f"{itens}/ans:valorLiberado") == ["90.00", "100.00", "100.00"] * 2  # 33
    assert all_(xml, f"{itens}/ans:relacaoGlosa/ans:valorGlosa") == ["10.00", "10.00"]  # 34
    assert all_(xml, f"{itens}/ans:relacaoGlosa/ans:tipoGlosa") == ["1705", "1705"]  # 35
    assert all_(xml, f"{guias}/ans:valorInformadoGuia") == ["300.00", "300.00"]  # 36
    assert all_(xml, f"{guias}/ans:valorProcessadoGuia") == ["300.00", "300.00"]  # 37
    assert all_(xml, f"{guias}/ans:valorLiberadoGuia") == ["290.00", "290.00"]  # 38
    assert all_(xml, f"{guias}/ans:valorGlosaGuia") == ["10.00", "10.00"]  # 39
    assert one(xml, f"{protocolo}/ans:valorInformadoProtocolo") == "600.00"  # 40
    assert one(xml, f"{protocolo}/ans:valorProcessadoProtocolo") == "600.00"  # 41
    assert one(xml, f"{protocolo}/ans:valorLiberadoProtocolo") == "580.00"  # 42
    assert one(xml, f"{protocolo}/ans:valorGlosaProtocolo") == "20.00"  # 43
    assert one(xml, f"{dem}/ans:valorInformadoGeral") == "600.00"  # 44
    assert one(xml, f"{dem}/ans:valorProcessadoGeral") == "600.00"  # 45
    assert one(xml, f"{dem}/ans:valorLiberadoGeral") == "580.00"  # 46
    assert one(xml, f"{dem}/ans:valorGlosaGeral") == "20.00"  # 47
    assert one(xml, ".//ans:cabecalho/ans:origem/ans:registroANS") == "331988"
    assert one(xml, ".//ans:destino/ans:identificacaoPrestador/ans:CNPJ") == "07906129000102"


async def test_several_protocols_in_one_request_with_their_totals(deps: Dependencias, ler) -> None:
    await protocolo_analisado(deps, "202600000101", "L101", n_guias=1, n_itens=2)
    await protocolo_analisado(
        deps, "202600000102", "L102", n_guias=3, n_itens=1, primeira_guia=8001
    )
    documento = await build.analise_de(deps, ["202600000102", "202600000101"])
    xml = build.render(deps, documento, "xml")
    assert erros_de_schema(xml) == []
    hash_ok(xml)
    assert ler.xml_all(xml, ".//ans:dadosProtocolo/ans:numeroProtocolo") == [
        "202600000101",
        "202600000102",
    ]
    # 40: 200 (one guide of two items) and 300 (three guides of one); 44: both.
    assert ler.xml_all(xml, ".//ans:valorInformadoProtocolo") == ["200.00", "300.00"]
    assert ler.xml_all(xml, ".//ans:valorGlosaProtocolo") == ["10.00", "30.00"]
    assert ler.xml_one(xml, ".//ans:valorInformadoGeral") == "500.00"
    assert ler.xml_one(xml, ".//ans:valorLiberadoGeral") == "460.00"
    texto = ler.pdf_text(build.render(deps, documento, "pdf"))
    assert "10 - Número do Protocolo 202600000101" in texto
    assert "10 - Número do Protocolo 202600000102" in texto
    assert "43 - Valor Glosa do Protocolo (R$) 30,00" in texto
    assert "44 - Valor Informado Geral (R$) 500,00" in texto
    assert "47 - Valor Glosa Geral (R$) 40,00" in texto


async def test_thirty_protocols_at_most_and_only_analysed_ones_of_the_provider(
    deps: Dependencias,
) -> None:
    with pytest.raises(PedidoInvalido, match="no máximo 30"):
        await build.analise_de(deps, [f"P{i}" for i in range(31)])
    sent = samples.lote_sent("L7")
    await projection.lote_sent(deps, samples.envelope(sent, 70))
    await projection.status_changed(deps, samples.envelope(samples.status("P7", sent, 2, T2), 71))
    with pytest.raises(ProtocoloNaoAnalisado, match="P7 ainda não foi analisado"):
        await build.analise_de(deps, ["P7"])
    with pytest.raises(NaoEncontrado, match="P7"):
        await build.analise_de(deps, ["P7"], provider_id="11222333000181")
    with pytest.raises(NaoEncontrado, match="P404"):
        await build.analise_de(deps, ["P404"])


async def test_a_long_statement_breaks_pages_with_headers_and_numbers(
    deps: Dependencias, ler
) -> None:
    """12 guides of 9 items: several A4 pages; each page numbered, the item header on every
    page with items, and no guide header left without an item below it on its page."""
    await protocolo_analisado(deps, "202600000300", "L300", n_guias=12, n_itens=9)
    pdf = build.render(deps, await build.analise_de(deps, ["202600000300"]), "pdf")
    paginas = ler.pdf_pages(pdf)
    assert paginas >= 3
    pngs = ler.save_pngs(pdf, "analise-multipagina")
    assert len(pngs) == paginas
    codigos = [c for _, c, _ in samples.PROCEDIMENTOS]
    for n in range(1, paginas + 1):
        texto = ler.pdf_text(pdf, page=n)
        assert f"Página {n} de {paginas}" in texto
        pedacos = texto.split("Dados da Guia ")[1:]
        for pedaco in pedacos:
            # The guide's header is followed, on the same page, by one of its items.
            assert any(c in pedaco.split("Dados da Guia")[0] for c in codigos), (n, pedaco[:200])
            assert "30 - Valor informado" in pedaco
    ultima = ler.pdf_text(pdf, page=paginas)
    assert "47 - Valor Glosa Geral (R$) 120,00" in ultima


async def test_a_statement_is_rendered_ahead_and_read_from_the_cache(deps: Dependencias) -> None:
    """Each per-protocol statement is rendered once, ahead; downloads read those bytes."""
    from tissflow_statements.adapters.memory import MemoryDocumentCache

    deps.cache = cache = MemoryDocumentCache()
    await protocolo_analisado(deps, "202600000500", "L500", n_guias=1, n_itens=1)
    assert sorted(k.split(".")[1] for k in cache.docs) == ["pdf", "xml"]
    documento = await build.do_indice(deps, "analise-202600000500")
    pdf = await build.documento_bytes(deps, documento, "pdf")
    assert pdf == cache.docs[build.fingerprint(documento, "pdf")]
    assert await build.documento_bytes(deps, documento, "xml") == build.render(
        deps, documento, "xml"
    )


async def test_the_configured_operator_is_who_issues_both_documents(
    deps: Dependencias, ler
) -> None:
    """The operator is a configured record: another one configured, both documents state
    it (fields 1, 3, 4, brand, address, footer), and nothing of the demo operator is left."""
    from tissflow_statements.domain.operadora import Operadora

    deps.operadora = Operadora(
        registro_ans="419991",
        razao_social="CONECTA SAUDE OPERADORA DE PLANOS S.A.",
        nome_fantasia="Conecta Saúde",
        cnpj="11444777000161",
        endereco="Av. Paulista, 1000 - São Paulo/SP",
        marca="CONECTA",
    )
    await protocolo_analisado(deps, "202600000610", "L610", n_guias=1, n_itens=1)
    documento = await build.analise_de(deps, ["202600000610"])
    pdf = build.render(deps, documento, "pdf")
    texto = ler.pdf_text(pdf)
    assert "1 - Registro ANS 419991" in texto
    assert "3 - Nome da Operadora CONECTA SAUDE OPERADORA DE PLANOS S.A." in texto
    assert "4 - CNPJ da Operadora 11.444.777/0001-61" in texto
    assert ler.pdf_top(pdf).startswith("CONECTA DEMONSTRATIVO DE ANÁLISE DE CONTA")
    assert "Av. Paulista, 1000 - São Paulo/SP" in texto
    assert "Registro ANS 419991 · Demonstrativo de Análise de Conta" in texto  # footer
    assert "PASA" not in texto and "331988" not in texto and "39.419.809" not in texto
    xml = build.render(deps, documento, "xml")
    assert erros_de_schema(xml) == []
    hash_ok(xml)
    dem = ".//ans:demonstrativoAnaliseConta/ans:cabecalhoDemonstrativo"
    assert ler.xml_one(xml, f"{dem}/ans:registroANS") == "419991"
    assert ler.xml_one(xml, f"{dem}/ans:nomeOperadora") == deps.operadora.razao_social
    assert ler.xml_one(xml, f"{dem}/ans:numeroCNPJ") == "11444777000161"
    assert ler.xml_one(xml, ".//ans:cabecalho/ans:origem/ans:registroANS") == "419991"
    assert b"PASA" not in xml and b"39419809" not in xml
