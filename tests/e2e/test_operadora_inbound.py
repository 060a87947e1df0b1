"""The operator's core reports through its inbound topic: the demo operator drives a lote
from Enviado to Faturado, and the provider gets both demonstrativos."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tissflow_validation.samples import build_lote

from tests.support import Api, Stack, fresh_guia, wait_for

pytestmark = pytest.mark.e2e


def test_demo_operator_analyses_and_pays_a_sent_lote(stack: Stack, clinica: Api) -> None:
    content = build_lote(
        tipo_guia="odontologia", n_guias=2, numero_lote="900101", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="odonto.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    lote = wait_for(
        lambda: (clinica.get("/lotes", params={"file_id": file_id}).json()["items"] or [None])[0],
        what="o lote",
    )
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
