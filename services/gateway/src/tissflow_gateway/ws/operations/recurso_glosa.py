"""`tissRecursoGlosa` and `tissSolicitacaoStatusRecursoGlosa`: a clinic's software appeals
a glossed guide and later asks how the appeal stands.

The message (`guiaRecursoGlosa`, or the dental `guiaRecursoGlosaOdonto`; one guide, or
the protocol's own glosa of one code) becomes the same recurso the Recursos de Glosa page
makes: the glossed lines it names are opened (`abrir`), filled with the message's values
and justificativas (`salvar`) and sent (`enviar`) through the recursos service's use
cases, so its checks (deadline, value bounds, one guide, an item in one open recurso at a
time) refuse it with the same rules, as `mensagemErro` with a table-38 code. The answer
waits, up to `TISSFLOW_WS_ESPERA_SEGUNDOS` (the door's one bound, as for the lote), for
the operator's receipt (its protocol number). The same message sent again, even at the
same time, finds the recurso that already holds those lines with the same values and
answers its receipt: never a second recurso.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import HTTPException
from lxml import etree
from tissflow_tiss import NS, el

from tissflow_gateway.core import settings
from tissflow_gateway.routes import recursos
from tissflow_gateway.ws.operations._comum import (
    ANS,
    dados_prestador,
    e_o_prestador,
    mensagem_erro,
    motivo,
    q,
    texto,
)
from tissflow_gateway.ws.operations.lote_guias import settings as espera
from tissflow_gateway.ws.registry import Call, Reply, WsFault, operation

RECEBIMENTO, RESPOSTA = "RECEBIMENTO_RECURSO_GLOSA", "RESPOSTA_RECURSO_GLOSA"
# Refusals of the recursos service, as table-38 codes.
CODIGOS = {
    "protocolo_nao_encontrado": "3291",
    "recurso_nao_encontrado": "3291",
    "prazo_esgotado": "2909",
    "item_ja_em_recurso": "2904",
    "item_ja_recorrido": "2904",
    "recurso_ja_enviado": "2904",
    "valor_recursado_invalido": "5040",
    "valor_recursado_maior_que_glosado": "3311",
    "valor_invalido": "5050",
    "justificativa_obrigatoria": "2903",
}
# The recurso's situation as dm_statusProtocolo (as the recursos service answers it).
SITUACAO = {"enviado": "1", "em_analise": "2", "respondido": "5"}


class Recusa(Exception):
    """The message is refused: `mensagemErro` with this table-38 code and text."""

    def __init__(self, codigo: str, descricao: str) -> None:
        super().__init__(descricao)
        self.codigo = codigo
        self.descricao = descricao


def _recusa(exc: HTTPException) -> Recusa:
    code, message = motivo(exc)
    return Recusa(CODIGOS.get(code, "2908"), message)


def _valor(text: str) -> str:
    try:
        return str(Decimal(text).quantize(Decimal("0.01")))
    except InvalidOperation:
        raise Recusa("5050", f"Valor inválido: {text!r}.") from None


@dataclass(frozen=True)
class ItemPedido:
    """One procedure the message appeals, in either form (medical or dental)."""

    sequencial: str
    data_inicio: str
    data_fim: str
    proc: etree._Element | None
    dente_regiao: etree._Element | None
    dente_face: str
    codigo: str
    valor: str
    justificativa: str


@dataclass(frozen=True)
class GuiaPedida:
    """The guide a message appeals: its whole glosa by code, or procedures."""

    numero: str
    numero_operadora: str
    senha: str
    completas: list[tuple[str, str]]
    itens: list[ItemPedido]


def _guia_medica(guia: etree._Element) -> GuiaPedida:
    """`ctm_recursoGlosa/opcaoRecurso/recursoGuia`."""
    opcao = guia.find("ans:opcaoRecursoGuia", ANS)
    opcao = opcao if opcao is not None else etree.Element(q("opcaoRecursoGuia"))
    return GuiaPedida(
        texto(guia, "ans:numeroGuiaOrigem"),
        texto(guia, "ans:numeroGuiaOperadora"),
        texto(guia, "ans:senha"),
        [
            (texto(c, "ans:codGlosaGuia"), texto(c, "ans:justificativaGuia"))
            for c in opcao.iterfind("ans:recursoGuiaCompleta", ANS)
        ],
        [
            ItemPedido(
                texto(item, "ans:sequencialItem"),
                texto(item, "ans:dataInicio"),
                texto(item, "ans:dataFim"),
                item.find("ans:procRecurso", ANS),
                None,
                "",
                texto(item, "ans:codGlosaItem"),
                texto(item, "ans:valorRecursado"),
                texto(item, "ans:justificativaItem"),
            )
            for item in opcao.iterfind("ans:itensGuia", ANS)
        ],
    )


def _guia_odonto(guia: etree._Element) -> GuiaPedida:
    """`cto_recursoGlosaOdonto/opcaoRecurso/recursoGuia`: the guide's glosa, or its
    procedures (`recursoProcedimento`) when it names them."""
    itens = [
        ItemPedido(
            texto(item, "ans:sequencialItem"),
            texto(item, "ans:dataRealizacao"),
            "",
            item.find("ans:procRecurso", ANS),
            item.find("ans:denteRegiao", ANS),
            texto(item, "ans:denteFace"),
            texto(item, "ans:codGlosaProc"),
            texto(item, "ans:valorRecursado"),
            texto(item, "ans:justificativaProc"),
        )
        for item in guia.iterfind("ans:recursoProcedimento", ANS)
    ]
    completa = (texto(guia, "ans:codGlosaGuia"), texto(guia, "ans:justificativaGuia"))
    return GuiaPedida(
        texto(guia, "ans:numeroGuiaPrestador"),
        texto(guia, "ans:numeroGuiaOperadora"),
        texto(guia, "ans:senha"),
        [] if itens else [completa],
        itens,
    )


def _linhas_do_protocolo(protocolo: etree._Element, conta: dict[str, Any]) -> list[dict[str, str]]:
    """`recursoProtocolo`: the protocol's own glosa of that code, its whole value."""
    codigo = texto(protocolo, "ans:codigoGlosaProtocolo")
    linha = next(
        (x for x in conta["linhas"] if not x["numero_guia"] and x["codigo_glosa"] == codigo),
        None,
    )
    if linha is None:
        raise Recusa(
            "2908",
            f"O protocolo {conta['peg']} não tem glosa {codigo} do protocolo inteiro: "
            "recorra das guias glosadas (recursoGuia).",
        )
    return [
        {
            "linha_id": linha["linha_id"],
            "valor_recursado": str(linha["valor_glosado"]),
            "justificativa": texto(protocolo, "ans:justificativaProtocolo"),
        }
    ]


