"""The operator's staff change a critique rule and import the registry through the public
API, with no deploy: a rule switched off lets the next file through, a carteira imported
by CSV is accepted; clinics and the operations team are refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tissflow_demo.samples import build_lote, substituir

from tests.support import Api, Stack, fresh_guia

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ops(stack: Stack) -> Iterator[Api]:
    client = Api.login(stack.services.url("gateway"), "ops", "ops123")
    yield client
    client.close()


def _regra(api: Api, codigo: str) -> dict[str, Any]:
    response = api.get("/operadora/regras")
    assert response.status_code == 200, response.text
    return next(r for r in response.json()["items"] if r["codigo"] == codigo)


def _restaurar(api: Api, antes: dict[str, Any]) -> None:
    setting = {k: antes[k] for k in ("enabled", "ignoravel", "severidade")}
    response = api.put(f"/operadora/regras/{antes['codigo']}", json=setting)
    assert response.status_code == 200, response.text


def _criticas(api: Api, file_id: str) -> list[str]:
    return [
        c["codigo"] for c in api.get(f"/files/{file_id}/criticas").json()["result"]["critiques"]
    ]


def _lote_tuss_inexistente() -> bytes:
    content = build_lote("sp_sadt", itens_por_guia=3, numero_guia_inicial=fresh_guia())
    return substituir(content, "40301630", "40301639")  # not a TUSS code


def _carteira() -> str:
    return "7" + uuid.uuid4().hex[:13].translate(str.maketrans("abcdef", "012345"))


def test_operator_switches_a_rule_off_and_the_next_file_is_imported(
    operadora: Api, clinica: Api
) -> None:
    antes = _regra(operadora, "1801")
    assert antes["configuravel"] is True and antes["enabled"] is True
    barrado = clinica.upload(_lote_tuss_inexistente(), "lote-tuss.xml").json()["file_id"]
    assert clinica.wait_file(barrado)["status"] == "invalido"
    assert _criticas(clinica, barrado) == ["1801"]
    try:
        off = operadora.put("/operadora/regras/1801", json={"enabled": False, "ignoravel": False})
        assert off.status_code == 200, off.text
        assert off.json()["enabled"] is False
        assert off.json()["atualizado_por"] == "operadora"
        listed = _regra(operadora, "1801")
        assert listed["enabled"] is False and listed["atualizado_por"] == "operadora"
        assert listed["atualizado_em"]

        aceito = clinica.upload(_lote_tuss_inexistente(), "lote-tuss-2.xml").json()["file_id"]
        assert clinica.wait_file(aceito)["status"] == "importado"
        assert "1801" not in _criticas(clinica, aceito)
    finally:
        _restaurar(operadora, antes)
    assert _regra(operadora, "1801")["enabled"] is True


def test_a_rule_made_an_alert_is_shown_but_the_file_is_imported(
    operadora: Api, clinica: Api
) -> None:
    antes = _regra(operadora, "1801")
    try:
        alerta = operadora.put(
            "/operadora/regras/1801",
            json={"enabled": True, "ignoravel": False, "severidade": "alerta"},
        )
        assert alerta.status_code == 200 and alerta.json()["severidade"] == "alerta"
        file_id = clinica.upload(_lote_tuss_inexistente(), "lote-alerta.xml").json()["file_id"]
        assert clinica.wait_file(file_id)["status"] == "importado"
        assert _criticas(clinica, file_id) == ["1801"]
    finally:
        _restaurar(operadora, antes)
    assert _regra(operadora, "1801")["severidade"] == antes["severidade"]


def test_structural_and_unknown_codes_are_refused_in_pt_br(operadora: Api) -> None:
    fixa = operadora.put("/operadora/regras/5001", json={"enabled": False, "ignoravel": True})
    assert fixa.status_code == 409
    assert fixa.json()["code"] == "regra_nao_configuravel"
    assert "estrutural" in fixa.json()["message"]
    desconhecida = operadora.put(
        "/operadora/regras/9999", json={"enabled": False, "ignoravel": True}
    )
    assert desconhecida.status_code == 404
    assert desconhecida.json() == {
        "code": "regra_nao_encontrada",
        "message": "O validador não usa o código 9999.",
        "details": None,
    }
    assert _regra(operadora, "5001")["enabled"] is True


def test_only_the_operators_staff_see_and_change_rules_and_registry(
    operadora: Api, clinica: Api, ops: Api
) -> None:
    antes = _regra(operadora, "1801")
    intruso = _carteira()
    csv = "numero_carteira;nome;ativo\n" + f"{intruso};INTRUSO;S\n"
    for who in (clinica, ops):
        attempts = [
            who.get("/operadora/regras"),
            who.put("/operadora/regras/1801", json={"enabled": False, "ignoravel": True}),
            who.post(
                "/operadora/cadastro/beneficiarios",
                content=csv.encode(),
                headers={"Content-Type": "text/csv"},
            ),
            who.post(
                "/operadora/cadastro/prestadores",
                files={"arquivo": ("prestadores.csv", b"cnpj_cpf;codigo_prestador;nome\n")},
            ),
        ]
        for response in attempts:
            assert response.status_code == 403, response.text
            body = response.json()
            assert set(body) == {"code", "message", "details"}
            assert body["code"] == "acesso_negado"
            assert "equipe da operadora" in body["message"]
    # Refused and nothing changed: the rule as it was, the carteira still unknown.
    assert _regra(operadora, "1801") == antes
    barrado = clinica.upload(
        build_lote("consulta", carteiras=[intruso], numero_guia_inicial=fresh_guia()),
        "lote-carteira-intrusa.xml",
    ).json()["file_id"]
    assert clinica.wait_file(barrado)["status"] == "invalido"
    assert _criticas(clinica, barrado) == ["1001"]


def test_a_csv_import_makes_a_new_carteira_accepted(operadora: Api, clinica: Api) -> None:
    nova, outra = _carteira(), _carteira()
    antes = clinica.upload(
        build_lote("consulta", carteiras=[nova], numero_guia_inicial=fresh_guia()),
        "lote-carteira-nova.xml",
    ).json()["file_id"]
    assert clinica.wait_file(antes)["status"] == "invalido"
    assert _criticas(clinica, antes) == ["1001"]

    # A multipart upload (field `arquivo`), with one bad line among good ones.
    csv = f"numero_carteira;nome;ativo\n{nova};ANA PEREIRA;S\n{_carteira()};;S\n".encode()
    importado = operadora.post(
        "/operadora/cadastro/beneficiarios",
        files={"arquivo": ("beneficiarios.csv", csv, "text/csv")},
    )
    assert importado.status_code == 200, importado.text
    assert importado.json() == {
        "tipo": "beneficiarios",
        "importados": 1,
        "recusados": 1,
        "erros": [{"linha": 3, "mensagem": "nome não informado"}],
    }
    # The same through a raw text/csv body, as an operator's core system would send it.
    raw = operadora.post(
        "/operadora/cadastro/beneficiarios",
        content=f"numero_carteira;nome;ativo\r\n{outra};BRUNO LIMA;S\r\n".encode(),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    assert raw.status_code == 200, raw.text
    assert (raw.json()["importados"], raw.json()["erros"]) == (1, [])

    depois = clinica.upload(
        build_lote(
            "consulta", n_guias=2, carteiras=[nova, outra], numero_guia_inicial=fresh_guia()
        ),
        "lote-carteira-cadastrada.xml",
    ).json()["file_id"]
    assert clinica.wait_file(depois)["status"] == "importado"
    assert "1001" not in _criticas(clinica, depois)


def test_a_csv_that_cannot_be_read_or_is_too_big_is_refused_in_pt_br(operadora: Api) -> None:
    cabecalho = operadora.post(
        "/operadora/cadastro/prestadores",
        content=b"cnpj;nome\n07906129000102;X\n",
        headers={"Content-Type": "text/csv"},
    )
    assert cabecalho.status_code == 422
    assert cabecalho.json()["code"] == "csv_invalido"
    assert "cnpj_cpf;codigo_prestador;nome" in cabecalho.json()["message"]

    latin1 = operadora.post(
        "/operadora/cadastro/beneficiarios",
        files={"arquivo": ("b.csv", "numero_carteira;nome;ativo\n1;JOÃO;S\n".encode("latin-1"))},
    )
    assert latin1.status_code == 422
    assert "UTF-8" in latin1.json()["message"]

    grande = operadora.post(
        "/operadora/cadastro/beneficiarios",
        content=b"numero_carteira;nome;ativo\n" + b"1;X;S\n" * (21 * 1024 * 1024 // 6),
        headers={"Content-Type": "text/csv"},
    )
    assert grande.status_code == 413
    assert grande.json()["code"] == "arquivo_muito_grande"
    assert "20 MB" in grande.json()["message"]

    xml = operadora.post(
        "/operadora/cadastro/beneficiarios",
        content=b"<a/>",
        headers={"Content-Type": "application/xml"},
    )
    assert xml.status_code == 415
    assert "arquivo" in xml.json()["message"]
