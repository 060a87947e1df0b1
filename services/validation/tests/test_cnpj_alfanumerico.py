"""Issue 22 item 8: the alphanumeric CNPJ (`[A-Z0-9]{12}[0-9]{2}`, issued by the Receita
from July 2026; check digits with each character valued ASCII - 48) is read and checked
wherever a CNPJ enters: the engine (origin and guides), the registry CSV, the registry
JSON import and the CLI's `--cadastro`."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from tissflow_demo.samples import build_lote, substituir
from tissflow_validation.cli import main
from tissflow_validation.domain.cadastro import ler_csv
from tissflow_validation.engine import OperatorContext, validate
from tissflow_validation.engine.regras import cnpj_valido

from .conftest import codigos

ALFA = "12ABC34501DE35"  # the Receita's example, 12.ABC.345/01DE-35
ALFA_DV_ERRADO = "12ABC34501DE36"


@pytest.mark.parametrize(
    ("cnpj", "valido"),
    [
        (ALFA, True),
        (ALFA_DV_ERRADO, False),
        ("07906129000102", True),
        ("07906129000103", False),
        ("12abc34501de35", False),  # lower case is not in the XSD's alphabet
        ("12:BC34501DE35", False),  # ':' is ASCII 58, between '9' and 'A'
        ("12ABC34501DEA5", False),  # the check digits are digits
        ("AAAAAAAAAAAAAA", False),
    ],
)
def test_digitos_verificadores(cnpj: str, valido: bool) -> None:
    assert cnpj_valido(cnpj) is valido


def _ctx() -> OperatorContext:
    cadastro = {ALFA: {"cnpj_cpf": ALFA, "codigo_prestador": "200001", "nome": "CLINICA ALFA"}}
    return OperatorContext(
        registro_ans="331988", prestadores=cadastro, prestador_remetente={ALFA, "200001"}
    )


@pytest.mark.parametrize("tipo", ["consulta", "sp_sadt", "resumo_internacao"])
def test_lote_de_prestador_com_cnpj_alfanumerico_e_importado(tipo: str) -> None:
    content = build_lote(tipo, n_guias=2, cnpj=ALFA, codigo_prestador="200001")
    r = validate(content, _ctx())
    assert r.valido, [c.to_dict() for c in r.critiques]
    assert r.prestador == {"tipo": "CNPJ", "valor": ALFA, "nome": "CLINICA ALFA"}
    assert r.extrato.prestador["provider_id"] == ALFA


def test_cnpj_alfanumerico_com_digito_errado_na_origem_e_na_guia() -> None:
    content = build_lote("sp_sadt", n_guias=1, cnpj=ALFA_DV_ERRADO)
    r = validate(content, OperatorContext(registro_ans="331988"))
    assert codigos(r) == ["1206", "1206", "1206"]  # origin, solicitante, executante
    assert all(f"CNPJ {ALFA_DV_ERRADO}" in c.mensagem for c in r.critiques)
    assert all("dígitos verificadores inválidos" in c.mensagem for c in r.critiques)


def test_na_versao_4_02_00_o_schema_so_aceita_digitos() -> None:
    r = validate(build_lote("consulta", cnpj=ALFA, versao="4.02.00"), _ctx())
    assert codigos(r) == ["1206", "1206"]  # the schema's pattern, origin and guide
    assert all("fora do formato exigido (14 dígitos)" in c.mensagem for c in r.critiques)


def test_cadastro_csv_aceita_cnpj_alfanumerico_com_pontuacao() -> None:
    texto = (
        "cnpj_cpf;codigo_prestador;nome\n"
        "12.ABC.345/01DE-35;200001;CLINICA ALFA\n"
        "12abc34501de35;;MINUSCULAS\n"
        f"{ALFA_DV_ERRADO};;DIGITO ERRADO\n"
        "12ABC34501D:35;;FORA DO ALFABETO\n"
    )
    out = ler_csv("prestadores", texto)
    assert [r["_id"] for r in out.registros] == [ALFA, ALFA]
    erros = {e["linha"]: e["mensagem"] for e in out.erros}
    assert erros[4] == f"CNPJ {ALFA_DV_ERRADO} com dígitos verificadores inválidos"
    assert "14 (CNPJ)" in erros[5]


def test_cli_cadastro_com_cnpj_alfanumerico(tmp_path, capsys) -> None:
    cad = tmp_path / "cadastro"
    cad.mkdir()
    (cad / "prestadores.csv").write_text(
        "cnpj_cpf;codigo_prestador;nome\n12.ABC.345/01DE-35;200001;CLINICA ALFA\n",
        encoding="utf-8",
    )
    arq = tmp_path / "lote.xml"
    arq.write_bytes(build_lote("honorarios", n_guias=1, cnpj=ALFA, codigo_prestador="200001"))
    assert main(["validate", str(arq), "--cadastro", str(cad), "--format", "json"]) == 0
    dados = json.loads(capsys.readouterr().out)[0]
    assert dados["valido"], dados["critiques"]
    assert dados["prestador"] == {"tipo": "CNPJ", "valor": ALFA, "nome": "CLINICA ALFA"}


def test_cadastro_json_do_servico_aceita_e_confere_cnpj_alfanumerico() -> None:
    from tissflow_validation.entrypoints.registry import Prestador

    assert Prestador(cnpj_cpf=ALFA, nome="CLINICA ALFA").cnpj_cpf == ALFA
    with pytest.raises(ValidationError, match="dígitos verificadores"):
        Prestador(cnpj_cpf=ALFA_DV_ERRADO, nome="X")
    with pytest.raises(ValidationError, match="dígitos verificadores"):
        Prestador(cnpj_cpf="07906129000103", nome="X")


def test_guia_com_cnpj_alfanumerico_de_outro_prestador_e_1206() -> None:
    content = build_lote("consulta", n_guias=1, cnpj=ALFA, codigo_prestador="200001")
    outro = substituir(content, f"<ans:cnpjContratado>{ALFA}", "<ans:cnpjContratado>07906129000102")
    r = validate(outro, _ctx())
    assert codigos(r) == ["1206"]
    assert r.critiques[0].numero_guia == "1"
