"""The generated corpus of valid lotes passes every engine check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tissflow_demo.samples import (
    TIPOS_GUIA,
    build_lote,
    build_lote_grande,
    carteiras_ativas,
)
from tissflow_validation.engine import validate


@pytest.mark.parametrize("versao", ["4.02.00", "4.03.00"])
@pytest.mark.parametrize("encoding", ["ISO-8859-1", "UTF-8"])
@pytest.mark.parametrize("tipo", TIPOS_GUIA)
@pytest.mark.parametrize("n_guias", [1, 100])
def test_lote_valido(tipo, encoding, versao, n_guias, ctx_completo):
    content = build_lote(tipo, n_guias=n_guias, versao=versao, encoding=encoding, itens_por_guia=2)
    assert content.startswith(f'<?xml version="1.0" encoding="{encoding}"?>'.encode())
    r = validate(content, ctx_completo)
    assert r.valido, [c.to_dict() for c in r.critiques]
    assert r.critiques == []
    assert r.versao_tiss == versao
    assert r.tipo_transacao == "ENVIO_LOTE_GUIAS"
    assert r.tipo_guia == tipo
    assert r.quantidade_guias == n_guias == len(r.guias)
    assert r.encoding == encoding
    assert r.hash_calculado == r.hash_informado
    assert r.prestador == {"tipo": "CNPJ", "valor": "07906129000102", "nome": "ODONTO ARTE LTDA"}
    assert r.guias[0].numero_guia_prestador == "1"
    assert r.guias[0].numero_carteira == carteiras_ativas()[0]
    assert r.valor_total == sum((g.valor_total for g in r.guias), Decimal(0)) > 0


def test_valores_do_resumo(ctx):
    r = validate(build_lote("sp_sadt", n_guias=2, itens_por_guia=4), ctx)
    # 12.50 + 2×6.80 + 3×35.00 + 1×12.50×0.50
    assert r.guias[0].valor_total == Decimal("137.35")
    assert r.valor_total == Decimal("274.70")
    assert r.numero_lote == "1"
    assert r.to_dict()["valor_total"] == "274.70"
    assert r.to_dict()["guias"][1]["xpath"].endswith("guiaSP-SADT[2]")


def test_acentos_em_iso_8859_1_e_utf8(ctx):
    latin = build_lote("odontologia", encoding="ISO-8859-1")
    utf8 = build_lote("odontologia", encoding="UTF-8")
    assert "BÁSICO".encode("latin-1") in latin
    assert "BÁSICO".encode() in utf8
    assert validate(latin, ctx).valido and validate(utf8, ctx).valido


def test_lote_grande_10mb_100_guias_valido(ctx):
    """The benchmark's file is valid; its speed is measured by `make bench`, not here."""
    content = build_lote_grande()
    assert 9_000_000 < len(content) < 11_500_000
    r = validate(content, ctx)
    assert r.valido and r.quantidade_guias == 100
