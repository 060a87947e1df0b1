"""The TISS messages of a protocol, built with `tissflow_tiss` (envelope, hash, version):
PROTOCOLO_RECEBIMENTO (the operator's receipt of a lote), SOLIC_STATUS_PROTOCOLO (the
clinic asks for the situation) and SITUACAO_PROTOCOLO (the operator's answer).

Each is built from the protocol as recorded, so the same facts make the same bytes; tests
validate them against the ANS XSD of the version in force and recompute the hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from tissflow_tiss import Parte, codigos_glosa_xsd, el, finalizar, mensagem, prestador_id

ZERO = Decimal("0.00")


def _money(value: Any) -> str:
    return f"{Decimal(str(value or '0')):.2f}"


def _dados_prestador(parent: etree._Element, provider_id: str) -> None:
    prestador_id(el(parent, "dadosPrestador"), provider_id, "cnpjContratado", "cpfContratado")


def _motivos(parent: etree._Element, glosas: Iterable[dict[str, Any]]) -> None:
    for glosa in glosas:
        motivo = el(parent, "motivoGlosa")
        el(motivo, "codigoGlosa", glosa["codigo"])
        if glosa.get("descricao"):
            el(motivo, "descricaoGlosa", str(glosa["descricao"])[:500])


def _glosas_da_guia(analise: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The guide's glosa codes (its own and its items'), once each, that the XSD's
    dm_tipoGlosa enumerates (table 38 has codes the message cannot carry)."""
    if not analise:
        return []
    permitidos = codigos_glosa_xsd()
    vistos: dict[str, dict[str, Any]] = {}
    for glosa in [
        *analise.get("glosas", []),
        *(g for i in analise.get("itens", []) for g in i.get("glosas", [])),
    ]:
        if glosa["codigo"] in permitidos:
            vistos.setdefault(glosa["codigo"], glosa)
    return list(vistos.values())


