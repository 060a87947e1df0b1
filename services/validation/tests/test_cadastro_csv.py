"""Registry CSV parsing (`tissflow_validation.domain.cadastro`) and the `tissflow cadastro import`
command's handling of files, service answers and errors (with the HTTP call faked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tissflow_validation import cli
from tissflow_validation.adapters import cadastro_client
from tissflow_validation.domain.cadastro import CsvInvalido, decodificar, ler_csv


def test_prestadores_good_and_bad_lines_are_numbered_as_in_the_file() -> None:
    texto = (
        "cnpj_cpf;codigo_prestador;nome\n"
        "07906129000102;100234;ODONTO ARTE LTDA\n"
        "07906129000199;;DÍGITO ERRADO\n"
        "\n"
        "079.061.290-00;;SEM NOME\n"
        "11222333000181;;\n"
        "529.982.247-25;;DRA. PESSOA FÍSICA\n"
        "123;;CURTO\n"
    )
    out = ler_csv("prestadores", texto)
    assert [r["_id"] for r in out.registros] == ["07906129000102", "52998224725"]
    assert out.registros[0] == {
        "_id": "07906129000102",
        "cnpj_cpf": "07906129000102",
        "codigo_prestador": "100234",
        "nome": "ODONTO ARTE LTDA",
    }
    assert out.registros[1]["codigo_prestador"] is None
    erros = {e["linha"]: e["mensagem"] for e in out.erros}
    assert set(erros) == {3, 5, 6, 8}
    assert erros[3] == "CNPJ 07906129000199 com dígitos verificadores inválidos"
    assert "CPF 07906129000" in erros[5]
    assert erros[6] == "nome não informado"
    assert "11 (CPF) ou 14 (CNPJ)" in erros[8]


def test_beneficiarios_accept_s_n_and_report_anything_else() -> None:
    texto = (
        "\ufeffnumero_carteira;nome;ativo\n"
        "00331988000116;MARIA;S\n"
        "00331988000450;FRANCISCA;n\n"
        "00331988000221;JOÃO;talvez\n"
        ";SEM CARTEIRA;S\n"
        "00331988000337;ANA;S;extra\n"
    )
    out = ler_csv("beneficiarios", decodificar(texto.encode("utf-8")))
    assert [(r["_id"], r["ativo"]) for r in out.registros] == [
        ("00331988000116", True),
        ("00331988000450", False),
    ]
    assert [e["linha"] for e in out.erros] == [4, 5, 6]
    assert "use S ou N" in out.erros[0]["mensagem"]
    assert out.erros[1]["mensagem"] == "numero_carteira não informado"
    assert "colunas a mais" in out.erros[2]["mensagem"]


def test_quoted_field_spanning_lines_keeps_later_line_numbers_right() -> None:
    texto = 'numero_carteira;nome;ativo\n1;"NOME\nEM DUAS LINHAS";S\n2;OUTRO;X\n'
    out = ler_csv("beneficiarios", texto)
    assert out.registros[0]["nome"] == "NOME\nEM DUAS LINHAS"
    assert out.erros == [{"linha": 4, "mensagem": "ativo 'X' inválido: use S ou N"}]


def test_a_wrong_header_or_encoding_refuses_the_whole_file() -> None:
    with pytest.raises(CsvInvalido, match="faltando: codigo_prestador"):
        ler_csv("prestadores", "cnpj_cpf;nome\n07906129000102;X\n")
    with pytest.raises(CsvInvalido, match="faltando"):
        ler_csv("beneficiarios", "")
    with pytest.raises(CsvInvalido, match="UTF-8.*Salvar como › 'CSV UTF-8'"):
        decodificar("numero_carteira;nome;ativo\n1;JOSÉ;S\n".encode("latin-1"))


def test_header_only_imports_nothing() -> None:
    out = ler_csv("beneficiarios", "numero_carteira;nome;ativo\n")
    assert out.registros == [] and out.erros == []


def test_cadastro_import_prints_refused_lines_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arq = tmp_path / "beneficiarios.csv"
    arq.write_bytes(b"numero_carteira;nome;ativo\n1;A;S\n2;B;X\n")
    enviados: list[tuple[str, str, str, bytes]] = []

    def falso(url: str, token: str, tipo: str, dados: bytes, timeout: float = 60) -> Any:
        enviados.append((url, token, tipo, dados))
        return {"importados": 1, "erros": [{"linha": 3, "mensagem": "ativo 'X' inválido"}]}

    monkeypatch.setattr(cadastro_client, "enviar_csv", falso)
    monkeypatch.setenv("TISSFLOW_INTERNAL_TOKEN", "segredo")
    monkeypatch.setenv("TISSFLOW_VALIDATION_URL", "http://validacao:9")
    codigo = cli.main(["cadastro", "import", "--beneficiarios", str(arq)])
    saida = capsys.readouterr().out
    assert codigo == cli.EXIT_INVALIDO
    assert enviados == [("http://validacao:9", "segredo", "beneficiarios", arq.read_bytes())]
    assert "1 beneficiarios importado(s), 1 linha(s) recusada(s)" in saida
    assert "linha 3: ativo 'X' inválido" in saida


def test_cadastro_import_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cadastro", "import"]) == cli.EXIT_USO
    assert "--prestadores" in capsys.readouterr().err
    faltando = tmp_path / "nao-existe.csv"
    assert cli.main(["cadastro", "import", "--prestadores", str(faltando)]) == cli.EXIT_USO
    assert "não foi possível ler" in capsys.readouterr().err


def test_cadastro_import_unreachable_service_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arq = tmp_path / "prestadores.csv"
    arq.write_text("cnpj_cpf;codigo_prestador;nome\n07906129000102;;X\n", encoding="utf-8")
    args = ["cadastro", "import", "--prestadores", str(arq), "--validation-url"]
    assert cli.main([*args, "http://127.0.0.1:9"]) == cli.EXIT_USO
    assert "inacessível" in capsys.readouterr().err


def test_prestadores_vinculados_column_is_optional_and_split_by_comma() -> None:
    """Issue 22 item 1: the operator links providers whose guides a provider may bill."""
    texto = (
        "cnpj_cpf;codigo_prestador;nome;vinculados\n"
        "11222333000181;100300;CLINICA SORRISO LTDA;07.906.129/0001-02, 100234\n"
        "07906129000102;100234;ODONTO ARTE LTDA;\n"
        "52998224725;;DRA. PESSOA;07.906.129/0001-99\n"
    )
    out = ler_csv("prestadores", texto)
    assert out.registros[0]["vinculados"] == ["07906129000102", "100234"]
    assert out.registros[1]["vinculados"] == []
    assert out.erros == [
        {"linha": 4, "mensagem": "CNPJ 07906129000199 com dígitos verificadores inválidos"}
    ]
    sem_coluna = ler_csv("prestadores", "cnpj_cpf;codigo_prestador;nome\n07906129000102;;X\n")
    assert "vinculados" not in sem_coluna.registros[0]
