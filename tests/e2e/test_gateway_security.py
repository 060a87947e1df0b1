"""The public gateway's defences, as a client or a clerk meets them: login attempts are
limited even when sent all at once, API tokens and sessions expire and can be revoked,
only rejected files can be corrected, malformed forms are refused with a clear 422,
the correction editor never expands XML entities, and ids from the URL stay ids."""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from pymongo import MongoClient
from tissflow_demo.samples import build_lote
from tissflow_gateway.core import GatewaySettings

from tests.support import Api, Stack, fresh_guia, wait_for

pytestmark = pytest.mark.e2e


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _gateway_db(stack: Stack, collection: str) -> Any:
    client: MongoClient = MongoClient(stack.mongo, tz_aware=True)
    return client, client[f"{stack.prefix}_gateway"][collection]


def _create_user(stack: Stack, username: str, password: str) -> None:
    client, users = _gateway_db(stack, "users")
    with client:
        users.insert_one(
            {
                "_id": username,
                "nome": "Teste de bloqueio",
                "role": "prestador",
                "provider_id": "07906129000102",
                "provider_nome": "ODONTO ARTE LTDA",
                "password_hash": PasswordHasher().hash(password),
            }
        )


def _token(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": password},
        timeout=60,
    )


@contextmanager
def portal_login(base: str, username: str, password: str) -> Iterator[tuple[httpx.Client, str]]:
    """A logged-in portal client (cookies) and its session's CSRF token."""
    with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as client:
        form = client.get("/login")
        login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert login_csrf, form.text
        logged = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": login_csrf[1]},
        )
        assert logged.status_code == 303 and logged.headers["location"] == "/", logged.text
        page = client.get("/uploads/novo")
        csrf = re.search(r'data-csrf="([^"]+)"', page.text)
        assert csrf, page.text
        yield client, csrf[1]


# -- 1. login lockout ----------------------------------------------------------------


def test_concurrent_wrong_passwords_get_at_most_five_guesses(stack: Stack) -> None:
    base = stack.services.url("gateway")
    username = f"bloqueio-{uuid.uuid4().hex[:8]}"
    _create_user(stack, username, "senha-certa-123")

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda i: _token(base, username, f"errada-{i}"), range(40)))
    codes = [a.status_code for a in answers]
    assert set(codes) <= {401, 429}, codes
    assert codes.count(401) <= 5, f"{codes.count(401)} senhas testadas: {sorted(codes)}"
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["code"] == "muitas_tentativas"
    assert refused.json()["message"].startswith("Muitas tentativas de acesso sem sucesso.")

    # Locked: even the right password waits, whatever the spelling of the login.
    for spelling in (username, f"  {username.upper()} "):
        locked = _token(base, spelling, "senha-certa-123")
        assert locked.status_code == 429, (spelling, locked.text)

    # Once the window is over (moved back in time here), the right password works again.
    client, attempts = _gateway_db(stack, "login_attempts")
    with client:
        attempts.update_many(
            {"key": {"$regex": f"^{re.escape(username)}"}},
            {"$set": {"at": datetime.now(UTC) - timedelta(minutes=6)}},
        )
    assert _token(base, username, "senha-certa-123").status_code == 200


def test_login_ignores_case_and_spaces_of_the_username(stack: Stack) -> None:
    base = stack.services.url("gateway")
    username = f"caixa-{uuid.uuid4().hex[:8]}"
    _create_user(stack, username, "senha-certa-123")
    answer = _token(base, f" {username.upper()}  ", "senha-certa-123")
    assert answer.status_code == 200, answer.text
    me = httpx.get(
        f"{base}/api/v1/me",
        headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
    )
    assert me.json()["username"] == username


def test_wrong_password_still_says_invalid_credentials(stack: Stack) -> None:
    base = stack.services.url("gateway")
    username = f"errado-{uuid.uuid4().hex[:8]}"
    _create_user(stack, username, "senha-certa-123")
    wrong = _token(base, username, "errada")
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Usuário ou senha inválidos."
    # A success clears the count: four more mistakes are still not a lock.
    assert _token(base, username, "senha-certa-123").status_code == 200
    for _ in range(4):
        assert _token(base, username, "errada").status_code == 401
    assert _token(base, username, "senha-certa-123").status_code == 200


# -- 2. tokens and sessions expire ----------------------------------------------------


