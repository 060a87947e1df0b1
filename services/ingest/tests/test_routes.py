"""Ingest's internal routes on in-memory adapters: domain refusals become the HTTP answers
the other services read ({detail: {code, message}} with the status of their kind)."""

from __future__ import annotations

import httpx
from tissflow_ingest.bootstrap import build
from tissflow_runtime.settings import ServiceSettings

from .fakes import FakeFiles, FakeStore

TOKEN = {"X-Internal-Token": ServiceSettings().internal_token}
PARAMS = {"provider_id": "07906129000102", "uploaded_by": "odontoarte"}


def client() -> httpx.AsyncClient:
    service = build(files=FakeFiles(), store=FakeStore())
    transport = httpx.ASGITransport(app=service.app)
    return httpx.AsyncClient(transport=transport, base_url="http://ingest", headers=TOKEN)


async def test_refusals_answer_with_the_status_of_their_kind() -> None:
    async with client() as http:
        pdf = await http.post(
            "/internal/files", params={**PARAMS, "filename": "a.pdf"}, content=b"%PDF"
        )
        assert pdf.status_code == 422
        assert pdf.json()["detail"]["code"] == "extensao_invalida"
        big = await http.post(
            "/internal/files",
            params={**PARAMS, "filename": "a.xml"},
            content=b"x" * (15 * 1024 * 1024 + 1),
        )
        assert big.status_code == 413
        assert big.json()["detail"] == {
            "code": "arquivo_muito_grande",
            "message": "O limite é 15 MB por arquivo.",
        }
        missing = await http.get("/internal/files/nada")
        assert missing.status_code == 404
        assert missing.json()["detail"]["code"] == "arquivo_nao_encontrado"


async def test_a_stored_file_is_served_back_with_its_hash() -> None:
    async with client() as http:
        made = await http.post(
            "/internal/files", params={**PARAMS, "filename": "a.xml"}, content=b"<a/>"
        )
        assert made.status_code == 201
        file_id = made.json()["file_id"]
        content = await http.get(f"/internal/files/{file_id}/revisions/1/content")
        assert content.content == b"<a/>"
        assert content.headers["X-Content-SHA256"] == made.json()["revisions"][0]["sha256"]
        stale = await http.post(
            f"/internal/files/{file_id}/revisions",
            params={"created_by": "x", "base_revision": 2},
            content=b"<b/>",
        )
        assert stale.status_code == 409
        assert stale.json()["detail"]["code"] == "revisao_desatualizada"


async def test_a_batch_of_claim_checks_is_answered_at_once() -> None:
    import base64

    from tissflow_ingest import entrypoints

    big = b"<a>" + b"x" * entrypoints.BATCH_CONTENT_MAX_BYTES + b"</a>"
    async with client() as http:
        ids = []
        for name, content in (("a.xml", b"<a/>"), ("b.xml", b"<b/>"), ("c.xml", big)):
            made = await http.post(
                "/internal/files", params={**PARAMS, "filename": name}, content=content
            )
            ids.append(made.json()["file_id"])
        wanted = [{"file_id": i, "revision": 1} for i in ids]
        wanted.append({"file_id": ids[0], "revision": 7})  # no such revision: left out
        answer = await http.post("/internal/files/contents", json={"revisoes": wanted})
        assert answer.status_code == 200
        got = {c["file_id"]: c for c in answer.json()["conteudos"] if c["revision"] == 1}
        assert len(answer.json()["conteudos"]) == 3
        assert base64.b64decode(got[ids[0]]["base64"]) == b"<a/>"
        assert base64.b64decode(got[ids[1]]["base64"]) == b"<b/>"
        assert got[ids[2]]["base64"] is None  # too large for the batch: fetched alone
        assert got[ids[2]]["sha256"]