def _linhas_pedidas(guia: GuiaPedida, conta: dict[str, Any]) -> list[dict[str, str]]:
    """The protocol's glossed lines the message appeals, with its values and texts."""
    numero = guia.numero
    da_guia = [linha for linha in conta["linhas"] if linha["numero_guia"] == numero]
    if not da_guia:
        raise Recusa(
            "2908",
            f"A guia {numero} não tem itens glosados no protocolo {conta['peg']}.",
        )
    pedidas: dict[str, dict[str, str]] = {}
    for codigo, justificativa in guia.completas:
        achadas = [
            linha
            for linha in da_guia
            if codigo == linha["codigo_glosa"] or codigo in (linha.get("codigos") or [])
        ]
        if not achadas:
            raise Recusa("2908", f"A guia {numero} não tem glosa {codigo} para recorrer.")
        for linha in achadas:
            pedidas[linha["linha_id"]] = {
                "linha_id": linha["linha_id"],
                "valor_recursado": str(linha["valor_glosado"]),
                "justificativa": justificativa,
            }
    por_item = {str(linha.get("sequencial_item")): linha for linha in da_guia}
    for item in guia.itens:
        seq = str(int(item.sequencial or "0"))
        linha = por_item.get(seq)
        if linha is None:
            raise Recusa("2908", f"O item {seq} da guia {numero} não foi glosado.")
        pedidas[linha["linha_id"]] = {
            "linha_id": linha["linha_id"],
            "valor_recursado": _valor(item.valor),
            "justificativa": item.justificativa,
        }
    return list(pedidas.values())


async def _conta(call: Call, numero_protocolo: str) -> dict[str, Any]:
    """The clinic's analysed protocol (PEG) the message names; another provider's is not
    found, as for the portal."""
    try:
        contas = await recursos.glosas(call.user, numero_protocolo)
    except HTTPException as exc:
        raise _recusa(exc) from None
    if not contas:
        raise Recusa(
            "2908",
            f"O protocolo {numero_protocolo} ainda não tem Demonstrativo de Análise com "
            "glosas para recorrer.",
        )
    return contas[0]


