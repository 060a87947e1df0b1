"""Lotes de pagamento through the public API on the real stack (Kafka, FerretDB, every
service): portal numbers, Detalhes do Lote, Enviar only from Fechado, what `lote.sent`
carries, the operator's values, delete and recreate, NF, pending payments, Sincronizar,
the operator's calendar and Pesquisa de Lotes with every filter combination."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tissflow_contracts import Topic
from tissflow_validation.samples import build_lote

from tests.support import Api, Stack, fresh_guia, read_topic, wait_for

pytestmark = pytest.mark.integration
SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # the clerk's and the operator's calendar


def _lote(clinica: Api, numero_lote: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("numero_guia_inicial", fresh_guia())
    content = build_lote(numero_lote=numero_lote, **kwargs)
    file_id = clinica.upload(content, filename=f"lote-{numero_lote}.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    return clinica.lote_do_arquivo(file_id)


def _enviado(clinica: Api, lote: dict[str, Any]) -> str:
    return clinica.enviar_e_aguardar_peg(lote["lote_id"])


def test_same_xml_number_two_portal_numbers(clinica: Api) -> None:
    a = _lote(clinica, "880001", tipo_guia="consulta")
    b = _lote(clinica, "880001", tipo_guia="consulta")
    assert a["numero_lote"] != b["numero_lote"]
    assert int(a["numero_lote"]) > 1_000_000 and int(b["numero_lote"]) > 1_000_000
    assert a["numero_lote_prestador"] == b["numero_lote_prestador"] == "880001"
    by_portal = clinica.get("/lotes", params={"numero_lote": b["numero_lote"]}).json()
    assert [lote["lote_id"] for lote in by_portal["items"]] == [b["lote_id"]]
    by_xml = clinica.get("/lotes", params={"numero_lote": "880001"}).json()
    assert {a["lote_id"], b["lote_id"]} <= {lote["lote_id"] for lote in by_xml["items"]}


def test_detail_send_only_closed_and_lote_sent_carries_the_guides(
    stack: Stack, clinica: Api
) -> None:
    lote = _lote(clinica, "880002", tipo_guia="sp_sadt", n_guias=2)
    detail = clinica.get(f"/lotes/{lote['lote_id']}").json()
    assert detail["operadora"] == "PASA | 331988"
    assert detail["canal"] == "upload_xml" and detail["situacao_protocolo"] == "nao_enviado"
    assert detail["acoes"] == ["fechar", "excluir"]
    assert detail["aviso_limite"] == (
        "Este lote já possui 2 guias. Limite máximo permitido por lote é de 100 guias."
    )
    assert date.fromisoformat(detail["enviar_ate"]) >= date.fromisoformat(detail["created_at"][:10])
    assert detail["enviar_ate_texto"]
    guias = detail["guias"]
    assert len(guias) == 2 and all(g["numero_carteira"] and g["nome_beneficiario"] for g in guias)
    assert all(g["valor_informado"] and g["valor_liberado"] == "0.00" for g in guias)

    refused = clinica.post(f"/lotes/{lote['lote_id']}/enviar")
    assert refused.status_code == 409
    assert refused.json()["code"] == "lote_nao_fechado"
    closed = clinica.post(f"/lotes/{lote['lote_id']}/fechar").json()
    assert closed["status"] == "fechado" and closed["fechado_em"]
    assert closed["acoes"] == ["excluir", "reabrir", "enviar"]
    sent = clinica.post(f"/lotes/{lote['lote_id']}/enviar").json()
    assert sent["status"] == "enviado" and sent["enviado_em"]

    record = read_topic(
        stack.kafka,
        Topic.LOTE_SENT,
        lambda r: json.loads(r.value)["payload"]["lote_id"] == lote["lote_id"],
    )
    assert record is not None
    payload = json.loads(record.value)["payload"]
    assert payload["numero_lote"] == lote["numero_lote"]
    assert payload["numero_lote_prestador"] == "880002"
    assert payload["versao_tiss"] and payload["prestador"]["provider_id"] == "07906129000102"
    assert {g["numero_guia_prestador"] for g in payload["guias"]} == {
        g["numero_guia_prestador"] for g in guias
    }
    assert all(g["nome_beneficiario"] and g["itens"] for g in payload["guias"])

    # A sent lote never changes: the clinic is told to contact the operator.
    for acao in ("excluir", "reabrir", "fechar"):
        answer = clinica.post(f"/lotes/{lote['lote_id']}/{acao}")
        assert answer.status_code == 409
        assert "contato com a operadora" in answer.json()["message"]
    log = clinica.get(f"/lotes/{lote['lote_id']}/log").json()["items"]
    assert [(e["acao"], e["resultado"]) for e in log[:4]] == [
        ("criado", "ok"),
        ("enviar", "recusado"),
        ("fechar", "ok"),
        ("enviar", "ok"),
    ]
    assert all(e["by"] and e["at"] for e in log)
    assert log[3]["by"] == "odontoarte" and log[3]["para"] == "enviado"


def test_operator_analysis_fills_values_and_pending_payments(clinica: Api, operadora: Api) -> None:
    lote = _lote(clinica, "880003", tipo_guia="sp_sadt", n_guias=2)
    peg = _enviado(clinica, lote)
    guias = clinica.get(f"/lotes/{lote['lote_id']}").json()["guias"]
    primeira, segunda = guias
    for status in (2, 5):
        body: dict[str, Any] = {"status": status}
        if status == 5:
            body["guias"] = [
                {
                    "numero_guia_prestador": g["numero_guia_prestador"],
                    "valor_processado": g["valor_informado"],
                    "valor_liberado": str(float(g["valor_informado"]) - (1 if i == 0 else 0)),
                    "valor_glosado": "1.00" if i == 0 else "0",
                    "glosas": [{"codigo": "1705", "valor": "1.00"}] if i == 0 else [],
                }
                for i, g in enumerate(guias)
            ]
        answer = operadora.post(f"/operadora/protocolos/{peg}/status", json=body)
        assert answer.status_code == 200, answer.text

    def liberado() -> dict[str, Any] | None:
        doc = clinica.get(f"/lotes/{lote['lote_id']}").json()
        return doc if doc["situacao_protocolo"] == "liberado" else None

    doc = wait_for(liberado, what="o lote mostrar a análise da operadora")
    assert doc["valor_glosado"] == "1.00"
    assert doc["gera_demonstrativo"] is True
    by_numero = {g["numero_guia_prestador"]: g for g in doc["guias"]}
    assert by_numero[primeira["numero_guia_prestador"]]["valor_glosado"] == "1.00"
    assert by_numero[segunda["numero_guia_prestador"]]["valor_glosado"] == "0.00"

    pagamento = (date.today() + timedelta(days=7)).isoformat()
    answer = operadora.post(
        f"/operadora/protocolos/{peg}/status", json={"status": 3, "data_pagamento": pagamento}
    )
    assert answer.status_code == 200, answer.text

    def pendente() -> dict[str, Any] | None:
        items = clinica.get("/lotes/pendencias/pagamentos").json()["items"]
        mine = (i for i in items if i["lote_id"] == lote["lote_id"])
        return next((i for i in mine if i["situacao_protocolo"] == "faturado"), None)

    item = wait_for(pendente, what="o lote faturado aparecer em Pagamentos Pendentes")
    assert item["data_prevista"] == pagamento and item["situacao_protocolo"] == "faturado"
    assert item["valor_previsto"] == doc["valor_liberado"]
    faturado = clinica.get(f"/lotes/{lote['lote_id']}").json()
    assert faturado["data_pagamento"] == pagamento
    assert clinica.post("/lotes/sincronizar").json()["verificados"] >= 0


def test_delete_frees_the_file_and_recreate_makes_a_new_lote(clinica: Api) -> None:
    lote = _lote(clinica, "880004", tipo_guia="consulta")
    deleted = clinica.post(f"/lotes/{lote['lote_id']}/excluir").json()
    assert deleted["status"] == "excluido" and deleted["excluido_por"] == "odontoarte"
    assert clinica.get("/lotes", params={"file_id": lote["file_id"]}).json()["total"] == 0
    listed = clinica.get("/lotes", params={"file_id": lote["file_id"], "status": "excluido"})
    assert [x["lote_id"] for x in listed.json()["items"]] == [lote["lote_id"]]

    again = clinica.post(f"/files/{lote['file_id']}/lote")
    assert again.status_code == 202, again.text
    assert clinica.wait_file(lote["file_id"])["status"] == "importado"
    novo = clinica.lote_do_arquivo(lote["file_id"])
    assert novo["lote_id"] != lote["lote_id"]
    assert int(novo["numero_lote"]) > int(lote["numero_lote"])  # never reused
    assert novo["numero_lote_prestador"] == "880004"
    # A file with a live lote cannot make another.
    assert clinica.post(f"/files/{lote['file_id']}/lote").status_code == 409


def test_nota_fiscal_of_a_sent_lote(clinica: Api, operadora: Api) -> None:
    lote = _lote(clinica, "880005", tipo_guia="consulta")
    emissao = datetime.now(SAO_PAULO).date().strftime("%d/%m/%Y")
    form = {"numero": "4521", "emissao": emissao, "valor": "150,00"}
    pdf = b"%PDF-1.4\n% nota fiscal de teste\n"
    early = clinica.post(
        f"/lotes/{lote['lote_id']}/nota-fiscal",
        data=form,
        files={"arquivo": ("nf.pdf", pdf, "application/pdf")},
    )
    assert early.status_code == 409 and early.json()["code"] == "nf_lote_nao_enviado"
    _enviado(clinica, lote)
    pendentes = clinica.get("/lotes/pendencias/nota-fiscal", params={"page_size": 200}).json()
    assert lote["lote_id"] in {x["lote_id"] for x in pendentes["items"]}

    wrong = clinica.post(
        f"/lotes/{lote['lote_id']}/nota-fiscal",
        data=form,
        files={"arquivo": ("nf.txt", b"texto", "text/plain")},
    )
    assert wrong.status_code == 422 and "PDF" in wrong.json()["message"]
    ok = clinica.post(
        f"/lotes/{lote['lote_id']}/nota-fiscal",
        data=form,
        files={"arquivo": ("nf.pdf", pdf, "application/pdf")},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["nf"]["numero"] == "4521" and ok.json()["nf"]["valor"] == "150.00"
    kept = clinica.get(f"/lotes/{lote['lote_id']}/nota-fiscal/arquivo")
    assert kept.status_code == 200 and kept.content == pdf
    assert kept.headers["content-type"] == "application/pdf"
    pendentes = clinica.get("/lotes/pendencias/nota-fiscal", params={"page_size": 200}).json()
    assert lote["lote_id"] not in {x["lote_id"] for x in pendentes["items"]}
    # The operator reads it; only the clinic attaches it.
    assert operadora.get(f"/lotes/{lote['lote_id']}/nota-fiscal/arquivo").content == pdf


def test_operator_calendar_sets_enviar_ate(clinica: Api, operadora: Api) -> None:
    assert clinica.put("/operadora/lotes/configuracao", json={}).status_code in (403, 422)
    config = {"dia_limite_envio": 28, "nf_obrigatoria": True, "nf_prazo_dias": 5}
    saved = operadora.put("/operadora/lotes/configuracao", json=config)
    assert saved.status_code == 200, saved.text
    assert saved.json()["atualizado_por"] == "operadora"
    try:
        lote = _lote(clinica, "880006", tipo_guia="consulta")
        limite = date.fromisoformat(lote["enviar_ate"])
        assert limite.day == 28 or limite.month == 2
        assert lote["enviar_ate_texto"].startswith(("falta", "último"))
    finally:
        config["dia_limite_envio"], config["nf_obrigatoria"] = 20, False
        operadora.put("/operadora/lotes/configuracao", json=config)


STATUS = ["", "aberto", "fechado", "enviado", "excluido"]
SITUACOES = [
    "",
    "nao_enviado",
    "enviado",
    "em_analise",
    "liberado",
    "faturado",
    "pago",
    "encerrado",
    "pendente",
    "cancelado",
    "outra",
]
TIPOS = ["", "consulta", "sp_sadt", "odontologia", "honorarios", "resumo_internacao"]
ORDENS = ["data_inclusao", "numero", "situacao", "protocolo", "situacao_protocolo", "tipo_guia"]


def test_every_filter_combination_of_pesquisa_answers(stack: Stack, clinica: Api) -> None:
    _lote(clinica, "880007", tipo_guia="consulta")
    hoje = datetime.now(SAO_PAULO).date().isoformat()
    # Each option of each filter, blank ("Todas") included; each filter is checked on its
    # own, so any combination of answering options answers.
    one_at_a_time = (
        [{"status": v} for v in STATUS]
        + [{"situacao_protocolo": v} for v in SITUACOES]
        + [{"tipo_guia": v} for v in TIPOS]
        + [{"ordem": o, "direcao": d} for o, d in itertools.product(ORDENS, ["asc", "desc"])]
        + [{"de": hoje}, {"ate": hoje}, {"protocolo": "0"}, {"numero_lote": "abc"}]
    )
    for params in one_at_a_time:
        answer = clinica.get("/lotes", params={**params, "page_size": 1})
        assert answer.status_code == 200, (params, answer.text)
    everything = {
        "registro_ans": "331988",
        "numero_lote": "",
        "protocolo": "",
        "tipo_guia": "",
        "situacao_protocolo": "",
        "status": "",
        "de": hoje,
        "ate": hoje,
    }
    assert clinica.get("/lotes", params=everything).status_code == 200
    all_set = {
        **everything,
        "numero_lote": "1",
        "protocolo": "1",
        "tipo_guia": "consulta",
        "situacao_protocolo": "enviado",
        "status": "enviado",
        "ordem": "protocolo",
        "direcao": "asc",
    }
    assert clinica.get("/lotes", params=all_set).json()["total"] == 0
    # Sorted by number, ascending: the numbers come in order.
    asc = clinica.get("/lotes", params={"ordem": "numero", "direcao": "asc", "page_size": 50})
    numeros = [int(x["numero_lote"]) for x in asc.json()["items"]]
    assert numeros == sorted(numeros)
    # The portal's form (the default "Todas", any option, a bad date) answers too.
    portal = stack.services.url("gateway")
    cookies = _portal_login(portal)
    for status, situacao in [("", ""), ("aberto", "faturado"), ("x", "?")]:
        page = _get(portal, cookies, {"status": status, "situacao_protocolo": situacao})
        assert page.status_code == 200, (status, situacao)
    page = _get(portal, cookies, {"de": "31/02/2026", "ate": "", "ordem": "nada"})
    assert page.status_code == 200 and "Data inicial inválida" in page.text


def _portal_login(portal: str) -> Any:
    import httpx

    with httpx.Client(base_url=portal) as client:
        form = client.get("/login")
        token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/login",
            data={"username": "odontoarte", "password": "odontoarte123", "csrf_token": token},
        )
        return client.cookies


def _get(portal: str, cookies: Any, params: dict[str, str]) -> Any:
    import httpx

    return httpx.get(
        f"{portal}/lotes", params=params, cookies=cookies, headers={"Accept": "text/html"}
    )
