"""Unit tests of every recurso check: values, duplicates, deadline, one guide per message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from tissflow_recursos.domain.model import (
    RecursoError,
    agrupar_por_guia,
    checar_duplicidade,
    checar_envio,
    checar_linha,
    checar_prazo,
    checar_resposta,
    linhas_glosadas,
    prazo_recurso,
)

LOTE_GUIAS: list[dict[str, Any]] = [
    {
        "numero_guia_prestador": "9001",
        "numero_carteira": "1001",
        "nome_beneficiario": "MARIA DA SILVA",
        "data_atendimento": "2026-11-03",
        "valor_informado": "300.00",
        "itens": [
            {
                "sequencial_item": 1,
                "data_execucao": "2026-11-03",
                "codigo_tabela": "22",
                "codigo_procedimento": "81000065",
                "descricao": "CONSULTA ODONTOLOGICA INICIAL",
                "valor_total": "100.00",
            },
            {
                "sequencial_item": 2,
                "data_execucao": "2026-11-04",
                "codigo_tabela": "22",
                "codigo_procedimento": "84000198",
                "descricao": "APLICACAO TOPICA DE FLUOR",
                "valor_total": "200.00",
            },
        ],
    },
    {
        "numero_guia_prestador": "9002",
        "data_atendimento": "2026-11-05",
        "valor_informado": "150.00",
        "itens": [],
    },
]

ANALISE: list[dict[str, Any]] = [
    {
        "numero_guia_prestador": "9001",
        "valor_processado": "300.00",
        "valor_liberado": "220.00",
        "valor_glosado": "80.00",
        "glosas": [],
        "itens": [
            {
                "sequencial_item": 1,
                "valor_processado": "100.00",
                "valor_liberado": "70.00",
                "valor_glosado": "30.00",
                "glosas": [{"codigo": "1705", "valor": "30.00"}],
            },
            {
                "sequencial_item": 2,
                "valor_processado": "200.00",
                "valor_liberado": "150.00",
                "valor_glosado": "50.00",
                "glosas": [{"codigo": "1801", "valor": "50.00"}],
            },
        ],
    },
    {
        "numero_guia_prestador": "9002",
        "valor_processado": "150.00",
        "valor_liberado": "110.00",
        "valor_glosado": "40.00",
        "glosas": [{"codigo": "1705", "valor": "40.00"}],
        "itens": [],
    },
    {
        "numero_guia_prestador": "9003",
        "valor_processado": "90.00",
        "valor_liberado": "90.00",
        "valor_glosado": "0.00",
        "glosas": [],
        "itens": [],
    },
]


def _linha(**over):
    return {
        "linha_id": "9001:1",
        "numero_guia": "9001",
        "valor_glosado": "30.00",
        "valor_recursado": "30.00",
        "justificativa": "Procedimento realizado conforme prontuário anexo.",
        **over,
    }


def _recurso(*linhas, situacao="rascunho", prazo="2026-12-31"):
    return {"_id": "r1", "situacao": situacao, "prazo": prazo, "linhas": list(linhas)}


def test_glossed_lines_join_the_analysis_with_the_lote_as_billed():
    linhas = linhas_glosadas(LOTE_GUIAS, ANALISE)
    assert [x.linha_id for x in linhas] == ["9001:1", "9001:2", "9002:G1705"]
    item = linhas[1]
    assert item.codigo_glosa == "1801"
    assert item.valor_glosado == Decimal("50.00")
    assert item.descricao == "APLICACAO TOPICA DE FLUOR"
    assert item.data_inicio == date(2026, 11, 4)
    guia = linhas[2]
    assert guia.sequencial_item is None and guia.valor_glosado == Decimal("40.00")


def test_an_appeal_over_two_guides_becomes_two_recursos():
    grupos = agrupar_por_guia(linhas_glosadas(LOTE_GUIAS, ANALISE))
    assert list(grupos) == ["9001", "9002"]
    assert [x.linha_id for x in grupos["9001"]] == ["9001:1", "9001:2"]


def test_a_recurso_message_carries_one_guide():
    other = _linha(linha_id="9002:G1705", numero_guia="9002", valor_glosado="40.00")
    with pytest.raises(RecursoError) as exc:
        checar_envio(_recurso(_linha(), other), date(2026, 12, 1))
    assert exc.value.code == "uma_guia_por_recurso"


@pytest.mark.parametrize(
    ("valor", "code"),
    [
        ("0", "valor_recursado_invalido"),
        ("-1.00", "valor_recursado_invalido"),
        ("", "valor_recursado_invalido"),
        ("30.01", "valor_recursado_maior_que_glosado"),
    ],
)
def test_valor_recursado_must_be_positive_and_at_most_the_glosa(valor, code):
    with pytest.raises(RecursoError) as exc:
        checar_linha(_linha(valor_recursado=valor))
    assert exc.value.code == code
    assert "9001:1" in exc.value.message


def test_valor_recursado_equal_to_the_glosa_and_a_part_of_it_pass():
    checar_linha(_linha(valor_recursado="30.00"))
    checar_linha(_linha(valor_recursado="0.01"))


def test_justificativa_is_required_and_at_most_500_characters():
    with pytest.raises(RecursoError) as exc:
        checar_linha(_linha(justificativa="  "))
    assert exc.value.code == "justificativa_obrigatoria"
    checar_linha(_linha(justificativa="x" * 500))
    with pytest.raises(RecursoError) as exc:
        checar_linha(_linha(justificativa="x" * 501))
    assert exc.value.code == "justificativa_longa"
    assert "501" in exc.value.message


def test_deadline_counts_its_last_day_and_refuses_the_day_after():
    prazo = prazo_recurso(date(2026, 11, 10), 30)
    assert prazo == date(2026, 12, 10)
    checar_prazo(date(2026, 12, 10), prazo)  # the last day: still accepted
    with pytest.raises(RecursoError) as exc:
        checar_prazo(date(2026, 12, 11), prazo)
    assert exc.value.code == "prazo_esgotado"
    assert "10/12/2026" in exc.value.message
    with pytest.raises(RecursoError):
        checar_envio(_recurso(_linha(), prazo="2026-12-10"), date(2026, 12, 11))
    assert checar_envio(_recurso(_linha(), prazo="2026-12-10"), date(2026, 12, 10)) == Decimal(
        "30.00"
    )


def test_an_item_under_appeal_cannot_be_appealed_again():
    for situacao in ("rascunho", "enviado", "em_analise"):
        with pytest.raises(RecursoError) as exc:
            checar_duplicidade(["9001:1"], [_recurso(_linha(), situacao=situacao)], True)
        assert exc.value.code == "item_ja_em_recurso"
    checar_duplicidade(["9001:2"], [_recurso(_linha(), situacao="enviado")], False)


def test_an_answered_item_follows_the_operators_rule_on_new_appeals():
    answered = [_recurso(_linha(), situacao="respondido")]
    with pytest.raises(RecursoError) as exc:
        checar_duplicidade(["9001:1"], answered, permite_reapresentacao=False)
    assert exc.value.code == "item_ja_recorrido"
    checar_duplicidade(["9001:1"], answered, permite_reapresentacao=True)


def test_a_sent_recurso_is_not_sent_again():
    with pytest.raises(RecursoError) as exc:
        checar_envio(_recurso(_linha(), situacao="enviado"), date(2026, 12, 1))
    assert exc.value.code == "recurso_ja_enviado"


def test_the_operators_answer_accepts_at_most_the_appealed_value():
    linha = _linha()
    assert checar_resposta(linha, {"acatado": True})["valor_acatado"] == "30.00"
    partly = checar_resposta(
        linha, {"acatado": True, "valor_acatado": "10.00", "justificativa": "em parte"}
    )
    assert partly["valor_acatado"] == "10.00"
    refused = checar_resposta(linha, {"acatado": False, "justificativa": "sem cobertura"})
    assert refused["valor_acatado"] == "0.00" and refused["acatado"] is False
    with pytest.raises(RecursoError) as exc:
        checar_resposta(linha, {"acatado": True, "valor_acatado": "30.01"})
    assert exc.value.code == "valor_acatado_invalido"
    with pytest.raises(RecursoError) as exc:
        checar_resposta(linha, {"acatado": False})
    assert exc.value.code == "justificativa_obrigatoria"
    with pytest.raises(RecursoError) as exc:
        checar_resposta(linha, {"acatado": True, "valor_acatado": "10.00"})
    assert exc.value.code == "justificativa_obrigatoria"
