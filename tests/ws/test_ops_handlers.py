"""The web-service operations beyond the lote (demonstrativos, recurso de glosa and its
situation) run as the SOAP door runs them: a schema-valid, hashed request WS element
becomes a `Call` of an authenticated provider; the handler calls the real stack (Kafka,
FerretDB, the services as processes); its `Reply`, wrapped as the door wraps it, is
checked against the ANS WS XSD with its hash."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from lxml import etree
from tissflow_demo.samples import build_lote
from tissflow_gateway import core
from tissflow_gateway.auth import User
from tissflow_gateway.ws.registry import OPERATIONS, Call, Operation, Reply, load
from tissflow_runtime.internal_client import InternalClient
from tissflow_runtime.local import SERVICES
from tissflow_tiss import (
    NS,
    Parte,
    el,
    epilogo_hash,
    erros_de_schema,
    finalizar_ws,
    mensagem_ws,
    prestador_id,
)

from tests.e2e.test_recursos import glosas_of, glossed_protocol
from tests.support import Api, Stack, fresh_guia, wait_for

pytestmark = pytest.mark.e2e
ANS = {"ans": NS}
REGISTRO_ANS = "331988"
CNPJ, OUTRO_CNPJ = "07906129000102", "11222333000181"
CLINICA = User("odontoarte", "Faturamento Odonto Arte", "prestador", CNPJ, "ODONTO ARTE LTDA")
OUTRA = User("sorriso", "Faturamento Clínica Sorriso", "prestador", OUTRO_CNPJ, "SORRISO")
_seq = itertools.count(int(datetime.now(UTC).timestamp()))


# -- the door, as the SOAP door does it -----------------------------------------------------
Fill = Callable[[etree._Element], etree._Element]


def conteudo(fill: Fill) -> etree._Element:
    """The content element alone (for a client that adds its own cabecalho and hash)."""
    holder = etree.Element(f"{{{NS}}}holder", nsmap={"ans": NS})
    body = fill(holder)
    holder.remove(body)
    return body


def pedido(elemento: str, tipo: str, fill: Fill, user: User) -> Call:
    """A request WS element from the provider (cabecalho, content, hash), schema-checked,
    as the `Call` the door builds from it."""
    root = mensagem_ws(
        elemento,
        tipo,
        str(next(_seq)),
        datetime.now(UTC),
        Parte.prestador(str(user.provider_id)),
        Parte.operadora(REGISTRO_ANS),
    )
    body = fill(root)
    finalizar_ws(root)
    raw = etree.tostring(root, encoding="ISO-8859-1")
    assert erros_de_schema(raw, webservice=True) == []
    operation = load()[elemento]
    return Call(
        operation=operation.name,
        versao="4.03.00",
        cabecalho=root.find("ans:cabecalho", ANS),
        body=body,
        raw=raw,
        user=user,
    )


def _operacao(call: Call) -> Operation:
    return OPERATIONS[etree.QName(etree.fromstring(call.raw)).localname]


def responder_juntos(stack: Stack, *calls: Call) -> list[etree._Element]:
    """Run the operations at the same time against the stack's services (as concurrent
    requests to the door) and wrap each Reply as the door does; every answer validates
    against the WS XSD and its hash is right."""

    async def run() -> list[Reply]:
        urls = {name: stack.services.url(name) for name in SERVICES}
        async with httpx.AsyncClient(timeout=30) as http:
            saved = core.runtime.internal
            core.runtime.internal = InternalClient(http, urls, core.settings.internal_token)
            try:
                return list(await asyncio.gather(*(_operacao(c).handler(c) for c in calls)))
            finally:
                core.runtime.internal = saved

    answers = []
    for call, reply in zip(calls, asyncio.run(run()), strict=True):
        root = mensagem_ws(
            _operacao(call).response,
            reply.tipo_transacao,
            str(next(_seq)),
            datetime.now(UTC),
            Parte.operadora(REGISTRO_ANS),
            Parte.prestador(str(call.user.provider_id)),
        )
        root.append(reply.body)
        finalizar_ws(root)
        xml = etree.tostring(root, encoding="ISO-8859-1")
        assert erros_de_schema(xml, webservice=True) == [], xml.decode("latin-1")
        answer = etree.fromstring(xml)
        assert answer.findtext("ans:hash", namespaces=ANS) == epilogo_hash(answer)
        answers.append(answer)
    return answers


def responder(stack: Stack, call: Call) -> etree._Element:
    """One operation, answered as the door answers it (see `responder_juntos`)."""
    return responder_juntos(stack, call)[0]


def erro(answer: etree._Element) -> tuple[str, str] | None:
    found = answer.find(".//ans:mensagemErro", ANS)
    if found is None:
        return None
    return found.findtext("ans:codigoGlosa", namespaces=ANS) or "", found.findtext(
        "ans:descricaoGlosa", namespaces=ANS
    ) or ""


def contratado(parent: etree._Element, tag: str, user: User) -> None:
    prestador_id(
        el(parent, tag), str(user.provider_id), cnpj_tag="cnpjContratado", cpf_tag="cpfContratado"
    )


# -- demonstrativos ----------------------------------------------------------------------
def analise_fill(user: User, *pegs: str, prestador: User | None = None) -> Fill:
    def fill(root: etree._Element) -> etree._Element:
        body = el(root, "solicitacaoDemonstrativoRetorno")
        analise = el(body, "demonstrativoAnalise")
        contratado(analise, "dadosPrestador", prestador or user)
        el(analise, "dataSolicitacao", date.today().isoformat())
        protocolos = el(analise, "protocolos")
        for peg in pegs:
            el(protocolos, "numeroProtocolo", peg)
        return body

    return fill


def pedido_analise(user: User, *pegs: str, prestador: User | None = None) -> Call:
    return pedido(
        "solicitacaoDemonstrativoRetornoWS",
        "SOLIC_DEMONSTRATIVO_RETORNO",
        analise_fill(user, *pegs, prestador=prestador),
        user,
    )


def pagamento_fill(user: User, **periodo: str) -> Fill:
    def fill(root: etree._Element) -> etree._Element:
        body = el(root, "solicitacaoDemonstrativoRetorno")
        pagamento = el(body, "demonstrativoPagamento")
        contratado(pagamento, "dadosPrestador", user)
        el(pagamento, "dataSolicitacao", date.today().isoformat())
        el(pagamento, "tipoDemonstrativo", "1")
        (name, value), *_ = periodo.items()
        el(el(pagamento, "periodo"), name, value)
        return body

    return fill


def pedido_pagamento(user: User, **periodo: str) -> Call:
    return pedido(
        "solicitacaoDemonstrativoRetornoWS",
        "SOLIC_DEMONSTRATIVO_RETORNO",
        pagamento_fill(user, **periodo),
        user,
    )


def protocolos_em(answer: etree._Element) -> set[str]:
    return {e.text or "" for e in answer.iterfind(".//ans:numeroProtocolo", ANS)}


def test_demonstrativos_de_analise_e_pagamento_pelo_web_service(
    stack: Stack, clinica: Api, operadora: Api
) -> None:
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=2, numero_lote="903101", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="lote-903101.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    peg = clinica.enviar_e_aguardar_peg(clinica.lote_do_arquivo(file_id)["lote_id"])

    # Received, not analysed: the answer says the protocol's situation, no document.
    answer = responder(stack, pedido_analise(CLINICA, peg))
    situacao = answer.find(".//ans:situacaoDemonstrativoRetorno", ANS)
    assert situacao is not None, etree.tostring(answer)
    assert situacao.findtext("ans:numeroProtocolo", namespaces=ANS) == peg
    assert situacao.findtext("ans:situacaoDemonstrativo", namespaces=ANS) == "1"

    for body in (
        {"status": 2},
        {"status": 5, "valor_glosado": "1.00"},
        {"status": 3, "data_pagamento": "2026-12-17"},
    ):
        response = operadora.post(f"/operadora/protocolos/{peg}/status", json=body)
        assert response.status_code == 200, response.text

    ultima: list[bytes] = []

    def analisado() -> tuple[etree._Element] | None:
        answer = responder(stack, pedido_analise(CLINICA, peg))
        ultima[:] = [etree.tostring(answer)]
        found = answer.find(".//ans:demonstrativoAnaliseConta", ANS) is not None
        return (answer,) if found else None

    try:
        (answer,) = wait_for(analisado, timeout=180, what="o demonstrativo de análise")
    except AssertionError:
        raise AssertionError(ultima) from None
    assert answer.findtext(".//ans:tipoTransacao", namespaces=ANS) == "DEMONSTRATIVO_ANALISE_CONTA"
    assert peg in protocolos_em(answer)
    # The same document the portal gives: its XML's demonstrativo, element for element.
    sid = next(
        d["statement_id"]
        for d in clinica.get("/demonstrativos", params={"peg": peg}).json()["items"]
        if d["tipo"] == "analise"
    )
    portal = etree.fromstring(clinica.get(f"/demonstrativos/{sid}/xml").content)
    guias_portal = {e.text for e in portal.iterfind(".//ans:numeroGuiaPrestador", ANS)}
    guias_ws = {e.text for e in answer.iterfind(".//ans:numeroGuiaPrestador", ANS)}
    assert guias_ws == guias_portal and guias_ws

    def pago(**periodo: str) -> tuple[etree._Element] | None:
        answer = responder(stack, pedido_pagamento(CLINICA, **periodo))
        return (answer,) if peg in protocolos_em(answer) else None

    (por_data,) = wait_for(
        lambda: pago(dataPagamento="2026-12-17"), timeout=180, what="o pagamento por data"
    )
    assert por_data.findtext(".//ans:tipoTransacao", namespaces=ANS) == "DEMONSTRATIVO_PAGAMENTO"
    assert por_data.findtext(".//ans:dataPagamento", namespaces=ANS) == "2026-12-17"
    assert pago(competencia="202612") is not None

    # Another provider: the protocol does not exist for it, and nothing of it leaks; a
    # request naming another provider than the credentials' is refused.
    alheio = responder(stack, pedido_analise(OUTRA, peg))
    assert (erro(alheio) or ("",))[0] == "3291", etree.tostring(alheio)
    assert alheio.find(".//ans:demonstrativoAnaliseConta", ANS) is None
    outro = responder(stack, pedido_analise(CLINICA, peg, prestador=OUTRA))
    assert (erro(outro) or ("",))[0] == "1206"
    nada = responder(stack, pedido_pagamento(OUTRA, dataPagamento="2026-12-17"))
    assert (erro(nada) or ("",))[0] == "5016"
    assert peg not in protocolos_em(nada)


# -- recurso de glosa --------------------------------------------------------------------
def recurso_fill(
    user: User,
    peg: str,
    guias: dict[str, list[dict[str, Any]]],
    numero: str = "WS-1",
) -> Fill:
    """A `loteRecursoGlosaWS` appealing items (`sequencial`, `valor`, `justificativa`) of
    each guide in `guias`."""

    def fill(root: etree._Element) -> etree._Element:
        body = el(root, "loteRecurso")
        guia = el(body, "guiaRecursoGlosa")
        el(guia, "registroANS", REGISTRO_ANS)
        el(guia, "numeroGuiaRecGlosaPrestador", numero)
        el(guia, "nomeOperadora", "OPERADORA DEMO")
        el(guia, "objetoRecurso", "2")
        contratado(guia, "dadosContratado", user)
        el(guia, "numeroLote", "7001")
        el(guia, "numeroProtocolo", peg)
        opcao = el(guia, "opcaoRecurso")
        total = 0.0
        for numero_guia, itens in guias.items():
            rg = el(opcao, "recursoGuia")
            el(rg, "numeroGuiaOrigem", numero_guia)
            por = el(rg, "opcaoRecursoGuia")
            for item in itens:
                it = el(por, "itensGuia")
                el(it, "sequencialItem", item["sequencial"])
                el(it, "dataInicio", "2026-11-03")
                proc = el(it, "procRecurso")
                el(proc, "codigoTabela", "22")
                el(proc, "codigoProcedimento", "81000065")
                el(proc, "descricaoProcedimento", "CONSULTA ODONTOLOGICA INICIAL")
                el(it, "codGlosaItem", item.get("codigo", "1705"))
                el(it, "valorRecursado", item["valor"])
                el(it, "justificativaItem", item["justificativa"])
                total += float(item["valor"])
        el(guia, "valorTotalRecursado", f"{total:.2f}")
        el(guia, "dataRecurso", date.today().isoformat())
        return body

    return fill


def recurso_odonto_fill(user: User, peg: str, guia: str, codigo: str, valor: str) -> Fill:
    """A `guiaRecursoGlosaOdonto` appealing the whole glosa `codigo` of a dental guide."""

    def fill(root: etree._Element) -> etree._Element:
        body = el(root, "loteRecurso")
        rec = el(body, "guiaRecursoGlosaOdonto")
        el(rec, "registroANS", REGISTRO_ANS)
        el(rec, "numeroGuiaRecGlosaPrestador", "WS-ODONTO-1")
        el(rec, "nomeOperadora", "OPERADORA DEMO")
        el(rec, "objetoRecurso", "2")
        contratado(rec, "dadosContratado", user)
        el(rec, "numeroLote", "7001")
        el(rec, "numeroProtocolo", peg)
        rg = el(el(rec, "opcaoRecurso"), "recursoGuia")
        el(rg, "numeroGuiaPrestador", guia)
        el(rg, "codGlosaGuia", codigo)
        el(rg, "justificativaGuia", "Tratamento completo conforme plano aprovado.")
        el(rec, "valorTotalRecursado", valor)
        el(rec, "dataRecurso", date.today().isoformat())
        return body

    return fill


def pedido_recurso(
    user: User, peg: str, guias: dict[str, list[dict[str, Any]]], numero: str = "WS-1"
) -> Call:
    return pedido(
        "loteRecursoGlosaWS", "RECURSO_GLOSA", recurso_fill(user, peg, guias, numero), user
    )


def status_fill(user: User, numero: str) -> Fill:
    def fill(root: etree._Element) -> etree._Element:
        body = el(root, "solicitacaoStatusProtocoloRecurso")
        contratado(body, "dadosPrestador", user)
        el(body, "numeroProtocolo", numero)
        return body

    return fill


def pedido_status(user: User, numero: str) -> Call:
    return pedido(
        "solicitacaoStatusRecursoGlosaWS",
        "SOLIC_STATUS_RECURSO_GLOSA",
        status_fill(user, numero),
        user,
    )


def recibo(answer: etree._Element) -> str:
    numero = answer.findtext(".//ans:protocoloRecebimento/ans:nrProtocoloRecursoGlosa", None, ANS)
    assert numero, etree.tostring(answer)
    return numero


def test_recurso_de_glosa_pelo_web_service(
    stack: Stack, clinica: Api, outra_clinica: Api, operadora: Api
) -> None:
    peg = glossed_protocol(stack, clinica)
    glosas = glosas_of(clinica, peg)
    g1 = next(linha["numero_guia"] for linha in glosas["linhas"] if linha["sequencial_item"] == 1)
    g2 = next(linha["numero_guia"] for linha in glosas["linhas"] if linha["numero_guia"] != g1)
    item = {"sequencial": 1, "valor": "30.00", "justificativa": "Valor conforme tabela."}

    # Refusals with their table-38 code: value above the glosa, two guides, another
    # provider's protocol.
    maior = responder(stack, pedido_recurso(CLINICA, peg, {g1: [{**item, "valor": "31.00"}]}))
    assert (erro(maior) or ("",))[0] == "3311", etree.tostring(maior)
    duas = responder(stack, pedido_recurso(CLINICA, peg, {g1: [item], g2: [item]}))
    assert (erro(duas) or ("",))[0] == "2908"
    alheio = responder(stack, pedido_recurso(OUTRA, peg, {g1: [item]}))
    assert (erro(alheio) or ("",))[0] == "3291"
    assert g1 not in (erro(alheio) or ("", ""))[1]

    # The corrected message, sent twice at once: one receipt with the operator's protocol
    # number; the same message again: the same receipt, one recurso, on the clinic's
    # Recursos page.
    answer, de_novo = responder_juntos(
        stack,
        pedido_recurso(CLINICA, peg, {g1: [item]}),
        pedido_recurso(CLINICA, peg, {g1: [item]}),
    )
    numero = recibo(answer)
    assert recibo(de_novo) == numero
    assert answer.findtext(".//ans:nrProtocoloRecursado", namespaces=ANS) == peg
    assert answer.findtext(".//ans:valorTotalRecursado", namespaces=ANS) == "30.00"
    assert answer.findtext(".//ans:tipoTransacao", namespaces=ANS) == "RECEBIMENTO_RECURSO_GLOSA"
    assert recibo(responder(stack, pedido_recurso(CLINICA, peg, {g1: [item]}))) == numero
    recursos = clinica.get("/recursos", params={"peg": peg}).json()["items"]
    assert len(recursos) == 1
    assert recursos[0]["numero_guia"] == g1
    assert [(x["linha_id"], x["valor_recursado"]) for x in recursos[0]["linhas"]] == [
        (f"{g1}:1", "30.00")
    ]
    # Other values for the same items: refused, still one recurso.
    outro = responder(
        stack, pedido_recurso(CLINICA, peg, {g1: [{**item, "valor": "20.00"}]}, numero="WS-2")
    )
    assert (erro(outro) or ("",))[0] == "2904"
    assert clinica.get("/recursos", params={"peg": peg}).json()["total"] == 1

    # Its situation: in analysis; another provider does not find the number.
    status = responder(stack, pedido_status(CLINICA, numero))
    assert status.findtext(".//ans:reciboGlosaStatus/ans:situacaoProtocolo", None, ANS) in (
        "1",
        "2",
    )
    assert status.findtext(".//ans:tipoTransacao", namespaces=ANS) == "RESPOSTA_RECURSO_GLOSA"
    nao = responder(stack, pedido_status(OUTRA, numero))
    assert nao.findtext(".//ans:situacaoProtocolo", namespaces=ANS) == "7"
    assert nao.find(".//ans:reciboGlosa", ANS) is None

    # Answered by the operator: the answer's content, item by item.
    recurso_id = recursos[0]["recurso_id"]
    linha_id = f"{g1}:1"
    resposta = operadora.post(
        f"/operadora/recursos/{recurso_id}/resposta",
        json={
            "itens": [
                {
                    "linha_id": linha_id,
                    "acatado": True,
                    "valor_acatado": "20.00",
                    "justificativa": "Acatado em parte.",
                }
            ]
        },
    )
    assert resposta.status_code == 200, resposta.text

    def respondido() -> tuple[etree._Element] | None:
        answer = responder(stack, pedido_status(CLINICA, numero))
        return (answer,) if answer.find(".//ans:reciboGlosa", ANS) is not None else None

    (answered,) = wait_for(respondido, timeout=60, what="a resposta do recurso")
    assert answered.findtext(".//ans:valorTotalAcatado", namespaces=ANS) == "20.00"
    assert answered.findtext(".//ans:valorAcatadado", namespaces=ANS) == "20.00"
    assert answered.findtext(".//ans:numeroProtocolo", namespaces=ANS) == peg
    # Sent again after the answer: still the same receipt, never a second recurso.
    assert recibo(responder(stack, pedido_recurso(CLINICA, peg, {g1: [item]}))) == numero
    assert clinica.get("/recursos", params={"peg": peg}).json()["total"] == 1

    # The dental form: the other guide's whole glosa (1705, R$ 40,00), its own recurso.
    def odonto() -> Call:
        fill = recurso_odonto_fill(CLINICA, peg, g2, "1705", "40.00")
        return pedido("loteRecursoGlosaWS", "RECURSO_GLOSA", fill, CLINICA)

    # Twice at once, on lines nobody holds yet: one recurso, one receipt.
    primeiro, segundo = responder_juntos(stack, odonto(), odonto())
    outro_numero = recibo(primeiro)
    assert recibo(segundo) == outro_numero != numero
    por_guia = {
        r["numero_guia"]: r for r in clinica.get("/recursos", params={"peg": peg}).json()["items"]
    }
    assert set(por_guia) == {g1, g2}
    assert [(x["linha_id"], x["valor_recursado"]) for x in por_guia[g2]["linhas"]] == [
        (f"{g2}:G1705", "40.00")
    ]


# -- elegibilidade -----------------------------------------------------------------------
def elegibilidade_fill(user: User, carteira: str) -> Fill:
    def fill(root: etree._Element) -> etree._Element:
        body = el(root, "pedidoElegibilidade")
        contratado(body, "dadosPrestador", user)
        el(body, "numeroCarteira", carteira)
        return body

    return fill


def pedido_elegibilidade(user: User, carteira: str) -> Call:
    return pedido(
        "pedidoElegibilidadeWS", "VERIFICA_ELEGIBILIDADE", elegibilidade_fill(user, carteira), user
    )


def test_elegibilidade_pelo_cadastro_de_beneficiarios(stack: Stack) -> None:
    ativa = responder(stack, pedido_elegibilidade(CLINICA, "00331988000116"))
    assert ativa.findtext(".//ans:tipoTransacao", namespaces=ANS) == "SITUACAO_ELEGIBILIDADE"
    recibo = ativa.find(".//ans:reciboElegibilidade", ANS)
    assert recibo is not None, etree.tostring(ativa)
    assert recibo.findtext("ans:respostaSolicitacao", namespaces=ANS) == "S"
    assert recibo.findtext("ans:nomeBeneficiario", namespaces=ANS) == "MARIA APARECIDA DOS SANTOS"

    inativa = responder(stack, pedido_elegibilidade(CLINICA, "00331988000450"))
    assert inativa.findtext(".//ans:respostaSolicitacao", namespaces=ANS) == "N"
    assert inativa.findtext(".//ans:motivoNegativa/ans:codigoGlosa", namespaces=ANS) == "1001"

    desconhecida = responder(stack, pedido_elegibilidade(CLINICA, "00331988999999"))
    assert desconhecida.find(".//ans:reciboElegibilidade", ANS) is None
    codigo = desconhecida.findtext(
        ".//ans:respostaElegibilidade/ans:codigoGlosa/ans:codigoGlosa", None, ANS
    )
    assert codigo == "1001", etree.tostring(desconhecida)
