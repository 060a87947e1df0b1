"""Online correction on the real services: fix a value, ignore a critique, recalculate totals
and switch a rule off; each time the corrected revision goes through the whole pipeline
(ingest → file.uploaded → validation → file.validated → ingest status and batching's lote)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from tissflow_validation.samples import CNPJ_PADRAO, build_lote, substituir

from tests.support import Api, Stack, fresh_guia, wait_for

pytestmark = pytest.mark.integration

CNPJ_RUIM = "07906129000199"  # the default provider's CNPJ with wrong check digits
XPATH_CNPJ = "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"


@pytest.fixture(scope="module")
def validacao(stack: Stack) -> Iterator[httpx.Client]:
    """Validation's internal API, as the gateway calls it."""
    with httpx.Client(
        base_url=f"{stack.services.url('validation')}/internal",
        headers={"X-Internal-Token": "tissflow-local-internal-token"},
        timeout=60.0,
    ) as client:
        yield client


def _enviar(clinica: Api, content: bytes, nome: str) -> dict[str, Any]:
    response = clinica.upload(content, filename=nome)
    assert response.status_code == 202, response.text
    return clinica.wait_file(response.json()["file_id"])


def _resultado(validacao: httpx.Client, file_id: str) -> dict[str, Any]:
    response = validacao.get(f"/results/{file_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_fix_the_cnpj_and_reprocess_makes_the_file_importado(
    clinica: Api, validacao: httpx.Client
) -> None:
    numero_lote = str(fresh_guia())
    content = build_lote(
        tipo_guia="sp_sadt",
        cnpj=CNPJ_RUIM,
        numero_lote=numero_lote,
        numero_guia_inicial=fresh_guia(),
    )
    arquivo = _enviar(clinica, content, f"lote-{numero_lote}.xml")
    file_id = arquivo["file_id"]
    assert arquivo["status"] == "invalido"

    resultado = _resultado(validacao, file_id)
    criticas = resultado["result"]["critiques"]
    assert {c["codigo"] for c in criticas} == {"1206"}, criticas
    cabecalho = [c for c in criticas if c["xpath"] == XPATH_CNPJ]
    assert len(cabecalho) == 1 and CNPJ_RUIM in cabecalho[0]["mensagem"]
    assert cabecalho[0]["ignoravel"] is False
    assert resultado["pendentes"] == [] and resultado["ignoradas"] == []

    # An invalid CNPJ cannot be ignored, only corrected.
    recusa = validacao.post(
        f"/files/{file_id}/ignorar", json={"codigo": "1206", "xpath": XPATH_CNPJ, "by": "ana"}
    )
    assert recusa.status_code == 409, recusa.text
    assert recusa.json()["detail"]["code"] == "critica_nao_ignoravel"
    inexistente = validacao.post(
        f"/files/{file_id}/ignorar", json={"codigo": "1308", "xpath": XPATH_CNPJ, "by": "ana"}
    )
    assert inexistente.status_code == 404

    # A path the file does not have is refused, and nothing is kept pending.
    errada = validacao.post(
        f"/files/{file_id}/correcoes",
        json={
            "correcoes": [{"xpath": "/mensagemTISS/cabecalho/naoExiste", "valor": "1"}],
            "by": "ana",
        },
    )
    assert errada.status_code == 422, errada.text
    assert errada.json()["detail"]["code"] == "correcao_invalida"
    assert "naoExiste" in errada.json()["detail"]["message"]

    # "Salvar": the header CNPJ is kept pending; the file is not reprocessed yet.
    salvo = validacao.post(
        f"/files/{file_id}/correcoes",
        json={"correcoes": [{"xpath": XPATH_CNPJ, "valor": CNPJ_PADRAO}], "by": "ana"},
    )
    assert salvo.status_code == 200, salvo.text
    assert [(p["xpath"], p["valor"]) for p in salvo.json()["pendentes"]] == [
        (XPATH_CNPJ, CNPJ_PADRAO)
    ]
    assert _resultado(validacao, file_id)["pendentes"][0]["by"] == "ana"
    assert clinica.get(f"/files/{file_id}").json()["current_revision"] == 1

    # "Salvar e Reprocessar" with the guides' CNPJs as well.
    resto = [{"xpath": c["xpath"], "valor": CNPJ_PADRAO} for c in criticas if c not in cabecalho]
    reprocessado = validacao.post(
        f"/files/{file_id}/reprocessar",
        json={"by": "ana", "recalcular_totais": False, "correcoes": resto},
    )
    assert reprocessado.status_code == 200, reprocessado.text
    assert reprocessado.json()["file_id"] == file_id
    assert reprocessado.json()["revision"] == 2
    assert reprocessado.json()["status"] == "em_processamento"

    arquivo = clinica.wait_file(file_id)
    assert arquivo["status"] == "importado", _resultado(validacao, file_id)
    assert arquivo["corrigido_online"] is True
    assert [(r["revision"], r["created_by"], r["reason"]) for r in arquivo["revisions"]] == [
        (1, "odontoarte", "upload"),
        (2, "ana", "correcao"),
    ]
    final = _resultado(validacao, file_id)
    assert final["revision"] == 2 and final["status"] == "importado"
    assert final["result"]["critiques"] == []
    assert final["result"]["prestador"]["valor"] == CNPJ_PADRAO
    assert final["pendentes"] == []
    lote = clinica.lote_do_arquivo(file_id)
    assert lote["numero_lote_prestador"] == numero_lote


