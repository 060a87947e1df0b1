"""Web-service credentials on the real stack: the operator's staff issue, list, rotate and
revoke them (API and the Web Services portal page); the password is shown once and never
listed; clinics and ops cannot touch them."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.support import Api, Stack

pytestmark = pytest.mark.e2e
PATH = "/operadora/webservices/credenciais"
SORRISO = "11222333000181"


def test_staff_issue_list_rotate_and_revoke(operadora: Api, clinica: Api, stack: Stack) -> None:
    login = f"sorriso-{uuid.uuid4().hex[:6]}"
    created = operadora.post(
        PATH, json={"provider_id": "11.222.333/0001-81", "provider_nome": "SORRISO", "login": login}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["login"] == login and body["provider_id"] == SORRISO and body["ativa"]
    assert len(body["senha"]) >= 12 and body["created_by"] == "operadora"

    listed = operadora.get(PATH, params={"provider_id": SORRISO}).json()["items"]
    mine = [c for c in listed if c["login"] == login]
    assert len(mine) == 1
    assert "senha" not in mine[0] and "secret_hash" not in mine[0]
    assert body["senha"] not in operadora.get(PATH).text

    rotated = operadora.post(f"{PATH}/{login}/rotacionar")
    assert rotated.status_code == 200 and rotated.json()["senha"] != body["senha"]
    assert rotated.json()["rotated_by"] == "operadora"

    revoked = operadora.post(f"{PATH}/{login}/revogar")
    assert revoked.status_code == 200 and revoked.json()["ativa"] is False
    assert revoked.json()["revoked_by"] == "operadora"
    again = operadora.post(f"{PATH}/{login}/rotacionar")
    assert again.status_code == 409 and again.json()["code"] == "credencial_revogada"

    duplicate = operadora.post(PATH, json={"provider_id": SORRISO, "login": login})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "login_existente"
    bad = operadora.post(PATH, json={"provider_id": "123"})
    assert bad.status_code == 422 and bad.json()["code"] == "prestador_invalido"
    assert operadora.post(f"{PATH}/naoexiste/revogar").status_code == 404


def test_clinics_and_ops_cannot_touch_credentials(clinica: Api, stack: Stack) -> None:
    ops = Api.login(stack.services.url("gateway"), "ops", "ops123")
    for api in (clinica, ops):
        assert api.get(PATH).status_code == 403
        refused = api.post(PATH, json={"provider_id": SORRISO})
        assert refused.status_code == 403 and refused.json()["code"] == "acesso_negado"
        assert api.post(f"{PATH}/odontoarte-ws/revogar").status_code == 403


def test_the_portal_page_issues_a_credential_and_shows_its_password_once(stack: Stack) -> None:
    base = stack.services.url("gateway")
    with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as portal:
        form = portal.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        logged = portal.post(
            "/login",
            data={"username": "operadora", "password": "operadora123", "csrf_token": token[1]},
        )
        assert logged.status_code == 303
        page = portal.get("/operadora/webservices")
        assert page.status_code == 200
        assert "Web Services TISS" in page.text and 'href="/operadora/webservices"' in page.text
        # Every operation the door serves is listed with its WSDL, the recurso's too.
        for servico in ("tissLoteGuias", "tissRecursoGlosa", "tissVerificaElegibilidade"):
            assert f"/ws/{servico}?wsdl" in page.text, servico
        assert "/ws/tissLoteGuias?wsdl" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        login = f"ws-page-{uuid.uuid4().hex[:6]}"
        issued = portal.post(
            "/operadora/webservices/credenciais",
            data={
                "csrf_token": csrf,
                "provider_id": SORRISO,
                "provider_nome": "CLINICA SORRISO LTDA",
                "login": login,
            },
        )
        assert issued.status_code == 200
        senha = re.search(r'id="senha-emitida">([^<]+)<', issued.text)[1]
        assert "não será mostrada novamente" in issued.text
        later = portal.get("/operadora/webservices")
        assert login in later.text and senha not in later.text
        revoked = portal.post(
            f"/operadora/webservices/credenciais/{login}/revogar", data={"csrf_token": csrf}
        )
        assert f"Credencial {login} revogada." in revoked.text
        no_csrf = portal.post(f"/operadora/webservices/credenciais/{login}/rotacionar")
        assert no_csrf.status_code in (400, 403)
    with httpx.Client(base_url=base, timeout=60) as anon:
        assert anon.get("/operadora/webservices").status_code in (303, 307, 401)
