"""The operator's core reports through its inbound topic: the demo operator drives a lote
from Enviado to Faturado, and the provider gets both demonstrativos."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from tissflow_contracts import AnaliseGuia, GlosaAnalise, OperadoraReport, Topic, new_envelope
from tissflow_demo.samples import build_lote

from tests.support import Api, Stack, fresh_guia, publish, wait_for

pytestmark = pytest.mark.e2e


def test_demo_operator_analyses_and_pays_a_sent_lote(stack: Stack, clinica: Api) -> None:
    content = build_lote(
        tipo_guia="odontologia", n_guias=2, numero_lote="900101", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="odonto.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    lote = clinica.lote_do_arquivo(file_id)
    assert clinica.post(f"/lotes/{lote['lote_id']}/fechar").status_code == 200
    assert clinica.post(f"/lotes/{lote['lote_id']}/enviar").status_code == 200
    demo = subprocess.Popen(
        [sys.executable, "-m", "tissflow_protocol.demo_operadora"],
        env={**stack.services.env, "TISSFLOW_DEMO_STAGE_SECONDS": "0.5"},
    )
    try:
        protocolo = wait_for(
            lambda: next(
                (
                    p
                    for p in clinica.get("/protocolos", params={"lote_id": lote["lote_id"]}).json()[
                        "items"
                    ]
                    if p["status"] == 3
                ),
                None,
            ),
            timeout=60,
            what="o protocolo chegar a Faturado pela operadora",
        )
    finally:
        demo.terminate()
        demo.wait(10)
    assert protocolo["etapa"] == "Faturado"
    assert [h["status"] for h in protocolo["historico"]] == [1, 2, 5, 3]
    # At 5 the demo reported its analysis per guide: a 1705 glosa on the first guide.
    primeira = protocolo["guias"][0]
    assert [g["codigo"] for g in primeira["glosas"]] == ["1705"]
    assert protocolo["valor_glosado"] == primeira["valor_glosado"] != "0.00"
    kinds = wait_for(
        lambda: (
            {
                d["tipo"]
                for d in clinica.get("/demonstrativos", params={"peg": protocolo["peg"]}).json()[
                    "items"
                ]
            }
            if len(clinica.get("/demonstrativos", params={"peg": protocolo["peg"]}).json()["items"])
            == 2
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
