"""apply_correction round trips: fix a value, recalculate totals, hash always rewritten."""

from __future__ import annotations

import pytest
from tissflow_demo.samples import build_lote, substituir
from tissflow_validation.engine import CorrecaoInvalida, apply_correction, validate

from .conftest import GUIAS, codigos

CNPJ = "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "UTF-8"])
def test_corrigir_cnpj_torna_valido(encoding, ctx_completo):
    errado = build_lote("odontologia", encoding=encoding)
    errado = substituir(errado, "<ans:CNPJ>07906129000102", "<ans:CNPJ>07906129000103")
    r = validate(errado, ctx_completo)
    assert codigos(r) == ["1206"] and r.critiques[0].xpath == CNPJ
    corrigido = apply_correction(errado, [(r.critiques[0].xpath, "07906129000102")], False)
    assert corrigido.startswith(f"<?xml version='1.0' encoding='{encoding}'?>".encode())
    assert "BÁSICO".encode(encoding) in corrigido
    r2 = validate(corrigido, ctx_completo)
    assert r2.valido, [c.to_dict() for c in r2.critiques]


def test_corrigir_sem_recalcular_mantem_total_errado_mas_hash_certo(ctx):
    content = build_lote("sp_sadt", n_guias=2, itens_por_guia=3)
    item = GUIAS + "/guiaSP-SADT[2]/procedimentosExecutados/procedimentoExecutado[1]"
    novo = apply_correction(content, [(item + "/valorUnitario", "20.00")], False)
    r = validate(novo, ctx)
    assert codigos(r) == ["1706"]  # 1 × 20.00 billed as 12.50
    assert r.hash_informado == r.hash_calculado


def test_recalcular_totais(ctx):
    content = build_lote("sp_sadt", n_guias=2, itens_por_guia=3)
    item = GUIAS + "/guiaSP-SADT[2]/procedimentosExecutados/procedimentoExecutado[3]"
    novo = apply_correction(content, [(item + "/quantidadeExecutada", "5")], True)
    r = validate(novo, ctx)
    assert r.valido, [c.to_dict() for c in r.critiques]
    # guide 2: 12.50 + 2×6.80 + 5×35.00
    assert r.guias[1].valor_total.to_eng_string() == "201.10"
    assert r.guias[0].valor_total.to_eng_string() == "131.10"


@pytest.mark.parametrize("tipo", ["odontologia", "honorarios", "resumo_internacao", "consulta"])
def test_recalcular_outros_tipos(tipo, ctx):
    content = build_lote(tipo, n_guias=2, itens_por_guia=2)
    r = validate(content, ctx)
    # break the first item's total (and so the guide's), then recalculate
    campo = {
        "odontologia": "/guiaOdonto[1]/procedimentosExecutados[1]/valorProc",
        "honorarios": "/guiaHonorarios[1]/procedimentosRealizados/procedimentoRealizado[1]"
        "/valorUnitario",
        "resumo_internacao": "/guiaResumoInternacao[1]/procedimentosExecutados"
        "/procedimentoExecutado[1]/valorUnitario",
        "consulta": "/guiaConsulta[1]/dadosAtendimento/procedimento/valorProcedimento",
    }[tipo]
    novo = apply_correction(content, [(GUIAS + campo, "99.90")], True)
    r2 = validate(novo, ctx)
    assert r2.valido, [c.to_dict() for c in r2.critiques]
    assert r2.guias[0].valor_total != r.guias[0].valor_total
    assert r2.guias[1].valor_total == r.guias[1].valor_total


def test_caminho_com_prefixo_ans(ctx):
    content = substituir(build_lote(), "<ans:numeroLote>1<", "<ans:numeroLote><")
    novo = apply_correction(
        content,
        [("/ans:mensagemTISS/ans:prestadorParaOperadora/ans:loteGuias/ans:numeroLote", "77")],
    )
    r = validate(novo, ctx)
    assert r.valido and r.numero_lote == "77"


def test_caminho_inexistente_ou_nao_simples():
    content = build_lote()
    with pytest.raises(CorrecaoInvalida, match="não encontrado"):
        apply_correction(content, [(GUIAS + "/guiaSP-SADT[2]/valorTotal/valorTotalGeral", "1")])
    with pytest.raises(CorrecaoInvalida, match="não é um campo simples"):
        apply_correction(content, [(GUIAS + "/guiaSP-SADT/valorTotal", "1")])
    with pytest.raises(CorrecaoInvalida):
        apply_correction(b"<a><b></a>", [])


def test_valor_fora_do_latin1_em_arquivo_iso(ctx):
    content = build_lote("sp_sadt")
    campo = GUIAS + "/guiaSP-SADT/dadosSolicitacao/indicacaoClinica"
    novo = apply_correction(content, [(campo, "Dor torácica — avaliar €")])
    assert b"&#8364;" in novo
    r = validate(novo, ctx)
    assert r.valido  # hash written over UTF-8, which validate accepts
