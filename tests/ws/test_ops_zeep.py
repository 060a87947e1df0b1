"""The operations beyond the lote, as a clinic's software meets them: zeep builds its
client from the WSDL the gateway serves, logs in with credentials the operator's staff
issued, and round-trips a recurso de glosa (send, resend, situation), the Demonstrativo
de Análise de Conta and an eligibility check against the real stack; another provider's
credentials see none of it. Every message sent and received is checked against the ANS
WS XSD with its hash."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from lxml import etree
from zeep import Client, Settings
from zeep.plugins import HistoryPlugin

from tests.e2e.test_recursos import glosas_of, glossed_protocol
from tests.support import Api, Stack, wait_for
from tests.ws import soap_support as ws
from tests.ws.test_ops_handlers import (
    CLINICA,
    OUTRA,
    analise_fill,
    conteudo,
    elegibilidade_fill,
    recurso_fill,
    status_fill,
)

pytestmark = pytest.mark.e2e
A = ws.A


class Clinic:
    """A clinic's billing software: one login, a zeep client per service from its WSDL."""

    def __init__(self, gateway: str, cnpj: str, login: str, senha: str) -> None:
        self.gateway, self.cnpj, self.login, self.senha = gateway, cnpj, login, senha
        self.clients: dict[str, tuple[Client, HistoryPlugin]] = {}
        self.sequencial = 0

    def send(self, service: str, elemento: str, tipo: str, content: etree._Element) -> Any:
        if service not in self.clients:
            history = HistoryPlugin()
            client = Client(
                f"{self.gateway}/ws/{service}?wsdl",
                settings=Settings(strict=True),
                plugins=[history],
            )
            self.clients[service] = (client, history)
        client, history = self.clients[service]
        self.sequencial += 1
        request = ws.ws_request(
            elemento,
            tipo,
            content,
            self.login,
            self.senha,
            cnpj=self.cnpj,
            sequencial=str(self.sequencial),
        )
        ws.call_with_zeep(client, service, request)
        ws.sent_element(history)
        return ws.answer_element(history)


def clinic(stack: Stack, operadora: Api, cnpj: str, nome: str) -> Clinic:
    login = f"wsops{uuid.uuid4().hex[:10]}"
    issued = operadora.post(
        "/operadora/webservices/credenciais",
        json={"provider_id": cnpj, "provider_nome": nome, "login": login},
    )
    assert issued.status_code == 201, issued.text
    return Clinic(stack.services.url("gateway"), cnpj, login, issued.json()["senha"])


def codigo_erro(answer: etree._Element) -> str | None:
    return answer.findtext(".//ans:mensagemErro/ans:codigoGlosa", namespaces=A)


