"""The demonstrativo as the operator sends it back: the facts, and the TISS 4.03.00 message.

Plain Python and lxml, no I/O but reading the XSD from the installed `tiss` package. The
same facts make the XML (`mensagem_xml`) and the PDF (`pdf.render_pdf`), so the two never
disagree. Building is deterministic: a redelivered event makes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from lxml import etree
from tissflow_tiss import (
    NS,
    codigos_glosa_xsd,
    el,
    epilogo_hash,
    prestador_id,
)

PADRAO = "4.03.00"
CENTAVO = Decimal("0.01")
# ANS: the CNES field of a provider without one carries 9999999.
CNES_NAO_INFORMADO = "9999999"
TIPO_TRANSACAO = {"analise": "DEMONSTRATIVO_ANALISE_CONTA", "pagamento": "DEMONSTRATIVO_PAGAMENTO"}
TITULOS = {
    "analise": "Demonstrativo de Análise de Conta",
    "pagamento": "Demonstrativo de Pagamento",
}
# dm_formaPagamento 1: depósito/transferência bancária.
FORMA_PAGAMENTO = "1"
# dm_tipoPagamento 1: pagamento inicial (2 would be a recurso de glosa).
TIPO_PAGAMENTO_INICIAL = "1"


def money(value: Any) -> Decimal:
    """A value in reais with two decimals; None and "" are zero."""
    if value in (None, ""):
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENTAVO, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Glosa:
    """A glosa the operator applied to a guide: table-38 code, value and description."""

    codigo: str
    valor: Decimal
    descricao: str | None = None


@dataclass(frozen=True, slots=True)
class Guia:
    numero_guia_prestador: str
    numero_carteira: str | None
    data: date | None
    valor_informado: Decimal
    valor_processado: Decimal
    valor_liberado: Decimal
    valor_glosado: Decimal
    glosas: tuple[Glosa, ...] = ()


@dataclass(frozen=True, slots=True)
class Demonstrativo:
    """Everything a demonstrativo states; `guias` empty when only lote totals are known."""

    tipo: Literal["analise", "pagamento"]
    numero: str
    peg: str
    numero_lote: str
    situacao: int
    registro_ans: str
    operadora_nome: str
    operadora_cnpj: str
    provider_id: str
    prestador_nome: str | None
    emitido_em: datetime
    data_protocolo: date
    data_pagamento: date | None
    valor_informado: Decimal
    valor_processado: Decimal
    valor_liberado: Decimal
    valor_glosado: Decimal
    guias: list[Guia] = field(default_factory=list)
    numeros_guias: list[str] = field(default_factory=list)

    @property
    def titulo(self) -> str:
        return TITULOS[self.tipo]

    @property
    def por_guia(self) -> bool:
        return bool(self.guias)

    @property
    def com_glosas(self) -> list[Guia]:
        """The guides the operator glosed with a code (the PDF's "Glosas" section)."""
        return [g for g in self.guias if g.glosas]


def ratear_glosa(informados: list[Decimal], glosa: Decimal) -> list[Decimal]:
    """Split a protocol-level glosa across guides in proportion to their values, to the
    centavo, the rounding remainder on the largest guide, so guides add up to the total."""
    total = sum(informados, Decimal("0"))
    if not informados or glosa == 0 or total == 0:
        return [Decimal("0.00")] * len(informados)
    partes = [(v * glosa / total).quantize(CENTAVO, ROUND_HALF_UP) for v in informados]
    maior = max(range(len(informados)), key=lambda i: informados[i])
    partes[maior] += glosa - sum(partes, Decimal("0"))
    return partes


def guias_do_resultado(guias: list[dict[str, Any]], glosa_protocolo: Decimal | None) -> list[Guia]:
    """Guides from validation's result, with the operator's glosa spread over them."""
    validas = [g for g in guias if g.get("numero_guia_prestador")]
    informados = [money(g.get("valor_total")) for g in validas]
    glosas = ratear_glosa(informados, money(glosa_protocolo))
    out = []
    for g, informado, glosa in zip(validas, informados, glosas, strict=True):
        out.append(
            Guia(
                numero_guia_prestador=str(g["numero_guia_prestador"]),
                numero_carteira=g.get("numero_carteira"),
                data=_data(g.get("data")),
                valor_informado=informado,
                valor_processado=informado,
                valor_liberado=informado - glosa,
                valor_glosado=glosa,
            )
        )
    return out


def guias_da_analise(guias: list[dict[str, Any]], analise: list[dict[str, Any]]) -> list[Guia]:
    """Guides with the operator's own analysis per guide (values and glosa codes).

    Carteira, date and informed value come from validation's result where it has the guide;
    a guide the analysis leaves out is shown as informed, without glosa."""
    resultado = {
        str(g["numero_guia_prestador"]): g for g in guias if g.get("numero_guia_prestador")
    }
    por_numero = {str(a["numero_guia_prestador"]): a for a in analise}
    numeros = list(resultado) + [n for n in por_numero if n not in resultado]
    out = []
    for numero in numeros:
        g = resultado.get(numero, {})
        a = por_numero.get(numero)
        if a is None:
            informado = money(g.get("valor_total"))
            processado = liberado = informado
            glosado = Decimal("0.00")
            glosas: tuple[Glosa, ...] = ()
        else:
            processado = money(a.get("valor_processado"))
            informado = money(g["valor_total"]) if g.get("valor_total") else processado
            liberado = money(a.get("valor_liberado"))
            glosado = money(a.get("valor_glosado"))
            glosas = tuple(
                Glosa(str(x["codigo"]), money(x.get("valor")), x.get("descricao"))
                for x in a.get("glosas") or []
            )
        out.append(
            Guia(
                numero_guia_prestador=numero,
                numero_carteira=g.get("numero_carteira"),
                data=_data(g.get("data")),
                valor_informado=informado,
                valor_processado=processado,
                valor_liberado=liberado,
                valor_glosado=glosado,
                glosas=glosas,
            )
        )
    return out


def _data(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# --- the XML message -------------------------------------------------------------------


_el = el


_prestador_id = prestador_id


def _contratado(parent: etree._Element, provider_id: str) -> None:
    """ct_contratadoDados."""
    _prestador_id(parent, provider_id, "cnpjContratado", "cpfContratado")


def _identificacao_prestador(parent: etree._Element, provider_id: str) -> None:
    _prestador_id(parent, provider_id, "CNPJ", "CPF")


def _cabecalho_demonstrativo(parent: etree._Element, d: Demonstrativo) -> None:
    cab = _el(parent, "cabecalhoDemonstrativo")
    _el(cab, "registroANS", d.registro_ans)
    _el(cab, "numeroDemonstrativo", d.numero[:20])
    _el(cab, "nomeOperadora", d.operadora_nome[:70])
    _el(cab, "numeroCNPJ", d.operadora_cnpj)
    _el(cab, "dataEmissao", d.emitido_em.date().isoformat())


def _analise(parent: etree._Element, d: Demonstrativo) -> None:
    dem = _el(parent, "demonstrativoAnaliseConta")
    _cabecalho_demonstrativo(dem, d)
    prestador = _el(dem, "dadosPrestador")
    _contratado(_el(prestador, "dadosContratado"), d.provider_id)
    _el(prestador, "CNES", CNES_NAO_INFORMADO)
    protocolo = _el(_el(dem, "dadosConta"), "dadosProtocolo")
    _el(protocolo, "numeroLotePrestador", d.numero_lote[:12])
    _el(protocolo, "numeroProtocolo", d.peg[:12])
    _el(protocolo, "dataProtocolo", d.data_protocolo.isoformat())
    _el(protocolo, "situacaoProtocolo", d.situacao)
    for g in d.guias:
        guia = _el(protocolo, "relacaoGuias")
        _el(guia, "numeroGuiaPrestador", g.numero_guia_prestador[:20])
        _el(guia, "numeroCarteira", (g.numero_carteira or "0")[:20])
        _el(guia, "dataInicioFat", (g.data or d.data_protocolo).isoformat())
        fora_do_xsd = []
        for glosa in g.glosas:
            if glosa.codigo not in codigos_glosa_xsd():
                fora_do_xsd.append(glosa)
                continue
            motivo = _el(guia, "motivoGlosaGuia")
            _el(motivo, "codigoGlosa", glosa.codigo)
            if glosa.descricao:
                _el(motivo, "descricaoGlosa", glosa.descricao[:500])
        _el(guia, "situacaoGuia", d.situacao)
        _el(guia, "valorInformadoGuia", g.valor_informado)
        _el(guia, "valorProcessadoGuia", g.valor_processado)
        _el(guia, "valorLiberadoGuia", g.valor_liberado)
        _el(guia, "valorGlosaGuia", g.valor_glosado)
        if fora_do_xsd:
            # Codes newer than the 4.03.00 dm_tipoGlosa list: stated in the observation.
            texto = "; ".join(
                f"Glosa {x.codigo} ({x.descricao or 'tabela 38'}): {x.valor}" for x in fora_do_xsd
            )
            _el(guia, "observacao", texto[:500])
    _el(protocolo, "valorInformadoProtocolo", d.valor_informado)
    _el(protocolo, "valorProcessadoProtocolo", d.valor_processado)
    _el(protocolo, "valorLiberadoProtocolo", d.valor_liberado)
    _el(protocolo, "valorGlosaProtocolo", d.valor_glosado)
    _el(dem, "valorInformadoGeral", d.valor_informado)
    _el(dem, "valorProcessadoGeral", d.valor_processado)
    _el(dem, "valorLiberadoGeral", d.valor_liberado)
    _el(dem, "valorGlosaGeral", d.valor_glosado)
    if not d.por_guia:
        _el(dem, "observacao", OBSERVACAO_SEM_GUIAS)


OBSERVACAO_SEM_GUIAS = (
    "Valores por guia indisponíveis; os valores informados são os totais do protocolo."
)


def _pagamento(parent: etree._Element, d: Demonstrativo) -> None:
    dem = _el(parent, "demonstrativoPagamento")
    _cabecalho_demonstrativo(dem, d)
    contratado = _el(dem, "dadosContratado")
    _contratado(_el(contratado, "dadosPrestador"), d.provider_id)
    _el(contratado, "CNES", CNES_NAO_INFORMADO)
    por_data = _el(_el(dem, "pagamentos"), "pagamentosPorData")
    dados = _el(por_data, "dadosPagamento")
    _el(dados, "dataPagamento", (d.data_pagamento or d.emitido_em.date()).isoformat())
    _el(dados, "formaPagamento", FORMA_PAGAMENTO)
    resumo = _el(_el(por_data, "dadosResumo"), "relacaoProtocolos")
    _el(resumo, "dataProtocolo", d.data_protocolo.isoformat())
    _el(resumo, "numeroProtocolo", d.peg[:12])
    _el(resumo, "numeroLote", d.numero_lote[:12])
    _el(resumo, "valorInformado", d.valor_informado)
    _el(resumo, "valorProcessado", d.valor_processado)
    _el(resumo, "valorLiberado", d.valor_liberado)
    _el(resumo, "valorGlosa", d.valor_glosado)
    zero = Decimal("0.00")
    if d.por_guia:
        linhas = [
            (g.numero_guia_prestador, g.valor_processado, g.valor_liberado, g.valor_glosado)
            for g in d.guias[:100]
        ]
    else:
        # The schema wants at least one guide: the lote's numbers, values on the protocol.
        linhas = [(n, zero, zero, zero) for n in (d.numeros_guias or [d.numero_lote])[:100]]
    for numero, processado, liberado, glosado in linhas:
        guia = _el(resumo, "guiasDoLote")
        _el(guia, "numeroGuiaPrestador", numero[:20])
        _el(guia, "tipoPagamento", TIPO_PAGAMENTO_INICIAL)
        _el(guia, "valorProcessadoGuia", processado)
        _el(guia, "valorLiberadoGuia", liberado)
        _el(guia, "valorGlosaGuia", glosado)
    brutos = _el(por_data, "totaisBrutosPorData")
    _el(brutos, "totalInformadoPorData", d.valor_informado)
    _el(brutos, "totalProcessadoPorData", d.valor_processado)
    _el(brutos, "totaLiberadoPorData", d.valor_liberado)
    _el(brutos, "totalGlosaPorData", d.valor_glosado)
    liquidos = _el(por_data, "totaisLiquidosPorData")
    _el(liquidos, "totalDebitosPorData", zero)
    _el(liquidos, "totalCreditosPorData", zero)
    _el(liquidos, "liquidoPorData", d.valor_liberado)
    totais = _el(dem, "totaisDemonstrativo")
    brutos = _el(totais, "totaisBrutosDemonstrativo")
    _el(brutos, "valorInformadoBruto", d.valor_informado)
    _el(brutos, "valorProcessadoBruto", d.valor_processado)
    _el(brutos, "valorLiberadoBruto", d.valor_liberado)
    _el(brutos, "valorGlosaBruto", d.valor_glosado)
    liquidos = _el(totais, "totaisLiquidosDemonstrativo")
    _el(liquidos, "totalDebitosDemonstrativo", zero)
    _el(liquidos, "totalCreditosdemonstrativo", zero)
    _el(liquidos, "valorLiberadoDemonstrativo", d.valor_liberado)
    if not d.por_guia:
        _el(dem, "observacao", OBSERVACAO_SEM_GUIAS)


def mensagem(d: Demonstrativo) -> etree._Element:
    """`mensagemTISS` from the operator (origem registroANS) to the provider (destino)."""
    root = etree.Element(f"{{{NS}}}mensagemTISS", nsmap={"ans": NS})
    cab = _el(root, "cabecalho")
    ident = _el(cab, "identificacaoTransacao")
    _el(ident, "tipoTransacao", TIPO_TRANSACAO[d.tipo])
    _el(ident, "sequencialTransacao", d.peg[-12:])
    _el(ident, "dataRegistroTransacao", d.emitido_em.date().isoformat())
    _el(ident, "horaRegistroTransacao", d.emitido_em.strftime("%H:%M:%S"))
    _el(_el(cab, "origem"), "registroANS", d.registro_ans)
    _identificacao_prestador(_el(_el(cab, "destino"), "identificacaoPrestador"), d.provider_id)
    _el(cab, "Padrao", PADRAO)
    retorno = _el(_el(root, "operadoraParaPrestador"), "demonstrativosRetorno")
    (_analise if d.tipo == "analise" else _pagamento)(retorno, d)
    epilogo = _el(root, "epilogo")
    _el(epilogo, "hash", epilogo_hash(root))
    return root


def mensagem_xml(d: Demonstrativo) -> bytes:
    """The message as ISO-8859-1 bytes (the standard's encoding), with its declaration."""
    return etree.tostring(mensagem(d), xml_declaration=True, encoding="ISO-8859-1")
