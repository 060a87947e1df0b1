"""A glossed protocol as the events carry it: the lote's guides and the operator's analysis."""

from __future__ import annotations

from typing import Any

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
