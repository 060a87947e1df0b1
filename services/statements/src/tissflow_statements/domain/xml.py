"""The demonstrativos as TISS 4.03.00 messages (DEMONSTRATIVO_ANALISE_CONTA and
DEMONSTRATIVO_PAGAMENTO), built with `tissflow_tiss` (envelope, epilogue hash).

Pure: the same document makes the same bytes. Glosa codes newer than the version's
`dm_tipoGlosa` cannot go in a code element: they are stated in the guide's observation.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from lxml import etree
from tissflow_tiss import Parte, codigos_glosa_xsd, el, finalizar, mensagem, prestador_id

from tissflow_statements.domain.conta import ZERO, Conta, Glosa, Guia, Prestador
from tissflow_statements.domain.documentos import Analise, Pagamento
from tissflow_statements.domain.operadora import Operadora

# dm_formaPagamento 1: depósito/transferência bancária.
FORMA_PAGAMENTO = "1"
# dm_tipoPagamento 1: pagamento inicial (2 would be a recurso de glosa).
TIPO_PAGAMENTO_INICIAL = "1"
OBSERVACAO_SEM_GUIAS = (
    "Valores por guia indisponíveis; os valores informados são os totais do protocolo."
)


def _quantidade(value: Decimal) -> str:
    """st_decimal9-4: at most four decimals, no trailing zeros beyond what is needed."""
    texto = f"{value.quantize(Decimal('0.0001')):f}"
    return texto.rstrip("0").rstrip(".") if "." in texto else texto


def _cabecalho(
    parent: etree._Element, operadora: Operadora, numero: str, emitido: datetime
) -> None:
    cab = el(parent, "cabecalhoDemonstrativo")
    el(cab, "registroANS", operadora.registro_ans)
    el(cab, "numeroDemonstrativo", numero[:20])
    el(cab, "nomeOperadora", operadora.razao_social[:70])
    el(cab, "numeroCNPJ", operadora.cnpj)
    el(cab, "dataEmissao", emitido.date().isoformat())


def _contratado(parent: etree._Element, p: Prestador) -> None:
    """ct_contratadoDados: the operator's own code for the provider when it has one
    (field 9, Código na Operadora), else its CNPJ/CPF."""
    if p.codigo_na_operadora and p.codigo_na_operadora != p.provider_id:
        el(parent, "codigoPrestadorNaOperadora", p.codigo_na_operadora[:14])
    else:
        prestador_id(parent, p.provider_id, "cnpjContratado", "cpfContratado")


def _motivos(parent: etree._Element, tag: str, glosas: tuple[Glosa, ...]) -> list[Glosa]:
    """ct_motivoGlosa elements for the codes the XSD knows; returns the others."""
    fora = []
    for g in glosas:
        if g.codigo not in codigos_glosa_xsd():
            fora.append(g)
            continue
        motivo = el(parent, tag)
        el(motivo, "codigoGlosa", g.codigo)
        if g.descricao:
            el(motivo, "descricaoGlosa", g.descricao[:500])
    return fora


def _guia_analise(parent: etree._Element, g: Guia, conta: Conta) -> None:
    guia = el(parent, "relacaoGuias")
    el(guia, "numeroGuiaPrestador", g.numero_guia_prestador[:20])
    if g.numero_guia_operadora:
        el(guia, "numeroGuiaOperadora", g.numero_guia_operadora[:20])
    if g.senha:
        el(guia, "senha", g.senha[:20])
    el(guia, "numeroCarteira", (g.numero_carteira or "0")[:20])
    el(guia, "dataInicioFat", (g.data_inicio or conta.data_protocolo).isoformat())
    if g.inicio_faturamento is not None:
        el(guia, "horaInicioFat", g.inicio_faturamento.strftime("%H:%M:%S"))
    if g.fim_faturamento is not None:
        el(guia, "dataFimFat", g.fim_faturamento.date().isoformat())
        el(guia, "horaFimFat", g.fim_faturamento.strftime("%H:%M:%S"))
    fora = _motivos(guia, "motivoGlosaGuia", g.glosas)
    el(guia, "situacaoGuia", g.situacao)
    for item in g.itens:
        det = el(guia, "detalhesGuia")
        el(det, "sequencialItem", item.sequencial)
        el(
            det,
            "dataRealizacao",
            (item.data_realizacao or g.data_inicio or conta.data_protocolo).isoformat(),
        )
        proc = el(det, "procedimento")
        el(proc, "codigoTabela", item.tabela or "00")
        el(proc, "codigoProcedimento", (item.codigo or "0")[:10])
        el(proc, "descricaoProcedimento", (item.descricao or "Não informada")[:150])
        if item.grau_participacao:
            el(det, "grauParticipacao", item.grau_participacao)
        el(det, "valorInformado", item.valor_informado)
        el(det, "qtdExecutada", _quantidade(item.quantidade))
        el(det, "valorProcessado", item.valor_processado)
        el(det, "valorLiberado", item.valor_liberado)
        for glosa in item.glosas:
            if glosa.codigo not in codigos_glosa_xsd():
                fora.append(glosa)
                continue
            rel = el(det, "relacaoGlosa")
            el(rel, "valorGlosa", glosa.valor)
            el(rel, "tipoGlosa", glosa.codigo)
    el(guia, "valorInformadoGuia", g.valor_informado)
    el(guia, "valorProcessadoGuia", g.valor_processado)
    el(guia, "valorLiberadoGuia", g.valor_liberado)
    el(guia, "valorGlosaGuia", g.valor_glosado)
    if fora:
        # Codes newer than the version's dm_tipoGlosa list: stated in the observation.
        texto = "; ".join(
            f"Glosa {x.codigo} ({x.descricao or 'tabela 38'}): {x.valor}" for x in fora
        )
        el(guia, "observacao", texto[:500])


def _protocolo_analise(parent: etree._Element, c: Conta) -> None:
    protocolo = el(parent, "dadosProtocolo")
    el(protocolo, "numeroLotePrestador", c.numero_lote_prestador[:12])
    el(protocolo, "numeroProtocolo", c.peg[:12])
    el(protocolo, "dataProtocolo", c.data_protocolo.isoformat())
    # ct_motivoGlosa holds one glosa of the protocol; the others are in the PDF.
    conhecidas = [g for g in c.glosas if g.codigo in codigos_glosa_xsd()]
    if conhecidas:
        _motivos(protocolo, "GlosaProtocolo", (conhecidas[0],))
    el(protocolo, "situacaoProtocolo", c.situacao)
    for g in c.guias:
        _guia_analise(protocolo, g, c)
    el(protocolo, "valorInformadoProtocolo", c.valor_informado)
    el(protocolo, "valorProcessadoProtocolo", c.valor_processado)
    el(protocolo, "valorLiberadoProtocolo", c.valor_liberado)
    el(protocolo, "valorGlosaProtocolo", c.valor_glosado)


def analise_xml(d: Analise) -> bytes:
    """DEMONSTRATIVO_ANALISE_CONTA: one `demonstrativoAnaliseConta` with every protocol."""
    root, corpo = mensagem(
        "DEMONSTRATIVO_ANALISE_CONTA",
        d.numero,
        d.emitido_em,
        Parte.operadora(d.operadora.registro_ans),
        Parte.prestador(d.prestador.provider_id),
    )
    dem = el(el(corpo, "demonstrativosRetorno"), "demonstrativoAnaliseConta")
    _cabecalho(dem, d.operadora, d.numero, d.emitido_em)
    prestador = el(dem, "dadosPrestador")
    _contratado(el(prestador, "dadosContratado"), d.prestador)
    el(prestador, "CNES", d.prestador.cnes[:7])
    conta = el(dem, "dadosConta")
    for c in d.contas:
        _protocolo_analise(conta, c)
    informado, processado, liberado, glosado = d.totais
    el(dem, "valorInformadoGeral", informado)
    el(dem, "valorProcessadoGeral", processado)
    el(dem, "valorLiberadoGeral", liberado)
    el(dem, "valorGlosaGeral", glosado)
    if not any(c.guias for c in d.contas):
        el(dem, "observacao", OBSERVACAO_SEM_GUIAS)
    return finalizar(root)


def _descontos(parent: etree._Element, tag: str, conta: Conta) -> None:
    for dc in conta.debitos_creditos:
        item = el(parent, tag)
        el(item, "indicador", "1" if dc.debito else "2")
        el(item, "tipoDebitoCredito", dc.tipo)
        el(item, "descricaoDbCr", f"{dc.descricao} (protocolo {conta.peg})"[:40])
        el(item, "valorDbCr", dc.valor)


def pagamento_xml(d: Pagamento) -> bytes:
    """DEMONSTRATIVO_PAGAMENTO: one `pagamentosPorData` per payment date of the period."""
    root, corpo = mensagem(
        "DEMONSTRATIVO_PAGAMENTO",
        d.numero,
        d.emitido_em,
        Parte.operadora(d.operadora.registro_ans),
        Parte.prestador(d.prestador.provider_id),
    )
    dem = el(el(corpo, "demonstrativosRetorno"), "demonstrativoPagamento")
    _cabecalho(dem, d.operadora, d.numero, d.emitido_em)
    contratado = el(dem, "dadosContratado")
    _contratado(el(contratado, "dadosPrestador"), d.prestador)
    el(contratado, "CNES", d.prestador.cnes[:7])
    pagamentos = el(dem, "pagamentos")
    sem_guias = False
    for dia in d.datas:
        por_data = el(pagamentos, "pagamentosPorData")
        dados = el(por_data, "dadosPagamento")
        el(dados, "dataPagamento", dia.data.isoformat())
        el(dados, "formaPagamento", FORMA_PAGAMENTO)
        if banco := dia.dados_bancarios:
            if banco.banco:
                el(dados, "banco", banco.banco[:4])
            if banco.agencia:
                el(dados, "agencia", banco.agencia[:7])
            if banco.conta:
                el(dados, "nrContaCheque", banco.conta[:20])
        resumo = el(por_data, "dadosResumo")
        for c in dia.contas:
            rel = el(resumo, "relacaoProtocolos")
            el(rel, "dataProtocolo", c.data_protocolo.isoformat())
            el(rel, "numeroProtocolo", c.peg[:12])
            el(rel, "numeroLote", c.numero_lote_prestador[:12])
            el(rel, "valorInformado", c.valor_informado)
            el(rel, "valorProcessado", c.valor_processado)
            el(rel, "valorLiberado", c.valor_liberado)
            el(rel, "valorGlosa", c.valor_glosado)
            if c.guias:
                linhas = [
                    (
                        g.numero_guia_prestador,
                        g.numero_guia_operadora,
                        g.senha,
                        g.valor_processado,
                        g.valor_liberado,
                        g.valor_glosado,
                    )
                    for g in c.guias[:100]
                ]
            else:
                # The schema wants at least one guide: the lote, values on the protocol.
                sem_guias = True
                linhas = [(c.numero_lote_prestador, None, None, ZERO, ZERO, ZERO)]
            for numero, operadora, senha, processado, liberado, glosado in linhas:
                guia = el(rel, "guiasDoLote")
                el(guia, "numeroGuiaPrestador", numero[:20])
                if operadora:
                    el(guia, "numeroGuiaOperadora", operadora[:20])
                if senha:
                    el(guia, "senha", senha[:20])
                el(guia, "tipoPagamento", TIPO_PAGAMENTO_INICIAL)
                el(guia, "valorProcessadoGuia", processado)
                el(guia, "valorLiberadoGuia", liberado)
                el(guia, "valorGlosaGuia", glosado)
        informado, processado, liberado, glosado = dia.totais
        brutos = el(por_data, "totaisBrutosPorData")
        el(brutos, "totalInformadoPorData", informado)
        el(brutos, "totalProcessadoPorData", processado)
        el(brutos, "totaLiberadoPorData", liberado)
        el(brutos, "totalGlosaPorData", glosado)
        if dia.debitos_creditos:
            lista = el(por_data, "debitosCreditosPorData")
            for c in dia.contas:
                _descontos(lista, "debitosCreditos", c)
            for r in dia.recursos:
                item = el(lista, "debitosCreditos")
                el(item, "indicador", "2")
                el(item, "tipoDebitoCredito", r.credito.tipo)
                el(item, "descricaoDbCr", r.credito.descricao)
                el(item, "valorDbCr", r.valor)
        liquidos = el(por_data, "totaisLiquidosPorData")
        el(liquidos, "totalDebitosPorData", dia.total_debitos)
        el(liquidos, "totalCreditosPorData", dia.total_creditos)
        el(liquidos, "liquidoPorData", dia.liquido)
    totais = el(dem, "totaisDemonstrativo")
    informado, processado, liberado, glosado = d.totais
    brutos = el(totais, "totaisBrutosDemonstrativo")
    el(brutos, "valorInformadoBruto", informado)
    el(brutos, "valorProcessadoBruto", processado)
    el(brutos, "valorLiberadoBruto", liberado)
    el(brutos, "valorGlosaBruto", glosado)
    liquidos = el(totais, "totaisLiquidosDemonstrativo")
    el(liquidos, "totalDebitosDemonstrativo", d.total_debitos)
    el(liquidos, "totalCreditosdemonstrativo", d.total_creditos)
    el(liquidos, "valorLiberadoDemonstrativo", d.liquido)
    if sem_guias:
        el(dem, "observacao", OBSERVACAO_SEM_GUIAS)
    return finalizar(root)