def _mesmas(pedidas: list[dict[str, str]], recurso: dict[str, Any]) -> bool:
    """Whether the recurso holds exactly these lines with these values and texts."""
    tem = {
        linha["linha_id"]: (
            _valor(str(linha.get("valor_recursado") or "0")),
            (linha.get("justificativa") or "").strip(),
        )
        for linha in recurso["linhas"]
    }
    quer = {p["linha_id"]: (p["valor_recursado"], p["justificativa"].strip()) for p in pedidas}
    return tem == quer


async def _enviado(call: Call, conta: dict[str, Any], pedidas: list[dict[str, str]]) -> str:
    """The recurso of these lines, sent: the one that already holds them (the same message
    again, or a draft left by a refused attempt), else a new one."""
    ids = {p["linha_id"] for p in pedidas}
    holders = {
        (linha.get("recurso") or {}).get("recurso_id")
        for linha in conta["linhas"]
        if linha["linha_id"] in ids
    }
    existente = None
    if len(holders) == 1 and None not in holders:
        existente = await recursos.obter(call.user, str(next(iter(holders))))
        if {linha["linha_id"] for linha in existente["linhas"]} != ids:
            existente = None
    if existente is not None and existente["situacao"] != "rascunho":
        if _mesmas(pedidas, existente):
            return str(existente["recurso_id"])
        if existente["situacao"] != "respondido":
            raise Recusa(
                "2904",
                f"Estes itens já estão no recurso {existente['recurso_id']} "
                f"({existente['situacao'].replace('_', ' ')}) com outros valores.",
            )
        existente = None  # answered: a new appeal, if the operator's rule allows it
    if existente is None:
        abertos = await recursos.abrir(call.user, conta["peg"], sorted(ids))
        existente = abertos["items"][0]
    recurso_id = str(existente["recurso_id"])
    await recursos.salvar(call.user, recurso_id, pedidas)
    await recursos.enviar(call.user, recurso_id)
    return recurso_id


async def _recurso(call: Call, conta: dict[str, Any], pedidas: list[dict[str, str]]) -> str:
    """`_enviado`, once more when a concurrent call took the lines first (409): the same
    message sent twice at once then finds the other's recurso and answers its receipt."""
    for tentativa in range(3):
        try:
            return await _enviado(call, conta, pedidas)
        except HTTPException as exc:
            motivo(exc)
            if exc.status_code != 409 or tentativa == 2:
                raise _recusa(exc) from None
            conta = await _conta(call, conta["peg"])
    raise AssertionError("unreachable")


async def _recibo_da_operadora(recurso_id: str) -> dict[str, Any]:
    """The operator's receipt of the recurso (its protocol number), waited for a bound."""
    loop = asyncio.get_running_loop()
    limite = loop.time() + espera.espera_segundos
    while True:
        try:
            recebido: dict[str, Any] = await recursos.operadora_obter(recurso_id)
            if recebido.get("numero_protocolo_recurso"):
                return recebido
        except HTTPException as exc:
            motivo(exc)  # a service down is a fault; 404: not received yet
        if loop.time() >= limite:
            raise WsFault(
                "ErroInesperadoServidor",
                "O recurso foi enviado à operadora, mas o recibo ainda não foi emitido: "
                "reenvie a mesma mensagem em instantes para receber o protocolo.",
            )
        await asyncio.sleep(0.2)


def _guia_recebida(parent: etree._Element, guia: GuiaPedida) -> None:
    """The received guide as `ct_recursoGlosaRecebimento/guiasRecurso`."""
    recebida = el(parent, "guiasRecurso")
    el(recebida, "numeroGuiaOrigem", guia.numero)
    if guia.numero_operadora:
        el(recebida, "numeroGuiaOperadora", guia.numero_operadora)
    if guia.senha:
        el(recebida, "senha", guia.senha)
    opcao = el(recebida, "opcaoRecursoGuia")
    for codigo, justificativa in guia.completas:
        rg = el(opcao, "recursoGuia")
        el(rg, "codGlosaGuia", codigo)
        el(rg, "justificativaGuia", justificativa[:150])
    for item in guia.itens:
        recebido = el(opcao, "itensGuia")
        el(recebido, "sequencialItem", item.sequencial)
        el(recebido, "dataInicio", item.data_inicio)
        if item.data_fim:
            el(recebido, "dataFim", item.data_fim)
        if item.proc is not None:
            recebido.append(copy.deepcopy(item.proc))
        if item.dente_regiao is not None:
            recebido.append(copy.deepcopy(item.dente_regiao))
        if item.dente_face:
            el(recebido, "denteFace", item.dente_face)
        el(recebido, "codGlosaItem", item.codigo)
        el(recebido, "valorRecursado", item.valor)
        el(recebido, "justificativaItem", item.justificativa)


