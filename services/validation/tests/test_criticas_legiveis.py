"""What a billing clerk reads: schema critiques that name what is wrong and where.

Each test is a mistake seen in files written by other software; the critique must carry
the table-38 code, the line and xpath of the element to fix (resolvable by the online
correction), the guide number, and a pt-BR message naming the value and what was
expected, without libxml2 English, Clark names or raw regular expressions.
"""

from __future__ import annotations

import json

import pytest
from lxml import etree
from tissflow_demo.samples import build_lote, recalcular_hash, substituir
from tissflow_validation.cli import main
from tissflow_validation.engine import OperatorContext, validate
from tissflow_validation.engine.documento import resolve_human_xpath

from .conftest import GUIAS, linha_de, unica

TIPOS = ("consulta", "sp_sadt", "odontologia", "honorarios", "resumo_internacao")


def _trocar(content: bytes, antigo: str, novo: str, ocorrencia: int = 1) -> bytes:
    """Replace the n-th occurrence of `antigo` and fix the hash again."""
    a, pos = antigo.encode("iso-8859-1"), -1
    for _ in range(ocorrencia):
        pos = content.index(a, pos + 1)
    return recalcular_hash(content[:pos] + novo.encode("iso-8859-1") + content[pos + len(a) :])


def _legivel(mensagem: str) -> None:
    for proibido in ("{http", "Element '", "expected", "Expected", "facet", "st_", "[0-9]"):
        assert proibido not in mensagem, mensagem


def _aponta(content: bytes, c, trecho: str, ocorrencia: int = 1) -> None:
    """The critique's line is the element's first line, and its xpath names that element."""
    assert c.linha == linha_de(content, trecho, ocorrencia)
    el = resolve_human_xpath(etree.fromstring(content), c.xpath)
    assert el is not None and el.sourceline == c.linha


def test_campo_ausente_no_fim_de_uma_escolha_nomeia_as_opcoes(ctx):
    # libxml2 writes "Expected is one of ( ... )": the list must reach the clerk
    content = _trocar(
        build_lote("sp_sadt", n_guias=2), "<ans:valorTotalGeral>12.50</ans:valorTotalGeral>", "", 2
    )
    c = unica(validate(content, ctx), "5001")
    assert c.xpath == f"{GUIAS}/guiaSP-SADT[2]/valorTotal"
    _aponta(content, c, "<ans:valorTotal>\n", 2)
    assert c.numero_guia == "2"
    assert "campo obrigatório ausente dentro de 'valorTotal'" in c.mensagem
    assert "esperado um de: valorDiarias" in c.mensagem and "valorTotalGeral" in c.mensagem
    assert "após 'valorProcedimentos'" in c.mensagem
    _legivel(c.mensagem)


def test_escolha_vazia_diz_que_o_bloco_esta_vazio(ctx):
    content = substituir(build_lote(), "<ans:CNPJ>07906129000102</ans:CNPJ>", "")
    c = unica(validate(content, ctx), "5001")
    assert c.xpath == "/mensagemTISS/cabecalho/origem/identificacaoPrestador"
    assert "esperado um de: CNPJ, CPF, codigoPrestadorNaOperadora" in c.mensagem
    assert "'identificacaoPrestador' está vazio" in c.mensagem
    _legivel(c.mensagem)


def test_fora_de_ordem_com_varias_opcoes_nomeia_o_campo_omitido(ctx):
    def sem_beneficiario(content: bytes) -> bytes:
        root = etree.fromstring(content)
        for b in root.iter("{*}dadosBeneficiario"):
            b.getparent().remove(b)
            break
        out = etree.tostring(root.getroottree(), encoding="ISO-8859-1", xml_declaration=True)
        return recalcular_hash(out)

    content = sem_beneficiario(build_lote("consulta", n_guias=2))
    r = validate(content, ctx)
    c = next(c for c in r.critiques if c.codigo == "5001")
    assert c.xpath == f"{GUIAS}/guiaConsulta[1]/contratadoExecutante"
    assert c.numero_guia == "1"
    assert "esperado: um de:" in c.mensagem and "dadosBeneficiario" in c.mensagem
    assert "logo após 'cabecalhoConsulta'" in c.mensagem
    _legivel(c.mensagem)


def test_primeiro_campo_ausente_diz_em_que_bloco(ctx):
    content = substituir(
        build_lote("sp_sadt", n_guias=2),
        "<ans:numeroCarteira>00331988000221</ans:numeroCarteira>",
        "",
    )
    c = unica(validate(content, ctx), "5001")
    assert c.xpath == f"{GUIAS}/guiaSP-SADT[2]/dadosBeneficiario/atendimentoRN"
    _aponta(content, c, "<ans:atendimentoRN>", 2)
    assert c.numero_guia == "2"
    assert "esperado: numeroCarteira" in c.mensagem
    assert "primeiro campo de 'dadosBeneficiario'" in c.mensagem


def test_tag_com_erro_de_digitacao_sugere_o_nome_certo(ctx):
    content = substituir(
        build_lote("sp_sadt", n_guias=3),
        "<ans:numeroGuiaPrestador>2</ans:numeroGuiaPrestador>",
        "<ans:numeroGuiaPrestadorr>2</ans:numeroGuiaPrestadorr>",
    )
    c = unica(validate(content, ctx), "5001")
    assert c.xpath == f"{GUIAS}/guiaSP-SADT[2]/cabecalhoGuia/numeroGuiaPrestadorr"
    _aponta(content, c, "<ans:numeroGuiaPrestadorr>")
    assert "elemento 'numeroGuiaPrestadorr' não esperado" in c.mensagem
    assert "nome parecido com 'numeroGuiaPrestador': confira a grafia" in c.mensagem
    assert "omitido" not in c.mensagem  # nothing is missing: the tag is misspelt