def test_ignore_then_reprocess_makes_the_file_importado(
    clinica: Api, validacao: httpx.Client
) -> None:
    antiga = date.today() - timedelta(days=6 * 366)  # older than the operator accepts
    content = build_lote(tipo_guia="sp_sadt", data=antiga, numero_guia_inicial=fresh_guia())
    arquivo = _enviar(clinica, content, "lote-antigo.xml")
    file_id = arquivo["file_id"]
    assert arquivo["status"] == "invalido"
    criticas = _resultado(validacao, file_id)["result"]["critiques"]
    assert criticas and {c["codigo"] for c in criticas} == {"1323"}, criticas
    assert all(c["ignoravel"] and not c["ignorada"] for c in criticas)

    for c in criticas:
        ignorada = validacao.post(
            f"/files/{file_id}/ignorar",
            json={"codigo": c["codigo"], "xpath": c["xpath"], "by": "bruno"},
        )
        assert ignorada.status_code == 200, ignorada.text
    # Ignoring twice is ignoring once.
    again = validacao.post(
        f"/files/{file_id}/ignorar",
        json={"codigo": "1323", "xpath": criticas[0]["xpath"], "by": "bruno"},
    )
    assert again.status_code == 200
    assert sorted((i["codigo"], i["xpath"]) for i in again.json()["ignoradas"]) == sorted(
        ("1323", c["xpath"]) for c in criticas
    )
    # Ignoring does not reprocess by itself.
    assert clinica.get(f"/files/{file_id}").json()["status"] == "invalido"

    reprocessado = validacao.post(
        f"/files/{file_id}/reprocessar", json={"by": "bruno", "recalcular_totais": False}
    )
    assert reprocessado.status_code == 200, reprocessado.text
    assert reprocessado.json()["revision"] == 2
    arquivo = clinica.wait_file(file_id)
    assert arquivo["status"] == "importado"
    assert arquivo["revisions"][-1]["reason"] == "reprocessamento"
    final = _resultado(validacao, file_id)
    assert final["status"] == "importado"
    assert [c["codigo"] for c in final["result"]["critiques"]] == ["1323"] * len(criticas)
    assert all(c["ignorada"] for c in final["result"]["critiques"])
    clinica.lote_do_arquivo(file_id)


def test_ignoring_several_places_at_once_is_all_or_nothing(
    clinica: Api, validacao: httpx.Client
) -> None:
    antiga = date.today() - timedelta(days=6 * 366)
    content = build_lote(
        tipo_guia="sp_sadt", n_guias=2, data=antiga, numero_guia_inicial=fresh_guia()
    )
    content = substituir(content, f"<ans:CNPJ>{CNPJ_PADRAO}", f"<ans:CNPJ>{CNPJ_RUIM}")
    file_id = _enviar(clinica, content, "lote-antigo-cnpj.xml")["file_id"]
    criticas = _resultado(validacao, file_id)["result"]["critiques"]
    datas = [c["xpath"] for c in criticas if c["codigo"] == "1323"]
    assert len(datas) > 1 and any(c["codigo"] == "1206" for c in criticas)

    # A place that is no ignorable 1323 refuses the whole request: nothing is ignored.
    recusado = validacao.post(
        f"/files/{file_id}/ignorar",
        json={"codigo": "1323", "xpaths": [*datas, XPATH_CNPJ], "by": "bruno"},
    )
    assert recusado.status_code == 404, recusado.text
    estado = validacao.get(f"/files/{file_id}/correcoes").json()
    assert estado["ignoradas"] == []

    todas = validacao.post(
        f"/files/{file_id}/ignorar", json={"codigo": "1323", "xpaths": datas, "by": "bruno"}
    )
    assert todas.status_code == 200, todas.text
    assert sorted(i["xpath"] for i in todas.json()["ignoradas"]) == sorted(datas)
    assert {i["by"] for i in todas.json()["ignoradas"]} == {"bruno"}


