"""Steps 2-4: message type/direction/version, XSD critiques in pt-BR, epilogue hash."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
from lxml import etree
from tissflow_demo.samples import build_lote, substituir
from tissflow_validation.engine import validate
from tissflow_validation.engine.reference import ENV_REFERENCE_DIR

from .conftest import GUIAS, A, codigos, editar, linha_de, unica


def test_raiz_errada(ctx):
    c = unica(validate(b'<?xml version="1.0"?><lote><x/></lote>', ctx), "5001")
    assert "mensagemTISS" in c.mensagem and c.xpath == "/lote"


def test_namespace_errado(ctx):
    content = build_lote().replace(
        b"http://www.ans.gov.br/padroes/tiss/schemas", b"http://exemplo.com/tiss"
    )
    c = unica(validate(content, ctx), "5001")
    assert "namespace" in c.mensagem


def test_tipo_de_transacao(ctx):
    content = substituir(build_lote(), "ENVIO_LOTE_GUIAS", "SOLIC_STATUS_PROTOCOLO")
    c = unica(validate(content, ctx), "3148")
    assert c.xpath == "/mensagemTISS/cabecalho/identificacaoTransacao/tipoTransacao"
    assert c.linha == linha_de(content, "SOLIC_STATUS_PROTOCOLO")
    assert "ENVIO_LOTE_GUIAS" in c.mensagem


def test_direcao_operadora_para_prestador(ctx):
    def inverter(root):
        origem = root.find(f"{A}cabecalho/{A}origem")
        origem.clear()
        reg = origem.makeelement(f"{A}registroANS")
        reg.text = "331988"
        origem.append(reg)

    c = unica(validate(editar(build_lote(), inverter), ctx), "5003")
    assert c.xpath == "/mensagemTISS/cabecalho/origem"


@pytest.mark.parametrize("versao", ["3.05.00", "4.01.00"])
def test_versao_nao_suportada(versao, ctx):
    content = substituir(build_lote(), "<ans:Padrao>4.03.00", f"<ans:Padrao>{versao}")
    c = unica(validate(content, ctx), "5028")
    assert versao in c.mensagem and "4.02.00, 4.03.00" in c.mensagem
    assert c.xpath == "/mensagemTISS/cabecalho/Padrao"


def test_versao_importada_no_diretorio_de_referencia(tmp_path, monkeypatch, ctx):
    # Stand in for an ANS package of another version: the 4.03.00 files renamed 4.01.00.
    origem = Path(str(resources.files("tiss").joinpath("_data/schemas/4.03.00")))
    destino = tmp_path / "schemas" / "4.01.00"
    destino.mkdir(parents=True)
    for arq in origem.glob("*.xsd"):
        shutil.copyfile(arq, destino / arq.name)
    shutil.copyfile(origem / "tissV4_03_00.xsd", destino / "tissV4_01_00.xsd")
    content = substituir(build_lote(), "<ans:Padrao>4.03.00", "<ans:Padrao>4.01.00")
    assert codigos(validate(content, ctx)) == ["5028"]
    monkeypatch.setenv(ENV_REFERENCE_DIR, str(tmp_path))
    r = validate(content, ctx)
    assert r.valido and r.versao_tiss == "4.01.00"


def test_xsd_padrao_cnpj(ctx):
    content = substituir(build_lote(), "<ans:CNPJ>07906129000102", "<ans:CNPJ>0790612900010X")
    c = unica(validate(content, ctx), "1206")
    assert c.xpath == "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"
    assert c.linha == linha_de(content, "<ans:CNPJ>")
    assert "'0790612900010X'" in c.mensagem and "formato" in c.mensagem
    assert not c.ignoravel


def test_xsd_campo_obrigatorio_ausente_e_dominio(ctx):
    content = build_lote("sp_sadt", n_guias=3)
    content = substituir(content, "<ans:caraterAtendimento>1</ans:caraterAtendimento>", "")
    content = content.replace(b"<ans:atendimentoRN>N<", b"<ans:atendimentoRN>X<")
    content = substituir(content, "x", "x")  # fix the hash after the raw edit
    r = validate(content, ctx)
    assert codigos(r) == ["5032", "5001", "5032", "5032"]
    dominio, faltando = r.critiques[0], r.critiques[1]
    assert dominio.xpath == GUIAS + "/guiaSP-SADT[1]/dadosBeneficiario/atendimentoRN"
    assert "'X'" in dominio.mensagem and "domínio" in dominio.mensagem
    assert dominio.numero_guia == "1"
    assert faltando.xpath == GUIAS + "/guiaSP-SADT[1]/dadosSolicitacao/indicacaoClinica"
    assert "esperado: caraterAtendimento" in faltando.mensagem
    assert faltando.linha == linha_de(content, "<ans:indicacaoClinica>")
    assert [c.sequencial for c in r.critiques] == [1, 2, 3, 4]


def test_xsd_tamanho_decimais_e_data(ctx):
    content = build_lote("sp_sadt", n_guias=2, itens_por_guia=2)
    content = substituir(content, "<ans:numeroLote>1<", "<ans:numeroLote><")
    content = substituir(content, "<ans:valorUnitario>6.80<", "<ans:valorUnitario>6.801<")
    content = substituir(content, "<ans:dataExecucao>", "<ans:dataExecucao>x")
    r = validate(content, ctx)
    por_codigo = {c.codigo: c for c in r.critiques}
    # each value error under the table-38 code of its field: lote number, date, money
    assert set(por_codigo) == {"5047", "1323", "5050"}
    assert "vazio" in por_codigo["5047"].mensagem
    assert "AAAA-MM-DD" in por_codigo["1323"].mensagem
    assert por_codigo["1323"].xpath.endswith("/procedimentoExecutado[1]/dataExecucao")
    assert not por_codigo["1323"].ignoravel  # a schema error, never ignorable
    assert "casas decimais" in por_codigo["5050"].mensagem
    assert "6.801" in por_codigo["5050"].mensagem
    assert por_codigo["5050"].xpath.endswith("/valorUnitario")
    # no operator rule ran (the codes above), but the summary reads what it can
    assert [g.numero_guia_prestador for g in r.guias] == ["1", "2"]
    assert r.valor_total == sum(g.valor_total for g in r.guias)


def test_xsd_nao_para_o_hash(ctx):
    content = substituir(build_lote(), "<ans:numeroLote>1<", "<ans:numeroLote><", manter_hash=False)
    assert codigos(validate(content, ctx)) == ["5047", "5014"]


def test_hash_errado(ctx):
    content = build_lote()
    certo = validate(content, ctx).hash_informado
    errado = content.replace(certo.encode(), b"0" * 32)
    r = validate(errado, ctx)
    c = unica(r, "5014")
    assert certo in c.mensagem and r.hash_calculado == certo
    assert c.xpath == "/mensagemTISS/epilogo/hash"
    assert c.linha == linha_de(errado, "<ans:hash>")


def test_hash_ausente(ctx):
    content = build_lote()
    h = validate(content, ctx).hash_informado
    c = unica(validate(content.replace(h.encode(), b""), ctx), "5014")
    assert h in c.mensagem


def test_hash_em_maiusculas_e_utf8_em_arquivo_latin1(ctx):
    content = build_lote("odontologia")
    h = validate(content, ctx).hash_informado
    assert validate(content.replace(h.encode(), h.upper().encode()), ctx).valido
    utf8 = build_lote("odontologia", hash_utf8=True)
    r = validate(utf8, ctx)
    # issue 22 item 10: the report shows the value of the reading that matched, and names it
    assert r.valido and r.critiques == []
    assert r.hash_calculado == r.hash_informado and r.leitura_hash == "UTF-8"
    assert validate(build_lote("odontologia"), ctx).leitura_hash == "ISO-8859-1"


def test_hash_de_texto_alterado(ctx):
    content = build_lote("odontologia")
    alterado = content.replace(b"ODONTO PLANO", b"ODONTO PLANA")
    assert codigos(validate(alterado, ctx)) == ["5014"]


def test_hash_com_folha_so_de_espacos_e_comentario(ctx):
    """The fast leaf-text path agrees with the definition on blank leaves and comments."""

    def fn(root):
        guia = root.find(f".//{A}guiaSP-SADT")
        obs = guia.makeelement(f"{A}observacao")
        obs.text = "   "
        guia.find(f"{A}valorTotal").addprevious(obs)
        clinica = guia.find(f"{A}dadosSolicitacao/{A}indicacaoClinica")
        clinica.text = "Avaliação "
        comentario = etree.Comment(" revisado ")
        comentario.tail = "laboratorial"
        clinica.append(comentario)

    content = editar(build_lote("sp_sadt"), fn)
    assert b"<ans:observacao>   </ans:observacao>" in content
    r = validate(content, ctx)
    assert r.valido, [c.to_dict() for c in r.critiques]
    sem_espacos = content.replace(b"<ans:observacao>   <", b"<ans:observacao> <")
    assert codigos(validate(sem_espacos, ctx)) == ["5014"]
