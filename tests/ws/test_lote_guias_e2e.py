"""tissLoteGuias and tissSolicitacaoStatusProtocolo on the real stack, driven by zeep built
from the served WSDL, as a clinic's billing software would: a valid lote gets its PEG and
appears in the API as Canal "Web service"; a refused one gets its critiques; a wrong hash,
a wrong password or a revoked credential are tissFaultWS faults; another provider never
sees this one's protocol; a resend (and 20 identical calls at once) make one lote. Every
request and answer is checked against the ANS WS XSD and its hash."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree
from tissflow_demo.samples import build_lote
from zeep.plugins import HistoryPlugin

from tests.support import Api, Stack, fresh_guia, wait_for
from tests.ws import soap_support as ws

pytestmark = pytest.mark.e2e
LOGIN, SENHA = "odontoarte-ws", "odontoarte-ws123"


class Clinic:
    """One clinic's zeep clients for the two services, each with its history."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.lote_history = HistoryPlugin()
        self.status_history = HistoryPlugin()
        self.lote = zeep.Client(f"{base}/ws/tissLoteGuias?wsdl", plugins=[self.lote_history])
        self.status = zeep.Client(
            f"{base}/ws/tissSolicitacaoStatusProtocolo?wsdl", plugins=[self.status_history]
        )

    def send(self, element: etree._Element) -> tuple[Any, etree._Element]:
        """Send a lote; told (past the door's bound) to resend the same message, resend."""
        for attempt in range(6):
            try:
                result = ws.call_with_zeep(self.lote, "tissLoteGuias", element)
                break
            except zeep.exceptions.Fault as fault:
                if "Reenvie a mesma mensagem" not in fault.message or attempt == 5:
                    raise
        ws.sent_element(self.lote_history)
        return result, ws.answer_element(self.lote_history)

    def status_of(self, peg: str, login: str, senha: str, cnpj: str) -> etree._Element:
        element = ws.ws_request(
            "solicitacaoStatusProtocoloWS",
            "SOLIC_STATUS_PROTOCOLO",
            ws.status_content(peg, cnpj),
            login,
            senha,
            cnpj=cnpj,
        )
        ws.call_with_zeep(self.status, "tissSolicitacaoStatusProtocolo", element)
        ws.sent_element(self.status_history)
        return ws.answer_element(self.status_history)


@pytest.fixture(scope="module")
def clinic(stack: Stack) -> Clinic:
    return Clinic(stack.services.url("gateway"))


