"""Step 5: operator rules, each with its table-38 code and location; rule config."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from lxml import etree
from tissflow_validation.engine import OperatorContext, RuleConfig, validate
from tissflow_validation.engine.leitura import parser
from tissflow_validation.engine.regras import SPECS, guias_do_lote
from tissflow_validation.samples import (
    CARTEIRA_INATIVA,
    build_lote,
    carteiras_ativas,
    sample_beneficiarios,
    sample_prestadores,
    substituir,
)

from .conftest import GUIAS, A, codigos, editar, linha_de, unica

SADT = GUIAS + "/guiaSP-SADT"


def test_registro_ans_de_destino(ctx):
    content = build_lote(registro_ans="123456")
    r = validate(content, ctx)
    assert codigos(r) == ["5027", "5027"]
    destino, guia = r.critiques
    assert destino.xpath == "/mensagemTISS/cabecalho/destino/registroANS"
    assert "123456" in destino.mensagem and "331988" in destino.mensagem
    assert guia.xpath == SADT + "/cabecalhoGuia/registroANS" and guia.numero_guia == "1"
    assert validate(content, OperatorContext(registro_ans=None)).valido


def test_cnpj_digito_verificador(ctx):
    content = build_lote(cnpj="07906129000103")
    r = validate(content, ctx)
    # the origin plus the two contracted parties of the guide carry that CNPJ
    assert codigos(r) == ["1206", "1206", "1206"]
    c = r.critiques[0]
    assert c.xpath == "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"
    assert c.mensagem == (
        "CPF / CNPJ INVÁLIDO Detalhes: CNPJ 07906129000103 do prestador com dígitos "
        "verificadores inválidos"
    )
    assert {x.xpath for x in r.critiques[1:]} == {
        SADT + "/dadosSolicitante/contratadoSolicitante/cnpjContratado",
        SADT + "/dadosExecutante/contratadoExecutante/cnpjContratado",
    }


def test_cpf_do_profissional(ctx):
    content = substituir(build_lote("honorarios", n_guias=2), "52998224725", "52998224700")
    c = unica(validate(content, ctx), "1206")
    assert c.numero_guia == "1" and "CPF 52998224700" in c.mensagem
    assert c.xpath.endswith("procedimentoRealizado/profissionais/codProfissional/cpfContratado")


def test_prestador_nao_cadastrado(ctx_completo):
    content = build_lote(cnpj="11222333000181")
    c = unica(validate(content, ctx_completo), "1206")
    assert c.mensagem == "CPF / CNPJ INVÁLIDO Detalhes: prestador não localizado na operadora"
    assert c.linha == linha_de(content, "<ans:CNPJ>")
    sem_cadastro = OperatorContext(registro_ans="331988")
    assert validate(content, sem_cadastro).valido


def test_carteira_desconhecida_e_inativa(ctx_completo):
    content = build_lote(
        n_guias=3, carteiras=[carteiras_ativas()[0], "99999999999999", CARTEIRA_INATIVA]
    )
    r = validate(content, ctx_completo)
    assert codigos(r) == ["1001", "1001"]
    desconhecida, inativa = r.critiques
    assert desconhecida.numero_guia == "2" and "não localizada" in desconhecida.mensagem
    assert desconhecida.xpath == SADT + "[2]/dadosBeneficiario/numeroCarteira"
    assert inativa.numero_guia == "3" and "inativo" in inativa.mensagem
    assert validate(content, OperatorContext()).valido


def test_beneficiarios_como_booleanos():
    content = build_lote(carteiras=["123"])
    assert validate(content, OperatorContext(beneficiarios={"123": True})).valido
    assert codigos(validate(content, OperatorContext(beneficiarios={"123": False}))) == ["1001"]


def test_codigo_tuss_inexistente(ctx):
    content = build_lote("sp_sadt", n_guias=2, itens_por_guia=3)
    content = substituir(content, "40301630", "40301639")
    r = validate(content, ctx)
    assert codigos(r) == ["1801"]
    c = r.critiques[0]
    assert (
        c.xpath
        == SADT
        + "[1]/procedimentosExecutados/procedimentoExecutado[2]/procedimento/codigoProcedimento"
    )
    assert "40301639" in c.mensagem and "tabela 22" in c.mensagem
    assert c.linha == linha_de(content, "40301639")


def test_tabela_propria_nao_e_checada_na_tuss(ctx):
    content = substituir(build_lote("consulta"), "<ans:codigoTabela>22", "<ans:codigoTabela>00")
    content = substituir(content, "10101012", "XPTO1")
    assert validate(content, ctx).valido


def test_mais_de_um_tipo_de_guia(ctx):
    consulta = build_lote("consulta", numero_guia_inicial=50)

    def misturar(root):
        outra = etree.fromstring(consulta).find(f".//{A}guiaConsulta")
        root.find(f".//{A}guiasTISS").append(outra)

    c = unica(validate(editar(build_lote("sp_sadt", n_guias=2), misturar), ctx), "1301")
    assert c.xpath == GUIAS + "/guiaConsulta" and c.numero_guia == "50"
    assert "consulta, sp_sadt" in c.mensagem


def test_mais_de_100_guias(ctx):
    r = validate(build_lote("consulta", n_guias=101), ctx)
    c = unica(r, "5015")
    assert c.xpath == GUIAS + "/guiaConsulta[101]"
    assert "101 guias" in c.mensagem and r.quantidade_guias == 101


def test_guia_repetida_no_lote(ctx):
    content = build_lote("consulta", n_guias=3, numeros_guia=["10", "11", "10"])
    c = unica(validate(content, ctx), "1308")
    assert c.numero_guia == "10"
    assert c.xpath == GUIAS + "/guiaConsulta[3]/cabecalhoConsulta/numeroGuiaPrestador"
    assert f"linha {linha_de(content, '>10<')}" in c.mensagem


def test_guia_ja_apresentada(ctx):
    chamadas = []

    def ja(prestador, numero):
        chamadas.append((prestador, numero))
        return numero == "2"

    ctx2 = OperatorContext(registro_ans="331988", guia_ja_apresentada=ja)
    c = unica(validate(build_lote(n_guias=3), ctx2), "1308")
    assert c.numero_guia == "2" and "já foi apresentada" in c.mensagem
    assert chamadas == [("07906129000102", "1"), ("07906129000102", "2"), ("07906129000102", "3")]


def test_total_do_item_a_maior_e_a_menor(ctx):
    content = build_lote("sp_sadt", n_guias=1, itens_por_guia=4)
    # item 2: 2 × 6.80 = 13.60; item 4: 1 × 12.50 × 0.50 = 6.25
    content = substituir(content, "<ans:valorTotal>13.60<", "<ans:valorTotal>14.60<")
    content = substituir(content, "<ans:valorTotal>6.25<", "<ans:valorTotal>6.00<")
    content = substituir(
        content, "<ans:valorProcedimentos>137.35<", "<ans:valorProcedimentos>138.10<"
    )
    content = substituir(content, "<ans:valorTotalGeral>137.35<", "<ans:valorTotalGeral>138.10<")
    r = validate(content, ctx)
    assert codigos(r) == ["1705", "1706"]
    maior, menor = r.critiques
    assert maior.xpath == SADT + "/procedimentosExecutados/procedimentoExecutado[2]/valorTotal"
    assert "13.60" in maior.mensagem and not maior.ignoravel
    assert menor.xpath == SADT + "/procedimentosExecutados/procedimentoExecutado[4]/valorTotal"
    assert "redução/acréscimo 0.50" in menor.mensagem and menor.ignoravel


def test_centavo_de_arredondamento_e_aceito(ctx):
    content = build_lote("sp_sadt", itens_por_guia=4)
    content = substituir(content, "<ans:valorTotal>6.25<", "<ans:valorTotal>6.26<")
    content = substituir(content, "137.35", "137.36", count=2)
    assert validate(content, ctx).valido


def test_total_da_guia_diferente_da_soma(ctx):
    content = build_lote("sp_sadt", n_guias=2, itens_por_guia=2)
    content = substituir(
        content, "<ans:valorProcedimentos>26.10<", "<ans:valorProcedimentos>30.00<"
    )
    r = validate(content, ctx)
    assert codigos(r) == ["5042", "5042"]
    proc, geral = r.critiques
    assert proc.xpath == SADT + "[1]/valorTotal/valorProcedimentos" and proc.numero_guia == "1"
    assert "26.10" in proc.mensagem
    assert geral.xpath == SADT + "[1]/valorTotal/valorTotalGeral"


def test_totais_odonto_e_honorarios(ctx):
    odonto = substituir(
        build_lote("odontologia", itens_por_guia=2),
        "<ans:valorTotalProc>200.00",
        "<ans:valorTotalProc>210.00",
    )
    c = unica(validate(odonto, ctx), "5042")
    assert c.xpath == GUIAS + "/guiaOdonto/valorTotalProc"
    honor = substituir(
        build_lote("honorarios"),
        "<ans:valorTotalHonorarios>1250.00",
        "<ans:valorTotalHonorarios>1350.00",
    )
    assert (
        unica(validate(honor, ctx), "5042").xpath == GUIAS + "/guiaHonorarios/valorTotalHonorarios"
    )


def test_data_no_futuro_e_antiga(ctx):
    futuro = build_lote("consulta", data=date.today() + timedelta(days=10))
    c = unica(validate(futuro, ctx), "3223")
    assert c.xpath == GUIAS + "/guiaConsulta/dadosAtendimento/dataAtendimento"
    assert c.ignoravel
    antiga = build_lote("consulta", data=date(1999, 12, 31))
    c = unica(validate(antiga, ctx), "1323")
    assert "1999-12-31" in c.mensagem


def test_hoje_do_contexto(ctx):
    content = build_lote("consulta", data=date(2020, 5, 4), data_registro=date(2020, 5, 9))
    assert validate(content, OperatorContext(hoje=date(2020, 5, 10))).critiques == []
    r = validate(content, OperatorContext(hoje=date(2020, 5, 1)))
    assert codigos(r) == ["5025", "3223"]


def test_regra_desligada_e_ignoravel(ctx):
    content = build_lote(cnpj="07906129000103")
    desligada = OperatorContext(rules={"1206": RuleConfig(enabled=False)})
    assert validate(content, desligada).valido
    ignoravel = OperatorContext(rules={"1206": RuleConfig(ignoravel=True)})
    r = validate(content, ignoravel)
    assert not r.valido and all(c.ignoravel and not c.ignorada for c in r.critiques)
    marcadas = {(c.codigo, c.xpath) for c in r.critiques}
    r2 = validate(content, OperatorContext(rules=ignoravel.rules, ignored=marcadas))
    assert r2.valido and all(c.ignorada for c in r2.critiques)
    # a non-ignorable critique stays blocking even if the provider marks it
    r3 = validate(content, OperatorContext(ignored=marcadas))
    assert not r3.valido and not any(c.ignorada for c in r3.critiques)


def test_cadastro_por_codigo_na_operadora(ctx_completo):
    content = substituir(
        build_lote(),
        "<ans:CNPJ>07906129000102</ans:CNPJ>",
        "<ans:codigoPrestadorNaOperadora>100234</ans:codigoPrestadorNaOperadora>",
    )
    r = validate(content, ctx_completo)
    assert r.valido
    assert r.prestador == {
        "tipo": "codigoPrestadorNaOperadora",
        "valor": "100234",
        "nome": "ODONTO ARTE LTDA",
    }


def test_registros_nao_sao_alterados(ctx_completo):
    antes = copy.deepcopy(sample_beneficiarios()), copy.deepcopy(sample_prestadores())
    validate(build_lote(n_guias=3), ctx_completo)
    assert (dict(ctx_completo.beneficiarios), dict(ctx_completo.prestadores)) == antes


def test_itens_com_campos_opcionais_usam_o_caminho_geral(ctx):
    """Items with optional leaves (hours, via de acesso) are read by tag, same results."""

    def horas(root):
        for item in root.iter(f"{A}procedimentoExecutado"):
            data = item.find(f"{A}dataExecucao")
            hora = item.makeelement(f"{A}horaInicial")
            hora.text = "08:00:00"
            data.addnext(hora)

    content = build_lote("sp_sadt", n_guias=2, itens_por_guia=3)
    content = substituir(content, "40301630", "40301639")
    r = validate(editar(content, horas), ctx)
    assert codigos(r) == ["1801"]
    assert r.critiques[0].xpath.startswith(
        SADT + "[1]/procedimentosExecutados/procedimentoExecutado[2]"
    )


def _opcionais(padrao):
    """Edit fn adding optional leaves to item i according to padrao(i) -> set of names."""

    def fn(root):
        for i, item in enumerate(root.iter(f"{A}procedimentoExecutado")):
            nomes = padrao(i)
            if "horaInicial" in nomes:
                hora = item.makeelement(f"{A}horaInicial")
                hora.text = "08:00:00"
                item.find(f"{A}dataExecucao").addnext(hora)
            if "viaAcesso" in nomes:
                via = item.makeelement(f"{A}viaAcesso")
                via.text = "1"
                item.find(f"{A}quantidadeExecutada").addnext(via)

    return fn


def _lido_por_tag(content):
    root = etree.fromstring(content)
    campos = (
        "dataExecucao",
        "procedimento/{A}codigoTabela",
        "procedimento/{A}codigoProcedimento",
        "procedimento/{A}descricaoProcedimento",
        "quantidadeExecutada",
        "reducaoAcrescimo",
        "valorUnitario",
        "valorTotal",
    )
    return [
        tuple(item.findtext(A + c.format(A=A)) for c in campos)
        for item in root.iter(f"{A}procedimentoExecutado")
    ]


@pytest.mark.parametrize(
    "padrao",
    [
        lambda i: set(),
        lambda i: {"horaInicial"},
        lambda i: {"horaInicial", "viaAcesso"},
        lambda i: {"horaInicial"} if i % 2 else {"viaAcesso"},  # same count, other leaves
        lambda i: {"horaInicial"} if i == 0 else set(),
    ],
)
def test_leitura_dos_itens_igual_a_leitura_por_tag(padrao):
    content = editar(build_lote("sp_sadt", n_guias=2, itens_por_guia=6), _opcionais(padrao))
    root = etree.fromstring(content, parser())
    spec = SPECS["sp_sadt"]
    linhas = [row for g in guias_do_lote(root) for row in spec.linhas(g)]
    assert linhas == _lido_por_tag(content)
    assert validate(content, OperatorContext(registro_ans="331988")).valido