def _recebimento(
    call: Call,
    guia_recurso: etree._Element,
    protocolo: etree._Element | None,
    guia: GuiaPedida | None,
    recebido: dict[str, Any],
) -> Reply:
    corpo = etree.Element(q("recebimentoRecurso"), nsmap={"ans": NS})
    recibo = el(corpo, "protocoloRecebimento")
    el(recibo, "nrProtocoloRecursoGlosa", str(recebido["numero_protocolo_recurso"])[:12])
    enviado = str(recebido.get("enviado_em") or recebido.get("data_recebimento"))[:10]
    el(recibo, "dataEnvioRecurso", enviado)
    el(recibo, "dataRecebimentoRecurso", str(recebido["data_recebimento"])[:10])
    el(recibo, "numeroLote", texto(guia_recurso, "ans:numeroLote")[:12])
    el(recibo, "registroANS", settings.operadora_registro_ans)
    dados_prestador(recibo, "dadosPrestador", str(call.user.provider_id))
    el(recibo, "nrProtocoloRecursado", texto(guia_recurso, "ans:numeroProtocolo")[:12])
    if protocolo is not None:
        recurso_protocolo = el(recibo, "recursoProtocolo")
        el(recurso_protocolo, "codigoGlosaProtocolo", texto(protocolo, "ans:codigoGlosaProtocolo"))
        justificativa = texto(protocolo, "ans:justificativaProtocolo")
        el(recurso_protocolo, "justificativaProtocolo", justificativa)
    if guia is not None:
        el(recibo, "qtGuiasRecurso", 1)
        _guia_recebida(recibo, guia)
    total = recebido.get("valor_total_recursado") or texto(guia_recurso, "ans:valorTotalRecursado")
    el(recibo, "valorTotalRecursado", _valor(str(total)))
    return Reply(RECEBIMENTO, corpo)


async def _receber(call: Call) -> Reply:
    guia_recurso = call.body.find("ans:guiaRecursoGlosa", ANS)
    odonto = guia_recurso is None
    if guia_recurso is None:
        guia_recurso = call.body.find("ans:guiaRecursoGlosaOdonto", ANS)
    if guia_recurso is None:
        raise Recusa("2908", "Mensagem sem guia de recurso de glosa.")
    if texto(guia_recurso, "ans:registroANS") != settings.operadora_registro_ans:
        raise Recusa(
            "5027",
            f"Este recurso é para o registro ANS {settings.operadora_registro_ans} "
            f"({settings.operadora_nome}).",
        )
    if not e_o_prestador(guia_recurso.find("ans:dadosContratado", ANS), call.user):
        raise Recusa("3242", "O contratado do recurso não é o prestador das credenciais.")
    protocolo = guia_recurso.find("ans:opcaoRecurso/ans:recursoProtocolo", ANS)
    guias = guia_recurso.findall("ans:opcaoRecurso/ans:recursoGuia", ANS)
    if protocolo is None and len(guias) != 1:
        raise Recusa(
            "2908",
            "Um recurso de glosa trata de uma única guia (Componente Organizacional TISS): "
            f"a mensagem tem {len(guias)}.",
        )
    conta = await _conta(call, texto(guia_recurso, "ans:numeroProtocolo"))
    guia = None
    if protocolo is not None:
        pedidas = _linhas_do_protocolo(protocolo, conta)
    else:
        guia = _guia_odonto(guias[0]) if odonto else _guia_medica(guias[0])
        pedidas = _linhas_pedidas(guia, conta)
    recurso_id = await _recurso(call, conta, pedidas)
    recebido = await _recibo_da_operadora(recurso_id)
    return _recebimento(call, guia_recurso, protocolo, guia, recebido)


