"""What the ops page charts and the Painel de Glosa, through the API on the real stack:
ops sees files per status, verdict times, consumer lag and outbox backlog; the operator
sees every provider's glosa figures, a clinic only its own, each exportable as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tissflow_contracts import RecursoAnswered, Topic, new_envelope
from tissflow_demo.samples import build_lote

from tests.support import Api, Stack, fresh_guia, publish, wait_for

pytestmark = pytest.mark.e2e
CNPJ = "07906129000102"  # ODONTO ARTE LTDA, the `clinica` fixture


@pytest.fixture(scope="module")
def ops(stack: Stack) -> Api:
    return Api.login(stack.services.url("gateway"), "ops", "ops123")


def test_ops_panel_counts_files_verdict_times_lag_and_outbox(
    stack: Stack, ops: Api, clinica: Api
) -> None:
    antes = ops.get("/ops/painel").json()["arquivos"]["total"]
    bom = build_lote(n_guias=1, numero_lote="930001", numero_guia_inicial=fresh_guia())
    ruim = build_lote(
        n_guias=1,
        numero_lote="930002",
        numero_guia_inicial=fresh_guia(),
        carteiras=["00000000000001"],
    )
    ids = [
        clinica.upload(c, filename=f"lote-{n}.xml").json()["file_id"]
        for n, c in (("930001", bom), ("930002", ruim))
    ]
    assert [clinica.wait_file(i)["status"] for i in ids] == ["importado", "invalido"]

    painel = ops.get("/ops/painel").json()
    total = painel["arquivos"]["total"]
    assert total["importado"] >= antes["importado"] + 1
    assert total["invalido"] >= antes["invalido"] + 1
    assert painel["arquivos"]["latencia_mediana"] > 0
    assert sum(p["importado"] for p in painel["arquivos"]["serie"]) == total["importado"]
    # Every consumer committed its position: validation's group reads file.uploaded.
    grupos = {g["service"]: g for g in painel["atraso_consumidores"]["grupos"]}
    assert painel["atraso_consumidores"]["erro"] is None
    assert Topic.FILE_UPLOADED in {t["topico"] for t in grupos["validation"]["topicos"]}
    assert {"ingest", "validation", "batching"} <= set(grupos)
    servicos = {s["service"]: s for s in painel["servicos"]}
    assert len(servicos) == 7
    assert [c["collection"] for c in servicos["ingest"]["outbox"]] == ["files"]
    assert set(servicos["protocol"]["mensagens_paradas"]) == {"pendente", "reprocessado"}

    assert clinica.get("/ops/painel").status_code == 403


def _csv(response) -> list[list[str]]:  # noqa: ANN001 - httpx.Response
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def analysed_and_paid(clinica: Api, operadora: Api) -> tuple[str, str, str]:
    """A lote of two guides sent; the operator glosses 1.25 of the first (1705, 1801)
    and pays; returns the PEG and the two guide numbers."""
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=2, numero_lote="930101", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="lote-930101.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    guias = clinica.get(f"/files/{file_id}/criticas").json()["result"]["guias"]
    peg = clinica.enviar_e_aguardar_peg(clinica.lote_do_arquivo(file_id)["lote_id"])
    glosada, inteira = (g["numero_guia_prestador"] for g in guias)
    valores = {g["numero_guia_prestador"]: Decimal(g["valor_total"]) for g in guias}
    analise = [
        {
            "numero_guia_prestador": glosada,
            "valor_processado": str(valores[glosada]),
            "valor_liberado": str(valores[glosada] - Decimal("1.25")),
            "valor_glosado": "1.25",
            "glosas": [{"codigo": "1705", "valor": "0.50"}, {"codigo": "1801", "valor": "0.75"}],
        },
        {
            "numero_guia_prestador": inteira,
            "valor_processado": str(valores[inteira]),
            "valor_liberado": str(valores[inteira]),
        },
    ]
    url = f"/operadora/protocolos/{peg}/status"
    for body in (
        {"status": 2},
        {"status": 5, "guias": analise},
        {"status": 3, "data_pagamento": "2026-12-31"},
    ):
        response = operadora.post(url, json=body)
        assert response.status_code == 200, response.text
    return peg, glosada, inteira


def test_glosa_panel_initial_and_final_for_operator_and_own_clinic_only(
    stack: Stack, clinica: Api, outra_clinica: Api, operadora: Api, ops: Api
) -> None:
    peg, glosada, inteira = analysed_and_paid(clinica, operadora)
    hoje = clinica.get(f"/protocolos/{peg}").json()
    lote_id = hoje["lote_id"]

    def guias_csv(api: Api) -> list[list[str]]:
        return _csv(api.get("/analises/glosas.csv", params={"visao": "guias"}))

    def paid_rows() -> list[list[str]] | None:
        rows = guias_csv(clinica)
        col = rows[0].index
        minhas = [r for r in rows[1:] if r[col("Protocolo")] == peg]
        pagas = [r for r in minhas if r[col("Data do pagamento")] == "31/12/2026"]
        return [rows[0], *minhas] if len(pagas) == 2 else None

    header, *minhas = wait_for(paid_rows, what="o protocolo pago no painel de glosa")
    col = header.index
    por_guia = {r[col("Guia")]: r for r in minhas}
    assert por_guia[glosada][col("Glosa inicial (R$)")] == "1,25"
    assert por_guia[glosada][col("Códigos de glosa")] == "1705 1801"
    assert por_guia[inteira][col("Glosa inicial (R$)")] == "0,00"
    assert {r[0] for r in guias_csv(clinica)[1:]} == {CNPJ}  # the clinic's own guides only

    body = clinica.get("/analises/glosas").json()
    assert {"1705", "1801"} <= {g["codigo"] for g in body["top_glosas"]}
    assert [g["chave"] for g in body["por_prestador"]] == [CNPJ]
    assert "SP/SADT" in {g["nome"] for g in body["por_tipo_guia"]}
    assert body["resumo"]["prazo_medio_pagamento_dias"] is not None
    antes = body["resumo"]

    # The operator accepts 0.50 of the recurso on the glossed guide: glosa final drops.
    resposta = RecursoAnswered(
        recurso_id=uuid.uuid4().hex,
        provider_id=CNPJ,
        peg=peg,
        lote_id=lote_id,
        numero_guia_prestador=glosada,
        numero_protocolo_recurso="R" + peg,
        itens=[
            {
                "linha_id": "1",
                "sequencial_item": 1,
                "codigo_glosa": "1705",
                "valor_recursado": "0.50",
                "acatado": True,
                "valor_acatado": "0.50",
            }
        ],
        valor_total_recursado="0.50",
        valor_total_acatado="0.50",
        answered_by="operadora",
        answered_at=datetime.now(UTC),
    )
    env = new_envelope(resposta, correlation_id=peg, producer="recursos", key=resposta.recurso_id)
    publish(
        stack.kafka, Topic.RECURSO_ANSWERED, resposta.recurso_id, env.model_dump_json().encode()
    )

    def depois() -> dict | None:
        r = clinica.get("/analises/glosas").json()["resumo"]
        return r if r["valor_recuperado"] != antes["valor_recuperado"] else None

    resumo = wait_for(depois, what="o valor acatado chegar ao painel")
    assert Decimal(resumo["valor_recuperado"]) - Decimal(antes["valor_recuperado"]) == Decimal(
        "0.50"
    )
    assert Decimal(antes["glosa_final"]) - Decimal(resumo["glosa_final"]) == Decimal("0.50")
    assert resumo["glosa_inicial"] == antes["glosa_inicial"]
    rows = guias_csv(clinica)
    linha = next(r for r in rows if r[col("Guia")] == glosada)
    assert linha[col("Recuperado em recurso (R$)")] == "0,50"

    # The operator sees this clinic among all providers, and can narrow to it.
    todos = operadora.get("/analises/glosas").json()
    assert CNPJ in {g["chave"] for g in todos["por_prestador"]}
    so_ela = operadora.get("/analises/glosas", params={"prestador": CNPJ}).json()
    assert so_ela["resumo"] == resumo
    por_prestador = _csv(operadora.get("/analises/glosas.csv", params={"visao": "prestador"}))
    assert por_prestador[0][:2] == ["Prestador", "CNPJ/CPF"]
    dela = next(r for r in por_prestador if r[1] == CNPJ)
    final = dela[por_prestador[0].index("Glosa final (R$)")]
    assert Decimal(final.replace(",", ".")) == Decimal(resumo["glosa_final"])

    # Another clinic sees none of it, and may not ask for it; ops has no panel.
    alheio = outra_clinica.get("/analises/glosas").json()
    assert CNPJ not in {g["chave"] for g in alheio["por_prestador"]}
    negado = outra_clinica.get("/analises/glosas", params={"prestador": CNPJ})
    assert negado.status_code == 403 and negado.json()["code"] == "acesso_negado"
    assert outra_clinica.get("/analises/glosas.csv", params={"prestador": CNPJ}).status_code == 403
    assert ops.get("/analises/glosas").status_code == 403
