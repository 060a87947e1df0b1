"""The walking skeleton's thread, end to end through the public API, on real servers:
upload → importado → lote → enviar → PEG → Faturado → Demonstrativo de Pagamento."""

from __future__ import annotations

import pytest
from tissflow_validation.samples import build_lote

from tests.support import Api, fresh_guia, wait_for

pytestmark = pytest.mark.e2e


def test_upload_to_payment_statement(clinica: Api, operadora: Api) -> None:
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=3, numero_lote="900001", numero_guia_inicial=fresh_guia()
    )
    response = clinica.upload(content, filename="lote-900001.xml")
    assert response.status_code == 202, response.text
    file_id = response.json()["file_id"]
    assert response.json()["status"] == "em_processamento"

    arquivo = clinica.wait_file(file_id)
    assert arquivo["status"] == "importado", clinica.get(f"/files/{file_id}/criticas").text
    assert arquivo["validacao"]["numero_lote"] == "900001"
    assert arquivo["validacao"]["quantidade_guias"] == 3
    listed = clinica.get("/files", params={"status": "importado", "nome": "900001"}).json()
    assert [f["file_id"] for f in listed["items"]] == [file_id]

    lote = wait_for(
        lambda: (clinica.get("/lotes", params={"file_id": file_id}).json()["items"] or [None])[0],
        what="o lote do arquivo importado",
    )
    assert lote["status"] == "aberto"
    assert lote["numero_lote_prestador"] == "900001"
    assert lote["numero_lote"] != "900001"  # the portal's own number
    assert lote["quantidade_guias"] == 3

    assert clinica.post(f"/lotes/{lote['lote_id']}/fechar").json()["status"] == "fechado"
    sent = clinica.post(f"/lotes/{lote['lote_id']}/enviar")
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "enviado"
    again = clinica.post(f"/lotes/{lote['lote_id']}/enviar")
    assert again.status_code == 200 and again.json()["status"] == "enviado"

    protocolo = wait_for(
        lambda: (
            clinica.get("/protocolos", params={"lote_id": lote["lote_id"]}).json()["items"]
            or [None]
        )[0],
        what="o protocolo (PEG) do lote enviado",
    )
    assert protocolo["status"] == 1 and protocolo["etapa"] == "Enviado para a Operadora"
    peg = protocolo["peg"]
    wait_for(
        lambda: (
            (clinica.get(f"/lotes/{lote['lote_id']}").json().get("protocolo") or {}).get("peg")
            == peg
        ),
        what="o lote mostrar seu PEG",
    )

    faturado = operadora.post(
        f"/operadora/protocolos/{peg}/status",
        json={"status": 3, "data_pagamento": "2026-12-10"},
    )
    assert faturado.status_code == 200, faturado.text
    assert faturado.json()["etapa"] == "Faturado"
    repeated = operadora.post(
        f"/operadora/protocolos/{peg}/status", json={"status": 3, "data_pagamento": "2026-12-10"}
    )
    assert repeated.status_code == 200  # the same report again changes nothing
    other_date = operadora.post(
        f"/operadora/protocolos/{peg}/status", json={"status": 3, "data_pagamento": "2026-12-20"}
    )
    assert other_date.status_code == 409
    assert other_date.json()["code"] == "situacao_ja_informada"

    demonstrativo = wait_for(
        lambda: (clinica.get("/demonstrativos", params={"peg": peg}).json()["items"] or [None])[0],
        what="o demonstrativo de pagamento",
    )
    assert demonstrativo["tipo"] == "pagamento"
    assert demonstrativo["data_pagamento"] == "2026-12-10"
    assert demonstrativo["titulo"] == "Demonstrativo de Pagamento"
    # Sending twice sent once: one protocol for the lote.
    assert clinica.get("/protocolos", params={"lote_id": lote["lote_id"]}).json()["total"] == 1


def test_invalid_file_is_marked_invalido_with_critiques(clinica: Api) -> None:
    response = clinica.upload(b"<mensagemTISS><nao-fechado>", filename="quebrado.xml")
    assert response.status_code == 202
    arquivo = clinica.wait_file(response.json()["file_id"])
    assert arquivo["status"] == "invalido"
    criticas = clinica.get(f"/files/{arquivo['file_id']}/criticas").json()
    codes = {c["codigo"] for c in criticas["result"]["critiques"]}
    assert "5007" in codes, criticas  # MENSAGEM SEM ENCERRAMENTO: truncated XML
    assert all(c["mensagem"] for c in criticas["result"]["critiques"])


