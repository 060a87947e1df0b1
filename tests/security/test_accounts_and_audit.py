"""Names, logins, sessions and the access log (issue 22, item 6): file names are NFC and
free of control characters, a login is locked per client address, sessions end after
30 idle minutes, expired records are purged, and who did what is readable by the
provider (its own) and the operator."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from pymongo import AsyncMongoClient, MongoClient
from tissflow_demo.samples import build_lote
from tissflow_gateway.auth import purge_expired

from tests.security.conftest import portal_login
from tests.support import Api, Stack, fresh_guia, wait_for

pytestmark = [pytest.mark.security, pytest.mark.e2e]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("lote\x00.xml", "U+0000"),
        ("fatura\u202elmx.xml", "U+202E"),
        ("a\u200fb.xml", "U+200F"),
        ("linha\nnova.xml", "U+000A"),
        ("tab\t.xml", "U+0009"),
        ("zero\u200bwidth.xml", "U+200B"),
    ],
)
def test_file_names_with_control_characters_are_refused(clinica: Api, name: str, bad: str) -> None:
    before = clinica.get("/files").json()["total"]
    answer = raw_upload(clinica, name, build_lote("consulta", 1, numero_guia_inicial=fresh_guia()))
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "nome_arquivo_invalido"
    assert bad in body["message"] and "renomeie" in body["message"]
    assert clinica.get("/files").json()["total"] == before  # nothing stored


def raw_upload(api: Api, filename: str, content: bytes) -> httpx.Response:
    """A multipart upload with the file name's bytes as they are (httpx would escape
    control characters; a hostile client does not)."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="arquivo"; '.encode()
        + b'filename="'
        + filename.encode()
        + b'"\r\nContent-Type: application/xml\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return api.post(
        "/uploads",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def test_file_names_are_stored_in_nfc_without_folders(clinica: Api) -> None:
    decomposed = unicodedata.normalize("NFD", "C:\\lotes\\produção-março.xml")
    answer = clinica.upload(build_lote("consulta", 1, numero_guia_inicial=fresh_guia()), decomposed)
    assert answer.status_code == 202, answer.text
    assert answer.json()["filename"] == unicodedata.normalize("NFC", "produção-março.xml")


def _create_user(stack: Stack, username: str, password: str) -> None:
    with MongoClient(stack.mongo) as client:
        client[f"{stack.prefix}_gateway"]["users"].insert_one(
            {
                "_id": username,
                "nome": "Teste",
                "role": "prestador",
                "provider_id": "07906129000102",
                "provider_nome": "ODONTO ARTE LTDA",
                "password_hash": PasswordHasher().hash(password),
            }
        )


def _token(base: str, username: str, password: str, address: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=60,
    )


def test_someone_guessing_a_known_login_locks_out_only_their_own_address(
    stack: Stack,
) -> None:
    base = stack.services.url("gateway")
    username = f"clinica-{uuid.uuid4().hex[:8]}"
    _create_user(stack, username, "senha-certa-123")
    attacker, clinic = "203.0.113.7", "198.51.100.20"
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(
            pool.map(lambda i: _token(base, username, f"x{i}", attacker).status_code, range(10))
        )
    assert codes.count(401) <= 5 and 429 in codes, codes
    assert _token(base, username, "senha-certa-123", attacker).status_code == 429
    # The clinic, from its own address, still logs in.
    assert _token(base, username, "senha-certa-123", clinic).status_code == 200


def test_an_idle_portal_session_ends_after_30_minutes(stack: Stack) -> None:
    base = stack.services.url("gateway")
    with portal_login(base, "odontoarte", "odontoarte123") as (portal, _):
        assert portal.get("/").status_code == 200
        session_id = portal.cookies["tissflow_sessao"]
        with MongoClient(stack.mongo, tz_aware=True) as client:
            client[f"{stack.prefix}_gateway"]["sessions"].update_one(
                {"_id": _digest(session_id)},
                {"$set": {"last_seen": datetime.now(UTC) - timedelta(minutes=31)}},
            )
        home = portal.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/login"


async def test_expired_sessions_tokens_and_attempts_are_purged(stack: Stack) -> None:
    client: AsyncMongoClient = AsyncMongoClient(stack.mongo, tz_aware=True)
    try:
        db = client[f"{stack.prefix}_gateway"]
        now = datetime.now(UTC)
        tag = uuid.uuid4().hex
        old, fresh = now - timedelta(hours=1), now + timedelta(hours=1)
        await db["sessions"].insert_many(
            [
                {"_id": f"s-old-{tag}", "expires_at": old, "last_seen": old},
                {"_id": f"s-idle-{tag}", "expires_at": fresh, "last_seen": old},
                {"_id": f"s-ok-{tag}", "expires_at": fresh, "last_seen": now},
            ]
        )
        await db["api_tokens"].insert_many(
            [
                {"_id": f"t-old-{tag}", "expires_at": old},
                {"_id": f"t-ok-{tag}", "expires_at": fresh},
            ]
        )
        await db["login_attempts"].insert_many(
            [
                {"_id": f"a-old-{tag}", "key": tag, "at": old},
                {"_id": f"a-ok-{tag}", "key": tag, "at": now},
            ]
        )
        await purge_expired(db["sessions"], db["api_tokens"], db["login_attempts"])
        left = {
            doc["_id"]
            for name in ("sessions", "api_tokens", "login_attempts")
            async for doc in db[name].find({"_id": {"$regex": tag}})
        }
        assert left == {f"s-ok-{tag}", f"t-ok-{tag}", f"a-ok-{tag}"}
    finally:
        await client.close()


def test_the_access_log_says_who_did_what_to_the_provider_and_the_operator(
    stack: Stack, clinica: Api, outra_clinica: Api, operadora: Api, ops_api: Api
) -> None:
    sent = clinica.upload(build_lote("consulta", 1, numero_guia_inicial=fresh_guia()), "a.xml")
    file_id = sent.json()["file_id"]
    assert clinica.get(f"/files/{file_id}/revisions/1/content").status_code == 200

    def mine(api: Api) -> list[dict]:
        return api.get("/auditoria", params={"page_size": 200}).json()["items"]

    def has(items: list[dict], method: str, route: str, path_part: str) -> bool:
        return any(
            i["method"] == method and i["route"] == route and path_part in i["path"] for i in items
        )

    own = wait_for(
        lambda: (
            (items := mine(clinica))
            and has(items, "GET", "/api/v1/files/{file_id}/revisions/{revision}/content", file_id)
            and items
        ),
        timeout=30,
        what="o download no registro de acessos",
    )
    upload = next(i for i in own if i["route"] == "/api/v1/uploads" and i["status"] == 202)
    assert upload["username"] == "odontoarte" and upload["provider_id"] == "07906129000102"
    assert re.match(r"\d{4}-\d{2}-\d{2}T", upload["at"])
    assert all(i["provider_id"] == "07906129000102" for i in own)
    # The other clinic never sees these; the operator does; ops is refused.
    assert not any(file_id in i["path"] for i in mine(outra_clinica))
    assert any(file_id in i["path"] for i in mine(operadora))
    assert ops_api.get("/auditoria").status_code == 403
