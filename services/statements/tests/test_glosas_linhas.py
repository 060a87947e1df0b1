"""The rows statements gives the glosa panel: one per guide, analysis and recursos joined."""

from __future__ import annotations

from tissflow_statements.entrypoints.glosas import linhas_de_guias

ESTADO = {
    "peg": "123",
    "lote_id": "L1",
    "provider_id": "07906129000102",
    "numero_lote": "7",
    "status": 5,
    "tipo_guia": "odontologia",
    "data_protocolo": "2026-11-10",
    "data_pagamento": None,
    "prestador": {"nome": "ODONTO ARTE LTDA"},
    "guias": [
        {
            "numero_guia_prestador": "g1",
            "valor_processado": "300.00",
            "valor_liberado": "220.00",
            "valor_glosado": "80.00",
            "glosas": [],
            "itens": [
                {"glosas": [{"codigo": "1705", "valor": "30.00"}]},
                {"glosas": [{"codigo": "1801", "valor": "50.00"}]},
            ],
        }
    ],
}
LOTE = {
    "guias": [
        {"numero_guia_prestador": "g1", "valor_informado": "300.00"},
        {"numero_guia_prestador": "g2", "valor_informado": "150.00"},
    ]
}


def test_every_presented_guide_with_its_analysis_codes_and_recovered_value() -> None:
    recursos = [
        {
            "numero_guia_prestador": "g1",
            "valor_total_recursado": "50.00",
            "valor_total_acatado": "20.00",
        },
        {
            "numero_guia_prestador": "g1",
            "valor_total_recursado": "30.00",
            "valor_total_acatado": "30.00",
        },
    ]
    g1, g2 = linhas_de_guias(ESTADO, LOTE, recursos)
    assert g1["glosas"] == [
        {"codigo": "1705", "valor": "30.00"},
        {"codigo": "1801", "valor": "50.00"},
    ]
    assert (g1["valor_informado"], g1["valor_glosado"], g1["valor_acatado"]) == (
        "300.00",
        "80.00",
        "50.00",
    )
    assert g1["prestador_nome"] == "ODONTO ARTE LTDA"
    # Presented but not in the analysis: no answer for it yet.
    assert g2["valor_processado"] is None and g2["valor_informado"] == "150.00"


def test_without_the_lote_the_analysed_guides_are_the_rows() -> None:
    (g1,) = linhas_de_guias(ESTADO, None, [])
    assert g1["numero_guia_prestador"] == "g1" and g1["valor_informado"] is None