def test_recalculate_totals_fixes_totals_and_hash(clinica: Api, validacao: httpx.Client) -> None:
    content = build_lote(tipo_guia="sp_sadt", numero_guia_inicial=fresh_guia())
    # The clerk raised the unit price and forgot the totals and the hash.
    content = substituir(
        content,
        "<ans:valorUnitario>12.50</ans:valorUnitario>",
        "<ans:valorUnitario>15.00</ans:valorUnitario>",
        manter_hash=False,
    )
    arquivo = _enviar(clinica, content, "lote-totais.xml")
    file_id = arquivo["file_id"]
    assert arquivo["status"] == "invalido"
    codigos = {c["codigo"] for c in _resultado(validacao, file_id)["result"]["critiques"]}
    assert {"5014", "1706"} <= codigos, codigos

    reprocessado = validacao.post(
        f"/files/{file_id}/reprocessar", json={"by": "carla", "recalcular_totais": True}
    )
    assert reprocessado.status_code == 200, reprocessado.text
    arquivo = clinica.wait_file(file_id)
    assert arquivo["status"] == "importado", _resultado(validacao, file_id)
    assert arquivo["validacao"]["valor_total"] == "15.00"
    final = _resultado(validacao, file_id)["result"]
    assert final["critiques"] == []
    assert final["hash_informado"] == final["hash_calculado"]
    assert final["guias"][0]["valor_total"] == "15.00"


def test_switching_a_rule_off_applies_to_the_next_validation(
    clinica: Api, validacao: httpx.Client
) -> None:
    carteira = "9" + uuid.uuid4().hex[:13].translate(str.maketrans("abcdef", "012345"))
    content = build_lote(
        tipo_guia="consulta", carteiras=[carteira], numero_guia_inicial=fresh_guia()
    )
    arquivo = _enviar(clinica, content, "lote-carteira.xml")
    file_id = arquivo["file_id"]
    assert arquivo["status"] == "invalido"
    criticas = _resultado(validacao, file_id)["result"]["critiques"]
    assert [c["codigo"] for c in criticas] == ["1001"], criticas

    regras = {r["codigo"]: r for r in validacao.get("/regras").json()["items"]}
    assert regras["1001"]["enabled"] is True and regras["1001"]["configuravel"] is True
    assert regras["1323"]["ignoravel"] is True
    assert regras["5001"]["configuravel"] is False
    assert (
        validacao.put("/regras/5001", json={"enabled": False, "ignoravel": True}).status_code == 409
    )
    assert (
        validacao.put("/regras/9999", json={"enabled": False, "ignoravel": True}).status_code == 404
    )

    try:
        off = validacao.put("/regras/1001", json={"enabled": False, "ignoravel": False, "by": "op"})
        assert off.status_code == 200, off.text
        assert off.json()["enabled"] is False
        listed = {r["codigo"]: r for r in validacao.get("/regras").json()["items"]}
        assert listed["1001"]["enabled"] is False and listed["1001"]["atualizado_por"] == "op"

        chave = uuid.uuid4().hex
        pedido = {"by": "op", "recalcular_totais": False, "idempotency_key": chave}
        primeiro = validacao.post(f"/files/{file_id}/reprocessar", json=pedido)
        assert primeiro.status_code == 200, primeiro.text
        # The same request retried does not make another revision.
        repetido = validacao.post(f"/files/{file_id}/reprocessar", json=pedido)
        assert repetido.status_code == 200
        assert repetido.json()["revision"] == primeiro.json()["revision"] == 2
        arquivo = clinica.wait_file(file_id)
        assert arquivo["status"] == "importado", _resultado(validacao, file_id)
        assert len(arquivo["revisions"]) == 2
    finally:
        validacao.put("/regras/1001", json={"enabled": True, "ignoravel": False, "by": "op"})
    assert {r["codigo"]: r for r in validacao.get("/regras").json()["items"]}["1001"]["enabled"]


