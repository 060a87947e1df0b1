"""The operator's registry imported from CSV (API and `tissflow cadastro import`): a bad line
is reported with its number, the others are imported and used by the next validations."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tissflow_demo.samples import build_lote

from tests.support import Api, Stack, fresh_guia

pytestmark = pytest.mark.integration

TOKEN = "tissflow-local-internal-token"


@pytest.fixture(scope="module")
def validacao(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{stack.services.url('validation')}/internal",
        headers={"X-Internal-Token": TOKEN},
        timeout=60.0,
    ) as client:
        yield client


def _carteira() -> str:
    return "8" + str(uuid.uuid4().int)[:13]


def _cnpj_valido() -> str:
    base = [int(d) for d in str(uuid.uuid4().int)[:8]] + [0, 0, 0, 1]
    for pesos in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        resto = sum(d * p for d, p in zip(base, pesos, strict=True)) % 11
        base.append(0 if resto < 2 else 11 - resto)
    return "".join(map(str, base))


def _status(clinica: Api, content: bytes) -> tuple[str, list[dict[str, object]]]:
    file_id = clinica.upload(content, filename="lote-cadastro.xml").json()["file_id"]
    arquivo = clinica.wait_file(file_id)
    criticas = clinica.get(f"/files/{file_id}/criticas").json()["result"]["critiques"]
    return arquivo["status"], criticas


def test_csv_with_a_bad_line_imports_the_rest(clinica: Api, validacao: httpx.Client) -> None:
    ativa, inativa, recusada = _carteira(), _carteira(), _carteira()
    csv = (
        "numero_carteira;nome;ativo\n"
        f"{ativa};MARIA DAS DORES;S\n"
        f"{recusada};PEDRO SEM STATUS;talvez\n"
        f"{inativa};JOANA INATIVA;N\n"
    )
    response = validacao.post(
        "/cadastro/beneficiarios/csv",
        content=csv.encode(),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["importados"] == 2
    assert len(body["erros"]) == 1 and body["erros"][0]["linha"] == 3
    assert "ativo" in body["erros"][0]["mensagem"]

    def lote(carteira: str) -> bytes:
        return build_lote(
            tipo_guia="consulta", carteiras=[carteira], numero_guia_inicial=fresh_guia()
        )

    assert _status(clinica, lote(ativa)) == ("importado", [])
    status, criticas = _status(clinica, lote(inativa))
    assert status == "invalido" and [c["codigo"] for c in criticas] == ["1001"]
    assert "inativo" in str(criticas[0]["mensagem"])
    status, criticas = _status(clinica, lote(recusada))
    assert status == "invalido" and "não localizada" in str(criticas[0]["mensagem"])


def test_csv_with_a_wrong_header_is_refused(validacao: httpx.Client) -> None:
    response = validacao.post("/cadastro/prestadores/csv", content=b"cnpj;nome\n07906129000102;X\n")
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "csv_invalido"
    assert "cnpj_cpf;codigo_prestador;nome" in response.json()["detail"]["message"]


def test_cadastro_import_command(stack: Stack, clinica: Api, tmp_path: Path) -> None:
    novo = _cnpj_valido()
    ruim = novo[:-1] + str((int(novo[-1]) + 1) % 10)
    prestadores = tmp_path / "prestadores.csv"
    prestadores.write_text(
        f"cnpj_cpf;codigo_prestador;nome\n{novo};{novo[:6]};CLINICA NOVA LTDA\n{ruim};;ERRADA\n",
        encoding="utf-8",
    )
    antes, criticas = _status(clinica, build_lote(cnpj=novo, numero_guia_inicial=fresh_guia()))
    assert antes == "invalido"
    assert [c["mensagem"] for c in criticas if "não localizado" in c["mensagem"]]

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tissflow_validation.cli",
            "cadastro",
            "import",
            "--prestadores",
            str(prestadores),
            "--validation-url",
            stack.services.url("validation"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TISSFLOW_INTERNAL_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 1, run.stderr  # one line refused
    assert "1 prestadores importado(s), 1 linha(s) recusada(s)" in run.stdout
    assert f"linha 3: CNPJ {ruim} com dígitos verificadores inválidos" in run.stdout

    depois, criticas = _status(clinica, build_lote(cnpj=novo, numero_guia_inicial=fresh_guia()))
    # Registered now: no longer "não localizado". It is still not this clinic's to send.
    assert depois == "invalido"
    assert [c["codigo"] for c in criticas] == ["1206"]
    assert "não localizado" not in criticas[0]["mensagem"]
    assert "outro prestador" in criticas[0]["mensagem"]

    wrong_token = subprocess.run(
        [
            sys.executable,
            "-m",
            "tissflow_validation.cli",
            "cadastro",
            "import",
            "--prestadores",
            str(prestadores),
            "--validation-url",
            stack.services.url("validation"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TISSFLOW_INTERNAL_TOKEN": "errado", "PATH": "/usr/bin:/bin"},
    )
    assert wrong_token.returncode == 2 and "token" in wrong_token.stderr
