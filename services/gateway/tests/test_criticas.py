"""Corrigir Críticas with many critiques: grouped by table-38 code, "Ignorar todas" of a
group, and one input for a field repeated with the same value in many guides."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import FormData
from tissflow_gateway.core import ApiError
from tissflow_gateway.files import ignorable_group
from tissflow_gateway.pages_arquivos import (
    corrections,
    editor_fields,
    editor_groups,
    ignoradas_flash,
)
from tissflow_gateway.portal import agrupar_criticas

CNPJ = "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"
GUIA = "/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS/guiaSP-SADT[{}]"
SOLICITANTE = GUIA + "/dadosSolicitante/contratadoSolicitante/cnpjContratado"
DATA = GUIA + "/procedimentosExecutados/procedimentoExecutado/dataExecucao"


def critica(sequencial: int, codigo: str, xpath: str | None = None, **extra: Any) -> dict:
    descricoes = {"1206": "CPF / CNPJ INVÁLIDO", "1323": "DATA PREENCHIDA INCORRETAMENTE"}
    return {
        "sequencial": sequencial,
        "codigo": codigo,
        "descricao": descricoes.get(codigo, f"CRÍTICA {codigo}"),
        "xpath": xpath,
        "ignoravel": codigo == "1323",
        "ignorada": False,
        "severidade": "erro",
        **extra,
    }


# --- grouping by code ----------------------------------------------------------------------


def test_critiques_are_grouped_by_code_in_order_of_first_appearance() -> None:
    criticas = [
        critica(1, "1206", CNPJ),
        critica(2, "1323", DATA.format(1)),
        critica(3, "1206", SOLICITANTE.format(1)),
        critica(4, "1323", DATA.format(2)),
        critica(5, "1801"),
    ]
    grupos = agrupar_criticas(criticas)
    assert [(g["codigo"], g["descricao"]) for g in grupos] == [
        ("1206", "CPF / CNPJ INVÁLIDO"),
        ("1323", "DATA PREENCHIDA INCORRETAMENTE"),
        ("1801", "CRÍTICA 1801"),
    ]
    assert [[c["sequencial"] for c in g["itens"]] for g in grupos] == [[1, 3], [2, 4], [5]]


def test_a_group_counts_what_is_still_open() -> None:
    criticas = [critica(i, "1323", DATA.format(i), ignorada=i <= 2) for i in range(1, 6)]
    (grupo,) = agrupar_criticas(criticas)
    assert len(grupo["itens"]) == 5
    assert grupo["abertas"] == 3


def test_a_group_is_ignorable_only_if_every_critique_in_it_is() -> None:
    todas = [critica(i, "1323", DATA.format(i)) for i in range(1, 4)]
    assert agrupar_criticas(todas)[0]["ignoraveis"] is True
    uma_nao = [*todas, critica(4, "1323", DATA.format(4), ignoravel=False)]
    assert agrupar_criticas(uma_nao)[0]["ignoraveis"] is False


def test_a_group_is_an_alert_only_if_every_critique_in_it_is() -> None:
    alertas = [critica(i, "1323", severidade="alerta") for i in range(1, 3)]
    assert agrupar_criticas(alertas)[0]["alerta"] is True
    alertas.append(critica(3, "1323"))
    assert agrupar_criticas(alertas)[0]["alerta"] is False


def test_a_small_group_starts_open_and_a_big_one_closed() -> None:
    grupos = agrupar_criticas(
        [critica(i, "1206") for i in range(5)] + [critica(i, "1323") for i in range(6)]
    )
    assert [g["aberto"] for g in grupos] == [True, False]


# --- "Ignorar todas" -------------------------------------------------------------------------


def resultado(criticas: list[dict], ignoradas: list[dict] | None = None) -> dict:
    return {"result": {"critiques": criticas}, "ignoradas": ignoradas or []}


def test_ignore_all_takes_each_open_ignorable_critique_of_the_code() -> None:
    criticas = [critica(1, "1206", CNPJ)] + [critica(i, "1323", DATA.format(i)) for i in (2, 3, 4)]
    grupo = ignorable_group(resultado(criticas), "1323")
    assert grupo.xpaths == [DATA.format(2), DATA.format(3), DATA.format(4)]
    assert grupo.ocorrencias == 3
    assert grupo.nao_ignoraveis == 0


def test_ignore_all_never_takes_a_critique_that_may_not_be_ignored() -> None:
    criticas = [critica(1, "1206", CNPJ), critica(2, "1206", SOLICITANTE.format(1))]
    grupo = ignorable_group(resultado(criticas), "1206")
    assert grupo.xpaths == []
    assert grupo.nao_ignoraveis == 2
    assert grupo.descricao == "CPF / CNPJ INVÁLIDO"
    mixed = [
        critica(1, "1323", DATA.format(1)),
        critica(2, "1323", DATA.format(2), ignoravel=False),
    ]
    grupo = ignorable_group(resultado(mixed), "1323")
    assert grupo.xpaths == [DATA.format(1)]
    assert (grupo.ocorrencias, grupo.nao_ignoraveis) == (1, 1)


def test_ignore_all_skips_what_is_already_ignored() -> None:
    criticas = [
        critica(1, "1323", DATA.format(1), ignorada=True),  # at the last validation
        critica(2, "1323", DATA.format(2)),  # since then, one by one
        critica(3, "1323", DATA.format(3)),
        critica(4, "1323"),  # no location
    ]
    ja = [{"codigo": "1323", "xpath": DATA.format(2)}, {"codigo": "1206", "xpath": DATA.format(3)}]
    grupo = ignorable_group(resultado(criticas, ja), "1323")
    assert grupo.xpaths == [DATA.format(3), None]
    assert grupo.ocorrencias == 2


def test_two_critiques_at_one_place_are_one_ignore_and_two_ignored() -> None:
    criticas = [critica(1, "1323", DATA.format(1)), critica(2, "1323", DATA.format(1))]
    grupo = ignorable_group(resultado(criticas), "1323")
    assert grupo.xpaths == [DATA.format(1)]
    assert grupo.ocorrencias == 2


def test_a_code_the_file_does_not_have_is_nothing_to_ignore() -> None:
    grupo = ignorable_group(resultado([critica(1, "1323", DATA.format(1))]), "1801")
    assert (grupo.xpaths, grupo.ocorrencias, grupo.descricao) == ([], 0, None)


@pytest.mark.parametrize(
    ("quantas", "texto"),
    [
        (12, "12 críticas 1323 ignoradas. Reprocesse o arquivo para obter o novo resultado."),
        (1, "1 crítica 1323 ignorada. Reprocesse o arquivo para obter o novo resultado."),
        (0, "Nenhuma crítica 1323 a ignorar: todas já estavam ignoradas."),
    ],
)
def test_the_confirmation_says_how_many_in_pt_br(quantas: int, texto: str) -> None:
    assert ignoradas_flash(quantas, "1323") == texto


# --- the editor's fields ---------------------------------------------------------------------


def test_one_field_per_place_the_open_critiques_point_at() -> None:
    criticas = [
        critica(1, "1206", CNPJ),
        critica(2, "1801", CNPJ),  # a second critique of the same field
        critica(3, "1206", SOLICITANTE.format(1), numero_guia="101"),
        critica(4, "1323", DATA.format(1), ignorada=True),  # ignored: nothing to correct
        critica(5, "5001"),  # no field at all
        critica(6, "1206", SOLICITANTE.format(9)),  # a place the file does not have
    ]
    atuais = {
        CNPJ: "07906129000100",
        SOLICITANTE.format(1): "07906129000100",
        DATA.format(1): "2021-06-10",
        SOLICITANTE.format(9): None,
    }
    campos = editor_fields(criticas, atuais, {})
    assert [(c["nome"], c["valor"], c["criticas"]) for c in campos] == [
        ("CNPJ do prestador (cabeçalho)", "07906129000100", [1, 2]),
        ("CNPJ do contratado (solicitante)", "07906129000100", [3]),
    ]
    assert campos[1]["numero_guia"] == "101"


def test_a_saved_correction_is_shown_instead_of_the_file_value() -> None:
    campos = editor_fields(
        [critica(1, "1206", CNPJ)], {CNPJ: "07906129000100"}, {CNPJ: "07906129000102"}
    )
    assert campos[0]["valor"] == "07906129000102"
    assert campos[0]["original"] == "07906129000100"
    assert campos[0]["pendente"] is True


def test_the_same_wrong_value_in_many_guides_is_one_input() -> None:
    criticas = [critica(1, "1206", CNPJ)] + [
        critica(i + 1, "1206", SOLICITANTE.format(i), numero_guia=str(100 + i))
        for i in range(1, 61)
    ]
    atuais = {c["xpath"]: "07906129000100" for c in criticas}
    atuais[SOLICITANTE.format(60)] = "11111111000111"  # one guide has another value
    grupos = editor_groups(editor_fields(criticas, atuais, {}))
    assert [(g["nome"], g["valor"], len(g["campos"])) for g in grupos] == [
        ("CNPJ do prestador (cabeçalho)", "07906129000100", 1),
        ("CNPJ do contratado (solicitante)", "07906129000100", 59),
        ("CNPJ do contratado (solicitante)", "11111111000111", 1),
    ]
    assert grupos[1]["guias"] == 59
    assert "g" in grupos[1] and "g" not in grupos[0] and "g" not in grupos[2]


# --- what the editor posts ---------------------------------------------------------------------


def _posted(campos: list[tuple[str, str]], grupo: tuple[str, str, str] | None = None) -> FormData:
    """The editor's form: each field with its place and value in the file, and a group
    input for fields repeated with the same value (new value, value shown, members)."""
    items = [("campos", str(len(campos)))]
    for i, (xpath, valor) in enumerate(campos):
        items += [(f"xpath-{i}", xpath), (f"original-{i}", "07906129000100"), (f"valor-{i}", valor)]
    if grupo:
        novo, exibido, membros = grupo
        items += [
            ("grupos", "1"),
            ("grupo-valor-0", novo),
            ("grupo-exibido-0", exibido),
            ("grupo-membros-0", membros),
        ]
    return FormData(items)


def test_unchanged_fields_are_not_corrections() -> None:
    form = _posted([(CNPJ, "07906129000100"), (SOLICITANTE.format(1), " 07906129000102 ")])
    assert corrections(form) == [{"xpath": SOLICITANTE.format(1), "valor": "07906129000102"}]


def test_a_group_value_goes_to_every_field_not_edited_one_by_one() -> None:
    campos = [(SOLICITANTE.format(i), "07906129000100") for i in (1, 2, 3)]
    campos[2] = (SOLICITANTE.format(3), "22222222000122")  # corrected by hand in the list
    form = _posted(campos, ("07906129000102", "07906129000100", "0,1,2"))
    assert corrections(form) == [
        {"xpath": SOLICITANTE.format(1), "valor": "07906129000102"},
        {"xpath": SOLICITANTE.format(2), "valor": "07906129000102"},
        {"xpath": SOLICITANTE.format(3), "valor": "22222222000122"},
    ]


def test_a_saved_correction_is_sent_again_even_if_unchanged_now() -> None:
    form = _posted([(CNPJ, "07906129000100")])
    form = FormData([*form.multi_items(), ("pendente-0", "1")])
    assert corrections(form) == [{"xpath": CNPJ, "valor": "07906129000100"}]


@pytest.mark.parametrize(
    "form",
    [
        FormData([("campos", "abc")]),
        FormData([("campos", "501")]),
        FormData([("campos", "-1")]),
        _posted([(CNPJ, "1")], ("2", "1", "0,7")),  # a member that is not a field
    ],
)
def test_a_tampered_form_is_a_clear_422(form: FormData) -> None:
    with pytest.raises(ApiError) as refused:
        corrections(form)
    assert refused.value.status_code == 422
    assert refused.value.detail["message"].startswith("Dados inválidos no formulário")
