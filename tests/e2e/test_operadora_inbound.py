"""The operator's core reports through its inbound topic: the demo operator drives a lote
from Enviado to Pagamento efetuado on the real Kafka (glosing an item with a real code and
reason, answering the clinic's message), and the provider gets both demonstrativos."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from tissflow_contracts import AnaliseGuia, GlosaAnalise, OperadoraReport, Topic, new_envelope
from tissflow_validation.samples import build_lote

from tests.support import Api, Stack, fresh_guia, peg_of, publish, send_lote, wait_for

pytestmark = pytest.mark.e2e


def test_demo_operator_takes_a_lote_to_pagamento_efetuado_and_answers(
    stack: Stack, clinica: Api
) -> None:
    lote_id = send_lote(stack)  # a lote.sent with its guides and items, on the real Kafka
    peg = peg_of(clinica, lote_id)
    pergunta = clinica.post(
        f"/protocolos/{peg}/mensagens", data={"texto": "Previsão de pagamento?"}
    )
    assert pergunta.status_code == 200
    demo = subprocess.Popen(
        [sys.executable, "-m", "tissflow_protocol.demo_operadora"],
        env={**stack.services.env, "TISSFLOW_DEMO_STAGE_SECONDS": "0.5"},
    )
    try:
        protocolo = wait_for(
            lambda: (p := clinica.get(f"/protocolos/{peg}").json())["status"] == 6 and p,
            timeout=90,
            what="o protocolo chegar a Pagamento efetuado pela operadora de demonstração",
        )
        resposta = wait_for(
            lambda: [
                m
                for m in clinica.get(f"/protocolos/{peg}/mensagens").json()["mensagens"]
                if m["papel"] == "operadora"
            ],
            what="a resposta automática da operadora",
        )
    finally:
        demo.terminate()
        demo.wait(10)
    assert [h["status"] for h in protocolo["historico"]] == [1, 2, 5, 3, 6]
    assert protocolo["etapa"] == "Faturado" and protocolo["data_pagamento"]
    # At 5 the demo glosed one item of the first guide under a real table-38 code, with a reason.
    item = protocolo["guias"][0]["itens"][0]
    glosa = item["glosas"][0]
    assert glosa["codigo"] == "1705" and glosa["descricao"] == "VALOR APRESENTADO A MAIOR"
    assert glosa["observacao"]
    assert protocolo["valor_glosado"] == item["valor_glosado"] == "6.00"
    assert Decimal(protocolo["valor_liberado"]) + Decimal(protocolo["valor_glosado"]) == Decimal(
        protocolo["valor_informado"]
    )
    assert "resposta automática" in resposta[0]["texto"]
    kinds = wait_for(
        lambda: (
            {d["tipo"] for d in items}
            if len(items := clinica.get("/demonstrativos", params={"peg": peg}).json()["items"])
            >= 2
            else None
        ),
        what="os dois demonstrativos",
    )
    assert kinds == {"analise", "pagamento"}


def test_an_analysis_with_an_unknown_glosa_code_is_parked(stack: Stack, clinica: Api) -> None:
    primeira = fresh_guia()
    content = build_lote(
        tipo_guia="odontologia", n_guias=1, numero_lote="900102", numero_guia_inicial=primeira
    )
    file_id = clinica.upload(content, filename="odonto-glosa.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    lote = clinica.lote_do_arquivo(file_id)
    peg = clinica.enviar_e_aguardar_peg(lote["lote_id"])
    numero = lote["numeros_guias"][0] if lote.get("numeros_guias") else str(primeira)
    guia = AnaliseGuia(
        numero_guia_prestador=numero,
        valor_processado=Decimal("10.00"),
        valor_liberado=Decimal("9.00"),
        valor_glosado=Decimal("1.00"),
        glosas=[GlosaAnalise(codigo="9999", valor=Decimal("1.00"))],
    )
    report = OperadoraReport(peg=peg, status=2, guias=[guia])
    env = new_envelope(report, correlation_id=peg, producer="teste", key=peg)
    publish(stack.kafka, Topic.OPERADORA_INBOUND, peg, env.model_dump_json().encode())
    ops = Api.login(stack.services.url("gateway"), "ops", "ops123")
    parada = wait_for(
        lambda: next(
            (m for m in ops.get("/ops/mensagens-paradas").json()["items"] if m["key"] == peg),
            None,
        ),
        what="a análise inválida ficar parada",
    )
    assert parada["service"] == "protocol"
    assert "9999" in parada["error"] and "tabela 38" in parada["error"]
    protocolo = clinica.get(f"/protocolos/{peg}").json()
    assert protocolo["status"] == 1 and not protocolo.get("guias")
