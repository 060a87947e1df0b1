"""Issue 22 item 9: item dates are compared with the guide's billed period.

Resumo de internação (dataInicioFaturamento..dataFinalFaturamento) and honorários
(dataInicioFaturamento..dataFimFaturamento): an item, or an outras despesas line,
executed before the period starts is 3225 (DATA DE INÍCIO DA INTERNAÇÃO É POSTERIOR À
DATA DE REALIZAÇÃO DO PROCEDIMENTO), after it ends 3227 (DATA PREENCHIDA NA GUIA
DIVERGENTE DA DATA DE REALIZAÇÃO DO PROCEDIMENTO); ignorable by default and set by the
operator like the other rules.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from lxml import etree
from tissflow_demo.samples import build_lote
from tissflow_validation.engine import OperatorContext, RuleConfig, validate

from .conftest import A, codigos, editar

DIA = date.today() - timedelta(days=10)
# (guide type, item element, start of the period, end of the period) as the samples write them
TIPOS = {
    "resumo_internacao": ("procedimentoExecutado", DIA - timedelta(days=2), DIA),
    "honorarios": ("procedimentoRealizado", DIA - timedelta(days=1), DIA),
}


def _com_data_do_item(tipo: str, n: int, dia: date) -> bytes:
    content = build_lote(tipo, n_guias=2, itens_por_guia=3, data=DIA)
    item_tag = TIPOS[tipo][0]

    def fn(root: etree._Element) -> None:
        item = list(root.iter(f"{A}{item_tag}"))[n]
        item.find(f"{A}dataExecucao").text = dia.isoformat()

    return editar(content, fn)


@pytest.mark.parametrize("tipo", sorted(TIPOS))
def test_item_antes_do_inicio_do_periodo_e_3225(tipo: str) -> None:
    _, inicio, _ = TIPOS[tipo]
    content = _com_data_do_item(tipo, 4, inicio - timedelta(days=1))  # guide 2, item 2
    r = validate(content, OperatorContext(registro_ans="331988"))
    assert codigos(r) == ["3225"]
    c = r.critiques[0]
    assert not r.valido and c.ignoravel
    assert c.numero_guia == "2"
    assert c.xpath.endswith("[2]/dataExecucao")
    antes = (inicio - timedelta(days=1)).strftime("%d/%m/%Y")
    assert f"item executado em {antes}, antes do início do período faturado" in c.mensagem
    assert inicio.strftime("%d/%m/%Y") in c.mensagem
    ignorado = OperatorContext(registro_ans="331988", ignored={("3225", c.xpath)})
    assert validate(content, ignorado).valido


@pytest.mark.parametrize("tipo", sorted(TIPOS))
def test_item_depois_do_fim_do_periodo_e_3227(tipo: str) -> None:
    _, _, fim = TIPOS[tipo]
    content = _com_data_do_item(tipo, 0, fim + timedelta(days=1))
    r = validate(content, OperatorContext(registro_ans="331988"))
    assert codigos(r) == ["3227"]
    assert r.critiques[0].numero_guia == "1"
    assert "depois do fim do período faturado" in r.critiques[0].mensagem


@pytest.mark.parametrize("tipo", sorted(TIPOS))
def test_itens_nos_dias_de_inicio_e_fim_passam(tipo: str) -> None:
    _, inicio, fim = TIPOS[tipo]
    content = _com_data_do_item(tipo, 1, inicio)
    assert validate(content, OperatorContext(registro_ans="331988")).valido
    content = _com_data_do_item(tipo, 1, fim)
    assert validate(content, OperatorContext(registro_ans="331988")).valido


def test_regra_da_operadora_desliga_ou_rebaixa_a_alerta() -> None:
    content = _com_data_do_item("resumo_internacao", 0, DIA + timedelta(days=1))
    desligada = OperatorContext(registro_ans="331988", rules={"3227": RuleConfig(enabled=False)})
    r = validate(content, desligada)
    assert r.valido and codigos(r) == []
    alerta = OperatorContext(registro_ans="331988", rules={"3227": RuleConfig(severidade="alerta")})
    r = validate(content, alerta)
    assert r.valido and codigos(r) == ["3227"]
    assert r.critiques[0].severidade == "alerta"


def test_outras_despesas_fora_do_periodo() -> None:
    content = build_lote("resumo_internacao", n_guias=1, itens_por_guia=1, data=DIA)

    def fn(root: etree._Element) -> None:
        guia = root.find(f".//{A}guiaResumoInternacao")
        despesas = etree.Element(f"{A}outrasDespesas")
        despesa = etree.SubElement(despesas, f"{A}despesa")
        etree.SubElement(despesa, f"{A}sequencialItem").text = "1"
        etree.SubElement(despesa, f"{A}codigoDespesa").text = "05"
        servico = etree.SubElement(despesa, f"{A}servicosExecutados")
        for tag, valor in (
            ("dataExecucao", (DIA - timedelta(days=5)).isoformat()),
            ("codigoTabela", "00"),
            ("codigoProcedimento", "DIARIA01"),
            ("quantidadeExecutada", "1.0000"),
            ("unidadeMedida", "036"),
            ("reducaoAcrescimo", "1.00"),
            ("valorUnitario", "0.00"),
            ("valorTotal", "0.00"),
            ("descricaoProcedimento", "Diária de apartamento"),
        ):
            etree.SubElement(servico, f"{A}{tag}").text = valor
        guia.find(f"{A}valorTotal").addnext(despesas)

    r = validate(editar(content, fn), OperatorContext(registro_ans="331988"))
    assert codigos(r) == ["3225"], [c.to_dict() for c in r.critiques]
    assert r.critiques[0].xpath.endswith("outrasDespesas/despesa/servicosExecutados/dataExecucao")


def test_guia_sem_periodo_faturado_nao_compara() -> None:
    content = build_lote("sp_sadt", n_guias=1, itens_por_guia=2, data=DIA)
    assert validate(content, OperatorContext(registro_ans="331988")).valido
