"""A message built with tissflow_tiss validates against the ANS XSD and carries its hash."""

from __future__ import annotations

import hashlib
from datetime import datetime

from lxml import etree
from tissflow_tiss import (
    NS,
    Parte,
    codigos_glosa_xsd,
    el,
    erros_de_schema,
    finalizar,
    finalizar_ws,
    glosa,
    mensagem,
    mensagem_ws,
    prestador_id,
)


def _solicitacao(provider_id: str = "07906129000102") -> bytes:
    root, corpo = mensagem(
        "SOLIC_STATUS_PROTOCOLO",
        "000000000123",
        datetime(2026, 12, 1, 10, 30, 5),
        Parte.prestador(provider_id),
        Parte.operadora("331988"),
    )
    pedido = el(corpo, "solicitacaoStatusProtocolo")
    prestador_id(el(pedido, "dadosPrestador"), provider_id, "cnpjContratado", "cpfContratado")
    el(pedido, "numeroProtocolo", "202612000001")
    return finalizar(root)


def test_a_built_message_is_schema_valid_with_the_epilogue_hash() -> None:
    xml = _solicitacao()
    assert erros_de_schema(xml) == []
    doc = etree.fromstring(xml)
    folhas = "".join(
        e.text or ""
        for e in doc.iter()
        if isinstance(e.tag, str) and len(e) == 0 and etree.QName(e).localname != "hash"
    )
    declarado = doc.findtext(f"{{{NS}}}epilogo/{{{NS}}}hash")
    assert declarado == hashlib.md5(folhas.encode("iso-8859-1")).hexdigest()
    assert xml.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    assert doc.find(f"{{{NS}}}prestadorParaOperadora") is not None


def test_a_broken_message_gets_the_schema_complaint() -> None:
    root, corpo = mensagem(
        "SOLIC_STATUS_PROTOCOLO",
        "1",
        datetime(2026, 12, 1),
        Parte.prestador("12345678901"),
        Parte.operadora("331988"),
    )
    el(el(corpo, "solicitacaoStatusProtocolo"), "numeroProtocolo", "1")
    erros = erros_de_schema(finalizar(root))
    assert erros and "dadosPrestador" in " ".join(erros)


def test_table_38_through_the_package_api() -> None:
    g = glosa("1001")
    assert g is not None and g.descricao == "NÚMERO DA CARTEIRA INVÁLIDO"
    assert glosa("0000") is None
    assert "1705" in codigos_glosa_xsd()


def test_a_web_service_answer_is_valid_against_the_ws_xsd_with_its_hash() -> None:
    root = mensagem_ws(
        "protocoloRecebimentoWS",
        "PROTOCOLO_RECEBIMENTO",
        "77",
        datetime(2026, 12, 2, 3, 4, 5),
        Parte.operadora("331988"),
        Parte.prestador("12345678000199"),
        falha_negocio="5001",
    )
    erro = el(el(root, "recebimentoLote"), "mensagemErro")
    el(erro, "codigoGlosa", "5001")
    el(erro, "descricaoGlosa", "MENSAGEM ELETRÔNICA FORA DO PADRÃO TISS")
    xml = etree.tostring(finalizar_ws(root), encoding="ISO-8859-1")
    assert erros_de_schema(xml, webservice=True) == []
    doc = etree.fromstring(xml)
    assert [etree.QName(e).localname for e in doc] == ["cabecalho", "recebimentoLote", "hash"]
    folhas = "".join(
        e.text or ""
        for e in doc.iter()
        if isinstance(e.tag, str) and len(e) == 0 and etree.QName(e).localname != "hash"
    )
    assert doc.findtext(f"{{{NS}}}hash") == hashlib.md5(folhas.encode("iso-8859-1")).hexdigest()
    assert doc.findtext(f"{{{NS}}}cabecalho/{{{NS}}}falhaNegocio") == "5001"
