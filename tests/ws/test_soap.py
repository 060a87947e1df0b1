"""The SOAP door with no servers: zeep, built from the served WSDL, calls the gateway in
process; credentials and login limits live in an in-memory collection. Every answer is
checked against the ANS WS XSD and its hash; every refusal is a SOAP 1.1 fault a client
library understands, with the standard's tissFaultWS code and a pt-BR message."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import zeep.exceptions
from lxml import etree
from starlette.testclient import TestClient
from tissflow_gateway import audit, auth
from tissflow_gateway.app import app
from tissflow_gateway.ws import credentials, soap, wsdl
from tissflow_gateway.ws.registry import Call, Operation, Reply, WsFault, load
from tissflow_tiss import NS, el, erros_de_schema

from tests.ws import soap_support as ws
from tests.ws.fakes import FakeCollection
from tests.ws.zeep_support import in_process_client

SERVICE = "tissSolicitacaoStatusProtocolo"
STAFF = auth.User("operadora", "Analista", "operadora", None, None)
calls: list[Call] = []


async def answer_not_found(req: Call) -> Reply:
    calls.append(req)
    numero = req.body.findtext("ans:numeroProtocolo", namespaces=ws.A) or ""
    if numero == "QUEBRA":
        raise RuntimeError("segredo interno /srv/app.py linha 42")
    if numero == "INVALIDA":
        return Reply("SITUACAO_PROTOCOLO", etree.Element(f"{{{NS}}}situacaoProtocolo"))
    if numero == "FAULT":
        raise WsFault("SchemaInvalido", "recusado pelo handler")
    situacao = etree.Element(f"{{{NS}}}situacaoProtocolo", nsmap={"ans": NS})
    erro = el(situacao, "mensagemErro")
    el(erro, "codigoGlosa", "3291")
    el(erro, "descricaoGlosa", f"Protocolo {numero} não localizado para este prestador.")
    return Reply("SITUACAO_PROTOCOLO", situacao)


FAKE_OPS = {
    "solicitacaoStatusProtocoloWS": Operation(
        SERVICE, "solicitacaoStatusProtocoloWS", "situacaoProtocoloWS", answer_not_found, "Teste"
    )
}


@pytest.fixture(scope="module")
def _issued() -> tuple[dict[str, Any], dict[Any, Any]]:
    """ODONTO ARTE's and CLINICA SORRISO's credentials, issued once (Argon2 is slow on
    purpose); each test starts from a copy of the collection."""
    import asyncio

    with pytest.MonkeyPatch.context() as patch:
        fake = FakeCollection()
        patch.setattr(credentials, "ws_credentials", fake)
        odonto = asyncio.run(credentials.create(STAFF, ws.ODONTOARTE, "ODONTO ARTE LTDA", "100234"))
        sorriso = asyncio.run(credentials.create(STAFF, "11222333000181", "CLINICA SORRISO LTDA"))
    return {"odonto": odonto, "sorriso": sorriso}, fake.docs


@pytest.fixture
def door(
    monkeypatch: pytest.MonkeyPatch, _issued: tuple[dict[str, Any], dict[Any, Any]]
) -> Iterator[dict[str, Any]]:
    """The gateway app with in-memory credentials, a login for ODONTO ARTE and one for
    CLINICA SORRISO, and the test operation in place of the registry."""
    issued, docs = _issued
    fake = FakeCollection()
    fake.docs = copy.deepcopy(docs)
    monkeypatch.setattr(credentials, "ws_credentials", fake)
    monkeypatch.setattr(auth, "login_attempts", FakeCollection())
    monkeypatch.setattr(audit, "record", lambda *a, **k: None)
    monkeypatch.setattr(soap, "load", lambda: FAKE_OPS)
    monkeypatch.setattr(credentials, "_verified", {})
    calls.clear()
    yield {**issued, "http": TestClient(app)}


@pytest.fixture(scope="module")
def _zeep_once() -> tuple[Any, Any]:
    """zeep reads the WSDL and the ANS XSDs once (seconds): the fakes the door fixture
    puts in place are looked up per request, so one client serves every test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(soap, "load", lambda: FAKE_OPS)
        return in_process_client(TestClient(app), SERVICE)


@pytest.fixture
def zeep_client(door: dict[str, Any], _zeep_once: tuple[Any, Any]) -> tuple[Any, Any]:
    return _zeep_once


def status_request(door: dict[str, Any], numero: str = "123", **kwargs: Any) -> etree._Element:
    cred = door[kwargs.pop("quem", "odonto")]
    return ws.ws_request(
        "solicitacaoStatusProtocoloWS",
        "SOLIC_STATUS_PROTOCOLO",
        ws.status_content(numero),
        kwargs.pop("login", cred.credential["login"]),
        kwargs.pop("senha", cred.password),
        **kwargs,
    )