def test_recurso_situacao_e_demonstrativo_pelo_wsdl_com_zeep(
    stack: Stack, clinica: Api, operadora: Api
) -> None:
    odonto = clinic(stack, operadora, ws.ODONTOARTE, "ODONTO ARTE LTDA")
    sorriso = clinic(stack, operadora, "11222333000181", "CLINICA SORRISO LTDA")
    peg = glossed_protocol(stack, clinica)
    glosas = glosas_of(clinica, peg)
    guia = next(linha["numero_guia"] for linha in glosas["linhas"] if linha["sequencial_item"])
    itens = {guia: [{"sequencial": 2, "valor": "45.50", "justificativa": "Flúor indicado."}]}

    def recurso(quem: Clinic, user: Any) -> etree._Element:
        content = conteudo(recurso_fill(user, peg, itens, numero="ZEEP-1"))
        return quem.send("tissRecursoGlosa", "loteRecursoGlosaWS", "RECURSO_GLOSA", content)

    # Another provider's credentials: the protocol does not exist for them.
    assert codigo_erro(recurso(sorriso, OUTRA)) == "3291"

    answer = recurso(odonto, CLINICA)
    numero = answer.findtext(".//ans:nrProtocoloRecursoGlosa", namespaces=A)
    assert numero, etree.tostring(answer)
    assert answer.findtext(".//ans:valorTotalRecursado", namespaces=A) == "45.50"
    assert recurso(odonto, CLINICA).findtext(".//ans:nrProtocoloRecursoGlosa", namespaces=A) == (
        numero
    )
    # One recurso, the portal's: the clinic sees it on its Recursos de Glosa page.
    recursos = clinica.get("/recursos", params={"peg": peg}).json()
    assert recursos["total"] == 1
    assert recursos["items"][0]["linhas"][0]["valor_recursado"] == "45.50"

    def status(quem: Clinic, user: Any) -> etree._Element:
        return quem.send(
            "tissSolicitacaoStatusRecursoGlosa",
            "solicitacaoStatusRecursoGlosaWS",
            "SOLIC_STATUS_RECURSO_GLOSA",
            conteudo(status_fill(user, numero)),
        )

    situacao = status(odonto, CLINICA).findtext(".//ans:situacaoProtocolo", namespaces=A)
    assert situacao in ("1", "2")
    assert status(sorriso, OUTRA).findtext(".//ans:situacaoProtocolo", namespaces=A) == "7"

    def analise(quem: Clinic, user: Any) -> etree._Element:
        return quem.send(
            "tissSolicitacaoDemonstrativoRetorno",
            "solicitacaoDemonstrativoRetornoWS",
            "SOLIC_DEMONSTRATIVO_RETORNO",
            conteudo(analise_fill(user, peg)),
        )

    # The operator's analysis through its own API (the protocol service announces it).
    glosa_do_protocolo = {"codigo": "1104", "valor": "5.00"}
    for body in ({"status": 2}, {"status": 5, "glosas_protocolo": [glosa_do_protocolo]}):
        response = operadora.post(f"/operadora/protocolos/{peg}/status", json=body)
        assert response.status_code == 200, response.text

    def demonstrativo() -> tuple[etree._Element] | None:
        answer = analise(odonto, CLINICA)
        return (answer,) if answer.find(".//ans:demonstrativoAnaliseConta", A) is not None else None

    (doc,) = wait_for(demonstrativo, timeout=180, what="o demonstrativo de análise")
    assert peg in {e.text for e in doc.iterfind(".//ans:numeroProtocolo", A)}
    alheio = analise(sorriso, OUTRA)
    assert codigo_erro(alheio) == "3291"
    assert alheio.find(".//ans:demonstrativoAnaliseConta", A) is None

    # The protocol's own glosa, appealed as a whole (recursoProtocolo): its own recurso.
    content = conteudo(recurso_fill(CLINICA, peg, {}, numero="ZEEP-P"))
    guia_recurso = content.find("ans:guiaRecursoGlosa", A)
    guia_recurso.find("ans:objetoRecurso", A).text = "1"
    opcao = guia_recurso.find("ans:opcaoRecurso", A)
    protocolo = etree.SubElement(opcao, f"{{{ws.NS}}}recursoProtocolo")
    etree.SubElement(protocolo, f"{{{ws.NS}}}codigoGlosaProtocolo").text = "1104"
    etree.SubElement(protocolo, f"{{{ws.NS}}}justificativaProtocolo").text = "Totais conferem."
    guia_recurso.find("ans:valorTotalRecursado", A).text = "5.00"
    recibo = odonto.send("tissRecursoGlosa", "loteRecursoGlosaWS", "RECURSO_GLOSA", content)
    assert recibo.findtext(".//ans:codigoGlosaProtocolo", namespaces=A) == "1104"
    assert recibo.findtext(".//ans:valorTotalRecursado", namespaces=A) == "5.00"
    assert recibo.findtext(".//ans:nrProtocoloRecursoGlosa", namespaces=A) not in (None, numero)
    linhas = {
        x["linha_id"]: x["valor_recursado"]
        for r in clinica.get("/recursos", params={"peg": peg}).json()["items"]
        for x in r["linhas"]
    }
    assert linhas["P:1104"] == "5.00"

    eleg = odonto.send(
        "tissVerificaElegibilidade",
        "pedidoElegibilidadeWS",
        "VERIFICA_ELEGIBILIDADE",
        conteudo(elegibilidade_fill(CLINICA, "00331988000116")),
    )
    assert eleg.findtext(".//ans:respostaSolicitacao", namespaces=A) == "S"
