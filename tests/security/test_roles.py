"""Least privilege (issue 22, item 5), as deps.py's role table says: the operations team
lists and watches but never changes billing data nor reads a provider's XML."""

from __future__ import annotations

import pytest
from tissflow_demo.samples import build_lote

from tests.support import Api, fresh_guia

pytestmark = [pytest.mark.security, pytest.mark.e2e]


@pytest.fixture(scope="module")
def arquivo(clinica: Api) -> str:
    sent = clinica.upload(build_lote("consulta", 1, numero_guia_inicial=fresh_guia()))
    assert sent.status_code == 202, sent.text
    file_id = sent.json()["file_id"]
    clinica.wait_file(file_id)
    return file_id


def test_ops_cannot_change_a_protocols_status(ops_api: Api, operadora: Api) -> None:
    body = {"status": 2}
    refused = ops_api.post("/operadora/protocolos/999999999/status", json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "acesso_negado"
    # The operator's staff get past the role check (and learn the PEG does not exist).
    assert operadora.post("/operadora/protocolos/999999999/status", json=body).status_code == 404


@pytest.mark.parametrize("path", ["/files/{}/revisions/1/content", "/files/{}/criticas"])
def test_ops_cannot_read_a_providers_file(
    ops_api: Api, operadora: Api, clinica: Api, arquivo: str, path: str
) -> None:
    refused = ops_api.get(path.format(arquivo))
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "acesso_negado"
    assert "operações" in refused.json()["message"]
    assert operadora.get(path.format(arquivo)).status_code == 200
    assert clinica.get(path.format(arquivo)).status_code == 200


def test_ops_still_lists_files_and_sees_health(ops_api: Api, arquivo: str) -> None:
    assert ops_api.get("/files").status_code == 200
    assert ops_api.get("/ops/saude").status_code == 200


def test_another_provider_never_reads_the_file(outra_clinica: Api, arquivo: str) -> None:
    for path in ("/files/{}", "/files/{}/criticas", "/files/{}/revisions/1/content"):
        assert outra_clinica.get(path.format(arquivo)).status_code == 404
