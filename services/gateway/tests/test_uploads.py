"""The upload's checks as the clinic meets them: one XML of up to 15 MB, refused in pt-BR
otherwise, and refused while it arrives rather than after a huge body is buffered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from tissflow_gateway.core import ApiError
from tissflow_gateway.uploads import MAX_FILE_BYTES, receive_single_xml

XML = b'<?xml version="1.0" encoding="ISO-8859-1"?><ans:mensagemTISS/>'


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """An HTTP endpoint that does only what the upload route does with the request body."""
    app = FastAPI()

    @app.post("/upload")
    async def upload(request: Request) -> JSONResponse:
        try:
            received = await receive_single_xml(request)
        except ApiError as exc:
            return JSONResponse(exc.detail, status_code=exc.status_code)
        return JSONResponse({"filename": received.filename, "bytes": len(received.content)})

    with TestClient(app) as test_client:
        yield test_client


def test_one_xml_file_is_received_whole(client: TestClient) -> None:
    response = client.post("/upload", files={"arquivo": ("lote.xml", XML, "application/xml")})
    assert response.status_code == 200
    assert response.json() == {"filename": "lote.xml", "bytes": len(XML)}


def test_a_file_of_exactly_15_mb_is_accepted(client: TestClient) -> None:
    content = b"x" * MAX_FILE_BYTES
    response = client.post("/upload", files={"arquivo": ("grande.xml", content)})
    assert response.status_code == 200
    assert response.json()["bytes"] == MAX_FILE_BYTES


def test_one_byte_over_15_mb_is_refused_with_the_limit(client: TestClient) -> None:
    response = client.post(
        "/upload", files={"arquivo": ("grande.xml", b"x" * (MAX_FILE_BYTES + 1))}
    )
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "arquivo_muito_grande"
    assert body["message"].startswith("O arquivo excede o limite de 15 MB por arquivo")
    assert body["details"] == {"limite_bytes": MAX_FILE_BYTES}


def test_a_declared_size_far_over_the_limit_says_how_big_in_pt_br(client: TestClient) -> None:
    content = b"x" * (20 * 1024 * 1024 + 300 * 1024)
    response = client.post("/upload", files={"arquivo": ("enorme.xml", content)})
    assert response.status_code == 413
    assert response.json()["message"] == (
        "O arquivo excede o limite de 15 MB por arquivo (recebido: 20,3 MB)."
    )


async def test_an_undeclared_size_is_cut_off_while_it_arrives() -> None:
    """Chunked, with no Content-Length: reading stops a little past 15 MB, however much
    the client would go on sending (here up to 40 MB, one MB at a time)."""
    head = b'--b\r\nContent-Disposition: form-data; name="arquivo"; filename="x.xml"\r\n\r\n'
    chunks = [head] + [b"x" * (1024 * 1024)] * 40 + [b"\r\n--b--\r\n"]
    read = 0

    async def receive() -> dict[str, object]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
    }
    with pytest.raises(ApiError) as refused:
        await receive_single_xml(Request(scope, receive))
    assert refused.value.status_code == 413
    assert refused.value.detail["message"] == "O arquivo excede o limite de 15 MB por arquivo."
    assert read <= 17  # the 15 MB limit and a little room for the form around the file


def test_two_files_are_refused_even_under_one_field_name(client: TestClient) -> None:
    for files in (
        [("arquivo", ("a.xml", XML)), ("arquivo", ("b.xml", XML))],
        [("arquivo", ("a.xml", XML)), ("outro", ("b.xml", XML))],
    ):
        response = client.post("/upload", files=files)
        assert response.status_code == 422
        assert response.json() == {
            "code": "varios_arquivos",
            "message": "Envie um arquivo por vez: cada XML é um lote.",
            "details": None,
        }


def test_a_form_without_a_file_is_refused(client: TestClient) -> None:
    response = client.post("/upload", data={"arquivo": "texto"}, files={"x": ("", b"")})
    assert response.status_code == 422
    assert response.json()["message"] == "Nenhum arquivo foi enviado."


def test_a_body_that_is_not_a_form_is_refused(client: TestClient) -> None:
    response = client.post("/upload", content=XML, headers={"Content-Type": "application/xml"})
    assert response.status_code == 415
    assert response.json()["code"] == "formato_invalido"
    assert "multipart/form-data" in response.json()["message"]


def test_a_broken_form_is_a_400_in_pt_br(client: TestClient) -> None:
    response = client.post(
        "/upload",
        content=b"--b\r\nsem cabecalhos",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Envio inválido")


def test_a_very_long_file_name_keeps_its_end(client: TestClient) -> None:
    name = "a" * 300 + "-lote.xml"
    response = client.post("/upload", files={"arquivo": (name, XML)})
    assert response.status_code == 200
    assert response.json()["filename"] == name[-255:]
    assert response.json()["filename"].endswith("-lote.xml")