@contextmanager
def portal_session(base: str, username: str, password: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as portal:
        token = re.search(r'name="csrf_token" value="([^"]+)"', portal.get("/login").text)
        assert token
        logged = portal.post(
            "/login", data={"username": username, "password": password, "csrf_token": token[1]}
        )
        assert logged.status_code == 303
        yield portal


def novo_lote(n_guias: int = 2, **kwargs: Any) -> bytes:
    numero = str(uuid.uuid4().int % 10**9)
    return build_lote(
        "consulta", n_guias, numero_lote=numero, numero_guia_inicial=fresh_guia(), **kwargs
    )


def peg_of(answer: etree._Element) -> str:
    peg = answer.findtext(
        "ans:recebimentoLote/ans:protocoloRecebimento/ans:detalheProtocolo/ans:numeroProtocolo",
        namespaces=ws.A,
    )
    assert peg, etree.tostring(answer)
    return peg


def lotes_with_protocol(api: Api, peg: str) -> list[dict[str, Any]]:
    return api.get("/lotes", params={"protocolo": peg}).json()["items"]


def test_a_valid_lote_gets_its_peg_appears_as_web_service_and_a_resend_is_the_same(
    clinic: Clinic, clinica: Api, outra_clinica: Api, operadora: Api
) -> None:
    mensagem = novo_lote(3)
    element = ws.lote_ws(mensagem, LOGIN, SENHA)
    result, answer = clinic.send(element)
    peg = peg_of(answer)
    assert result.recebimentoLote.protocoloRecebimento.detalheProtocolo.numeroProtocolo == peg
    assert (
        answer.findtext(
            "ans:cabecalho/ans:identificacaoTransacao/ans:tipoTransacao", namespaces=ws.A
        )
        == "PROTOCOLO_RECEBIMENTO"
    )
    numero_lote = element.findtext("ans:loteGuias/ans:numeroLote", namespaces=ws.A)
    assert (
        answer.findtext(
            "ans:recebimentoLote/ans:protocoloRecebimento/ans:numeroLote", namespaces=ws.A
        )
        == numero_lote
    )
    guias = answer.findall(".//ans:dadosGuiasProtocolo/ans:dadosGuias", ws.A)
    assert len(guias) == 3

    # The clinic's portal and API see the lote, sent, with Canal "Web service".
    # Batching learns the PEG from protocolo.status_changed, a moment after the answer.
    [lote] = wait_for(lambda: lotes_with_protocol(clinica, peg), what=f"o lote do PEG {peg}")
    assert (lote["canal"], lote["canal_label"], lote["status"]) == (
        "webservice",
        "Web service",
        "enviado",
    )
    assert lote["numero_lote_prestador"] == numero_lote
    with portal_session(clinic.base, "odontoarte", "odontoarte123") as portal:
        page = portal.get(f"/lotes/{lote['lote_id']}")
        assert page.status_code == 200 and "Web service" in page.text and peg in page.text
    arquivo = clinica.get(f"/files/{lote['file_id']}").json()
    assert arquivo["status"] == "importado"
    # The stored file is an ENVIO_LOTE_GUIAS message without the credentials.
    stored = clinica.get(f"/files/{lote['file_id']}/revisions/1/content").content
    assert b"ENVIO_LOTE_GUIAS" in stored and b"loginSenhaPrestador" not in stored
    assert ws.erros_de_schema(stored) == []

    # Resending the same call: the same protocol, still one lote.
    _, again = clinic.send(element)
    assert peg_of(again) == peg
    assert len(lotes_with_protocol(clinica, peg)) == 1
    assert clinica.get("/lotes", params={"file_id": lote["file_id"]}).json()["total"] == 1

    # tissSolicitacaoStatusProtocolo: this provider sees its protocol...
    situacao = clinic.status_of(peg, LOGIN, SENHA, ws.ODONTOARTE)
    detalhe = situacao.find(
        "ans:situacaoProtocolo/ans:situacaoDoProtocolo/ans:lote/ans:detalheLote", ws.A
    )
    assert detalhe is not None, etree.tostring(situacao)
    assert detalhe.findtext("ans:numeroProtocolo", namespaces=ws.A) == peg
    assert detalhe.findtext("ans:statusProtocolo", namespaces=ws.A) in {"1", "2", "5", "3", "6"}

    # ...another provider, with its own valid credentials, is told it does not exist.
    sorriso = operadora.post(
        "/operadora/webservices/credenciais",
        json={"provider_id": "11222333000181", "provider_nome": "CLINICA SORRISO LTDA"},
    ).json()
    alheia = clinic.status_of(peg, sorriso["login"], sorriso["senha"], "11222333000181")
    erro = alheia.find("ans:situacaoProtocolo/ans:mensagemErro", ws.A)
    assert erro is not None and erro.findtext("ans:codigoGlosa", namespaces=ws.A) == "3291"
    assert ws.ODONTOARTE not in etree.tostring(alheia).decode()


def test_a_refused_lote_answers_its_critiques(clinic: Clinic, clinica: Api) -> None:
    mensagem = novo_lote(2, carteiras=["99999999999999"])
    _, answer = clinic.send(ws.lote_ws(mensagem, LOGIN, SENHA))
    erro = answer.find("ans:recebimentoLote/ans:mensagemErro", ws.A)
    assert erro is not None, etree.tostring(answer)
    assert erro.findtext("ans:codigoGlosa", namespaces=ws.A) == "1001"
    assert answer.findtext("ans:cabecalho/ans:falhaNegocio", namespaces=ws.A) == "1001"
    descricao = erro.findtext("ans:descricaoGlosa", namespaces=ws.A)
    assert "2 crítica(s)" in descricao and "[1001]" in descricao
    file_id = descricao.split("arquivo ", 1)[1].split(" ", 1)[0]
    # The full list is where the answer says: the clinic's files, with every critique.
    criticas = clinica.get(f"/files/{file_id}/criticas").json()
    assert criticas["status"] == "invalido"
    assert [c["codigo"] for c in criticas["result"]["critiques"]] == ["1001", "1001"]
    assert clinica.get("/lotes", params={"file_id": file_id}).json()["total"] == 0


def test_a_wrong_hash_is_a_hash_invalido_fault(clinic: Clinic) -> None:
    element = ws.lote_ws(novo_lote(1), LOGIN, SENHA)
    element.find("ans:hash", ws.A).text = "f" * 32
    with pytest.raises(zeep.exceptions.Fault) as info:
        ws.call_with_zeep(clinic.lote, "tissLoteGuias", element)
    assert ws.tiss_fault(info.value) == "HashInvalido"


def test_wrong_password_and_revoked_credentials_are_login_invalido(
    clinic: Clinic, operadora: Api
) -> None:
    element = ws.lote_ws(novo_lote(1), LOGIN, "senha-errada")
    with pytest.raises(zeep.exceptions.Fault) as info:
        ws.call_with_zeep(clinic.lote, "tissLoteGuias", element)
    assert ws.tiss_fault(info.value) == "LoginInvalido"

    issued = operadora.post(
        "/operadora/webservices/credenciais",
        json={"provider_id": ws.ODONTOARTE, "provider_nome": "ODONTO ARTE LTDA"},
    ).json()
    situacao = clinic.status_of("000000000000", issued["login"], issued["senha"], ws.ODONTOARTE)
    assert situacao.findtext(".//ans:codigoGlosa", namespaces=ws.A) == "3291"
    revoked = operadora.post(f"/operadora/webservices/credenciais/{issued['login']}/revogar")
    assert revoked.status_code == 200 and revoked.json()["ativa"] is False
    with pytest.raises(zeep.exceptions.Fault) as info:
        clinic.status_of("000000000000", issued["login"], issued["senha"], ws.ODONTOARTE)
    assert ws.tiss_fault(info.value) == "LoginInvalido"


def test_twenty_identical_calls_at_once_make_one_lote_and_one_protocol(
    stack: Stack, clinic: Clinic, clinica: Api
) -> None:
    element = ws.lote_ws(novo_lote(1), LOGIN, SENHA)
    body = ws.envelope(element)
    url = f"{stack.services.url('gateway')}/ws/tissLoteGuias"

    def post(_: int) -> bytes:
        """One client: past the door's bound it is told to resend the same message, and
        does, as a billing system would."""
        for _attempt in range(6):
            response = httpx.post(
                url, content=body, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=180
            )
            if response.status_code == 200 or "Reenvie a mesma mensagem" not in response.text:
                break
        assert response.status_code == 200, response.text
        return response.content

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    pegs = set()
    for raw in answers:
        answer = etree.fromstring(raw).find(f"{{{ws.SOAP_NS}}}Body")[0]
        standalone = etree.fromstring(etree.tostring(answer))
        assert ws.erros_de_schema(etree.tostring(standalone), webservice=True) == []
        assert standalone.findtext("ans:hash", namespaces=ws.A) == ws.epilogo_hash(standalone)
        pegs.add(peg_of(standalone))
    assert len(pegs) == 1
    assert len(lotes_with_protocol(clinica, pegs.pop())) == 1
