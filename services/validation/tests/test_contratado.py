"""Issue 22 item 1: a provider bills only the guides it executed.

The contratado executante inside each guide (CNPJ, CPF or code at the operator) must be
the provider that sends the file or one the operator linked to it in its registry, else
1206 on that guide: correcting the header's CNPJ to one's own does not make another
provider's guides one's own.
"""

from __future__ import annotations

import pytest
from tissflow_demo.samples import (
    CNPJ_PADRAO,
    CODIGO_PRESTADOR_PADRAO,
    NOME_PRESTADOR_PADRAO,
    build_lote,
    substituir,
)
from tissflow_validation.engine import OperatorContext, validate

from .conftest import codigos

# GTO names no contratado (only the executing dentist): see test_gto_e_julgada_pelo_remetente.
TIPOS = ("consulta", "sp_sadt", "honorarios", "resumo_internacao")
SORRISO = "11222333000181"
SORRISO_CODIGO = "100300"
CADASTRO = {
    CNPJ_PADRAO: {
        "cnpj_cpf": CNPJ_PADRAO,
        "codigo_prestador": CODIGO_PRESTADOR_PADRAO,
        "nome": NOME_PRESTADOR_PADRAO,
    },
    SORRISO: {"cnpj_cpf": SORRISO, "codigo_prestador": SORRISO_CODIGO, "nome": "CLINICA SORRISO"},
}


def _como_sorriso(content: bytes) -> bytes:
    """ODONTO ARTE's file with only the header's sender corrected to CLINICA SORRISO."""
    return substituir(
        content, f"<ans:CNPJ>{CNPJ_PADRAO}</ans:CNPJ>", f"<ans:CNPJ>{SORRISO}</ans:CNPJ>"
    )


def _ctx(**kw) -> OperatorContext:
    return OperatorContext(
        registro_ans="331988",
        prestadores=CADASTRO,
        prestador_remetente={SORRISO, SORRISO_CODIGO},
        **kw,
    )


@pytest.mark.parametrize("tipo", TIPOS)
def test_guias_de_outro_prestador_com_cabecalho_corrigido_recebem_1206(tipo: str) -> None:
    content = _como_sorriso(build_lote(tipo, n_guias=3, itens_por_guia=2))
    r = validate(content, _ctx())
    assert not r.valido
    criticas = [c for c in r.critiques if c.codigo == "1206"]
    assert [c.numero_guia for c in criticas] == ["1", "2", "3"], codigos(r)
    assert codigos(r) == ["1206"] * 3
    c = criticas[0]
    assert CNPJ_PADRAO in c.mensagem or CODIGO_PRESTADOR_PADRAO in c.mensagem
    assert "não é o prestador que enviou o arquivo" in c.mensagem
    assert c.xpath.startswith("/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS/")


@pytest.mark.parametrize("tipo", TIPOS)
def test_prestador_vinculado_pelo_cadastro_pode_ser_o_executante(tipo: str) -> None:
    content = _como_sorriso(build_lote(tipo, n_guias=2))
    r = validate(content, _ctx(prestadores_vinculados={CNPJ_PADRAO, CODIGO_PRESTADOR_PADRAO}))
    assert r.valido, [c.to_dict() for c in r.critiques]


@pytest.mark.parametrize("tipo", TIPOS)
def test_guias_do_proprio_remetente_passam(tipo: str) -> None:
    content = build_lote(tipo, n_guias=2, cnpj=SORRISO, codigo_prestador=SORRISO_CODIGO)
    r = validate(content, _ctx())
    assert r.valido, [c.to_dict() for c in r.critiques]


def test_arquivo_de_outro_prestador_tem_um_so_1206_no_cabecalho() -> None:
    r = validate(build_lote("sp_sadt", n_guias=3), _ctx())
    assert codigos(r) == ["1206"]
    assert r.critiques[0].numero_guia is None
    assert "enviado por outro prestador" in r.critiques[0].mensagem


def test_sem_usuario_o_cadastro_da_origem_diz_quem_fatura() -> None:
    """Offline (CLI with --cadastro): the origin's registry record names the sender."""
    content = _como_sorriso(build_lote("honorarios", n_guias=2))
    r = validate(content, OperatorContext(registro_ans="331988", prestadores=CADASTRO))
    assert codigos(r) == ["1206", "1206"]
    vinculado = {
        **CADASTRO,
        SORRISO: {**CADASTRO[SORRISO], "vinculados": [CODIGO_PRESTADOR_PADRAO]},
    }
    r = validate(content, OperatorContext(registro_ans="331988", prestadores=vinculado))
    assert r.valido, [c.to_dict() for c in r.critiques]


def test_sem_cadastro_nem_usuario_nada_a_comparar() -> None:
    content = _como_sorriso(build_lote("consulta", n_guias=2))
    assert validate(content, OperatorContext(registro_ans="331988")).valido


def test_gto_e_julgada_pelo_remetente() -> None:
    """The dentist who executed a GTO is often the clinic's employee (its CPF or code):
    a guide naming one is the clinic's own, not another provider's."""
    content = _como_sorriso(build_lote("odontologia", n_guias=1, codigo_prestador="99887766"))
    assert b"<ans:codigoProfExec>99887766</ans:codigoProfExec>" in content
    r = validate(content, _ctx())
    assert "1206" not in codigos(r)