@operation(
    "tissRecursoGlosa", request="loteRecursoGlosaWS", response="protocoloRecebimentoRecursoWS"
)
async def recurso_glosa(call: Call) -> Reply:
    """Recurso de glosa de uma guia: o mesmo recurso do portal (página Recursos de Glosa),
    com o protocolo de recebimento da operadora; reenviar a mesma mensagem devolve o mesmo
    protocolo."""
    try:
        return await _receber(call)
    except Recusa as recusa:
        corpo = etree.Element(q("recebimentoRecurso"), nsmap={"ans": NS})
        mensagem_erro(corpo, recusa.codigo, recusa.descricao)
        return Reply(RECEBIMENTO, corpo)


# -- situation ----------------------------------------------------------------------------
async def _do_protocolo(call: Call, numero: str) -> dict[str, Any] | None:
    """The clinic's recurso whose operator protocol is `numero` (its own only)."""
    try:
        lista = await recursos.listar(call.user)
        for recurso in lista["items"]:
            if recurso.get("numero_protocolo_recurso") == numero:
                return recurso
        # The operator's receipt reaches the clinic's record a moment after the answer
        # of `tissRecursoGlosa`: a sent recurso still without it is asked directly.
        for recurso in lista["items"]:
            if recurso["situacao"] == "enviado" and not recurso.get("numero_protocolo_recurso"):
                recebido = await recursos.operadora_obter(recurso["recurso_id"])
                if recebido.get("numero_protocolo_recurso") == numero:
                    keys = ("situacao", "numero_protocolo_recurso", "data_recebimento")
                    return {**recurso, **{k: recebido.get(k) for k in keys}}
    except HTTPException as exc:
        motivo(exc)
    return None


def _status(
    call: Call, numero: str, situacao: str, recurso: dict[str, Any] | None
) -> etree._Element:
    corpo = etree.Element(q("situacaoProtocoloRecurso"), nsmap={"ans": NS})
    status = el(corpo, "reciboGlosaStatus")
    hoje = date.today().isoformat()
    recurso = recurso or {}
    el(status, "nrProtocoloRecursoGlosa", numero[:12])
    el(status, "dataEnvioRecurso", str(recurso.get("enviado_em") or hoje)[:10])
    el(status, "dataRecebimentoRecurso", str(recurso.get("data_recebimento") or hoje)[:10])
    el(status, "numeroLote", str(recurso.get("numero_lote") or "0")[:12])
    el(status, "registroANS", settings.operadora_registro_ans)
    dados_prestador(status, "dadosPrestador", str(call.user.provider_id))
    el(status, "nrProtocoloSituacaoRecursoGlosa", numero[:12])
    el(status, "dataSituacao", hoje)
    el(status, "situacaoProtocolo", situacao)
    return corpo


@operation(
    "tissSolicitacaoStatusRecursoGlosa",
    request="solicitacaoStatusRecursoGlosaWS",
    response="situacaoProtocoloRecursoWS",
)
async def status_recurso_glosa(call: Call) -> Reply:
    """Situação do recurso pelo protocolo de recebimento; respondido, a resposta da
    operadora (reciboGlosa: acatado S/N e valor por item); 7 (não localizado) para um
    protocolo desconhecido ou de outro prestador."""
    numero = texto(call.body, "ans:numeroProtocolo")
    recurso = None
    if e_o_prestador(call.body.find("ans:dadosPrestador", ANS), call.user):
        recurso = await _do_protocolo(call, numero)
    if recurso is None:
        return Reply(RESPOSTA, _status(call, numero, "7", None))
    if recurso["situacao"] == "respondido":
        try:
            resposta = await recursos.arquivo(call.user, recurso["recurso_id"], "resposta")
        except HTTPException as exc:
            motivo(exc)
        else:
            doc = etree.fromstring(
                bytes(resposta.body), etree.XMLParser(resolve_entities=False, no_network=True)
            )
            recibo = doc.find(".//ans:respostaRecursoGlosa/ans:reciboGlosa", ANS)
            if recibo is not None:
                corpo = etree.Element(q("situacaoProtocoloRecurso"), nsmap={"ans": NS})
                corpo.append(recibo)
                return Reply(RESPOSTA, corpo)
    return Reply(RESPOSTA, _status(call, numero, SITUACAO.get(recurso["situacao"], "2"), recurso))
