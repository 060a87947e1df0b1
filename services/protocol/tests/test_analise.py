"""The operator's analysis per guide is checked before it is recorded: guides of the lote,
table-38 glosa codes, and sums that add up; each code gets its table-38 description."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from fastapi import HTTPException
from tissflow_contracts import AnaliseGuia, GlosaAnalise
from tissflow_protocol import app
from tissflow_protocol.glosas import descricao

DOC = {"_id": "2026000042", "lote_id": "L1", "numero_lote": "900777"}


def guia(numero: str = "7001", codigo: str = "1705", glosa: str = "5.00") -> AnaliseGuia:
    valor = Decimal(glosa)
    return AnaliseGuia(
        numero_guia_prestador=numero,
        valor_processado=Decimal("100.00"),
        valor_liberado=Decimal("100.00") - valor,
        valor_glosado=valor,
        glosas=[GlosaAnalise(codigo=codigo, valor=valor)] if valor else [],
    )


def check(monkeypatch: pytest.MonkeyPatch, *guias: AnaliseGuia, **totais: Any) -> list[dict]:
    async def numeros(lote_id: str) -> list[str]:
        return ["7001", "7002"]

    monkeypatch.setattr(app, "_numeros_guias", numeros)
    change = app.StatusChange(status=5, guias=list(guias), by="operadora", **totais)
    return asyncio.run(app.analise_guias(DOC, change))


def test_a_valid_analysis_gets_each_code_described(monkeypatch: pytest.MonkeyPatch) -> None:
    out = check(monkeypatch, guia("7001"), guia("7002", glosa="0"))
    assert out[0]["glosas"] == [
        {"codigo": "1705", "valor": "5.00", "descricao": "VALOR APRESENTADO A MAIOR"}
    ]
    assert out[1]["glosas"] == []
    assert descricao("1801") == "PROCEDIMENTO INVÁLIDO"


@pytest.mark.parametrize(
    ("guias", "totais", "trecho"),
    [
        ([guia(codigo="9999")], {}, "9999"),
        ([guia("8001")], {}, "não faz parte do lote"),
        ([guia("7001"), guia("7001")], {}, "mais de uma vez"),
        ([guia()], {"valor_glosado": Decimal("7.00")}, "difere da soma"),
    ],
)
def test_a_wrong_analysis_is_refused_in_pt_br(
    monkeypatch: pytest.MonkeyPatch, guias: list, totais: dict, trecho: str
) -> None:
    with pytest.raises(HTTPException) as raised:
        check(monkeypatch, *guias, **totais)
    assert raised.value.status_code == 422
    assert raised.value.detail["code"] == "analise_invalida"
    assert trecho in raised.value.detail["message"]


def test_glosa_without_code_or_sums_off_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    sem_codigo = guia().model_copy(update={"glosas": []})
    fora_da_soma = guia().model_copy(update={"valor_liberado": Decimal("1.00")})
    for errada, trecho in (
        (sem_codigo, "Guia 7001: informe o código (tabela 38) de cada glosa."),
        (fora_da_soma, "Guia 7001: valor liberado + glosado deve ser igual ao processado."),
    ):
        with pytest.raises(HTTPException) as raised:
            check(monkeypatch, errada)
        assert raised.value.status_code == 422
        assert raised.value.detail["code"] == "analise_invalida"
        assert raised.value.detail["message"] == trecho
