"""The TISS messages of a recurso de glosa (version in force), built with `tissflow_tiss`.

- RECURSO_GLOSA (`prestadorParaOperadora/recursoGlosa/guiaRecursoGlosa`): the clinic's
  appeal of one guide, by items (`itensGuia`) or the guide's own glosa
  (`recursoGuiaCompleta`), or of the protocol's own glosa (`recursoProtocolo`);
- RESPOSTA_RECURSO_GLOSA (`operadoraParaPrestador/respostaRecursoGlosa/reciboGlosa`): the
  operator's answer per protocol, guide or item (acatado S/N, valor acatado, justificativa);
- SOLIC_STATUS_RECURSO_GLOSA and its answer (`reciboGlosaStatus`) for "Atualizar situação".

Each builder returns ISO-8859-1 bytes with `epilogo/hash`; callers check them with
`erros_de_schema` before they leave.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tissflow_tiss import Parte, el, finalizar, mensagem, prestador_id

from tissflow_recursos.domain.model import money

TABELAS = {"18", "19", "20", "22", "90", "98", "00"}


def _dec(value: Any) -> str:
    return str(money(value))


def _digits(value: str | None, size: int = 12) -> str:
    """st_numerico fields (lote, protocolo): only digits; the last `size` of them."""
    only = re.sub(r"\D", "", value or "")
    return (only or "0")[-size:]


def _sequencial(recurso_id: str, salt: int = 0) -> str:
    return str(int(re.sub(r"[^0-9a-f]", "", recurso_id.lower()) or "0", 16) + salt)[-12:]


def _contratado(parent: Any, tag: str, provider_id: str) -> None:
    prestador_id(el(parent, tag), provider_id, cnpj_tag="cnpjContratado", cpf_tag="cpfContratado")


def _proc(parent: Any, linha: dict[str, Any]) -> None:
    proc = el(parent, "procRecurso")
    tabela = linha.get("codigo_tabela") or "22"
    el(proc, "codigoTabela", tabela if tabela in TABELAS else "00")
    el(proc, "codigoProcedimento", (linha.get("codigo_procedimento") or "0")[:10])
    el(proc, "descricaoProcedimento", (linha.get("descricao") or "PROCEDIMENTO")[:150])


def recurso_glosa(recurso: dict[str, Any], *, operadora_nome: str, quando: datetime) -> bytes:
    """RECURSO_GLOSA of one guide (one recurso = one guide, Componente Organizacional)."""
    registro_ans = recurso["registro_ans"]
    root, body = mensagem(
        "RECURSO_GLOSA",
        _sequencial(recurso["_id"]),
        quando,
        Parte.prestador(recurso["provider_id"]),
        Parte.operadora(registro_ans),
    )
    guia = el(el(body, "recursoGlosa"), "guiaRecursoGlosa")
    el(guia, "registroANS", registro_ans)
    el(guia, "numeroGuiaRecGlosaPrestador", recurso["numero_guia_recurso"])
    el(guia, "nomeOperadora", operadora_nome[:70])
    protocolo = recurso.get("objeto") == "protocolo"
    el(guia, "objetoRecurso", "1" if protocolo else "2")  # recurso de protocolo / de guia
    _contratado(guia, "dadosContratado", recurso["provider_id"])
    el(guia, "numeroLote", (recurso.get("numero_lote") or "0")[:12])
    el(guia, "numeroProtocolo", _digits(recurso["peg"]))
    if protocolo:
        # The protocol's own glosa: one table-38 code and its justificativa per message.
        [linha] = recurso["linhas"]
        rp = el(el(guia, "opcaoRecurso"), "recursoProtocolo")
        el(rp, "codigoGlosaProtocolo", linha["codigo_glosa"])
        el(rp, "justificativaProtocolo", linha["justificativa"].strip()[:500])
        el(guia, "valorTotalRecursado", _dec(linha["valor_recursado"]))
        el(guia, "dataRecurso", quando.date().isoformat())
        return finalizar(root)
    rg = el(el(guia, "opcaoRecurso"), "recursoGuia")
    el(rg, "numeroGuiaOrigem", recurso["numero_guia"][:20])
    if recurso.get("numero_guia_operadora"):
        el(rg, "numeroGuiaOperadora", recurso["numero_guia_operadora"][:20])
    if recurso.get("senha"):
        el(rg, "senha", recurso["senha"][:20])
    opcao = el(rg, "opcaoRecursoGuia")
    total = Decimal("0.00")
    for linha in recurso["linhas"]:
        total += money(linha["valor_recursado"])
        if linha.get("sequencial_item") is None:
            completa = el(opcao, "recursoGuiaCompleta")
            el(completa, "codGlosaGuia", linha["codigo_glosa"])
            el(completa, "justificativaGuia", linha["justificativa"].strip()[:500])
            continue
        item = el(opcao, "itensGuia")
        el(item, "sequencialItem", linha["sequencial_item"])
        el(item, "dataInicio", (linha.get("data_inicio") or quando.date().isoformat())[:10])
        _proc(item, linha)
        el(item, "codGlosaItem", linha["codigo_glosa"])
        el(item, "valorRecursado", _dec(linha["valor_recursado"]))
        el(item, "justificativaItem", linha["justificativa"].strip()[:500])
    el(guia, "valorTotalRecursado", _dec(total))
    el(guia, "dataRecurso", quando.date().isoformat())
    return finalizar(root)


def resposta_recurso_glosa(
    recurso: dict[str, Any],
    respostas: dict[str, dict[str, Any]],
    *,
    operadora_nome: str,
    quando: datetime,
) -> bytes:
    """RESPOSTA_RECURSO_GLOSA (`reciboGlosa`): the operator's answer, per guide or item."""
    registro_ans = recurso["registro_ans"]
    root, body = mensagem(
        "RESPOSTA_RECURSO_GLOSA",
        _sequencial(recurso["_id"], 1),
        quando,
        Parte.operadora(registro_ans),
        Parte.prestador(recurso["provider_id"]),
    )
    recibo = el(el(body, "respostaRecursoGlosa"), "reciboGlosa")
    el(recibo, "registroANS", registro_ans)
    el(recibo, "numeroGuiaRecGlosaPrestador", recurso["numero_guia_recurso"])
    if recurso.get("numero_protocolo_recurso"):
        el(recibo, "numeroGuiaRecGlosaOperadora", recurso["numero_protocolo_recurso"][:20])
    el(recibo, "nomeOperadora", operadora_nome[:70])
    protocolo = recurso.get("objeto") == "protocolo"
    el(recibo, "objetoRecurso", "1" if protocolo else "2")
    el(recibo, "codigoPrestador", recurso["provider_id"][:14])
    el(recibo, "numeroLote", _digits(recurso.get("numero_lote")))
    el(recibo, "numeroProtocolo", _digits(recurso["peg"]))
    opcao = el(recibo, "opcaoRecurso")
    recursado = acatado = Decimal("0.00")
    for linha in recurso["linhas"] if protocolo else []:
        resposta = respostas[linha["linha_id"]]
        recursado += money(linha["valor_recursado"])
        acatado += money(resposta["valor_acatado"])
        rp = el(opcao, "recursoProtocolo")
        el(rp, "codigoGlosaProtocolo", linha["codigo_glosa"])
        el(rp, "justificativaProtocolo", linha["justificativa"].strip()[:500])
        el(rp, "recursoAcatado", "S" if resposta["acatado"] else "N")
        if resposta.get("justificativa"):
            el(rp, "justificativaOPSnaoAcatadoProt", resposta["justificativa"][:500])
    for linha in [] if protocolo else recurso["linhas"]:
        resposta = respostas[linha["linha_id"]]
        recursado += money(linha["valor_recursado"])
        acatado += money(resposta["valor_acatado"])
        rg = el(opcao, "recursoGuia")
        if linha.get("sequencial_item") is None:
            guia = el(rg, "respostaGuia")
            _guia_ids(guia, recurso)
            el(guia, "codGlosa", linha["codigo_glosa"])
            el(guia, "justificativaPrestador", linha["justificativa"].strip()[:500])
            el(guia, "recursoGuiaAcatado", "S" if resposta["acatado"] else "N")
            if resposta.get("justificativa"):
                el(guia, "justificativaOPSnaoAcatadoGuia", resposta["justificativa"][:500])
            continue
        item = el(rg, "respostaGuiaItens")
        _guia_ids(item, recurso)
        el(item, "dataRealizacao", (linha.get("data_inicio") or quando.date().isoformat())[:10])
        el(item, "sequencialItem", linha["sequencial_item"])
        _proc(item, linha)
        el(item, "codGlosa", linha["codigo_glosa"])
        el(item, "valorRecursado", _dec(linha["valor_recursado"]))
        el(item, "justificativaPrestador", linha["justificativa"].strip()[:500])
        el(item, "valorAcatadado", _dec(resposta["valor_acatado"]))
        if resposta.get("justificativa"):
            el(item, "justificativaOperadora", resposta["justificativa"][:500])
    el(recibo, "dataRecurso", str(recurso.get("enviado_em") or quando.isoformat())[:10])
    el(recibo, "valorTotalRecursado", _dec(recursado))
    el(recibo, "valorTotalAcatado", _dec(acatado))
    return finalizar(root)


