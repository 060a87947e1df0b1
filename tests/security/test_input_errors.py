"""Input that used to end in a 5xx (issue 22, items 3 and 4): every one is now a clear
pt-BR 4xx in the `{code, message, details}` shape, or simply works."""

from __future__ import annotations

import json
from urllib.parse import unquote

import httpx
import pytest
from tissflow_demo.samples import build_lote

from tests.security.conftest import portal_login
from tests.support import Api, Stack, fresh_guia

pytestmark = [pytest.mark.security, pytest.mark.e2e]

HUGE = "9223372036854775807"


def _shape(answer: httpx.Response) -> dict:
    body = answer.json()
    assert set(body) == {"code", "message", "details"}, body
    return body


@pytest.mark.parametrize("name", ["relatório-日本語.xml", "счёт-март.xml", "cœur œuvre.xml"])
def test_a_file_named_in_any_script_downloads(clinica: Api, name: str) -> None:
    content = build_lote("consulta", 1, numero_guia_inicial=fresh_guia())
    sent = clinica.upload(content, filename=name)
    assert sent.status_code == 202, sent.text
    file_id = sent.json()["file_id"]
    download = clinica.get(f"/files/{file_id}/revisions/1/content")
    assert download.status_code == 200, download.text[:300]
    assert download.content == content
    disposition = download.headers["content-disposition"]
    disposition.encode("ascii")  # the header itself is plain ASCII
    assert 'filename="' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == name


@pytest.mark.parametrize("path", ["/files", "/lotes", "/protocolos", "/demonstrativos"])
def test_a_page_past_the_end_is_empty(operadora: Api, path: str) -> None:
    answer = operadora.get(path, params={"page": HUGE})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"ate": "9999-12-31T23:59:59-03:00"},
        {"de": "0001-01-01T00:00:00+03:00"},
        {"de": "0001-01-01T00:00:00+03:00", "ate": "9999-12-31T23:59:59-03:00"},
    ],
)
def test_dates_at_the_ends_of_time_filter(clinica: Api, params: dict[str, str]) -> None:
    answer = clinica.get("/files", params=params)
    assert answer.status_code == 200, answer.text[:300]


def test_portal_history_with_the_last_day_of_year_9999(stack: Stack) -> None:
    base = stack.services.url("gateway")
    with portal_login(base, "odontoarte", "odontoarte123") as (portal, _):
        for query in ("ate=31/12/9999", "de=31/12/9999", "de=02/01/0001&ate=31/12/9999"):
            page = portal.get(f"/arquivos?{query}")
            assert page.status_code == 200, (query, page.status_code, page.text[-1500:])
            assert "Histórico" in page.text


@pytest.mark.parametrize("dots", ["%2E", "%2E%2E", "%2e%2e", "%2E%2E%2F%2E%2E"])
@pytest.mark.parametrize(
    "template",
    [
        "/files/{}",
        "/files/{}/criticas",
        "/files/{}/revisions/1/content",
        "/lotes/{}",
        "/protocolos/{}",
        "/demonstrativos/{}",
        "/demonstrativos/{}/xml",
    ],
)
def test_dot_ids_never_reach_another_endpoint(operadora: Api, template: str, dots: str) -> None:
    path = template.format(dots)
    raw = operadora.base_url.raw_path.decode().rstrip("/") + path
    answer = operadora.request("GET", operadora.base_url.copy_with(raw_path=raw.encode()))
    assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])
    if answer.headers.get("content-type", "").startswith("application/json"):
        _shape(answer)


def test_invalid_utf8_body_is_a_pt_br_4xx(stack: Stack) -> None:
    base = stack.services.url("gateway")
    answer = httpx.post(
        f"{base}/api/v1/auth/token",
        content=b'{"username": "\xff\xfe", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= answer.status_code < 500
    body = _shape(answer)
    assert body["code"] == "corpo_invalido"
    assert "não pôde ser lido" in body["message"]


def test_deeply_nested_json_is_a_pt_br_4xx(stack: Stack, clinica: Api) -> None:
    base = stack.services.url("gateway")
    deep = "[" * 5000 + "]" * 5000
    for path, headers in (
        ("/api/v1/auth/token", {}),
        ("/api/v1/files/x/correcoes", dict(clinica.headers)),
    ):
        answer = httpx.post(
            base + path,
            content=deep.encode(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        body = _shape(answer)
        assert body["code"] in ("corpo_invalido", "dados_invalidos"), body


def test_field_errors_are_said_in_portuguese(stack: Stack) -> None:
    base = stack.services.url("gateway")
    answer = httpx.post(f"{base}/api/v1/auth/token", json={"username": "x"})
    assert answer.status_code == 422
    body = _shape(answer)
    assert body["details"] == [{"campo": "body.password", "erro": "campo obrigatório"}]
    assert json.dumps(body, ensure_ascii=False).find("Field required") == -1