def test_upload_limits_and_errors(clinica: Api) -> None:
    big = b"<a>" + b"x" * (16 * 1024 * 1024) + b"</a>"
    response = clinica.upload(big, filename="grande.xml")
    assert response.status_code == 413
    assert response.json()["code"] == "arquivo_muito_grande"
    assert "15 MB" in response.json()["message"]

    two = clinica.post(
        "/uploads",
        files=[
            ("arquivo", ("a.xml", b"<a/>", "application/xml")),
            ("arquivo2", ("b.xml", b"<b/>", "application/xml")),
        ],
    )
    assert two.status_code == 422 and two.json()["code"] == "varios_arquivos"

    pdf = clinica.upload(b"%PDF-1.4 ...", filename="guia.pdf")
    assert pdf.status_code == 422 and "não é um XML" in pdf.json()["message"]


def test_provider_cannot_see_another_providers_file(clinica: Api, outra_clinica: Api) -> None:
    content = build_lote(
        tipo_guia="consulta", n_guias=1, numero_lote="900002", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="privado.xml").json()["file_id"]
    clinica.wait_file(file_id)
    assert outra_clinica.get(f"/files/{file_id}").status_code == 404
    assert outra_clinica.get(f"/files/{file_id}/criticas").status_code == 404
    listed = outra_clinica.get("/files").json()["items"]
    assert file_id not in {f["file_id"] for f in listed}


def test_api_errors_have_a_stable_shape(stack, clinica: Api) -> None:
    import httpx

    anonymous = httpx.get(
        f"{stack.services.url('gateway')}/api/v1/files", headers={"X-Correlation-ID": "req-123"}
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["X-Correlation-ID"] == "req-123"
    assert set(anonymous.json()) == {"code", "message", "details"}
    wrong = httpx.post(
        f"{stack.services.url('gateway')}/api/v1/auth/token",
        json={"username": "odontoarte", "password": "errada"},
    )
    assert wrong.status_code == 401 and wrong.json()["message"] == "Usuário ou senha inválidos."
    bad = clinica.get("/files", params={"page": 0})
    assert bad.status_code == 422 and bad.json()["code"] == "dados_invalidos"
    operator_only = clinica.post("/operadora/protocolos/1/status", json={"status": 2})
    assert operator_only.status_code == 403


def test_a_clinic_cannot_bill_in_another_clinics_name(clinica: Api) -> None:
    outra = build_lote(
        tipo_guia="consulta", cnpj="11222333000181", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(outra, filename="em-nome-de-outro.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "invalido"
    [critica] = clinica.get(f"/files/{file_id}/criticas").json()["result"]["critiques"]
    assert critica["codigo"] == "1206" and "outro prestador" in critica["mensagem"]
    assert clinica.get("/lotes", params={"file_id": file_id}).json()["total"] == 0


def test_deleting_a_lote_frees_its_guides_for_a_new_file(clinica: Api) -> None:
    numero = fresh_guia()
    primeiro = build_lote(tipo_guia="consulta", numero_lote="900201", numero_guia_inicial=numero)
    file_id = clinica.upload(primeiro, filename="primeiro.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    repetido = build_lote(tipo_guia="consulta", numero_lote="900202", numero_guia_inicial=numero)
    dup_id = clinica.upload(repetido, filename="repetido.xml").json()["file_id"]
    assert clinica.wait_file(dup_id)["status"] == "invalido"
    codes = [
        c["codigo"] for c in clinica.get(f"/files/{dup_id}/criticas").json()["result"]["critiques"]
    ]
    assert codes == ["1308"]

    lote = wait_for(
        lambda: (clinica.get("/lotes", params={"file_id": file_id}).json()["items"] or [None])[0],
        what="o lote do primeiro arquivo",
    )
    assert clinica.post(f"/lotes/{lote['lote_id']}/excluir").json()["status"] == "excluido"

    def aceito() -> str | None:
        again = clinica.upload(repetido, filename="de-novo.xml").json()["file_id"]
        status = clinica.wait_file(again)["status"]
        return status if status == "importado" else None

    assert wait_for(aceito, timeout=30, what="as guias do lote excluído ficarem livres")