def _guia_ids(parent: Any, recurso: dict[str, Any]) -> None:
    el(parent, "numeroGuiaPrestador", recurso["numero_guia"][:20])
    if recurso.get("numero_guia_operadora"):
        el(parent, "numeroGuiaOperadora", recurso["numero_guia_operadora"][:20])
    if recurso.get("senha"):
        el(parent, "senha", recurso["senha"][:20])


def solicitacao_status(
    recurso: dict[str, Any], *, numero_protocolo: str, quando: datetime, salt: int = 2
) -> bytes:
    """SOLIC_STATUS_RECURSO_GLOSA: the clinic asks the situation of a recurso protocol."""
    root, body = mensagem(
        "SOLIC_STATUS_RECURSO_GLOSA",
        _sequencial(recurso["_id"], salt),
        quando,
        Parte.prestador(recurso["provider_id"]),
        Parte.operadora(recurso["registro_ans"]),
    )
    pedido = el(body, "solicitacaoStatusRecursoGlosa")
    _contratado(pedido, "dadosPrestador", recurso["provider_id"])
    el(pedido, "numeroProtocolo", numero_protocolo[:12])
    return finalizar(root)


# dm_statusProtocolo as a recurso's situation: received, in analysis, analysed.
STATUS_RECURSO = {"recebido": "1", "em_analise": "2", "respondido": "5"}