def fault_of(client: Any, element: etree._Element) -> tuple[str, str]:
    with pytest.raises(zeep.exceptions.Fault) as info:
        ws.call_with_zeep(client, SERVICE, element)
    return ws.tiss_fault(info.value), info.value.message


def test_zeep_builds_a_client_from_the_wsdl_and_gets_a_valid_hashed_answer(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    client, history = zeep_client
    result = ws.call_with_zeep(client, SERVICE, status_request(door, "777", sequencial="4242"))
    assert result.situacaoProtocolo.mensagemErro.codigoGlosa == "3291"
    ws.sent_element(history)  # what zeep sent is the clinic's message, hash intact
    answer = ws.answer_element(history)  # XSD-valid, hash of its leaf texts
    cab = answer.find("ans:cabecalho", ws.A)
    assert cab.findtext("ans:origem/ans:registroANS", namespaces=ws.A) == "331988"
    assert (
        cab.findtext("ans:destino/ans:identificacaoPrestador/ans:CNPJ", namespaces=ws.A)
        == ws.ODONTOARTE
    )
    assert cab.findtext("ans:identificacaoTransacao/ans:sequencialTransacao", namespaces=ws.A) == (
        "4242"
    )
    # The handler acted as the credential's provider, a prestador like a portal clerk.
    user = calls[-1].user
    assert (user.role, user.provider_id, user.provider_nome) == (
        "prestador",
        ws.ODONTOARTE,
        "ODONTO ARTE LTDA",
    )
    assert etree.QName(calls[-1].body).localname == "solicitacaoStatusProtocolo"


def test_every_registered_operation_has_a_wsdl_zeep_loads(
    door: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(soap, "load", load)  # the real registry, wsops' operations too
    real = load()
    assert {"solicitacaoStatusProtocoloWS", "loteGuiasWS"} <= set(real)
    http = door["http"]
    for op in real.values():
        response = http.get(f"/ws/{op.name}?wsdl")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")
        doc = etree.fromstring(response.content)
        parts = {p.get("element") for p in doc.iter("{http://schemas.xmlsoap.org/wsdl/}part")}
        assert parts == {f"ans:{op.request}", f"ans:{op.response}", "ans:tissFaultWS"}
    client, _ = in_process_client(http, "tissLoteGuias")
    assert client.get_element(f"{{{NS}}}tissFaultWS") is not None
    assert client.get_element(f"{{{NS}}}loteGuiasWS") is not None
    assert http.get("/ws/naoExiste?wsdl").status_code == 404


def test_the_xsds_are_served_from_the_package_and_nothing_else(door: dict[str, Any]) -> None:
    http = door["http"]
    ws_xsd = http.get(f"/ws/schemas/4.03.00/{wsdl.ws_xsd('4.03.00')}")
    assert ws_xsd.status_code == 200 and b"loteGuiasWS" in ws_xsd.content
    dsig = http.get("/ws/schemas/4.03.00/xmldsig-core-schema.xsd")
    assert dsig.status_code == 200 and b"<!DOCTYPE" not in dsig.content
    assert b"SignatureType" in dsig.content
    for bad in ("..%2F..%2Fpyproject.toml", "provenance.json", "nada.xsd"):
        assert http.get(f"/ws/schemas/4.03.00/{bad}").status_code == 404
    assert http.get("/ws/schemas/3.05.00/tissV3_05_00.xsd").status_code == 404


def test_a_wrong_hash_is_a_fault_hash_invalido(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    element = status_request(door)
    element.find("ans:hash", ws.A).text = "0" * 32
    code, message = fault_of(zeep_client[0], element)
    assert code == "HashInvalido"
    assert "hash inválido" in message.lower()


def test_a_hash_over_utf8_is_accepted_as_generators_do(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    element = status_request(door, "AÇÃO")
    element.find("ans:hash", ws.A).text = ws.epilogo_hash(element, "UTF-8")
    result = ws.call_with_zeep(zeep_client[0], SERVICE, element)
    assert result.situacaoProtocolo.mensagemErro.codigoGlosa == "3291"


def test_logins_wrong_unknown_revoked_or_of_another_provider_are_refused(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    client = zeep_client[0]
    assert fault_of(client, status_request(door, senha="errada"))[0] == "LoginInvalido"
    assert fault_of(client, status_request(door, login="naoexiste"))[0] == "LoginInvalido"
    # SORRISO's valid credentials speaking for ODONTO ARTE (origem CNPJ is ODONTO's).
    assert fault_of(client, status_request(door, quem="sorriso"))[0] == "RemetenteInvalido"
    # The operator's code for the provider identifies it as well as its CNPJ.
    by_code = status_request(door)
    ident = by_code.find("ans:cabecalho/ans:origem/ans:identificacaoPrestador", ws.A)
    ident.remove(ident[0])
    el(ident, "codigoPrestadorNaOperadora", "100234")
    ws.finalizar_again(by_code)
    assert ws.call_with_zeep(client, SERVICE, by_code) is not None
    import asyncio

    asyncio.run(credentials.revoke(STAFF, door["odonto"].credential["login"]))
    code, message = fault_of(client, status_request(door))
    assert code == "LoginInvalido" and "inválidos" in message


def test_rotation_replaces_the_password_at_once(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    import asyncio

    old = door["odonto"].password
    rotated = asyncio.run(credentials.rotate(STAFF, door["odonto"].credential["login"]))
    assert fault_of(zeep_client[0], status_request(door, senha=old))[0] == "LoginInvalido"
    ok = ws.call_with_zeep(zeep_client[0], SERVICE, status_request(door, senha=rotated.password))
    assert ok.situacaoProtocolo.mensagemErro.codigoGlosa == "3291"


def test_failed_logins_lock_the_login_like_the_portal(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    client = zeep_client[0]
    for _ in range(auth.MAX_FAILED_LOGINS):
        assert fault_of(client, status_request(door, senha="errada"))[0] == "LoginInvalido"
    # Now even the right password is refused until the window passes.
    code, message = fault_of(client, status_request(door))
    assert code == "LoginInvalido"
    assert "Muitas tentativas" in message
    assert calls == []


def test_version_destination_and_schema_faults(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    http = door["http"]

    def post(element: etree._Element) -> tuple[str, str]:
        response = http.post(f"/ws/{SERVICE}", content=ws.envelope(element))
        assert response.status_code == 500
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
        doc = etree.fromstring(response.content)
        fault = doc.find(f"{{{ws.SOAP_NS}}}Body/{{{ws.SOAP_NS}}}Fault")
        assert fault.findtext("faultcode") == "soap:Client"
        return (
            fault.findtext("detail/ans:tissFaultWS/ans:tissFault", namespaces=ws.A),
            fault.findtext("faultstring"),
        )

    code, message = post(status_request(door, versao="3.05.00"))
    assert code == "VersaoInvalida" and "4.03.00" in message
    code, _ = post(status_request(door, registro_ans="999999"))
    assert code == "DestinatarioInvalido"
    broken = status_request(door)
    pedido = broken.find("ans:solicitacaoStatusProtocolo", ws.A)
    pedido.remove(pedido.find("ans:numeroProtocolo", ws.A))
    ws.finalizar_again(broken)
    code, message = post(broken)
    assert code == "SchemaInvalido" and "numeroProtocolo" in message
    assert calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soap:Body>&b;</soap:Body></soap:Envelope>",
        b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/>'
        b"</soap:Envelope>",
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<x:outra xmlns:x="urn:x"/></soap:Body></soap:Envelope>',
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/>'
        b"</soap:Envelope>",
    ],
)
def test_hostile_or_foreign_envelopes_get_a_client_fault(door: dict[str, Any], body: bytes) -> None:
    response = door["http"].post(f"/ws/{SERVICE}", content=body)
    assert response.status_code == 500
    doc = etree.fromstring(response.content)
    fault = doc.find(f"{{{ws.SOAP_NS}}}Body/{{{ws.SOAP_NS}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert fault.findtext("detail/ans:tissFaultWS/ans:tissFault", namespaces=ws.A) == (
        "SchemaInvalido"
    )
    assert "aaaa" not in response.text


def test_a_body_past_15_mb_is_refused_while_it_streams(door: dict[str, Any]) -> None:
    response = door["http"].post(
        f"/ws/{SERVICE}", content=b"<a>" + b" " * (soap.MAX_SOAP_BYTES + 10) + b"</a>"
    )
    assert response.status_code == 500
    assert "15 MB" in response.text
    assert "SchemaInvalido" in response.text


def test_a_handler_that_breaks_or_answers_invalid_xml_is_a_server_fault_without_trace(
    door: dict[str, Any], zeep_client: tuple[Any, Any]
) -> None:
    client = zeep_client[0]
    for numero in ("QUEBRA", "INVALIDA"):
        with pytest.raises(zeep.exceptions.Fault) as info:
            ws.call_with_zeep(client, SERVICE, status_request(door, numero))
        assert ws.tiss_fault(info.value) == "ErroInesperadoServidor"
        assert info.value.code.endswith("Server")
        assert "segredo" not in info.value.message and "Traceback" not in info.value.message
    assert fault_of(client, status_request(door, "FAULT")) == (
        "SchemaInvalido",
        "recusado pelo handler",
    )


def test_the_fault_detail_is_valid_tiss_fault_ws() -> None:
    raw = soap.fault_envelope("HashInvalido", "x")
    detail = etree.fromstring(raw).find(f".//{{{NS}}}tissFaultWS")
    assert erros_de_schema(etree.tostring(detail), webservice=True) == []