def test_api_token_expires_after_token_days(stack: Stack) -> None:
    base = stack.services.url("gateway")
    token = _token(base, "odontoarte", "odontoarte123").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/api/v1/me", headers=headers).status_code == 200

    client, tokens = _gateway_db(stack, "api_tokens")
    with client:
        doc = tokens.find_one({"_id": _digest(token)})
        assert doc is not None and doc.get("expires_at") is not None
        days = (doc["expires_at"] - datetime.now(UTC)) / timedelta(days=1)
        assert 29 < days <= 30  # default token_days
        tokens.update_one(
            {"_id": _digest(token)},
            {"$set": {"expires_at": datetime.now(UTC) - timedelta(minutes=1)}},
        )
    # The gateway trusts a token it has just read for auth_cache_seconds (ADR 0020), so
    # an expiry moved in the database (standing in for time passing) counts within that.
    expired = wait_for(
        lambda: (r := httpx.get(f"{base}/api/v1/me", headers=headers)).status_code == 401 and r,
        timeout=GatewaySettings().auth_cache_seconds + 3,
        what="o token expirado recusado",
    )
    assert expired.json()["message"] == "Token inválido ou expirado."


def test_api_token_can_be_revoked(stack: Stack) -> None:
    base = stack.services.url("gateway")
    token = _token(base, "odontoarte", "odontoarte123").json()["access_token"]
    other = _token(base, "odontoarte", "odontoarte123").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    revoked = httpx.delete(f"{base}/api/v1/auth/token", headers=headers)
    assert revoked.status_code == 204, revoked.text
    assert revoked.content == b""
    after = httpx.get(f"{base}/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["message"] == "Token inválido ou expirado."
    # Only that token: the same user's other token still works.
    still = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {other}"})
    assert still.status_code == 200
    assert httpx.delete(f"{base}/api/v1/auth/token").status_code == 401


def test_a_token_revoked_through_another_gateway_is_refused_within_the_bound(
    stack: Stack,
) -> None:
    """A revocation this gateway process did not make (another replica's, or the token
    deleted by hand) is refused once the process's short trust has run out."""
    base = stack.services.url("gateway")
    token = _token(base, "odontoarte", "odontoarte123").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/api/v1/me", headers=headers).status_code == 200
    client, tokens = _gateway_db(stack, "api_tokens")
    with client:
        tokens.delete_one({"_id": _digest(token)})
    revoked_at = time.monotonic()
    bound = GatewaySettings().auth_cache_seconds
    wait_for(
        lambda: httpx.get(f"{base}/api/v1/me", headers=headers).status_code == 401,
        timeout=bound + 3,
        what="o token revogado recusado",
    )
    assert time.monotonic() - revoked_at < bound + 1.5
    upload = httpx.post(
        f"{base}/api/v1/uploads",
        headers=headers,
        files={"arquivo": ("a.xml", build_lote("consulta", 1, numero_guia_inicial=fresh_guia()))},
    )
    assert upload.status_code == 401


def test_portal_session_expires_on_the_server(stack: Stack) -> None:
    base = stack.services.url("gateway")
    with portal_login(base, "odontoarte", "odontoarte123") as (portal, _):
        assert portal.get("/").status_code == 200
        session_id = portal.cookies["tissflow_sessao"]
        client, sessions = _gateway_db(stack, "sessions")
        with client:
            sessions.update_one(
                {"_id": _digest(session_id)},
                {"$set": {"expires_at": datetime.now(UTC) - timedelta(minutes=1)}},
            )
        home = portal.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/login"
        api = portal.get("/api/v1/me", headers={"Accept": "application/json"})
        assert api.status_code == 401


# -- 3. only rejected files are corrected ---------------------------------------------


@pytest.fixture(scope="module")
def importado(clinica: Api) -> str:
    content = build_lote(numero_lote="910001", numero_guia_inicial=fresh_guia())
    file_id = clinica.upload(content, filename="lote-910001.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    return file_id


@pytest.fixture(scope="module")
def invalido(clinica: Api) -> str:
    content = build_lote(
        cnpj="07906129000100", numero_lote="910002", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="lote-910002.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "invalido"
    return file_id


XPATH_CNPJ = "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"


def test_two_files_in_one_upload_are_refused(clinica: Api) -> None:
    """Two files under the same field (how a browser sends a multiple selection) are two
    files: refused with a clear message, never "the last one wins"."""
    before = clinica.get("/files", params={"nome": "dois-"}).json()["total"]
    for fields in (
        [("arquivo", ("dois-a.xml", b"<a/>", "application/xml"))] * 2,
        [
            ("arquivo", ("dois-a.xml", b"<a/>", "application/xml")),
            ("outro", ("dois-b.xml", b"<b/>", "application/xml")),
        ],
    ):
        answer = clinica.post("/uploads", files=fields)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "varios_arquivos"
        assert answer.json()["message"] == "Envie um arquivo por vez: cada XML é um lote."
    assert clinica.get("/files", params={"nome": "dois-"}).json()["total"] == before


def test_imported_file_cannot_be_corrected_through_the_api(clinica: Api, importado: str) -> None:
    for path, body in (
        (f"/files/{importado}/reprocessar", {"recalcular_totais": True}),
        (
            f"/files/{importado}/correcoes",
            {"correcoes": [{"xpath": XPATH_CNPJ, "valor": "07906129000102"}]},
        ),
        (f"/files/{importado}/criticas/ignorar", {"codigo": "1206", "xpath": XPATH_CNPJ}),
    ):
        answer = clinica.post(path, json=body)
        assert answer.status_code == 409, (path, answer.text)
        assert answer.json()["code"] == "arquivo_nao_editavel"
        assert "Inválido" in answer.json()["message"]
    assert clinica.get(f"/files/{importado}").json()["current_revision"] == 1


def test_imported_file_cannot_be_corrected_in_the_portal(stack: Stack, importado: str) -> None:
    base = stack.services.url("gateway")
    with portal_login(base, "odontoarte", "odontoarte123") as (portal, csrf):
        page = portal.get(f"/arquivos/{importado}/corrigir")
        assert page.status_code == 200
        assert "Salvar e Reprocessar" not in page.text
        assert 'id="editor"' not in page.text and "ignorar-form" not in page.text
        detalhe = portal.get(f"/arquivos/{importado}")
        assert "Corrigir Críticas" not in detalhe.text
        for path, data in (
            (f"/arquivos/{importado}/corrigir", {"acao": "reprocessar", "campos": "0"}),
            (f"/arquivos/{importado}/ignorar", {"ignorar": f"1206|{XPATH_CNPJ}"}),
        ):
            answer = portal.post(path, data={**data, "csrf_token": csrf})
            assert answer.status_code == 409, (path, answer.status_code)
            assert "text/html" in answer.headers["content-type"]
            assert "Inválido" in answer.text


def test_rejected_file_is_still_correctable(clinica: Api, invalido: str) -> None:
    saved = clinica.post(
        f"/files/{invalido}/correcoes",
        json={"correcoes": [{"xpath": XPATH_CNPJ, "valor": "07906129000102"}]},
    )
    assert saved.status_code == 200, saved.text
    # Kept pending under the clerk's name, where the editor shows it.
    assert [(p["xpath"], p["valor"], p["by"]) for p in saved.json()["pendentes"]] == [
        (XPATH_CNPJ, "07906129000102", "odontoarte")
    ]
    shown = clinica.get(f"/files/{invalido}/criticas").json()["pendentes"]
    assert [(p["xpath"], p["valor"]) for p in shown] == [(XPATH_CNPJ, "07906129000102")]


# -- 4. malformed forms ---------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        {"acao": "salvar", "campos": "abc"},
        {"acao": "salvar", "campos": "1e9"},
        {"acao": "salvar", "campos": ""},
        {"acao": "apagar-tudo", "campos": "0"},
    ],
)
def test_malformed_correction_form_is_a_422_page(
    stack: Stack, invalido: str, form: dict[str, str]
) -> None:
    base = stack.services.url("gateway")
    with portal_login(base, "odontoarte", "odontoarte123") as (portal, csrf):
        page = portal.post(f"/arquivos/{invalido}/corrigir", data={**form, "csrf_token": csrf})
        assert page.status_code == 422, (form, page.status_code, page.text[:300])
        assert "text/html" in page.headers["content-type"]
        assert "Dados inválidos" in page.text
        as_json = portal.post(
            f"/arquivos/{invalido}/corrigir",
            data={**form, "csrf_token": csrf},
            headers={"Accept": "application/json"},
        )
        assert as_json.status_code == 422
        assert as_json.json()["code"] == "dados_invalidos"


def test_malformed_ignore_form_is_a_422(stack: Stack, invalido: str) -> None:
    base = stack.services.url("gateway")
    with portal_login(base, "odontoarte", "odontoarte123") as (portal, csrf):
        page = portal.post(
            f"/arquivos/{invalido}/ignorar",
            data={"csrf_token": csrf},
            headers={"Accept": "application/json"},
        )
        assert page.status_code == 422, page.text
        assert page.json()["code"] == "dados_invalidos"


# -- 5. the correction editor's XML reading -------------------------------------------

ENTITY_XML = (
    '<?xml version="1.0" encoding="UTF-16"?>\n'
    '<!DOCTYPE mensagemTISS [<!ENTITY segredo "VALOR-DA-ENTIDADE">]>\n'
    "<mensagemTISS><cabecalho><numeroLote>&segredo;</numeroLote></cabecalho></mensagemTISS>"
)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
def test_editor_never_expands_entities(encoding: str) -> None:
    from tissflow_gateway.xmlvalues import values_at

    content = ENTITY_XML.replace("UTF-16", encoding.upper()).encode(encoding)
    values = values_at(content, ["/mensagemTISS/cabecalho/numeroLote"])
    assert values == {"/mensagemTISS/cabecalho/numeroLote": None}


def test_editor_still_reads_plain_files() -> None:
    from tissflow_gateway.xmlvalues import values_at

    content = build_lote(cnpj="07906129000100", numero_lote="910003")
    values = values_at(content, [XPATH_CNPJ, "/mensagemTISS/naoExiste"])
    assert values == {XPATH_CNPJ: "07906129000100", "/mensagemTISS/naoExiste": None}


def test_editor_reads_the_file_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing up to 15 MB must not stall every other request of the gateway."""
    from tissflow_gateway import pages_arquivos

    seen: list[bool] = []

    def values_at(content: bytes, xpaths: Any) -> dict[str, str | None]:
        try:
            asyncio.get_running_loop()
            seen.append(True)  # on the event loop
        except RuntimeError:
            seen.append(threading.current_thread() is threading.main_thread())
        return dict.fromkeys(xpaths)

    async def get_file(user: Any, file_id: str) -> dict[str, Any]:
        return {"file_id": file_id, "status": "invalido", "current_revision": 1, "filename": "a"}

    async def get_result(user: Any, file_id: str) -> dict[str, Any]:
        return {"result": {"critiques": [{"xpath": XPATH_CNPJ, "codigo": "1206"}]}}

    async def revision_content(user: Any, file_id: str, revision: int) -> bytes:
        return b"<mensagemTISS/>"

    monkeypatch.setattr(pages_arquivos, "values_at", values_at)
    monkeypatch.setattr(pages_arquivos.files, "get_file", get_file)
    monkeypatch.setattr(pages_arquivos.files, "get_result", get_result)
    monkeypatch.setattr(pages_arquivos.files, "revision_content", revision_content)
    monkeypatch.setattr(pages_arquivos, "render", lambda *a, **k: k)
    asyncio.run(pages_arquivos._correction_page(None, _FakeSession(), "f1"))  # type: ignore[arg-type]
    assert seen == [False]


class _FakeSession:
    user = SimpleNamespace(role="prestador")
    csrf = "x"


# -- 6. ids from the URL are path segments --------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/files/%3Fstatus%3Dimportado",
        "/files/%23x",
        "/files/%3Fx/criticas",
        "/lotes/%3Fstatus%3Daberto",
        "/protocolos/%3Fpage%3D1",
        "/demonstrativos/%3Fpage%3D1",
    ],
)
def test_ids_with_url_syntax_are_not_found(clinica: Api, path: str) -> None:
    answer = clinica.get(path)
    assert answer.status_code == 404, (path, answer.status_code, answer.text[:300])
    assert set(answer.json()) == {"code", "message", "details"}


def test_portal_ids_with_url_syntax_are_not_found(stack: Stack) -> None:
    base = stack.services.url("gateway")
    with portal_login(base, "odontoarte", "odontoarte123") as (portal, _):
        for path in ("/arquivos/%3Fstatus%3Dimportado", "/lotes/%3Fstatus%3Daberto"):
            page = portal.get(path)
            assert page.status_code == 404, (path, page.status_code)
            assert "Página não encontrada" in page.text