def _guias(doc: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each guide of the lote as sent, with its analysis when there is one."""
    analise = {g["numero_guia_prestador"]: g for g in doc.get("guias") or []}
    lote = doc.get("guias_lote") or []
    if not lote:
        # A lote.sent without guides (an older batching): the analysis names them.
        lote = [
            {"numero_guia_prestador": n, "valor_informado": g.get("valor_processado")}
            for n, g in analise.items()
        ] or [{"numero_guia_prestador": doc["numero_lote"], "valor_informado": None}]
    return [(g, analise.get(g["numero_guia_prestador"])) for g in lote]


def _guia(parent: etree._Element, odonto: bool, guia: dict[str, Any], analise: Any) -> None:
    node = el(parent, "dadosGuiasOdonto" if odonto else "dadosGuias")
    el(node, "numeroGuiaPrestador", guia["numero_guia_prestador"][:20])
    if guia.get("numero_guia_operadora"):
        el(node, "numeroGuiaOperadora", guia["numero_guia_operadora"][:20])
    carteira = (guia.get("numero_carteira") or "0")[:20]
    if odonto:
        el(node, "numeroCarteira", carteira)
        el(node, "atendimentoRN", "N")
    else:
        beneficiario = el(node, "dadosBeneficiario")
        el(beneficiario, "numeroCarteira", carteira)
        el(beneficiario, "atendimentoRN", "N")
        if guia.get("data_atendimento"):
            el(node, "dataRealizacao", str(guia["data_atendimento"])[:10])
    valores = el(node, "vlInformadoGuia")
    informado = guia.get("valor_informado")
    if analise:
        el(valores, "valorProcessado", _money(analise["valor_processado"]))
        el(valores, "valorGlosa", _money(analise["valor_glosado"]))
        el(valores, "valorLiberado", _money(analise["valor_liberado"]))
    else:
        el(valores, "valorProcessado", _money(informado))
        el(valores, "valorGlosa", _money(ZERO))
        el(valores, "valorLiberado", _money(ZERO))
    glosas = _glosas_da_guia(analise)
    if glosas:
        _motivos(el(node, "glosaGuia"), glosas)


def _odonto(doc: dict[str, Any]) -> bool:
    return doc.get("tipo_guia") == "odontologia"


def _data_envio(doc: dict[str, Any]) -> str:
    sent = doc.get("sent_at") or doc["created_at"]
    return (
        sent.date() if isinstance(sent, datetime) else date.fromisoformat(str(sent)[:10])
    ).isoformat()


def protocolo_recebimento(doc: dict[str, Any], registro_ans: str, quando: datetime) -> bytes:
    """PROTOCOLO_RECEBIMENTO: the operator received the lote and gave it this PEG."""
    root, body = mensagem(
        "PROTOCOLO_RECEBIMENTO",
        doc["_id"],
        quando,
        Parte.operadora(registro_ans),
        Parte.prestador(doc["provider_id"]),
    )
    recebimento = el(el(body, "recebimentoLote"), "protocoloRecebimento")
    el(recebimento, "registroANS", registro_ans)
    _dados_prestador(recebimento, doc["provider_id"])
    el(recebimento, "numeroLote", str(doc.get("numero_lote_prestador") or doc["numero_lote"])[:12])
    el(recebimento, "dataEnvioLote", _data_envio(doc))
    detalhe = el(recebimento, "detalheProtocolo")
    el(detalhe, "numeroProtocolo", doc["_id"])
    el(detalhe, "valorTotalProtocolo", _money(doc.get("valor_informado")))
    guias = el(detalhe, "dadosGuiasProtocolo")
    for guia, _ in _guias(doc):
        _guia(guias, _odonto(doc), guia, None)
    return finalizar(root)


def solicitacao_status(doc: dict[str, Any], sequencial: str, quando: datetime) -> bytes:
    """SOLIC_STATUS_PROTOCOLO: the clinic asks the operator for the protocol's situation."""
    root, body = mensagem(
        "SOLIC_STATUS_PROTOCOLO",
        sequencial,
        quando,
        Parte.prestador(doc["provider_id"]),
        Parte.operadora(doc.get("registro_ans") or "000000"),
    )
    pedido = el(body, "solicitacaoStatusProtocolo")
    _dados_prestador(pedido, doc["provider_id"])
    el(pedido, "numeroProtocolo", doc["_id"])
    return finalizar(root)


def situacao_protocolo(
    doc: dict[str, Any], registro_ans: str, sequencial: str, quando: datetime
) -> bytes:
    """SITUACAO_PROTOCOLO: the protocol's dm_statusProtocolo, values and guides now."""
    root, body = mensagem(
        "SITUACAO_PROTOCOLO",
        sequencial,
        quando,
        Parte.operadora(registro_ans),
        Parte.prestador(doc["provider_id"]),
    )
    situacao = el(el(body, "situacaoProtocolo"), "situacaoDoProtocolo")
    el(situacao, "identificacaoOperadora", registro_ans)
    _dados_prestador(situacao, doc["provider_id"])
    detalhe = el(el(situacao, "lote"), "detalheLote")
    el(detalhe, "statusProtocolo", str(doc["status"]))
    el(detalhe, "numeroProtocolo", doc["_id"])
    el(detalhe, "numeroLote", str(doc.get("numero_lote_prestador") or doc["numero_lote"])[:12])
    el(detalhe, "dataEnvioLote", _data_envio(doc))
    total = el(detalhe, "valorTotalLote")
    analisado = doc.get("valor_liberado") is not None
    el(total, "valorProcessado", _money(doc.get("valor_processado") or doc.get("valor_informado")))
    el(total, "valorGlosa", _money(doc.get("valor_glosado") if analisado else ZERO))
    el(total, "valorLiberado", _money(doc.get("valor_liberado") if analisado else ZERO))
    guias = el(detalhe, "guiasTISS")
    odonto = _odonto(doc)
    for guia, analise in _guias(doc):
        wrapper = el(guias, "guiasOdonto" if odonto else "guiasMedicas")
        _guia_situacao(wrapper, odonto, guia, analise)
    return finalizar(root)


def _guia_situacao(
    wrapper: etree._Element, odonto: bool, guia: dict[str, Any], analise: Any
) -> None:
    # ct_loteStatus wraps each guide in `guias` (same ct_guiaDados/ct_guiaDadosOdonto).
    holder = etree.SubElement(wrapper, "tmp")
    _guia(holder, odonto, guia, analise)
    node = holder[0]
    node.tag = node.tag.rsplit("}", 1)[0] + "}guias"
    wrapper.replace(holder, node)
