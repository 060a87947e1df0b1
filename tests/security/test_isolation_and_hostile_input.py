"""Isolation generated from the OpenAPI document, and hundreds of hostile inputs.

Every route of `/openapi.json` is called with provider A's ids as provider B, with no
token, a forged token and an expired one: none may answer with A's data (a new route
is covered the day it is added). Then a generated list of hostile inputs (ids, query
parameters, JSON bodies, uploads) must each get a clear pt-BR 4xx in the
`{code, message, details}` shape, and leave nothing behind.

`make test` runs every fourth hostile input; `make test-security` (TISSFLOW_SECURITY_FULL=1)
runs them all.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from tissflow_demo.samples import build_lote

from tests.security.test_accounts_and_audit import raw_upload
from tests.support import Api, Stack, fresh_guia, wait_for

pytestmark = [pytest.mark.security, pytest.mark.e2e]
FULL = os.environ.get("TISSFLOW_SECURITY_FULL") == "1"
PUBLIC = {("post", "/api/v1/auth/token")}
# Acts on the caller's own token (logout): B calling it would only log B out.
OWN_TOKEN = {("delete", "/api/v1/auth/token")}
# English stock phrases of the frameworks: none may reach a user.
ENGLISH = re.compile(
    r"Field required|Not Found|Internal Server Error|Method Not Allowed|Input should|"
    r"There was an error|Unprocessable|value is not|JSON decode",
)


@dataclass
class Ids:
    file_id: str
    lote_id: str
    peg: str
    statement_id: str


@pytest.fixture(scope="module")
def ids_a(clinica: Api, operadora: Api) -> Ids:
    """Provider A's (ODONTO ARTE's) file, lote, protocol and demonstrativo."""
    sent = clinica.upload(build_lote("consulta", 1, numero_guia_inicial=fresh_guia()))
    file_id = sent.json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    lote = clinica.lote_do_arquivo(file_id)
    peg = clinica.enviar_e_aguardar_peg(lote["lote_id"])
    for status in (2, 5):
        answer = operadora.post(f"/operadora/protocolos/{peg}/status", json={"status": status})
        assert answer.status_code == 200, answer.text
    statement = wait_for(
        lambda: (clinica.get("/demonstrativos", params={"peg": peg}).json()["items"] or [None])[0],
        timeout=60,
        what="o demonstrativo de análise",
    )
    return Ids(file_id, lote["lote_id"], peg, statement["statement_id"])


def _expired_token(stack: Stack) -> str:
    token = "tf_" + secrets.token_urlsafe(32)
    with MongoClient(stack.mongo, tz_aware=True) as client:
        client[f"{stack.prefix}_gateway"]["api_tokens"].insert_one(
            {
                "_id": hashlib.sha256(token.encode()).hexdigest(),
                "username": "odontoarte",
                "created_at": datetime.now(UTC) - timedelta(days=40),
                "expires_at": datetime.now(UTC) - timedelta(days=10),
            }
        )
    return token


def _fill(path: str, operation: dict[str, Any], ids: Ids) -> str:
    """The route's path with A's ids (and the first allowed value of an enum)."""
    values = {
        "file_id": ids.file_id,
        "lote_id": ids.lote_id,
        "peg": ids.peg,
        "statement_id": ids.statement_id,
        "revision": "1",
        "codigo": "1206",
        "service": "ingest",
        "dead_letter_id": "x",
    }
    for param in operation.get("parameters", []):
        if param["in"] != "path":
            continue
        schema = param.get("schema", {})
        enum = schema.get("enum") or [s["const"] for s in schema.get("anyOf", []) if "const" in s]
        value = enum[0] if enum else values.get(param["name"], "x")
        path = path.replace("{" + param["name"] + "}", str(value))
    assert "{" not in path, path
    return path


def _routes(base: str) -> list[tuple[str, str, dict[str, Any]]]:
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/")
    ]


def test_no_route_shows_provider_as_data_to_anyone_else(
    stack: Stack, ids_a: Ids, outra_clinica: Api
) -> None:
    base = stack.services.url("gateway")
    routes = _routes(base)
    assert len(routes) >= 20, "the OpenAPI document lists the API's routes"
    secret_ids = [ids_a.file_id, ids_a.lote_id, ids_a.statement_id]
    provider_b = outra_clinica.get("/me").json()["provider_id"]
    callers = {
        "prestador B": dict(outra_clinica.headers),
        "sem token": {},
        "token forjado": {"Authorization": "Bearer tf_" + secrets.token_urlsafe(32)},
        "token expirado": {"Authorization": f"Bearer {_expired_token(stack)}"},
    }
    checked = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for (method, path, operation), (who, headers) in itertools.product(routes, callers.items()):
            if (method, path) in PUBLIC or (who == "prestador B" and (method, path) in OWN_TOKEN):
                continue
            url = _fill(path, operation, ids_a)
            body = {"json": {}} if "requestBody" in operation else {}
            answer = client.request(method.upper(), url, headers=headers, **body)
            checked += 1
            where = f"{who}: {method.upper()} {url} → {answer.status_code}"
            assert answer.status_code < 500, where
            if who != "prestador B":
                assert answer.status_code == 401, where
                continue
            if answer.status_code < 300 and path == "/api/v1/auditoria":
                # B's own attempts on A's ids are B's records; none of A's own are there.
                owners = {i["provider_id"] for i in answer.json()["items"]}
                assert owners <= {provider_b}, where
            elif answer.status_code < 300:
                assert not any(i in answer.text for i in secret_ids), where
            else:
                assert answer.status_code in (400, 403, 404, 405, 409, 413, 415, 422), where
            if answer.headers.get("content-type", "").startswith("application/json"):
                if answer.status_code >= 400:
                    assert set(answer.json()) == {"code", "message", "details"}, where
    assert checked >= 4 * (len(routes) - len(PUBLIC)) - len(OWN_TOKEN)


def test_portal_pages_of_provider_a_are_not_found_for_provider_b(stack: Stack, ids_a: Ids) -> None:
    from tests.security.conftest import portal_login

    base = stack.services.url("gateway")
    with portal_login(base, "sorriso", "sorriso123") as (portal, _):
        for path in (
            f"/arquivos/{ids_a.file_id}",
            f"/arquivos/{ids_a.file_id}/corrigir",
            f"/arquivos/{ids_a.file_id}/revisoes/1",
            f"/lotes/{ids_a.lote_id}",
            f"/demonstrativos/{ids_a.statement_id}/pdf",
        ):
            page = portal.get(path)
            assert page.status_code in (403, 404), (path, page.status_code)
            assert ids_a.statement_id not in page.text, path


# -- hostile inputs ----------------------------------------------------------------------

HOSTILE_IDS = [
    "%2E%2E",
    "%2E",
    "..%2Finternal%2Fdlq",
    "%00",
    "a%00b",
    "%0D%0ASet-Cookie:x=1",
    "x" * 300,
    "9" * 2000,
    "%7B%22%24ne%22%3A1%7D",
    "%24where",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%27%20OR%201%3D1--",
    "%E2%80%AE",
    "%F0%9F%92%A9",
    "%FF%FE",
    "%C0%AF",
    "-1",
    "0",
    "1e999",
    "NaN",
    "null",
    "true",
    "%5B%5D",
    "%25",
    "%2525",
    "%3F",
    "%23",
    "%5C..%5C",
    "CON",
    "~root",
    "a%2F%2E%2E",
    "a%2Fb",
    "%20",
    "%09",
    "%E0%A4%A",
    "..%5C..%5Cetc%5Cpasswd",
]
ID_ROUTES = [
    "/files/{}",
    "/files/{}/criticas",
    "/files/{}/revisions/1/content",
    "/lotes/{}",
    "/protocolos/{}",
    "/demonstrativos/{}",
    "/demonstrativos/{}/pdf",
]
HOSTILE_QUERY = {
    "page": ["0", "-1", "abc", "1.5", "1e3", "", "1,5", "%00"],
    "page_size": ["0", "-5", "201", "10000", "x", "1;DROP"],
    "status": ["desconhecido", "%00", "IMPORTADO", "x" * 500, "em_processamento%27"],
    "de": ["31/12/2026", "2026-13-01", "ontem", "9999-99-99", "2026-02-30T00:00:00"],
    "ate": ["99999-01-01", "2026-01-01T25:00:00", "x", "ontem à noite"],
}
QUERY_ROUTES = {
    "page": ["/files", "/lotes", "/protocolos", "/demonstrativos"],
    "page_size": ["/files", "/lotes", "/protocolos", "/demonstrativos"],
    "status": ["/files", "/lotes", "/protocolos"],
    "de": ["/files"],
    "ate": ["/files"],
}
HOSTILE_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"42",
    b'"texto"',
    b"{",
    b'{"username": }',
    b'{"username": "a", "password": "b"',
    b"\xff\xfe\x00",
    b'{"username": "\xc0\xaf", "password": "x"}',
    b'{"username": 1, "password": 2}',
    b'{"username": null, "password": null}',
    b'{"username": [], "password": {}}',
    b'{"username": "", "password": ""}',
    b'{"username": "' + b"a" * 5000 + b'", "password": "x"}',
    b'{"username": "a", "password": "' + b"b" * 5000 + b'"}',
    b'{"username": {"$ne": null}, "password": {"$ne": null}}',
    b'{"username": "a"}',
    b'{"password": "a"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b'{"username": "a", "password": "b", "username": {"$gt": ""}}',
    b"<?xml version='1.0'?><x/>",
    b"username=a&password=b",
    b'{"username": "a\\u0000", "password": 1.5e999}',
]
BODY_ROUTES = ["/auth/token", "/files/{file}/correcoes", "/files/{file}/criticas/ignorar"]
HOSTILE_NAMES = [
    "a\x00.xml",
    "a\x01.xml",
    "a\x1b[31m.xml",
    "a\x7f.xml",
    "a\r.xml",
    "a\n.xml",
    "fatura\u202elmx.xml",
    "\u202dx.xml",
    "\u2066x.xml",
    "\u2069x.xml",
    "\u200ex.xml",
    "\u200fx.xml",
    "\ufeffx.xml",
    "\u200bx.xml",
    "\u2060x.xml",
    "\u00adx.xml",
]


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(description, kind, request) for every hostile input."""
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for route, value in itertools.product(ID_ROUTES, HOSTILE_IDS):
        cases.append((f"id {route} {value[:30]}", "raw_get", {"path": route.format(value)}))
    for param, values in HOSTILE_QUERY.items():
        for route, value in itertools.product(QUERY_ROUTES[param], values):
            cases.append(
                (f"query {route}?{param}={value[:30]}", "get", {"path": route, param: value})
            )
    for route, body in itertools.product(BODY_ROUTES, HOSTILE_BODIES):
        cases.append((f"body {route} {body[:30]!r}", "post", {"path": route, "body": body}))
    for name in HOSTILE_NAMES:
        cases.append((f"nome {name!r}", "upload", {"name": name}))
    for content_type in ("application/xml", "text/plain", "application/json", ""):
        cases.append((f"upload {content_type or 'sem tipo'}", "wrong_type", {"ct": content_type}))
    return cases


