"""The registry CSV as the operator's staff and core systems send it: a file in field
`arquivo` of a form (with the portal's CSRF field beside it) or a raw text/csv body, up to
20 MB, refused in pt-BR otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from tissflow_gateway.core import ApiError
from tissflow_gateway.operadora import MAX_CSV_BYTES, receive_csv

CSV = b"numero_carteira;nome;ativo\n00331988000124;MARIA DA SILVA;S\n"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """An endpoint that does only what the import routes do with the request body."""
    app = FastAPI()

    @app.post("/csv")
    async def importar(request: Request) -> JSONResponse:
        try:
            received = await receive_csv(request)
        except ApiError as exc:
            return JSONResponse(exc.detail, status_code=exc.status_code)
        return JSONResponse(
            {
                "filename": received.filename,
                "content": received.content.decode(),
                "fields": received.fields,
            }
        )

    with TestClient(app) as test_client:
        yield test_client


def test_the_file_of_a_form_and_its_other_fields(client: TestClient) -> None:
    response = client.post(
        "/csv",
        data={"csrf_token": "abc"},
        files={"arquivo": ("beneficiarios.csv", CSV, "text/csv")},
    )
    assert response.status_code == 200
    assert response.json() == {
        "filename": "beneficiarios.csv",
        "content": CSV.decode(),
        "fields": {"csrf_token": "abc"},
    }


@pytest.mark.parametrize("content_type", ["text/csv", "text/csv; charset=utf-8", "text/plain"])
def test_a_raw_csv_body(client: TestClient, content_type: str) -> None:
    response = client.post("/csv", content=CSV, headers={"Content-Type": content_type})
    assert response.status_code == 200
    assert response.json()["content"] == CSV.decode()


def test_a_file_of_exactly_20_mb_is_accepted(client: TestClient) -> None:
    body = b"x" * MAX_CSV_BYTES
    response = client.post("/csv", files={"arquivo": ("grande.csv", body)})
    assert response.status_code == 200
    assert response.json()["filename"] == "grande.csv"
    assert len(response.json()["content"]) == MAX_CSV_BYTES  # received whole, not cut


def test_past_20_mb_is_refused_with_the_limit(client: TestClient) -> None:
    body = b"x" * (MAX_CSV_BYTES + 1)
    for kwargs in (
        {"files": {"arquivo": ("grande.csv", body)}},
        {"content": body, "headers": {"Content-Type": "text/csv"}},
    ):
        response = client.post("/csv", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 413
        assert response.json()["code"] == "arquivo_muito_grande"
        assert response.json()["message"].startswith("O arquivo CSV excede o limite de 20 MB")


def test_a_declared_size_past_the_limit_is_refused_before_reading(client: TestClient) -> None:
    response = client.post(
        "/csv",
        content=b"x",
        headers={"Content-Type": "text/csv", "Content-Length": str(30 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert "(recebido: 30,0 MB)" in response.json()["message"]


def test_no_file_two_files_or_another_format(client: TestClient) -> None:
    nenhum = client.post("/csv", files={"outro": ("a.csv", CSV)})
    assert (nenhum.status_code, nenhum.json()["code"]) == (422, "arquivo_ausente")
    dois = client.post("/csv", files=[("arquivo", ("a.csv", CSV)), ("arquivo", ("b.csv", CSV))])
    assert (dois.status_code, dois.json()["code"]) == (422, "varios_arquivos")
    json = client.post("/csv", json={"csv": "x"})
    assert json.status_code == 415
    assert "multipart/form-data" in json.json()["message"] and "text/csv" in json.json()["message"]