def recibo_status(
    recurso: dict[str, Any],
    *,
    situacao: str,
    data_envio: date,
    data_recebimento: date,
    data_situacao: date,
    quando: datetime,
) -> bytes:
    """The operator's answer to SOLIC_STATUS_RECURSO_GLOSA (`reciboGlosaStatus`)."""
    root, body = mensagem(
        "RESPOSTA_RECURSO_GLOSA",
        _sequencial(recurso["_id"], 3),
        quando,
        Parte.operadora(recurso["registro_ans"]),
        Parte.prestador(recurso["provider_id"]),
    )
    status = el(el(body, "respostaRecursoGlosa"), "reciboGlosaStatus")
    el(status, "nrProtocoloRecursoGlosa", recurso["numero_protocolo_recurso"][:12])
    el(status, "dataEnvioRecurso", data_envio.isoformat())
    el(status, "dataRecebimentoRecurso", data_recebimento.isoformat())
    el(status, "numeroLote", (recurso.get("numero_lote") or "0")[:12])
    el(status, "registroANS", recurso["registro_ans"])
    _contratado(status, "dadosPrestador", recurso["provider_id"])
    el(status, "nrProtocoloSituacaoRecursoGlosa", recurso["numero_protocolo_recurso"][:12])
    el(status, "dataSituacao", data_situacao.isoformat())
    el(status, "situacaoProtocolo", STATUS_RECURSO[situacao])
    return finalizar(root)
