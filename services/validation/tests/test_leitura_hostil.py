"""Hostile and broken files: one clear critique each, no exception, no file read.

How fast they are rejected is measured by `make bench`, not asserted here."""

from __future__ import annotations

import json

import pytest
from tissflow_demo.samples import build_lote
from tissflow_validation.engine import validate

from .conftest import unica


def test_xxe_nao_le_arquivo(tmp_path, ctx):
    segredo = tmp_path / "segredo.txt"
    segredo.write_text("SEGREDO-DO-SERVIDOR")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{segredo}">]>'
        '<ans:mensagemTISS xmlns:ans="http://www.ans.gov.br/padroes/tiss/schemas">&x;'
        "</ans:mensagemTISS>"
    ).encode()
    r = validate(xml, ctx)
    c = unica(r, "5001")
    assert "DOCTYPE" in c.mensagem
    assert c.linha == 1
    assert "SEGREDO" not in json.dumps(r.to_dict())


def test_bomba_de_entidades(ctx):
    ents = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    xml = f'<?xml version="1.0"?>\n<!DOCTYPE bomba [{ents}]>\n<bomba>&a9;</bomba>'.encode()
    c = unica(validate(xml, ctx), "5001")
    assert "DOCTYPE" in c.mensagem
    assert c.linha == 2


def test_doctype_apos_comentario(ctx):
    xml = b'<?xml version="1.0"?><!-- x --><!DOCTYPE ans:mensagemTISS><ans:mensagemTISS/>'
    assert "DOCTYPE" in unica(validate(xml, ctx), "5001").mensagem


def test_doctype_apos_bom_pi_e_comentarios_em_linhas(tmp_path, ctx):
    segredo = tmp_path / "segredo.txt"
    segredo.write_text("SEGREDO-DO-SERVIDOR")
    xml = (
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\r\n'
        b'<?xml-stylesheet href="guia.xsl"?>\n<!-- gerado por outro sistema -->\n\t'
        b'<!DOCTYPE m SYSTEM "file://' + str(segredo).encode() + b'">\n<m>&x;</m>'
    )
    r = validate(xml, ctx)
    c = unica(r, "5001")
    assert "DOCTYPE" in c.mensagem and c.linha == 4
    assert "SEGREDO" not in json.dumps(r.to_dict())


def test_doctype_no_meio_do_documento_nao_passa(ctx):
    xml = build_lote().replace(b"<ans:cabecalho>", b"<!DOCTYPE x><ans:cabecalho>", 1)
    r = validate(xml, ctx)
    assert not r.valido and {c.codigo for c in r.critiques} <= {"5001", "5007"}


def test_aninhamento_profundo(ctx):
    xml = b"<a>" * 10_000 + b"</a>" * 10_000
    c = unica(validate(xml, ctx), "5001")
    assert "256 níveis" in c.mensagem


@pytest.mark.parametrize("content", [b"", b"   \n", b"\xef\xbb\xbf"])
def test_arquivo_vazio(content, ctx):
    c = unica(validate(content, ctx), "5001")
    assert "vazio" in c.mensagem or "não é um documento XML" in c.mensagem


@pytest.mark.parametrize("content", [b"%PDF-1.4 binario \x00\x01", b"nome;valor\n1;2\n"])
def test_nao_e_xml(content, ctx):
    assert "não é um documento XML" in unica(validate(content, ctx), "5001").mensagem


def test_truncado(ctx):
    content = build_lote("sp_sadt", n_guias=3)
    corte = content[: len(content) // 2]
    c = unica(validate(corte, ctx), "5007")
    assert "truncado" in c.mensagem
    assert c.linha == corte.count(b"\n") + 1


def test_bytes_invalidos_para_utf8_declarado(ctx):
    content = build_lote("odontologia", encoding="ISO-8859-1").replace(
        b'encoding="ISO-8859-1"', b'encoding="UTF-8"'
    )
    c = unica(validate(content, ctx), "5001")
    assert "codificação declarada (UTF-8)" in c.mensagem
    assert c.linha == content[: content.index("BÁSICO".encode("latin-1"))].count(b"\n") + 1


def test_latin1_sem_declaracao(ctx):
    content = build_lote("odontologia", encoding="ISO-8859-1").replace(
        b' encoding="ISO-8859-1"', b""
    )
    c = unica(validate(content, ctx), "5001")
    assert "não declara a codificação" in c.mensagem


def test_codificacao_desconhecida(ctx):
    content = build_lote().replace(b"ISO-8859-1", b"KLINGON-9", 1)
    c = unica(validate(content, ctx), "5001")
    assert "KLINGON-9" in c.mensagem


def test_utf16_recusado(ctx):
    content = build_lote(encoding="UTF-8").decode().replace("UTF-8", "UTF-16").encode("utf-16")
    assert "UTF-16" in unica(validate(content, ctx), "5001").mensagem


def test_maior_que_15mb(ctx):
    content = b"<a>" + b"x" * (15 * 1024 * 1024) + b"</a>"
    assert "15 MB" in unica(validate(content, ctx), "5001").mensagem


def test_mal_formado(ctx):
    content = build_lote().replace(b"</ans:numeroLote>", b"</ans:numeroLot>", 1)
    c = unica(validate(content, ctx), "5001")
    assert c.mensagem.startswith(
        "MENSAGEM ELETRÔNICA FORA DO PADRÃO TISS Detalhes: XML mal formado"
    )


def test_nao_bytes_nao_explode(ctx):
    r = validate("<texto/>", ctx)  # type: ignore[arg-type]
    assert [c.codigo for c in r.critiques] == ["5002"]
