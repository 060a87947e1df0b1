"""Adversarial files: what other generators write that the first writer did not cover.

Built with the independent writer of `test_arquivos_externos` (its own hash, from the
standard's definition), edited the way real software edits: XML signatures after the
epilogue, characters outside ISO-8859-1, odd encodings, hostile bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from lxml import etree
from tissflow_validation.engine import OperatorContext, RuleConfig, validate
from tissflow_validation.engine.documento import NS
from tissflow_validation.engine.reference import schema

from .conftest import codigos
from .test_arquivos_externos import (
    GUIAS_POR_TIPO,
    Estilo,
    aceito,
    guia_consulta,
    guia_odonto,
    guia_sadt,
    mensagem,
    unica,
)

DS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture
def ctx(ctx_completo: OperatorContext) -> OperatorContext:
    """Every rule on: the demo registry, no guide presented before."""
    return ctx_completo


@pytest.fixture
def ctx_sem_assinatura(ctx_completo: OperatorContext) -> OperatorContext:
    """Every rule on but the signature's: the signatures below are stand-ins (random
    bytes where the certificate and the value go) for the hash tests; the signature's
    own verification is in test_assinatura.py."""
    sem = {c: RuleConfig(enabled=False) for c in ("5018", "5019", "5022")}
    return OperatorContext(
        registro_ans=ctx_completo.registro_ans,
        prestadores=ctx_completo.prestadores,
        beneficiarios=ctx_completo.beneficiarios,
        guia_ja_apresentada=ctx_completo.guia_ja_apresentada,
        rules=sem,
    )


def _b64(n: int) -> str:
    return base64.b64encode(bytes(range(n))).decode()


def assinatura(digest: str | None = None) -> str:
    """An enveloped xmldsig Signature as signing libraries write it (valid base64)."""
    digest = digest or base64.b64encode(hashlib.sha1(b"lote").digest()).decode()
    return (
        f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        f'<ds:SignatureMethod Algorithm="{DS}rsa-sha1"/>'
        '<ds:Reference URI=""><ds:Transforms>'
        f'<ds:Transform Algorithm="{DS}enveloped-signature"/></ds:Transforms>'
        f'<ds:DigestMethod Algorithm="{DS}sha1"/><ds:DigestValue>{digest}</ds:DigestValue>'
        "</ds:Reference></ds:SignedInfo>"
        f"<ds:SignatureValue>{_b64(128)}</ds:SignatureValue>"
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{_b64(90)}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></ds:Signature>"
    )


def _assinar(content: bytes, fim_epilogo: bytes = b"</ans:epilogo>", **kw: str) -> bytes:
    return content.replace(fim_epilogo, fim_epilogo + b"\n" + assinatura(**kw).encode())


def _folhas(content: bytes, com_assinatura: bool) -> str:
    root = etree.fromstring(content)
    partes = []
    for el in root.iter():
        if not isinstance(el.tag, str) or any(isinstance(c.tag, str) for c in el):
            continue
        if el.tag == f"{{{NS}}}hash" or (not com_assinatura and el.tag.startswith(f"{{{DS}}}")):
            continue
        partes.append("".join(el.itertext()))
    return "".join(partes)


def _com_hash(content: bytes, h: str) -> bytes:
    return re.sub(rb"(<(?:ans:)?hash>)[^<]*", lambda m: m[1] + h.encode(), content)


# --- XML signature after the epilogue ---------------------------------------------------


def test_assinatura_digital_apos_epilogo_fora_do_hash(ctx_sem_assinatura, ctx):
    """The hash is written before signing: the signature is not part of it."""
    assinado = _assinar(mensagem([guia_sadt("S-1"), guia_sadt("S-2")]))
    aceito(assinado, ctx_sem_assinatura)
    padrao = mensagem([guia_consulta("S-3")], Estilo(prefixo=None, nl="\r\n"))
    aceito(_assinar(padrao, b"</epilogo>"), ctx_sem_assinatura)
    # with the signature checked (an alerta by default) the stand-in is no certificate
    r = validate(assinado, ctx)
    assert r.valido and codigos(r) == ["5018"] and r.critiques[0].severidade == "alerta"


def test_assinatura_digital_no_hash_como_o_pacote_tiss(ctx_sem_assinatura):
    """Generators that hash every leaf outside the epilogue include the signature."""
    assinado = _assinar(mensagem([guia_consulta("S-1")]))
    h = hashlib.md5(_folhas(assinado, com_assinatura=True).encode("iso-8859-1")).hexdigest()
    aceito(_com_hash(assinado, h), ctx_sem_assinatura)


def test_assinatura_digital_com_hash_errado(ctx_sem_assinatura):
    assinado = _assinar(mensagem([guia_consulta("S-1")]))
    certo = hashlib.md5(_folhas(assinado, com_assinatura=False).encode("iso-8859-1")).hexdigest()
    c = unica(_com_hash(assinado, "0" * 32), ctx_sem_assinatura, "5014")
    assert c.xpath == "/mensagemTISS/epilogo/hash" and certo in c.mensagem


def test_assinatura_digital_com_base64_invalido(ctx):
    """A broken DigestValue is a schema error of the signature, not a namespace error."""
    assinado = _assinar(mensagem([guia_consulta("S-1")]), digest="nao-e-base64!")
    r = validate(assinado, ctx)
    assert "5001" in codigos(r) and not r.valido
    c = next(c for c in r.critiques if c.codigo == "5001")
    assert c.xpath == "/mensagemTISS/Signature/SignedInfo/Reference/DigestValue"
    assert "nao-e-base64!" in c.mensagem and "namespace" not in c.mensagem


# --- characters outside ISO-8859-1 --------------------------------------------------------


def _hash_sobre(content: bytes, codificar) -> bytes:
    h = hashlib.md5(codificar(_folhas(content, com_assinatura=False))).hexdigest()
    return _com_hash(content, h)


def test_referencia_fora_do_latin1_com_hash_em_interrogacao(ctx):
    """An ISO-8859-1 file writes '–' as &#8211;; Java's getBytes("ISO-8859-1") and .NET
    hash it as '?'. UTF-8 hashes of the same file are accepted as well."""
    content = mensagem(
        [guia_consulta("L-1")],
        Estilo(hash_encoding="utf-8"),
        editar=lambda t: t.replace("dor lombar", "dor lombar &#8211; cervical"),
    )
    assert b"&#8211;" in content
    aceito(_hash_sobre(content, lambda s: s.encode("iso-8859-1", "replace")), ctx)
    aceito(_hash_sobre(content, lambda s: s.encode("utf-8")), ctx)
    c = unica(_hash_sobre(content, lambda s: s.encode("utf-16-le")), ctx, "5014")
    assert c.xpath == "/mensagemTISS/epilogo/hash"


def test_windows_1252_com_hash_na_propria_codificacao(ctx):
    """Characters only windows-1252 has ('–', curly quotes), hashed in that encoding."""
    content = mensagem(
        [guia_consulta("W-1")],
        Estilo(
            encoding="cp1252",
            declaracao='version="1.0" encoding="windows-1252"',
            hash_encoding="cp1252",
        ),
        editar=lambda t: t.replace("dor lombar", "dor lombar \u2013 \u201ccervical\u201d"),
    )
    assert b"\x96" in content and b"\x93" in content
    aceito(content, ctx)


# --- unreadable files: one clear pt-BR critique -------------------------------------------


def test_utf16_sem_bom_recusado_como_com_bom(ctx):
    texto = mensagem([guia_consulta("U-1")], Estilo(encoding="UTF-8", hash_encoding="utf-8"))
    texto_16 = texto.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    for content in (texto_16.encode("utf-16-le"), texto_16.encode("utf-16-be")):
        c = unica(content, ctx, "5001")
        assert "UTF-16" in c.mensagem and c.linha == 1


def test_conteudo_apos_a_mensagem_nao_e_truncamento(ctx):
    content = mensagem([guia_consulta("X-1")])
    for extra in (b"xyz", b"\n<ans:epilogo/>", content.split(b"?>", 1)[1]):
        c = unica(content + extra, ctx, "5001")
        assert "depois do fim do elemento mensagemTISS" in c.mensagem


def test_erro_de_sintaxe_na_unica_linha_nao_e_truncamento(ctx):
    """A single-line file has every error on its last line: only an error at the very
    end of the content is truncation (5007)."""
    content = mensagem([guia_consulta("X-1")], Estilo(nl=""))
    assert content.count(b"\n") == 0
    c = unica(content.replace(b"dor lombar", b"dor & lombar"), ctx, "5001")
    assert "'&' sem escape" in c.mensagem and "&amp;" in c.mensagem and c.linha == 1
    c = unica(content.replace(b"dor lombar", b"dor &nbsp; lombar"), ctx, "5001")
    assert "&nbsp;" in c.mensagem
    c = unica(content.replace(b"</ans:observacao>", b"</ans:obs>"), ctx, "5001")
    assert "<observacao>" in c.mensagem and "</obs>" in c.mensagem
    for corte in (len(content) // 3, len(content) // 2, len(content) - 3):
        c = unica(content[:corte], ctx, "5007")
        assert "truncado" in c.mensagem


def test_erros_de_sintaxe_em_portugues(ctx):
    content = mensagem([guia_consulta("X-1")])
    casos = {
        b"dor lombar < 3": "sem escape no conteúdo (escreva-o como &lt;)",
        b"dor\x01lombar": "caractere de controle (código 1)",
        b"dor&#0;lombar": "caractere de controle",
    }
    for trecho, esperado in casos.items():
        c = unica(content.replace(b"dor lombar", trecho), ctx, "5001")
        assert esperado in c.mensagem and "\n" not in c.mensagem, c.mensagem
    c = unica(b"\n" + content, ctx, "5001")
    assert "deve ser o início do arquivo" in c.mensagem


# --- rules the schema leaves to the operator ----------------------------------------------

ODONTO = "/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS/guiaOdonto"


def _com_faces(*faces: str):
    def editar(t: str) -> str:
        for face in faces:
            t = t.replace(
                "</ans:denteRegiao>\n",
                f"</ans:denteRegiao><ans:denteFace>{face}</ans:denteFace>\n",
                1,
            )
        return t

    return editar


def test_faces_do_dente_validas(ctx):
    aceito(mensagem([guia_odonto("F-1")], editar=_com_faces("OMD", "VLPID")), ctx)


def test_face_do_dente_fora_do_dominio(ctx):
    """guiaOdonto types denteFace as st_texto5; the values are dm_face's (O L M V D I P)."""
    for face in ("OMX", "omd", "1"):
        content = mensagem([guia_odonto("F-1")], editar=_com_faces("OMD", face))
        c = unica(content, ctx, "5039")
        assert c.xpath == ODONTO + "/procedimentosExecutados[2]/denteFace"
        assert c.numero_guia == "F-1" and f"'{face}'" in c.mensagem


