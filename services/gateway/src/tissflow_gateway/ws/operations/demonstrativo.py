"""`tissSolicitacaoDemonstrativoRetorno`: a clinic's software asks for the Demonstrativo de
Análise de Conta of up to 30 protocols, or the Demonstrativo de Pagamento of a payment
date or competência, and gets the same document the portal gives.

The statements service builds the TISS message (`mensagemTISS` with
`demonstrativosRetorno`) through the same gateway use cases as the Demonstrativos page;
its demonstrativo element is re-embedded in `demonstrativoRetornoWS`. A protocol not
found, or another provider's, is `mensagemErro` 3291 (never a hint that it exists); one
not yet analysed is `situacaoDemonstrativoRetorno` with the protocol's situation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import HTTPException
from lxml import etree
from tissflow_tiss import NS, el

from tissflow_gateway.core import settings
from tissflow_gateway.routes import demonstrativos, protocolos
from tissflow_gateway.ws.operations._comum import (
    ANS,
    dados_prestador,
    e_o_prestador,
    mensagem_erro,
    motivo,
    q,
    texto,
)
from tissflow_gateway.ws.registry import Call, Reply, operation

ANALISE, PAGAMENTO = "DEMONSTRATIVO_ANALISE_CONTA", "DEMONSTRATIVO_PAGAMENTO"
# Refusals of the statements service, as table-38 codes.
CODIGOS = {
    "demonstrativo_nao_encontrado": "3291",
    "nao_encontrado": "3291",
    "protocolo_nao_encontrado": "3291",
    "nenhum_pagamento_no_periodo": "5016",
    "dados_invalidos": "5007",
}


def _erro(tipo: str, codigo: str, descricao: str) -> Reply:
    retorno = etree.Element(q("demonstrativoRetorno"), nsmap={"ans": NS})
    mensagem_erro(retorno, codigo, descricao)
    return Reply(tipo, retorno)


def _embutir(tipo: str, documento: bytes) -> Reply:
    """The demonstrativo element of the statements service's message, in the answer."""
    doc = etree.fromstring(documento, etree.XMLParser(resolve_entities=False, no_network=True))
    conteudo = doc.find(".//ans:demonstrativosRetorno", ANS)
    if conteudo is None or not len(conteudo):
        return _erro(tipo, "5002", "O demonstrativo não pôde ser gerado.")
    retorno = etree.Element(q("demonstrativoRetorno"), nsmap={"ans": NS})
    for child in conteudo:
        retorno.append(child)
    return Reply(tipo, retorno)


async def _situacao(call: Call, peg: str) -> Reply | None:
    """`situacaoDemonstrativoRetorno`: the protocol is the clinic's but has no Análise de
    Conta yet (not analysed, or not yet known to the statements service); None when it is
    not the clinic's protocol (the protocol service answers 404 for another's)."""
    try:
        protocolo = await protocolos.get_protocolo(call.user, peg)
    except HTTPException as exc:
        motivo(exc)
        return None
    retorno = etree.Element(q("demonstrativoRetorno"), nsmap={"ans": NS})
    situacao = el(retorno, "situacaoDemonstrativoRetorno")
    el(situacao, "identificacaoOperadora", settings.operadora_registro_ans)
    dados_prestador(situacao, "dadosPrestador", str(call.user.provider_id))
    el(situacao, "numeroProtocolo", peg[:12])
    sequencial = texto(call.cabecalho, "ans:identificacaoTransacao/ans:sequencialTransacao")
    el(situacao, "protocoloSolicitacaoDemonstrativo", (sequencial or peg)[:12])
    el(situacao, "tipoDemonstrativo", "2")  # dm_tipoDemonstrativo: análise da conta
    el(situacao, "dataSituacaoDemonstrativo", date.today().isoformat())
    el(situacao, "situacaoDemonstrativo", str(protocolo["status"]))
    return Reply(ANALISE, retorno)


async def _analise(call: Call, pedido: etree._Element) -> Reply:
    pegs = [
        (e.text or "").strip() for e in pedido.iterfind("ans:protocolos/ans:numeroProtocolo", ANS)
    ]
    try:
        response = await demonstrativos.analise_document(call.user, pegs, "xml")
    except HTTPException as exc:
        code, message = motivo(exc)
        detail: dict[str, Any] = exc.detail if isinstance(exc.detail, dict) else {}
        if code == "protocolo_nao_analisado":
            pendentes: list[str] = detail.get("details") or []
            situacao = await _situacao(call, str(pendentes[0]) if pendentes else pegs[0])
            if situacao is not None:
                return situacao
        elif code == "demonstrativo_nao_encontrado":
            # Received a moment ago, the statements service may not know it yet.
            faltas = detail.get("details")
            faltam = (faltas.get("protocolos") if isinstance(faltas, dict) else None) or []
            if len(faltam) == 1 and (situacao := await _situacao(call, str(faltam[0]))):
                return situacao
        return _erro(ANALISE, CODIGOS.get(code, "5007"), message)
    return _embutir(ANALISE, bytes(response.body))


async def _pagamento(call: Call, pedido: etree._Element) -> Reply:
    if texto(pedido, "ans:tipoDemonstrativo") != "1":
        return _erro(
            PAGAMENTO,
            "5007",
            "Esta operadora emite o Demonstrativo de Pagamento (tipo 1); o de odontologia "
            "(tipo 3) não é emitido separadamente.",
        )
    dia = texto(pedido, "ans:periodo/ans:dataPagamento")
    competencia = texto(pedido, "ans:periodo/ans:competencia")
    try:
        response = await demonstrativos.pagamento_document(
            call.user,
            settings.operadora_registro_ans,
            "xml",
            data=date.fromisoformat(dia) if dia else None,
            competencia=f"{competencia[:4]}-{competencia[4:6]}" if competencia else None,
        )
    except HTTPException as exc:
        code, message = motivo(exc)
        return _erro(PAGAMENTO, CODIGOS.get(code, "5007"), message)
    return _embutir(PAGAMENTO, bytes(response.body))


@operation(
    "tissSolicitacaoDemonstrativoRetorno",
    request="solicitacaoDemonstrativoRetornoWS",
    response="demonstrativoRetornoWS",
)
async def solicitacao_demonstrativo_retorno(call: Call) -> Reply:
    """Demonstrativo de Análise de Conta (até 30 protocolos) ou de Pagamento (por data de
    pagamento ou competência), os mesmos documentos do portal."""
    analise = call.body.find("ans:demonstrativoAnalise", ANS)
    pedido = analise if analise is not None else call.body.find("ans:demonstrativoPagamento", ANS)
    tipo = ANALISE if analise is not None else PAGAMENTO
    if pedido is None:
        return _erro(tipo, "5007", "Pedido de demonstrativo sem análise nem pagamento.")
    if not e_o_prestador(pedido.find("ans:dadosPrestador", ANS), call.user):
        return _erro(
            tipo,
            "1206",
            "O prestador do pedido não é o das credenciais: peça os demonstrativos com o "
            "CNPJ/CPF do seu próprio cadastro.",
        )
    if analise is not None:
        return await _analise(call, pedido)
    return await _pagamento(call, pedido)
