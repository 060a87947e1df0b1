"""The Painel de Glosa's figures and its CSV, from statements' rows and validation's counts."""

from __future__ import annotations

import csv
import io
from typing import Any

from tissflow_gateway.analytics import csv_de, painel


def linha(**kw: Any) -> dict[str, Any]:
    base = {
        "provider_id": "07906129000102",
        "prestador_nome": "ODONTO ARTE LTDA",
        "peg": "1",
        "numero_lote": "10",
        "tipo_guia": "odontologia",
        "status": 6,
        "data_protocolo": "2026-10-01",
        "data_pagamento": "2026-10-21",
        "numero_guia_prestador": "g1",
        "valor_informado": "100.00",
        "valor_processado": "100.00",
        "valor_liberado": "80.00",
        "valor_glosado": "20.00",
        "glosas": [{"codigo": "1705", "valor": "20.00"}],
        "valor_recursado": None,
        "valor_acatado": None,
    }
    return {**base, **kw}


LINHAS = [
    linha(),
    # Same protocol; glosa won back in part by a recurso.
    linha(
        numero_guia_prestador="g2",
        valor_informado="300.00",
        valor_processado="300.00",
        valor_liberado="200.00",
        valor_glosado="100.00",
        glosas=[{"codigo": "1801", "valor": "60.00"}, {"codigo": "1705", "valor": "40.00"}],
        valor_recursado="100.00",
        valor_acatado="60.00",
    ),
    # Another provider, sp_sadt, November, paid after 10 days.
    linha(
        provider_id="11222333000181",
        prestador_nome="CLINICA SORRISO",
        peg="2",
        tipo_guia="sp_sadt",
        data_protocolo="2026-11-02",
        data_pagamento="2026-11-12",
        numero_guia_prestador="g9",
        valor_informado="50.00",
        valor_processado="50.00",
        valor_liberado="50.00",
        valor_glosado="0.00",
        glosas=[],
    ),
    # Sent, not analysed yet: a guide without answer.
    linha(
        peg="3",
        status=1,
        data_pagamento=None,
        data_protocolo="2026-11-20",
        numero_guia_prestador="g5",
        valor_informado="70.00",
        valor_processado=None,
        valor_liberado=None,
        valor_glosado=None,
        glosas=[],
    ),
]
CRITICAS = [
    {"codigo": "1001", "descricao": "NÚMERO DA CARTEIRA INVÁLIDO", "quantidade": 3},
    {"codigo": "1206", "descricao": "CPF / CNPJ INVÁLIDO", "quantidade": 1},
    {"codigo": "1001", "descricao": "NÚMERO DA CARTEIRA INVÁLIDO", "quantidade": 2},
]


def test_totals_glosa_initial_and_final_in_value_and_percent() -> None:
    r = painel(LINHAS, CRITICAS)["resumo"]
    assert r["valor_apresentado"] == "520.00"
    assert r["glosa_inicial"] == "120.00"
    assert r["percentual_glosa_inicial"] == "23.08"  # 120 / 520
    assert r["valor_recuperado"] == "60.00"
    assert r["glosa_final"] == "60.00"
    assert r["percentual_glosa_final"] == "11.54"
    assert r["guias"] == 4 and r["guias_sem_resposta"] == 1
    assert r["protocolos"] == 3
    # Protocol 1 paid after 20 days, protocol 2 after 10.
    assert r["prazo_medio_pagamento_dias"] == "15.0"


def test_breakdowns_per_provider_guide_type_and_month() -> None:
    p = painel(LINHAS, CRITICAS)
    por_prestador = {g["chave"]: g for g in p["por_prestador"]}
    assert por_prestador["07906129000102"]["nome"] == "ODONTO ARTE LTDA"
    assert por_prestador["07906129000102"]["glosa_final"] == "60.00"
    assert por_prestador["11222333000181"]["percentual_glosa_inicial"] == "0.00"
    assert {g["nome"] for g in p["por_tipo_guia"]} == {"Tratamento Odontológico", "SP/SADT"}
    assert [(g["nome"], g["guias"]) for g in p["por_mes"]] == [("10/2026", 2), ("11/2026", 2)]


def test_top_codes_operator_glosas_by_value_and_critiques_by_count() -> None:
    p = painel(LINHAS, CRITICAS)
    # Same value: the code first.
    assert [(g["codigo"], g["valor"], g["guias"]) for g in p["top_glosas"]] == [
        ("1705", "60.00", 2),
        ("1801", "60.00", 1),
    ]
    assert p["top_glosas"][0]["descricao"]  # from table 38 of the installed package
    assert [(c["codigo"], c["quantidade"]) for c in p["top_criticas"]] == [("1001", 5), ("1206", 1)]


def test_csv_opens_in_excel_ptbr_bom_semicolon_decimal_comma() -> None:
    dados = {**painel(LINHAS, CRITICAS), "guias_detalhe": LINHAS}
    content = csv_de(dados, "prestador")
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Prestador", "CNPJ/CPF", "Protocolos"]
    assert "Glosa final (%)" in rows[0]
    odonto = next(r for r in rows if r[0] == "ODONTO ARTE LTDA")
    col = rows[0].index("Glosa inicial (R$)")
    assert odonto[col] == "120,00"
    assert (
        odonto[rows[0].index("Glosa final (%)")] == "12,77"
    )  # 60 / 470 (the guide without answer was presented too)
    assert rows[-1][0] == "Total"
    guias = list(csv.reader(io.StringIO(csv_de(dados, "guias").decode("utf-8-sig")), delimiter=";"))
    assert guias[0][0] == "CNPJ/CPF" and len(guias) == 5
    assert guias[2][guias[0].index("Códigos de glosa")] == "1801 1705"
    assert guias[1][guias[0].index("Data do protocolo")] == "01/10/2026"