# --- TISS 4.02.00 -------------------------------------------------------------------------


def _para_402(t: str) -> str:
    """The same guides as a 4.02.00 generator writes them (no 4.03 additions)."""
    t = t.replace("<ans:Padrao>4.03.00</ans:Padrao>", "<ans:Padrao>4.02.00</ans:Padrao>")
    t = re.sub(
        r"(<ans:dataFimFaturamento>[^<]*</ans:dataFimFaturamento>)\s*"
        r"<ans:caraterAtendimento>[^<]*</ans:caraterAtendimento>",
        r"\1",
        t,
    )
    return re.sub(r"\s*<ans:centroConsumo>[^<]*</ans:centroConsumo>", "", t)


@pytest.mark.parametrize("tipo", GUIAS_POR_TIPO)
def test_todas_as_guias_em_402(tipo, ctx):
    fazer = GUIAS_POR_TIPO[tipo]
    content = mensagem([fazer("V-1"), fazer("V-2")], editar=_para_402)
    assert schema("4.02.00").validate(etree.fromstring(content))
    r = validate(content, ctx)
    assert r.valido and r.critiques == [] and r.versao_tiss == "4.02.00", [
        c.to_dict() for c in r.critiques
    ]
    # a 4.03-only element in a 4.02.00 file is a schema error, located
    if tipo == "honorarios":
        volta = content.replace(
            b"</ans:dataFimFaturamento>",
            b"</ans:dataFimFaturamento><ans:caraterAtendimento>2</ans:caraterAtendimento>",
            1,
        )
        c = validate(volta, ctx).critiques[0]
        assert c.codigo == "5001" and c.xpath.endswith("/dadosInternacao/caraterAtendimento")