def test_tipo_de_guia_com_erro_de_digitacao_nao_e_lote_misturado(ctx):
    root = etree.fromstring(build_lote("consulta", n_guias=2))
    segunda = list(root.iter("{*}guiaConsulta"))[1]
    segunda.tag += "a"
    content = recalcular_hash(
        etree.tostring(root.getroottree(), encoding="ISO-8859-1", xml_declaration=True)
    )
    r = validate(content, ctx)
    c = unica(r, "5001")  # a schema error, not 1301 "o lote mistura tipos de guia"
    assert c.xpath == f"{GUIAS}/guiaConsultaa"
    _aponta(content, c, "<ans:guiaConsultaa>")
    assert "nome parecido com 'guiaConsulta'" in c.mensagem
    assert r.tipo_guia == "consulta" and r.quantidade_guias == 2


def test_valor_longo_e_cortado_e_padrao_em_palavras(ctx):
    content = substituir(build_lote(), "<ans:CNPJ>07906129000102<", "<ans:CNPJ>" + "1" * 300 + "<")
    c = unica(validate(content, ctx), "1206")
    assert c.xpath == "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"
    assert "(300 caracteres)" in c.mensagem and "1" * 31 not in c.mensagem
    assert "CNPJ com 14 caracteres, sem pontos, barra ou traço" in c.mensagem
    _legivel(c.mensagem)


@pytest.mark.parametrize(
    ("trecho", "codigo", "palavras"),
    [
        ("<ans:caraterAtendimento>1<", "5001", "valores aceitos pelo padrão TISS: 1, 2"),
        ("<ans:sequencialItem>1<", "5001", "deve ser um número inteiro de até 4 dígitos"),
        ("<ans:valorTotal>12.50<", "5050", "deve ser um número decimal com ponto"),
        ("<ans:registroANS>331988<", "5027", "formato exigido: 6 dígitos"),
        ("<ans:UF>35<", "5001", "deve ter exatamente 2 caracteres"),
    ],
)
def test_valor_vazio_diz_vazio_e_o_que_se_espera(ctx, trecho, codigo, palavras):
    tag = trecho.split(">")[0] + ">"
    content = substituir(build_lote("sp_sadt"), trecho, tag + "<")
    c = unica(validate(content, ctx), codigo)
    nome = tag[5:-1]
    assert f"'{nome}' está vazio" in c.mensagem and palavras in c.mensagem
    assert "valor ''" not in c.mensagem
    _aponta(content, c, tag + "<")
    _legivel(c.mensagem)


@pytest.mark.parametrize("tipo", TIPOS)
def test_resumo_de_arquivo_invalido_le_o_que_pode(ctx, tipo):
    valido = validate(build_lote(tipo, n_guias=3), ctx)
    assert valido.valido and len(valido.guias) == 3
    # a schema error outside the guides: no rules run, the guides are still summarized
    invalido = validate(
        substituir(
            build_lote(tipo, n_guias=3),
            "<ans:horaRegistroTransacao>10:30:00<",
            "<ans:horaRegistroTransacao>10h30<",
        ),
        ctx,
    )
    assert [c.codigo for c in invalido.critiques] == ["5026"]
    assert invalido.numero_lote == "1" and invalido.tipo_guia == tipo
    assert invalido.quantidade_guias == 3
    assert [g.to_dict() for g in invalido.guias] == [g.to_dict() for g in valido.guias]
    assert invalido.valor_total == valido.valor_total


def test_resumo_de_versao_nao_suportada(ctx):
    content = substituir(
        build_lote("odontologia", n_guias=2), "<ans:Padrao>4.03.00<", "<ans:Padrao>3.05.00<"
    )
    r = validate(content, ctx)
    assert [c.codigo for c in r.critiques] == ["5028"]
    assert r.tipo_guia == "odontologia" and r.quantidade_guias == 2
    assert [g.numero_guia_prestador for g in r.guias] == ["1", "2"]


def test_cli_json_e_texto_dao_as_mesmas_criticas_que_validate(tmp_path, capsys):
    content = substituir(
        build_lote("sp_sadt", n_guias=2),
        "<ans:numeroGuiaPrestador>2</ans:numeroGuiaPrestador>",
        "<ans:numeroGuiaPrestadorr>2</ans:numeroGuiaPrestadorr>",
    )
    content = substituir(content, "<ans:caraterAtendimento>1<", "<ans:caraterAtendimento>E<")
    arq = tmp_path / "lote.xml"
    arq.write_bytes(content)
    esperado = validate(content, OperatorContext(registro_ans="331988")).to_dict()
    assert main(["validate", str(arq), "--operadora", "331988", "--format", "json"]) == 1
    dados = json.loads(capsys.readouterr().out)[0]
    assert dados["critiques"] == esperado["critiques"]
    assert [g["numero_guia_prestador"] for g in dados["guias"]] == ["1", None]
    assert main(["validate", str(arq), "--operadora", "331988"]) == 1
    linhas = capsys.readouterr().out.splitlines()
    c = esperado["critiques"][0]
    assert linhas[1] == f"  [5001] linha {c['linha']} guia 1 {c['xpath']}"
    assert "valor 'E' de 'caraterAtendimento'" in linhas[2] and "(1, 2)" in linhas[2]