CASES = _cases()
RUN = CASES if FULL else CASES[::4]


def test_there_are_at_least_400_hostile_inputs() -> None:
    assert len(CASES) >= 400, len(CASES)


def _send(clinica: Api, file_id: str, kind: str, case: dict[str, Any]) -> httpx.Response:
    if kind == "raw_get":
        raw = clinica.base_url.raw_path.decode().rstrip("/") + case["path"]
        return clinica.get(clinica.base_url.copy_with(raw_path=raw.encode()))
    if kind == "get":
        params = {k: v for k, v in case.items() if k != "path"}
        return clinica.get(case["path"], params=params)
    if kind == "post":
        path = case["path"].replace("{file}", file_id)
        headers = {"Content-Type": "application/json"}
        if path == "/auth/token":
            headers["Authorization"] = ""
        return clinica.post(path, content=case["body"], headers=headers)
    if kind == "upload":
        return raw_upload(clinica, case["name"], build_lote("consulta", 1))
    return clinica.post(
        "/uploads",
        content=build_lote("consulta", 1),
        headers={"Content-Type": case["ct"]} if case["ct"] else {},
    )


@pytest.fixture(scope="module")
def arquivo_invalido(clinica: Api) -> str:
    content = build_lote("consulta", 1, cnpj="07906129000100", numero_guia_inicial=fresh_guia())
    file_id = clinica.upload(content).json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "invalido"
    return file_id


def test_every_hostile_input_gets_a_clear_pt_br_4xx_and_leaves_nothing(
    clinica: Api, arquivo_invalido: str
) -> None:
    before = clinica.get("/files").json()["total"]
    pendentes_antes = clinica.get(f"/files/{arquivo_invalido}").json()
    failures = []
    for description, kind, case in RUN:
        answer = _send(clinica, arquivo_invalido, kind, case)
        problem = None
        if not 400 <= answer.status_code < 500:
            problem = f"status {answer.status_code}"
        else:
            try:
                body = answer.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or set(body) != {"code", "message", "details"}:
                problem = f"formato {answer.text[:120]!r}"
            elif not body["message"] or ENGLISH.search(str(body)):
                problem = f"mensagem {body['message']!r} {str(body['details'])[:120]}"
        if problem:
            failures.append(f"{description}: {problem}")
    assert not failures, f"{len(failures)} de {len(RUN)}:\n" + "\n".join(failures[:40])
    # Nothing stored by what was refused; the invalid file is as it was.
    assert clinica.get("/files").json()["total"] == before
    depois = clinica.get(f"/files/{arquivo_invalido}").json()
    assert depois["current_revision"] == pendentes_antes["current_revision"]
