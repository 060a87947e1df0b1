"""Rules an operator raises on receipt that the XSD leaves open, on files of other software.

Built with the independent writer of `test_arquivos_externos` (its own hash): negative
money values (the st_decimal types accept a minus sign; 0.00 is legitimate), negative
quantities, dates after the message's own sending date, billed periods and item times
that end before they start, and a sequencialItem repeated within a guide. Each rule has
a valid case (accepted, no critique) and an invalid one (exact code and location).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tissflow_validation.domain.regras_operadora import CATALOGO
from tissflow_validation.engine import OperatorContext, RuleConfig, validate

from .conftest import GUIAS, codigos
from .test_arquivos_externos import (
    D1,
    D2,
    HOJE,
    Estilo,
    aceito,
    guia_consulta,
    guia_honorarios,
    guia_odonto,
    guia_resumo,
    guia_sadt,
    linha_de,
    mensagem,
    unica,
)

SADT = GUIAS + "/guiaSP-SADT"
ITEM_SADT = SADT + "/procedimentosExecutados/procedimentoExecutado"
RESUMO = GUIAS + "/guiaResumoInternacao"
HONORARIOS = GUIAS + "/guiaHonorarios"
ODONTO = GUIAS + "/guiaOdonto"


@pytest.fixture
def ctx(ctx_completo: OperatorContext) -> OperatorContext:
    """Every rule on: the demo registry, no guide presented before."""
    return ctx_completo


def troca(*pares: tuple[str, str]):
    """An `editar` for `mensagem`: replace each text once (it must be there)."""

    def editar(t: str) -> str:
        for antigo, novo in pares:
            assert antigo in t, antigo
            t = t.replace(antigo, novo, 1)
        return t

    return editar


def criticas(content: bytes, ctx: OperatorContext) -> list[tuple[str, str | None]]:
    r = validate(content, ctx)
    assert not r.valido
    return [(c.codigo, c.xpath) for c in r.critiques]


# --- 5040 / 5049: negative money; 0.00 is a value ----------------------------------------


def test_valores_zerados_sao_aceitos(ctx):
    """A procedure billed at 0.00 inside a package, a zero-value consultation."""
    zerado = troca(
        (
            "<ans:valorUnitario>35</ans:valorUnitario>",
            "<ans:valorUnitario>0.00</ans:valorUnitario>",
        ),
        ("<ans:valorTotal>35.00<", "<ans:valorTotal>0.00<"),
        ("<ans:valorProcedimentos>72.69<", "<ans:valorProcedimentos>37.69<"),
        ("<ans:valorTotalGeral>75.57<", "<ans:valorTotalGeral>40.57<"),
    )
    aceito(mensagem([guia_sadt("Z-1")], editar=zerado), ctx)
    aceito(mensagem([guia_consulta("Z-2", valor="0.00")]), ctx)
    # "-0.00" is zero, not a negative value
    aceito(mensagem([guia_consulta("Z-3", valor="-0.00")]), ctx)


def test_valor_unitario_negativo(ctx):
    content = mensagem(
        [guia_sadt("N-1"), guia_sadt("N-2")],
        editar=lambda t: (
            t[: t.rindex("<ans:guiaSP-SADT>")]
            + troca(
                (
                    "<ans:valorUnitario>35</ans:valorUnitario>",
                    "<ans:valorUnitario>-35</ans:valorUnitario>",
                ),
                ("<ans:valorTotal>35.00<", "<ans:valorTotal>-35.00<"),
                ("<ans:valorProcedimentos>72.69<", "<ans:valorProcedimentos>2.69<"),
                ("<ans:valorTotalGeral>75.57<", "<ans:valorTotalGeral>5.57<"),
            )(t[t.rindex("<ans:guiaSP-SADT>") :])
        ),
    )
    c = unica(content, ctx, "5040")
    assert c.xpath == SADT + "[2]/procedimentosExecutados/procedimentoExecutado[3]/valorUnitario"
    assert c.linha == linha_de(content, "<ans:valorUnitario>-35<")
    assert c.numero_guia == "N-2"
    assert "valor unitário -35 negativo" in c.mensagem
    assert c.descricao == "VALOR DEVE SER MAIOR QUE ZERO"


def test_valor_total_do_item_negativo(ctx):
    """A negative line total is 5040 on the total (not 1706 'valor a menor')."""
    content = mensagem(
        [guia_sadt("N-1")],
        editar=troca(
            ("<ans:valorTotal>35.00<", "<ans:valorTotal>-35.00<"),
            ("<ans:valorProcedimentos>72.69<", "<ans:valorProcedimentos>2.69<"),
            ("<ans:valorTotalGeral>75.57<", "<ans:valorTotalGeral>5.57<"),
        ),
    )
    c = unica(content, ctx, "5040")
    assert c.xpath == ITEM_SADT + "[3]/valorTotal"
    assert c.linha == linha_de(content, "<ans:valorTotal>-35.00<")
    consulta = mensagem([guia_consulta("N-2", valor="-100.00")], Estilo(prefixo=None))
    c = unica(consulta, ctx, "5040")
    assert c.xpath == GUIAS + "/guiaConsulta/dadosAtendimento/procedimento/valorProcedimento"
    assert c.numero_guia == "N-2" and "-100.00" in c.mensagem


def test_despesa_com_valor_negativo_e_total_da_categoria_negativo(ctx):
    content = mensagem(
        [guia_sadt("D-1")],
        editar=troca(
            ("<ans:valorUnitario>1.00<", "<ans:valorUnitario>-1.00<"),
            ("<ans:valorTotal>2.88<", "<ans:valorTotal>-2.88<"),
            ("<ans:valorMateriais>2.88<", "<ans:valorMateriais>-2.88<"),
            ("<ans:valorTotalGeral>75.57<", "<ans:valorTotalGeral>69.81<"),
        ),
    )
    desp = SADT + "/outrasDespesas/despesa/servicosExecutados/valorUnitario"
    assert criticas(content, ctx) == [("5040", desp), ("5049", SADT + "/valorTotal/valorMateriais")]
    c = validate(content, ctx).critiques[1]
    assert c.linha == linha_de(content, "<ans:valorMateriais>")
    assert c.descricao == "VALOR TOTAL MENOR QUE ZERO NA GUIA"
    assert "'valorMateriais' da guia -2.88 negativo" in c.mensagem


def test_total_da_guia_negativo(ctx):
    resumo = mensagem(
        [guia_resumo("R-1")],
        editar=troca(
            ("<ans:valorUnitario>90<", "<ans:valorUnitario>-90<"),
            ("<ans:valorTotal>180<", "<ans:valorTotal>-180<"),
            ("<ans:valorProcedimentos>180.00<", "<ans:valorProcedimentos>-180.00<"),
            ("<ans:valorTotalGeral>880.00<", "<ans:valorTotalGeral>520.00<"),
        ),
    )
    item = RESUMO + "/procedimentosExecutados/procedimentoExecutado/valorUnitario"
    assert criticas(resumo, ctx) == [
        ("5040", item),
        ("5049", RESUMO + "/valorTotal/valorProcedimentos"),
    ]
    honorarios = mensagem(
        [guia_honorarios("H-1")],
        editar=troca(
            ("<ans:valorUnitario>1000<", "<ans:valorUnitario>-1000<"),
            ("<ans:valorTotal>1300.00<", "<ans:valorTotal>-1300.00<"),
            ("<ans:valorTotalHonorarios>1300.00<", "<ans:valorTotalHonorarios>-1300.00<"),
        ),
    )
    assert [c for c, _ in criticas(honorarios, ctx)] == ["5040", "5049"]
    assert criticas(honorarios, ctx)[1][1] == HONORARIOS + "/valorTotalHonorarios"
    # odontologia: the optional valorTotalFranquia alone
    odonto = mensagem(
        [guia_odonto("O-1")],
        editar=troca(
            (
                "<ans:valorTotalProc>280.00</ans:valorTotalProc>",
                "<ans:valorTotalProc>280.00</ans:valorTotalProc>"
                "<ans:valorTotalFranquia>-10.00</ans:valorTotalFranquia>",
            )
        ),
    )
    c = unica(odonto, ctx, "5049")
    assert c.xpath == ODONTO + "/valorTotalFranquia" and c.numero_guia == "O-1"
    ok = troca(
        (
            "<ans:valorTotalProc>280.00</ans:valorTotalProc>",
            "<ans:valorTotalProc>280.00</ans:valorTotalProc>"
            "<ans:valorTotalFranquia>0.00</ans:valorTotalFranquia>",
        )
    )
    aceito(mensagem([guia_odonto("O-2")], editar=ok), ctx)


def test_franquia_do_item_odontologico(ctx):
    def franquia(valor: str):
        return troca(
            (
                "<ans:valorProc>120.00</ans:valorProc>",
                f"<ans:valorProc>120.00</ans:valorProc><ans:valorFranquia>{valor}</ans:valorFranquia>",
            )
        )

    aceito(mensagem([guia_odonto("F-1")], editar=franquia("0.00")), ctx)
    aceito(mensagem([guia_odonto("F-1")], editar=franquia("12.50")), ctx)
    content = mensagem([guia_odonto("F-1")], editar=franquia("-12.50"))
    c = unica(content, ctx, "5040")
    assert c.xpath == ODONTO + "/procedimentosExecutados[2]/valorFranquia"
    assert c.linha == linha_de(content, "<ans:valorFranquia>")
    assert "valor da franquia -12.50 negativo" in c.mensagem


# --- 1806: a negative quantity ----------------------------------------------------------


def test_quantidade_negativa(ctx):
    sadt = mensagem(
        [guia_sadt("Q-1")],
        editar=troca(
            (
                "<ans:quantidadeExecutada>3</ans:quantidadeExecutada>",
                "<ans:quantidadeExecutada>-3</ans:quantidadeExecutada>",
            )
        ),
    )
    c = unica(sadt, ctx, "1806")
    assert c.xpath == ITEM_SADT + "[2]/quantidadeExecutada"
    assert "-3" in c.mensagem
    odonto = mensagem(
        [guia_odonto("Q-2")],
        # the declared total is still the sum of the item values (80 + 120)
        editar=troca(
            ("<ans:qtdProc>1<", "<ans:qtdProc>-1<"),
            ("<ans:valorTotalProc>280.00<", "<ans:valorTotalProc>200.00<"),
        ),
    )
    c = unica(odonto, ctx, "1806")
    assert c.xpath == ODONTO + "/procedimentosExecutados[2]/qtdProc"
    despesa = mensagem(
        [guia_sadt("Q-3")],
        editar=troca(("<ans:quantidadeExecutada>2.8800<", "<ans:quantidadeExecutada>-2.8800<")),
    )
    c = unica(despesa, ctx, "1806")
    assert c.xpath == SADT + "/outrasDespesas/despesa/servicosExecutados/quantidadeExecutada"


# --- 3223: after the message's own sending date -----------------------------------------


def _registro(data: str):
    return (
        f"<ans:dataRegistroTransacao>{HOJE.isoformat()}<",
        f"<ans:dataRegistroTransacao>{data}<",
    )


def test_data_posterior_a_data_de_registro_da_transacao(ctx):
    # sent on D1 (5 days ago): an attendance on D1 is fine, one on D2 (the day after) is not
    aceito(mensagem([guia_consulta("T-1")], editar=troca(_registro(D1))), ctx)
    content = mensagem(
        [guia_consulta("T-1"), guia_consulta("T-2")],
        editar=lambda t: troca(_registro(D1))(
            t[: t.rindex("<ans:dataAtendimento>")]
            + t[t.rindex("<ans:dataAtendimento>") :].replace(D1, D2, 1)
        ),
    )
    c = unica(content, ctx, "3223")
    assert c.xpath == GUIAS + "/guiaConsulta[2]/dadosAtendimento/dataAtendimento"
    assert c.numero_guia == "T-2"
    assert f"data {D2} posterior à data de envio do lote ({D1}" in c.mensagem
    assert "dataRegistroTransacao" in c.mensagem


def test_data_de_registro_no_futuro_nao_serve_de_referencia(ctx):
    """A transaction date tomorrow (time zones) is tolerated; today stays the limit."""
    amanha = (HOJE + timedelta(days=1)).isoformat()
    aceito(mensagem([guia_consulta("T-1")], editar=troca(_registro(amanha))), ctx)
    content = mensagem(
        [guia_consulta("T-1")],
        editar=troca(
            _registro(amanha), (f"<ans:dataAtendimento>{D1}", f"<ans:dataAtendimento>{amanha}")
        ),
    )
    c = unica(content, ctx, "3223")
    assert f"({HOJE.isoformat()})" in c.mensagem


# --- 1323: periods and times that end before they start ---------------------------------


def test_resumo_com_faturamento_final_antes_do_inicial(ctx):
    invertido = troca(
        (f"<ans:dataInicioFaturamento>{D1}<", f"<ans:dataInicioFaturamento>{D2}<"),
        (f"<ans:dataFinalFaturamento>{D2}<", f"<ans:dataFinalFaturamento>{D1}<"),
    )
    content = mensagem([guia_resumo("R-1"), guia_resumo("R-2")], editar=invertido)
    c = validate(content, ctx).critiques[0]
    assert codigos(validate(content, ctx)) == ["1323"]
    assert c.xpath == RESUMO + "[1]/dadosInternacao/dataFinalFaturamento"
    assert c.linha == linha_de(content, "<ans:dataFinalFaturamento>")
    assert c.numero_guia == "R-1"
    assert f"dataFinalFaturamento {D1} anterior a dataInicioFaturamento {D2}" in c.mensagem


def test_resumo_no_mesmo_dia_com_hora_final_antes_da_inicial(ctx):
    mesmo_dia = (f"<ans:dataFinalFaturamento>{D2}<", f"<ans:dataFinalFaturamento>{D1}<")
    aceito(mensagem([guia_resumo("R-1")], editar=troca(mesmo_dia)), ctx)
    content = mensagem(
        [guia_resumo("R-1")],
        editar=troca(
            mesmo_dia,
            ("<ans:horaFinalFaturamento>18:00:00<", "<ans:horaFinalFaturamento>06:00:00<"),
        ),
    )
    c = unica(content, ctx, "1323")
    assert c.xpath == RESUMO + "/dadosInternacao/horaFinalFaturamento"
    assert "horaFinalFaturamento 06:00:00 anterior a horaInicioFaturamento 07:00:00" in c.mensagem


def test_honorarios_com_fim_do_faturamento_antes_do_inicio(ctx):
    content = mensagem(
        [guia_honorarios("H-1")],
        editar=troca(
            (f"<ans:dataInicioFaturamento>{D1}<", f"<ans:dataInicioFaturamento>{D2}<"),
            (f"<ans:dataFimFaturamento>{D2}<", f"<ans:dataFimFaturamento>{D1}<"),
        ),
    )
    c = unica(content, ctx, "1323")
    assert c.xpath == HONORARIOS + "/dadosInternacao/dataFimFaturamento"
    assert c.linha == linha_de(content, "<ans:dataFimFaturamento>")
    assert c.ignoravel  # 1323 is ignorable by default


def test_item_com_hora_final_antes_da_inicial(ctx):
    content = mensagem(
        [guia_sadt("H-1")],
        editar=lambda t: t.replace(
            "<ans:horaFinal>08:20:00<", "<ans:horaFinal>07:50:00<", 2
        ).replace("<ans:horaFinal>07:50:00<", "<ans:horaFinal>08:20:00<", 1),
    )
    c = unica(content, ctx, "1323")
    assert c.xpath == ITEM_SADT + "[2]/horaFinal"
    assert c.linha == linha_de(content, "<ans:horaFinal>07:50:00<")
    assert "horaFinal 07:50:00 anterior à horaInicial 08:00:00" in c.mensagem
    # the same in honorários, with a comment in the lote (the general reading path)
    honor = mensagem(
        [guia_honorarios("H-2")],
        editar=troca(
            ("<ans:horaFinal>11:30:00<", "<ans:horaFinal>09:30:00<"),
            ("<ans:sequencialItem>1<", "<!-- SisHosp --><ans:sequencialItem>1<"),
        ),
    )
    c = unica(honor, ctx, "1323")
    assert c.xpath == HONORARIOS + "/procedimentosRealizados/procedimentoRealizado/horaFinal"


def test_item_que_atravessa_a_meia_noite_e_aceito(ctx):
    noite = troca(
        ("<ans:horaInicial>10:00:00<", "<ans:horaInicial>23:10:00<"),
        ("<ans:horaFinal>11:30:00<", "<ans:horaFinal>01:40:00<"),
    )
    aceito(mensagem([guia_honorarios("M-1")], editar=noite), ctx)


# --- 3167: sequencialItem repeated within a guide ---------------------------------------


def test_sequencial_do_item_repetido(ctx):
    content = mensagem(
        [guia_sadt("S-1"), guia_sadt("S-2")],
        editar=lambda t: na_segunda(t, "<ans:sequencialItem>3<", "<ans:sequencialItem>2<"),
    )
    c = unica(content, ctx, "3167")
    assert c.xpath == SADT + "[2]/procedimentosExecutados/procedimentoExecutado[3]/sequencialItem"
    assert c.numero_guia == "S-2"
    # occurrences of "2": guide 1 item 2, guide 2 item 2, guide 2 item 3 (the repeat)
    assert c.linha == linha_de(content, "<ans:sequencialItem>2<", 3)
    primeira = linha_de(content, "<ans:sequencialItem>2<", 2)
    assert f"sequencialItem 2 repetido na guia (item da linha {primeira}" in c.mensagem
    assert c.descricao == "SEQUENCIAL INVÁLIDO"
    assert c.ignoravel, "a numbering slip must not block the file: the clerk may ignore it"
    # "01" is the integer 1 (st_numerico4): the same number
    zero = mensagem(
        [guia_odonto("S-3")],
        editar=troca(("<ans:sequencialItem>2<", "<ans:sequencialItem>01<")),
    )
    c = unica(zero, ctx, "3167")
    assert c.xpath == ODONTO + "/procedimentosExecutados[2]/sequencialItem"


def test_sequencial_repetido_nas_outras_despesas(ctx):
    segunda = (
        "<ans:despesa><ans:sequencialItem>1</ans:sequencialItem>"
        "<ans:codigoDespesa>03</ans:codigoDespesa><ans:servicosExecutados>"
        f"<ans:dataExecucao>{D1}</ans:dataExecucao><ans:codigoTabela>19</ans:codigoTabela>"
        "<ans:codigoProcedimento>100095712</ans:codigoProcedimento>"
        "<ans:quantidadeExecutada>1</ans:quantidadeExecutada>"
        "<ans:unidadeMedida>036</ans:unidadeMedida><ans:reducaoAcrescimo>1</ans:reducaoAcrescimo>"
        "<ans:valorUnitario>1.00</ans:valorUnitario><ans:valorTotal>1.00</ans:valorTotal>"
        "<ans:descricaoProcedimento>MATERIAL</ans:descricaoProcedimento>"
        "</ans:servicosExecutados></ans:despesa>"
    )

    def com_despesa(seq: str):
        return troca(
            (
                "</ans:outrasDespesas>",
                segunda.replace(">1</ans:seq", f">{seq}</ans:seq") + "</ans:outrasDespesas>",
            ),
            ("<ans:valorMateriais>2.88<", "<ans:valorMateriais>3.88<"),
            ("<ans:valorTotalGeral>75.57<", "<ans:valorTotalGeral>76.57<"),
        )

    # procedures and expenses are numbered apart: expense 2 after procedures 1..3 is fine
    aceito(mensagem([guia_sadt("S-1")], editar=com_despesa("2")), ctx)
    content = mensagem([guia_sadt("S-1")], editar=com_despesa("1"))
    c = unica(content, ctx, "3167")
    assert c.xpath == SADT + "/outrasDespesas/despesa[2]/sequencialItem"
    assert "despesa da linha" in c.mensagem


def na_segunda(t: str, antigo: str, novo: str) -> str:
    """Replace in the second guide only."""
    i = t.index("<ans:guiaSP-SADT>", t.index("<ans:guiaSP-SADT>") + 1)
    return t[:i] + t[i:].replace(antigo, novo, 1)


# --- the catalogue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codigo", "content"),
    [
        ("5040", lambda: mensagem([guia_consulta("C-1", valor="-1.00")])),
        (
            "5049",
            lambda: mensagem(
                [guia_odonto("C-2")],
                editar=troca(
                    (
                        "</ans:valorTotalProc>",
                        "</ans:valorTotalProc><ans:valorTotalFranquia>-1</ans:valorTotalFranquia>",
                    )
                ),
            ),
        ),
        (
            "3167",
            lambda: mensagem(
                [guia_odonto("C-3")],
                editar=troca(("<ans:sequencialItem>2<", "<ans:sequencialItem>1<")),
            ),
        ),
    ],
)
def test_regras_novas_no_catalogo_podem_ser_desligadas(codigo, content, ctx):
    assert CATALOGO[codigo].configuravel
    arquivo = content()
    assert codigos(validate(arquivo, ctx)) == [codigo]
    desligada = OperatorContext(
        registro_ans="331988",
        prestadores=ctx.prestadores,
        beneficiarios=ctx.beneficiarios,
        rules={codigo: RuleConfig(enabled=False)},
    )
    r = validate(arquivo, desligada)
    assert r.valido and r.critiques == []


# --- 1801: a TUSS code outside its vigência on the date it was executed -----------------


def test_codigo_tuss_encerrado_antes_da_execucao(ctx):
    """TUSS 22 40309223 (painel de líquor) ended on 2025-04-30; executed after that."""
    content = mensagem(
        [guia_sadt("V-1")],
        editar=troca(
            (
                "<ans:codigoProcedimento>40101010<",
                "<ans:codigoProcedimento>40309223<",
            )
        ),
    )
    c = unica(content, ctx, "1801")
    assert c.xpath == ITEM_SADT + "[3]/procedimento/codigoProcedimento"
    assert c.numero_guia == "V-1"
    assert "40309223" in c.mensagem and "não estava vigente" in c.mensagem
    assert "a 30/04/2025" in c.mensagem


def test_codigo_tuss_executado_antes_do_inicio_da_vigencia(ctx):
    """TUSS 22 41001141 is in vigência from 2025-02-01: fine after, refused before."""
    novo = ("<ans:codigoProcedimento>40304361<", "<ans:codigoProcedimento>41001141<")
    aceito(mensagem([guia_sadt("V-2")], editar=troca(novo)), ctx)
    antes = troca(novo, (f"<ans:dataExecucao>{D1}<", "<ans:dataExecucao>2025-01-15<"))
    c = unica(mensagem([guia_sadt("V-3")], editar=antes), ctx, "1801")
    assert c.xpath == ITEM_SADT + "[1]/procedimento/codigoProcedimento"
    assert "em 15/01/2025 (vigência de 01/02/2025 a hoje)" in c.mensagem
