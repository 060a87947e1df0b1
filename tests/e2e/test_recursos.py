"""Recurso de glosa end to end on the real Kafka and FerretDB: a glossed protocol (events
as batching and protocol publish them) → the clinic's recurso (RECURSO_GLOSA) → the
operator's receipt and answer (RESPOSTA_RECURSO_GLOSA) → `recurso.answered` → the value
recovered; isolation between providers; the demo operator's answers."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from tissflow_contracts import LoteSent, ProtocoloStatusChanged, Topic, new_envelope
from tissflow_demo.samples import build_lote
from tissflow_tiss import NS, epilogo_hash, erros_de_schema

from tests.security.conftest import portal_login
from tests.support import Api, Stack, fresh_guia, publish, read_topic, wait_for

pytestmark = pytest.mark.e2e
CNPJ = "07906129000102"


def glossed_protocol(stack: Stack, clinica: Api, dias_atras: int = 2) -> str:
    """Publish a lote.sent as batching would; once the protocol service gave it its PEG,
    publish its status 5 with the operator's analysis per item (emitted `dias_atras` days
    ago), as protocol would; returns the PEG."""
    lote_id = uuid.uuid4().hex
    g1, g2 = str(random.randrange(10**8)), str(random.randrange(10**8))
    lote = LoteSent.model_validate(
        {
            "lote_id": lote_id,
            "provider_id": CNPJ,
            "registro_ans": "331988",
            "numero_lote": "7001",
            "canal": "upload_xml",
            "file_id": None,
            "tipo_guia": "odontologia",
            "quantidade_guias": 2,
            "valor_total": "450.00",
            "sent_by": "odontoarte",
            "sent_at": datetime.now(UTC),
            "guias": [
                {
                    "numero_guia_prestador": g1,
                    "numero_carteira": "1001",
                    "nome_beneficiario": "MARIA DA SILVA",
                    "data_atendimento": "2026-11-03",
                    "valor_informado": "300.00",
                    "itens": [
                        {
                            "sequencial_item": 1,
                            "data_execucao": "2026-11-03",
                            "codigo_tabela": "22",
                            "codigo_procedimento": "81000065",
                            "descricao": "CONSULTA ODONTOLOGICA INICIAL",
                            "valor_total": "100.00",
                        },
                        {
                            "sequencial_item": 2,
                            "data_execucao": "2026-11-04",
                            "codigo_tabela": "22",
                            "codigo_procedimento": "84000198",
                            "descricao": "APLICACAO TOPICA DE FLUOR",
                            "valor_total": "200.00",
                        },
                    ],
                },
                {"numero_guia_prestador": g2, "data_atendimento": "2026-11-05"},
            ],
        }
    )
    analysed = {
        "lote_id": lote_id,
        "provider_id": CNPJ,
        "registro_ans": "331988",
        "numero_lote": "7001",
        "status": 5,
        "status_anterior": 2,
        "valor_informado": "450.00",
        "valor_liberado": "330.00",
        "valor_glosado": "120.00",
        "data_protocolo": "2026-11-10",
        "changed_at": datetime.now(UTC) - timedelta(days=dias_atras),
        "guias": [
            {
                "numero_guia_prestador": g1,
                "valor_processado": "300.00",
                "valor_liberado": "220.00",
                "valor_glosado": "80.00",
                "itens": [
                    {
                        "sequencial_item": 1,
                        "valor_processado": "100.00",
                        "valor_liberado": "70.00",
                        "valor_glosado": "30.00",
                        "glosas": [{"codigo": "1705", "valor": "30.00"}],
                    },
                    {
                        "sequencial_item": 2,
                        "valor_processado": "200.00",
                        "valor_liberado": "150.00",
                        "valor_glosado": "50.00",
                        "glosas": [{"codigo": "1801", "valor": "50.00"}],
                    },
                ],
            },
            {
                "numero_guia_prestador": g2,
                "valor_processado": "150.00",
                "valor_liberado": "110.00",
                "valor_glosado": "40.00",
                "glosas": [{"codigo": "1705", "valor": "40.00"}],
            },
        ],
    }
    sent = new_envelope(lote, correlation_id="t-recurso", producer="batching", key=lote_id)
    for _ in range(2):  # a redelivery changes nothing (idempotent projection)
        publish(stack.kafka, Topic.LOTE_SENT, lote_id, sent.model_dump_json().encode())
    peg = wait_for(
        lambda: (clinica.get("/protocolos", params={"lote_id": lote_id}).json()["items"] or [{}])[
            0
        ].get("peg"),
        timeout=90,
        what=f"o PEG do lote {lote_id}",
    )
    status = ProtocoloStatusChanged.model_validate({**analysed, "peg": peg})
    changed = new_envelope(status, correlation_id="t-recurso", producer="protocol", key=peg)
    for _ in range(2):
        publish(
            stack.kafka, Topic.PROTOCOLO_STATUS_CHANGED, peg, changed.model_dump_json().encode()
        )
    return peg


def glosas_of(api: Api, peg: str) -> dict[str, Any]:
    return wait_for(
        lambda: (api.get("/recursos/glosas", params={"peg": peg}).json().get("items") or [None])[0],
        timeout=90,
        what=f"as glosas do protocolo {peg}",
    )


def assert_tiss_ok(xml: bytes, tipo: str) -> etree._Element:
    assert erros_de_schema(xml) == []
    root = etree.fromstring(xml)
    assert root.findtext(f".//{{{NS}}}tipoTransacao") == tipo
    assert root.findtext(f".//{{{NS}}}hash") == epilogo_hash(root)
    return root


def test_recurso_loop_glosa_to_recovered_value(
    stack: Stack, clinica: Api, outra_clinica: Api, operadora: Api
) -> None:
    peg = glossed_protocol(stack, clinica)
    conta = glosas_of(clinica, peg)
    linhas = {x["linha_id"].split(":")[1]: x for x in conta["linhas"]}
    assert sorted(linhas) == ["1", "2", "G1705"]  # each line once despite the redelivery
    assert linhas["1"]["descricao_glosa"] == "VALOR APRESENTADO A MAIOR"
    assert linhas["2"]["descricao"] == "APLICACAO TOPICA DE FLUOR"
    assert conta["dias_restantes"] == 28 and conta["no_prazo"]

    # An appeal over two guides: two recursos (one guide each) in one group.
    ids = [x["linha_id"] for x in conta["linhas"]]
    opened = clinica.post("/recursos", json={"peg": peg, "linhas": ids})
    assert opened.status_code == 201, opened.text
    recursos = opened.json()["items"]
    assert len(recursos) == 2 and len({r["grupo_id"] for r in recursos}) == 1
    itens = next(r for r in recursos if len(r["linhas"]) == 2)
    guia = next(r for r in recursos if len(r["linhas"]) == 1)
    rid = itens["recurso_id"]
    # The same items cannot be appealed twice.
    again = clinica.post("/recursos", json={"peg": peg, "linhas": [ids[0]]})
    assert again.status_code == 409 and again.json()["code"] == "item_ja_em_recurso"

    l1, l2 = (x["linha_id"] for x in itens["linhas"])
    draft = [
        {"linha_id": l1, "valor_recursado": "30,00", "justificativa": "Valor da tabela."},
        {"linha_id": l2, "valor_recursado": "50.01", "justificativa": "TUSS vigente."},
    ]
    assert clinica.put(f"/recursos/{rid}", json={"linhas": draft}).status_code == 200
    refused = clinica.post(f"/recursos/{rid}/enviar")
    assert refused.status_code == 422
    assert refused.json()["code"] == "valor_recursado_maior_que_glosado"
    draft[1]["valor_recursado"] = "40,00"
    assert clinica.put(f"/recursos/{rid}", json={"linhas": draft}).status_code == 200
    pdf = b"%PDF-1.4\n% prontuario\n"
    anexo = clinica.post(
        f"/recursos/{rid}/anexos", files={"arquivo": ("prontuario.pdf", pdf, "application/pdf")}
    )
    assert anexo.status_code == 201, anexo.text
    bad = clinica.post(
        f"/recursos/{rid}/anexos", files={"arquivo": ("x.pdf", b"not a pdf", "application/pdf")}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "anexo_tipo_invalido"

    sent = clinica.post(f"/recursos/{rid}/enviar")
    assert sent.status_code == 200, sent.text
    assert sent.json()["situacao"] == "enviado"
    assert clinica.post(f"/recursos/{rid}/enviar").json()["situacao"] != "rascunho"
    root = assert_tiss_ok(clinica.get(f"/recursos/{rid}/xml/recurso").content, "RECURSO_GLOSA")
    assert root.findtext(f".//{{{NS}}}valorTotalRecursado") == "70.00"
    # Sent exactly once.
    record = read_topic(
        stack.kafka, Topic.RECURSO_SENT, lambda r: r.key == rid.encode(), timeout=60
    )
    assert record is not None

    # The operator's receipt gives it a protocol number; the clinic sees it em análise.
    recebido = wait_for(
        lambda: (d := clinica.get(f"/recursos/{rid}").json())["situacao"] == "em_analise" and d,
        timeout=90,
        what="o recibo da operadora",
    )
    assert recebido["numero_protocolo_recurso"]
    status = clinica.post(f"/recursos/{rid}/atualizar-situacao")
    assert status.status_code == 200 and "em análise" in status.json()["consulta"]

    fila = operadora.get("/operadora/recursos", params={"situacao": "em_analise"}).json()
    assert rid in [r["recurso_id"] for r in fila["items"]]
    prazos = [r["prazo_resposta"] for r in fila["items"]]
    assert prazos == sorted(prazos)  # oldest deadline first
    mine = next(r for r in fila["items"] if r["recurso_id"] == rid)
    assert mine["resposta_atrasada"] is False and mine["numero_protocolo_recurso"]
    over = operadora.post(
        f"/operadora/recursos/{rid}/resposta",
        json={
            "itens": [
                {"linha_id": l1, "acatado": True, "valor_acatado": "30.01"},
                {"linha_id": l2, "acatado": False},
            ]
        },
    )
    assert over.status_code == 422 and over.json()["code"] == "valor_acatado_invalido"
    answer = {
        "itens": [
            {"linha_id": l1, "acatado": True, "valor_acatado": "30.00"},
            {
                "linha_id": l2,
                "acatado": True,
                "valor_acatado": "15.00",
                "justificativa": "Em parte.",
            },
        ]
    }
    assert operadora.post(f"/operadora/recursos/{rid}/resposta", json=answer).status_code == 200
    assert operadora.post(f"/operadora/recursos/{rid}/resposta", json=answer).status_code == 409

    respondido = wait_for(
        lambda: (d := clinica.get(f"/recursos/{rid}").json())["situacao"] == "respondido" and d,
        timeout=90,
        what="a resposta chegar à clínica",
    )
    assert Decimal(respondido["valor_recuperado"]) == Decimal("45.00")
    resposta = clinica.get(f"/recursos/{rid}/xml/resposta").content
    root = assert_tiss_ok(resposta, "RESPOSTA_RECURSO_GLOSA")
    assert root.findtext(f".//{{{NS}}}valorTotalAcatado") == "45.00"
    answered = read_topic(
        stack.kafka, Topic.RECURSO_ANSWERED, lambda r: r.key == rid.encode(), timeout=60
    )
    assert answered is not None

    numeros = clinica.get("/recursos/numeros", params={"peg": peg}).json()["geral"]
    assert numeros["glosa_inicial"] == "120.00" and numeros["glosa_inicial_pct"] == "26.67"
    assert numeros["valor_recursado"] == "70.00"
    assert numeros["valor_recuperado"] == "45.00"
    assert numeros["glosa_final"] == "75.00"
    assert numeros["recursos_fora_do_prazo"] == 0
    # An answered item is not appealed again (the operator's rule by default).
    again = clinica.post("/recursos", json={"peg": peg, "linhas": [l1]})
    assert again.status_code == 409 and again.json()["code"] == "item_ja_recorrido"

    # Isolation: another provider gets 404 on every route of this recurso.
    gid = guia["recurso_id"]
    routes = [
        ("GET", f"/recursos/{rid}", None),
        ("PUT", f"/recursos/{gid}", {"linhas": []}),
        ("POST", f"/recursos/{gid}/enviar", None),
        ("POST", f"/recursos/{rid}/atualizar-situacao", None),
        ("GET", f"/recursos/{rid}/xml/recurso", None),
        ("GET", f"/recursos/{rid}/xml/resposta", None),
        ("GET", f"/recursos/{rid}/anexos/{anexo.json()['anexo_id']}", None),
        ("GET", "/recursos/glosas?peg=" + peg, None),
        ("GET", "/recursos/numeros?peg=" + peg, None),
    ]
    for method, path, body in routes:
        response = outra_clinica.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert outra_clinica.post("/recursos", json={"peg": peg}).status_code == 404
    assert rid not in [r["recurso_id"] for r in outra_clinica.get("/recursos").json()["items"]]
    anexo_files = {"arquivo": ("a.pdf", pdf, "application/pdf")}
    assert outra_clinica.post(f"/recursos/{gid}/anexos", files=anexo_files).status_code == 404
    # The operator's routes are not the clinic's.
    assert clinica.get("/operadora/recursos").status_code == 403


def test_past_the_deadline_nothing_is_appealed(stack: Stack, clinica: Api) -> None:
    peg = glossed_protocol(stack, clinica, dias_atras=31)
    conta = glosas_of(clinica, peg)
    assert not conta["no_prazo"]
    refused = clinica.post("/recursos", json={"peg": peg})
    assert refused.status_code == 422 and refused.json()["code"] == "prazo_esgotado"


def test_demo_operator_answers_full_partial_and_refused(stack: Stack, clinica: Api) -> None:
    peg = glossed_protocol(stack, clinica)
    conta = glosas_of(clinica, peg)
    linhas = [x["linha_id"] for x in conta["linhas"] if not x["linha_id"].endswith("G1705")]
    recurso = clinica.post("/recursos", json={"peg": peg, "linhas": linhas}).json()["items"][0]
    rid = recurso["recurso_id"]
    draft = [
        {"linha_id": x, "valor_recursado": v, "justificativa": "Conforme contrato."}
        for x, v in zip(linhas, ("30.00", "50.00"), strict=True)
    ]
    assert clinica.put(f"/recursos/{rid}", json={"linhas": draft}).status_code == 200
    assert clinica.post(f"/recursos/{rid}/enviar").status_code == 200
    demo = subprocess.Popen(
        [sys.executable, "-m", "tissflow_recursos.demo_operadora"],
        env={**stack.services.env, "TISSFLOW_DEMO_RECURSO_SECONDS": "0.5"},
    )
    try:
        respondido = wait_for(
            lambda: (d := clinica.get(f"/recursos/{rid}").json())["situacao"] == "respondido" and d,
            timeout=90,
            what="a operadora de demonstração responder",
        )
    finally:
        demo.terminate()
        demo.wait(10)
    first, second = respondido["linhas"]
    assert first["acatado"] and first["valor_acatado"] == "30.00"
    assert second["acatado"] and second["valor_acatado"] == "25.00"
    assert Decimal(respondido["valor_recuperado"]) == Decimal("55.00")


@pytest.mark.timeout(600)  # upload to payment statement, on a machine shared by many
def test_whole_loop_from_the_glosa_to_the_next_payment_statement(
    stack: Stack, clinica: Api, operadora: Api
) -> None:
    """A lote uploaded and sent through the pipeline, glossed by the operator; two clerks
    appeal the same glosa at once (one wins); the demo operator answers; the recovered value
    shows on the recurso, the lote, the protocol and the numbers, and is credited on the
    next Demonstrativo de Pagamento."""
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=2, numero_lote="900417", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="lote-900417.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    guias = clinica.get(f"/files/{file_id}/criticas").json()["result"]["guias"]
    lote_id = clinica.lote_do_arquivo(file_id)["lote_id"]
    peg = clinica.enviar_e_aguardar_peg(lote_id)
    glosada, inteira = (g["numero_guia_prestador"] for g in guias)
    valores = {g["numero_guia_prestador"]: Decimal(g["valor_total"]) for g in guias}
    glosa = Decimal("2.00")
    analise = [
        {
            "numero_guia_prestador": glosada,
            "valor_processado": str(valores[glosada]),
            "valor_liberado": str(valores[glosada] - glosa),
            "valor_glosado": str(glosa),
            "glosas": [{"codigo": "1705", "valor": str(glosa)}],
        },
        {
            "numero_guia_prestador": inteira,
            "valor_processado": str(valores[inteira]),
            "valor_liberado": str(valores[inteira]),
        },
    ]
    url = f"/operadora/protocolos/{peg}/status"
    assert operadora.post(url, json={"status": 2}).status_code == 200
    analysed = operadora.post(url, json={"status": 5, "guias": analise})
    assert analysed.status_code == 200, analysed.text

    conta = glosas_of(clinica, peg)
    [linha] = conta["linhas"]
    assert (linha["linha_id"], linha["valor_glosado"]) == (f"{glosada}:G1705", "2.00")
    assert conta["no_prazo"] and conta["dias_restantes"] == 30

    # Two clerks press Recorrer on the same glosa at the same moment: exactly one wins.
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda _: clinica.post(
                    "/recursos", json={"peg": peg, "linhas": [linha["linha_id"]]}
                ),
                range(4),
            )
        )
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409], [r.text for r in answers]
    for refused in (r for r in answers if r.status_code == 409):
        assert refused.json()["code"].startswith("item_ja")
        assert "recurso" in refused.json()["message"]
    [won] = (r.json()["items"][0] for r in answers if r.status_code == 201)
    rid = won["recurso_id"]
    assert len(clinica.get("/recursos", params={"peg": peg}).json()["items"]) == 1

    draft = [{"linha_id": linha["linha_id"], "valor_recursado": "2,00", "justificativa": "Tabela."}]
    assert clinica.put(f"/recursos/{rid}", json={"linhas": draft}).status_code == 200
    assert clinica.post(f"/recursos/{rid}/enviar").status_code == 200

    demo = subprocess.Popen(
        [sys.executable, "-m", "tissflow_recursos.demo_operadora"],
        env={**stack.services.env, "TISSFLOW_DEMO_RECURSO_SECONDS": "0.5"},
    )
    try:
        # The list does not open the answer: it is new until the clerk opens the recurso.
        listed = wait_for(
            lambda: (
                (d := clinica.get("/recursos", params={"peg": peg}).json()["items"][0])["situacao"]
                == "respondido"
                and d
            ),
            timeout=90,
            what="a operadora de demonstração responder",
        )
    finally:
        demo.terminate()
        demo.wait(10)
    assert listed["resposta_nova"] is True
    assert clinica.get("/recursos/respostas-novas").json()["respostas_novas"] >= 1
    opened = clinica.get(f"/recursos/{rid}").json()
    assert opened["valor_recuperado"] == "2.00" and opened["linhas"][0]["acatado"] is True
    assert (
        clinica.get("/recursos", params={"peg": peg}).json()["items"][0]["resposta_nova"] is False
    )
    assert_tiss_ok(clinica.get(f"/recursos/{rid}/xml/resposta").content, "RESPOSTA_RECURSO_GLOSA")

    # The money: the lote and the protocol show the value recovered apart, and glosa final.
    lote = wait_for(
        lambda: (
            (d := clinica.get(f"/lotes/{lote_id}").json()).get("valor_recuperado") == "2.00" and d
        ),
        timeout=60,
        what="o valor recuperado chegar ao lote",
    )
    assert (lote["valor_glosado"], lote["valor_glosado_final"]) == ("2.00", "0.00")
    assert Decimal(lote["valor_liberado_final"]) == Decimal(lote["valor_liberado"]) + glosa
    guia = next(g for g in lote["guias"] if g["numero_guia_prestador"] == glosada)
    assert guia["valor_recuperado"] == "2.00"
    protocolo = wait_for(
        lambda: (
            (d := clinica.get(f"/protocolos/{peg}").json()).get("valor_recuperado") == "2.00" and d
        ),
        timeout=60,
        what="o valor recuperado chegar ao protocolo",
    )
    assert protocolo["valor_glosado_final"] == "0.00"
    # The portal: Detalhes do Lote, Pesquisa de Lotes and the protocol's page say it too.
    with portal_login(stack.services.url("gateway"), "odontoarte", "odontoarte123") as (web, _):
        detalhes = web.get(f"/lotes/{lote_id}").text
        assert re.search(r'id="vlr-recuperado">R\$\s*2,00', detalhes), detalhes
        assert re.search(r'id="vlr-glosa-final">R\$\s*0,00', detalhes)
        assert "recuperado R$ 2,00 (recurso)" in web.get("/lotes").text
        pagina = web.get(f"/protocolos/{peg}").text
        assert re.search(r'id="valor-recuperado">R\$\s*2,00', pagina), pagina
        guia_row = pagina.split(f'id="guia-{guia["numero_guia_prestador"]}"')[1].split("</tr>")[0]
        assert "recuperado R$ 2,00 (recurso)" in guia_row
    numeros = clinica.get("/recursos/numeros", params={"peg": peg}).json()["protocolos"][0]
    assert (numeros["glosa_inicial"], numeros["valor_recuperado"]) == ("2.00", "2.00")
    assert (numeros["glosa_final"], numeros["glosa_final_pct"]) == ("0.00", "0.00")
    assert numeros["recursos_fora_do_prazo"] == 0

    # The next payment: the Demonstrativo de Pagamento of that date credits the recurso.
    hoje = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    pagamento = (hoje + timedelta(days=7)).isoformat()
    faturado = operadora.post(url, json={"status": 3, "data_pagamento": pagamento})
    assert faturado.status_code == 200, faturado.text

    def credito() -> bytes | None:
        response = clinica.get(
            "/demonstrativos/pagamento/xml", params={"operadora": "331988", "data": pagamento}
        )
        if response.status_code != 200:
            return None
        valores_dc = etree.fromstring(response.content).iterfind(f".//{{{NS}}}valorDbCr")
        return response.content if "2.00" in [v.text for v in valores_dc] else None

    xml = wait_for(credito, timeout=90, what="o crédito do recurso no demonstrativo de pagamento")
    assert erros_de_schema(xml) == []
    root = etree.fromstring(xml)
    assert root.findtext(f".//{{{NS}}}hash") == epilogo_hash(root)
    creditos = [
        dc
        for dc in root.iterfind(f".//{{{NS}}}debitosCreditos")
        if dc.findtext(f"{{{NS}}}indicador") == "2" and dc.findtext(f"{{{NS}}}valorDbCr") == "2.00"
    ]
    assert creditos, "o recurso acatado não foi creditado"
