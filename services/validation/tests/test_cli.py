"""The `tissflow` command: validate (text/json, cadastro) and reference import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest
from tissflow_demo.samples import CARTEIRA_INATIVA, build_lote, carteiras_ativas, substituir
from tissflow_validation.cli import main
from tissflow_validation.engine.reference import ENV_REFERENCE_DIR


@pytest.fixture
def arquivos(tmp_path):
    ok = tmp_path / "ok.xml"
    ok.write_bytes(build_lote("consulta", n_guias=2))
    ruim = tmp_path / "ruim.xml"
    ruim.write_bytes(
        substituir(build_lote(), "<ans:CNPJ>07906129000102", "<ans:CNPJ>07906129000103")
    )
    return ok, ruim


def test_validate_texto(arquivos, capsys):
    ok, ruim = arquivos
    assert main(["validate", str(ok)]) == 0
    saida = capsys.readouterr().out
    assert saida.startswith(f"{ok}: VÁLIDO — consulta, 2 guia(s), R$ 300,00, TISS 4.03.00")
    assert main(["validate", str(ok), str(ruim), "--operadora", "331988"]) == 1
    linhas = capsys.readouterr().out.splitlines()
    # what could be read of the refused lote names it for the clinic
    assert (
        linhas[1] == f"{ruim}: INVÁLIDO — 1 crítica(s) — sp_sadt, 1 guia(s), R$ 12,50, TISS 4.03.00"
    )
    assert (
        linhas[2] == "  [1206] linha 12 /mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"
    )
    assert "dígitos verificadores" in linhas[3]


def test_validate_json(arquivos, capsys):
    ok, ruim = arquivos
    assert main(["validate", "--format", "json", str(ok), str(ruim)]) == 1
    dados = json.loads(capsys.readouterr().out)
    assert [d["arquivo"] for d in dados] == [str(ok), str(ruim)]
    assert [d["valido"] for d in dados] == [True, False]
    assert dados[0]["valor_total"] == "300.00"
    assert dados[1]["critiques"][0]["codigo"] == "1206"


def test_validate_operadora_diferente(arquivos, capsys):
    ok, _ = arquivos
    assert main(["validate", str(ok), "--operadora", "999999"]) == 1
    assert "[5027]" in capsys.readouterr().out


def test_validate_cadastro(tmp_path, capsys):
    cad = tmp_path / "cadastro"
    cad.mkdir()
    (cad / "prestadores.csv").write_text(
        "cnpj_cpf;codigo_prestador;nome\n07906129000102;100234;ODONTO ARTE LTDA\n", encoding="utf-8"
    )
    ativa = carteiras_ativas()[0]
    (cad / "beneficiarios.csv").write_text(
        f"numero_carteira;nome;ativo\n{ativa};MARIA APARECIDA;S\n{CARTEIRA_INATIVA};FRANCISCA;N\n",
        encoding="utf-8",
    )
    arq = tmp_path / "lote.xml"
    arq.write_bytes(build_lote(n_guias=2, carteiras=[ativa, CARTEIRA_INATIVA]))
    assert main(["validate", str(arq), "--cadastro", str(cad), "--format", "json"]) == 1
    dados = json.loads(capsys.readouterr().out)[0]
    assert [c["codigo"] for c in dados["critiques"]] == ["1001"]
    assert dados["critiques"][0]["numero_guia"] == "2"
    assert dados["prestador"]["nome"] == "ODONTO ARTE LTDA"


def test_validate_cadastro_com_cnpj_e_cpf_formatados(tmp_path, capsys):
    """The same CSV the service imports: punctuated CNPJ/CPF are read as digits."""
    cad = tmp_path / "cadastro"
    cad.mkdir()
    (cad / "prestadores.csv").write_text(
        "cnpj_cpf;codigo_prestador;nome\n07.906.129/0001-02;100234;ODONTO ARTE LTDA\n"
        "529.982.247-25;;DR. JOSÉ\n",
        encoding="utf-8",
    )
    arq = tmp_path / "lote.xml"
    arq.write_bytes(build_lote(n_guias=1))
    assert main(["validate", str(arq), "--cadastro", str(cad), "--format", "json"]) == 0
    dados = json.loads(capsys.readouterr().out)[0]
    assert dados["valido"] and dados["prestador"]["nome"] == "ODONTO ARTE LTDA"


def test_arquivo_ilegivel_em_portugues(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nao-existe.xml")]) == 2
    assert "arquivo não encontrado" in capsys.readouterr().err
    assert main(["validate", str(tmp_path)]) == 2
    assert "é uma pasta" in capsys.readouterr().err


def test_cadastro_com_cabecalho_errado(tmp_path, arquivos, capsys):
    cad = tmp_path / "cad"
    cad.mkdir()
    (cad / "prestadores.csv").write_text("cnpj,nome\n1,2\n", encoding="utf-8")
    assert main(["validate", str(arquivos[0]), "--cadastro", str(cad)]) == 2
    assert "cnpj_cpf;codigo_prestador;nome" in capsys.readouterr().err


def test_erros_de_uso(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["validate"])
    assert e.value.code == 2
    assert "erro: argumentos obrigatórios ausentes" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["validate", "x.xml", "--format", "xml"])
    assert e.value.code == 2
    assert main(["validate", str(tmp_path / "nao-existe.xml")]) == 2
    assert "não foi possível ler o arquivo" in capsys.readouterr().err


def _pacote_ans(tmp_path: Path, versao_falsa: str) -> Path:
    """A schema package for a version the tiss package lacks (4.03.00 files renamed)."""
    origem = Path(str(resources.files("tiss").joinpath("_data/schemas/4.03.00")))
    pasta = tmp_path / "pacote" / "schemas"
    pasta.mkdir(parents=True)
    for arq in origem.glob("*.xsd"):
        if arq.name != "tissV4_03_00.xsd":
            shutil.copyfile(arq, pasta / arq.name)
    shutil.copyfile(
        origem / "tissV4_03_00.xsd", pasta / f"tissV{versao_falsa.replace('.', '_')}.xsd"
    )
    return pasta


def test_reference_import_zip_e_validate(tmp_path, monkeypatch, capsys):
    ref = tmp_path / "ref"
    monkeypatch.setenv(ENV_REFERENCE_DIR, str(ref))
    pasta = _pacote_ans(tmp_path, "4.01.00")
    zip_path = tmp_path / "PadraoTISS.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        for arq in pasta.iterdir():
            zf.write(arq, f"Padrao TISS/{arq.name}")
        zf.writestr("../../fora.xsd", "<x/>")  # a hostile name lands flattened, not outside
    lote = tmp_path / "lote.xml"
    lote.write_bytes(substituir(build_lote(), "<ans:Padrao>4.03.00", "<ans:Padrao>4.01.00"))
    assert main(["validate", str(lote)]) == 1
    assert "[5028]" in capsys.readouterr().out
    assert main(["reference", "import", str(zip_path)]) == 0
    assert "versão 4.01.00 importada" in capsys.readouterr().out
    assert (ref / "schemas" / "4.01.00" / "tissV4_01_00.xsd").is_file()
    assert not (tmp_path / "fora.xsd").exists()
    assert main(["validate", str(lote)]) == 0


def test_reference_import_erros(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(ENV_REFERENCE_DIR, raising=False)
    assert main(["reference", "import", str(tmp_path)]) == 2
    assert ENV_REFERENCE_DIR in capsys.readouterr().err
    monkeypatch.setenv(ENV_REFERENCE_DIR, str(tmp_path / "ref"))
    vazio = tmp_path / "vazio"
    vazio.mkdir()
    assert main(["reference", "import", str(vazio)]) == 2
    assert "tissV" in capsys.readouterr().err


def test_console_script_em_subprocesso(arquivos):
    ok, ruim = arquivos
    env = {**os.environ}
    exe = Path(sys.executable).with_name("tissflow")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tissflow_validation.cli"]
    proc = subprocess.run(
        [*cmd, "validate", str(ok), str(ruim)], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 1
    assert "VÁLIDO" in proc.stdout and "INVÁLIDO" in proc.stdout


def test_benchmark_pequeno(capsys):
    assert main(["benchmark", "--mb", "0.3", "--guias", "5", "--repeticoes", "1"]) == 0
    saida = capsys.readouterr().out
    assert "5 guias" in saida and "validate:" in saida and "x)" in saida


def test_cadastro_le_como_o_importador_e_avisa_as_linhas_recusadas(tmp_path, capsys):
    """The CLI reads the registry with the service's importer: a line it would refuse is
    not in the registry here either, and stderr says which and why."""
    cad = tmp_path / "cadastro"
    cad.mkdir()
    ativa = carteiras_ativas()[0]
    (cad / "beneficiarios.csv").write_text(
        f"numero_carteira;nome;ativo\n{ativa};MARIA APARECIDA;talvez\n", encoding="utf-8"
    )
    arq = tmp_path / "lote.xml"
    arq.write_bytes(build_lote(n_guias=1, carteiras=[ativa]))
    assert main(["validate", str(arq), "--cadastro", str(cad), "--format", "json"]) == 1
    saida = capsys.readouterr()
    assert "beneficiarios.csv: linha 2 ignorada: ativo 'talvez' inválido" in saida.err
    critica = json.loads(saida.out)[0]["critiques"][0]
    assert critica["codigo"] == "1001" and "não localizada" in critica["mensagem"]