def test_a_reprocess_cut_short_after_ingest_stored_it_still_clears_the_pending(
    stack: Stack, clinica: Api, validacao: httpx.Client
) -> None:
    """The caller dies between ingest's answer and clearing the pending corrections: the
    consumer of the new revision finishes the job."""
    from pymongo import MongoClient
    from tissflow_validation.engine import apply_correction

    content = build_lote(tipo_guia="sp_sadt", cnpj=CNPJ_RUIM, numero_guia_inicial=fresh_guia())
    file_id = _enviar(clinica, content, "lote-interrompido.xml")["file_id"]
    criticas = _resultado(validacao, file_id)["result"]["critiques"]
    correcoes = [{"xpath": c["xpath"], "valor": CNPJ_PADRAO} for c in criticas]
    salvo = validacao.post(
        f"/files/{file_id}/correcoes", json={"correcoes": correcoes, "by": "ana"}
    )
    assert salvo.status_code == 200, salvo.text
    pendentes = salvo.json()["pendentes"]
    corrigido = apply_correction(content, [(p["xpath"], p["valor"]) for p in pendentes])

    # What reprocessar records just before calling ingest...
    with MongoClient(stack.mongo, tz_aware=True) as mongo:
        estado = mongo[f"{stack.prefix}_validation"]["arquivos"]
        versao = estado.find_one({"_id": file_id})["versao"]
        feito = estado.update_one(
            {"_id": file_id, "versao": versao},
            {
                "$set": {
                    "versao": versao + 1,
                    "em_andamento": {
                        "base_revision": 1,
                        "revision": 2,
                        "sha256": hashlib.sha256(corrigido).hexdigest(),
                        "aplicadas": [p["id"] for p in pendentes],
                        "reason": "correcao",
                        "by": "ana",
                        "idempotency_key": None,
                        "iniciado_em": datetime.now(UTC),
                    },
                }
            },
        )
        assert feito.matched_count == 1
    # ...and the call that reached ingest; then the caller is gone.
    stored = httpx.post(
        f"{stack.services.url('ingest')}/internal/files/{file_id}/revisions",
        params={"created_by": "ana", "base_revision": 1, "reason": "correcao"},
        content=corrigido,
        headers={"X-Internal-Token": "tissflow-local-internal-token"},
    )
    assert stored.status_code == 201, stored.text

    assert clinica.wait_file(file_id)["status"] == "importado"
    final = wait_for(
        lambda: (r := _resultado(validacao, file_id))["revision"] == 2 and r,
        what="o resultado da revisão 2",
    )
    assert final["pendentes"] == []
    # A retried reprocess is not refused as "in progress": the file is imported now, and
    # imported files are not edited.
    again = validacao.post(f"/files/{file_id}/reprocessar", json={"by": "ana"})
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "arquivo_nao_editavel"


def test_a_rule_made_an_alert_shows_but_does_not_block(
    clinica: Api, validacao: httpx.Client
) -> None:
    carteira = "8" + uuid.uuid4().hex[:13].translate(str.maketrans("abcdef", "012345"))
    content = build_lote(
        tipo_guia="consulta", carteiras=[carteira], numero_guia_inicial=fresh_guia()
    )
    try:
        alerta = validacao.put(
            "/regras/1001",
            json={"enabled": True, "ignoravel": False, "severidade": "alerta", "by": "op"},
        )
        assert alerta.status_code == 200 and alerta.json()["severidade"] == "alerta"
        arquivo = _enviar(clinica, content, "lote-carteira-alerta.xml")
        assert arquivo["status"] == "importado"
        criticas = _resultado(validacao, arquivo["file_id"])["result"]["critiques"]
        assert [(c["codigo"], c["severidade"]) for c in criticas] == [("1001", "alerta")]
    finally:
        validacao.put("/regras/1001", json={"enabled": True, "ignoravel": False, "by": "op"})
    assert {r["codigo"]: r for r in validacao.get("/regras").json()["items"]}["1001"][
        "severidade"
    ] == "erro"
