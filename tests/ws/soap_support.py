"""Helpers of the web-service tests: a request element as a clinic's software builds it,
a zeep call from it, and the checks every answer must pass (ANS WS XSD and hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree
from tissflow_gateway.ws.credentials import md5_hex
from tissflow_tiss import NS, Parte, el, epilogo_hash, erros_de_schema, finalizar_ws, mensagem_ws
from zeep import Client
from zeep.plugins import HistoryPlugin

A = {"ans": NS}
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ODONTOARTE = "07906129000102"
REGISTRO_ANS = "331988"


def ws_request(
    elemento: str,
    tipo_transacao: str,
    content: etree._Element,
    login: str,
    senha: str,
    *,
    cnpj: str = ODONTOARTE,
    registro_ans: str = REGISTRO_ANS,
    sequencial: str = "1",
    versao: str = "4.03.00",
    senha_md5: str | None = None,
) -> etree._Element:
    """`elemento` (e.g. solicitacaoStatusProtocoloWS) with its cabecalho (origem the
    provider by CNPJ, destino the operator, loginSenhaPrestador), `content` and hash."""
    root = mensagem_ws(
        elemento,
        tipo_transacao,
        sequencial,
        datetime(2026, 12, 2, 10, 30),
        Parte.prestador(cnpj),
        Parte.operadora(registro_ans),
        versao=versao,
    )
    cab = root.find("ans:cabecalho", A)
    assert cab is not None
    login_senha = el(cab, "loginSenhaPrestador")
    el(login_senha, "loginPrestador", login)
    el(login_senha, "senhaPrestador", senha_md5 or md5_hex(senha))
    root.append(content)
    return finalizar_ws(root)


def status_content(numero: str, cnpj: str = ODONTOARTE) -> etree._Element:
    pedido = etree.Element(f"{{{NS}}}solicitacaoStatusProtocolo", nsmap={"ans": NS})
    el(el(pedido, "dadosPrestador"), "cnpjContratado", cnpj)
    el(pedido, "numeroProtocolo", numero)
    return pedido


def envelope(element: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS})
    etree.SubElement(env, f"{{{SOAP_NS}}}Body").append(element)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def call_with_zeep(client: Client, service: str, element: etree._Element) -> Any:
    """Call `service` with the request `element` the way a zeep user does: the element's
    value (parsed by zeep from the WSDL's types) passed as the operation's arguments."""
    qname = etree.QName(element)
    value = client.get_element(f"{{{qname.namespace}}}{qname.localname}").parse(
        element, client.wsdl.types
    )
    operation = getattr(client.service, f"{service}_Operation")
    return operation(**{key: value[key] for key in value if value[key] is not None})


def answer_element(history: HistoryPlugin) -> etree._Element:
    """The answer element the server sent last, checked: valid against the ANS WS XSD and
    with the hash of its leaf texts."""
    received = history.last_received["envelope"]
    body = received.find(f"{{{SOAP_NS}}}Body")
    answer = body[0]
    raw = etree.tostring(answer)
    assert erros_de_schema(raw, webservice=True) == [], erros_de_schema(raw, webservice=True)
    standalone = etree.fromstring(raw)
    assert standalone.findtext("ans:hash", namespaces=A) == epilogo_hash(standalone)
    return standalone


def sent_element(history: HistoryPlugin) -> etree._Element:
    """The request element zeep sent last, checked like an answer (XSD and hash)."""
    sent = history.last_sent["envelope"]
    element = sent.find(f"{{{SOAP_NS}}}Body")[0]
    raw = etree.tostring(element)
    assert erros_de_schema(raw, webservice=True) == [], erros_de_schema(raw, webservice=True)
    standalone = etree.fromstring(raw)
    assert standalone.findtext("ans:hash", namespaces=A) == epilogo_hash(standalone)
    return standalone


def tiss_fault(fault: Any) -> str:
    """The `tissFaultWS/tissFault` code in a zeep Fault's detail (validated by the XSD)."""
    detail = fault.detail
    node = detail.find("ans:tissFaultWS", A)
    assert node is not None, etree.tostring(detail)
    assert erros_de_schema(etree.tostring(node), webservice=True) == []
    return node.findtext("ans:tissFault", namespaces=A)


def finalizar_again(element: etree._Element) -> etree._Element:
    """Recompute the hash of a request changed after it was built."""
    element.find("ans:hash", A).text = epilogo_hash(element)
    return element


def lote_ws(mensagem: bytes, login: str, senha: str) -> etree._Element:
    """The loteGuiasWS of an ENVIO_LOTE_GUIAS file: its cabecalho (plus
    loginSenhaPrestador), its loteGuias and the hash of the WS element."""
    root = etree.fromstring(mensagem)
    element = etree.Element(f"{{{NS}}}loteGuiasWS", nsmap={"ans": NS})
    cab = root.find("ans:cabecalho", A)
    assert cab is not None
    element.append(cab)
    login_senha = el(cab, "loginSenhaPrestador")
    el(login_senha, "loginPrestador", login)
    el(login_senha, "senhaPrestador", md5_hex(senha))
    lote = root.find("ans:prestadorParaOperadora/ans:loteGuias", A)
    assert lote is not None
    element.append(lote)
    el(element, "hash", epilogo_hash(element))
    return element
