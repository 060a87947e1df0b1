"""Batching's use cases against in-memory fakes: open, number, act, log, values, NF, sync."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tissflow_batching.domain import LoteActionRefused, LoteConflict
from tissflow_batching.service_layer import lotes
from tissflow_contracts import AnaliseGuia, FileValidated, GuiaLote, Prestador
from tissflow_contracts import ProtocoloStatusChanged as StatusChanged

from services.batching.tests.fakes import FakeLotes, FakeOutbox, fake_deps

SHA = "a" * 64


def validated(file_id: str = "f1", revision: int = 1, **extra: object) -> FileValidated:
    fields: dict[str, object] = {
        "file_id": file_id,
        "revision": revision,
        "provider_id": "07906129000102",
        "sha256": SHA,
        "status": "importado",
        "critiques": 0,
        "versao_tiss": "4.03.00",
        "registro_ans": "331988",
        "numero_lote": "5632",
        "tipo_guia": "sp_sadt",
        "quantidade_guias": 2,
        "valor_total": Decimal("417.62"),
        "numeros_guias": ["20300965", "20300966"],
        "prestador": Prestador(provider_id="07906129000102", nome="ODONTO ARTE LTDA"),
        "guias": [
            GuiaLote(
                numero_guia_prestador="20300965",
                numero_carteira="0009002501230005",
                nome_beneficiario="BENEFICIARIO TESTE",
                valor_informado=Decimal("317.62"),
            ),
            GuiaLote(
                numero_guia_prestador="20300966",
                numero_carteira="0009002501230006",
                nome_beneficiario="OUTRO TESTE",
                valor_informado=Decimal("100"),
            ),
        ],
    }
    fields.update(extra)
    return FileValidated.model_validate(fields)


async def test_each_imported_file_gets_its_own_portal_number() -> None:
    deps = fake_deps()
    a = await lotes.open_lote_from_file(deps, validated("f1"), "e1", "c1")
    b = await lotes.open_lote_from_file(deps, validated("f2"), "e2", "c2")
    assert a and b
    # Same XML numeroLote, two portal numbers: never confused again.
    assert (a["numero"], b["numero"]) == (1_000_001, 1_000_002)
    assert a["numero_lote_prestador"] == b["numero_lote_prestador"] == "5632"
    assert a["canal"] == "upload_xml"
    guia = a["guias"][0]
    assert (guia["numero_carteira"], guia["nome_beneficiario"]) == (
        "0009002501230005",
        "BENEFICIARIO TESTE",
    )
    assert guia["valor_informado"] == "317.62" and guia["valor_liberado"] == "0.00"


async def test_a_redelivered_verdict_opens_nothing_more_and_takes_no_number() -> None:
    deps = fake_deps()
    assert await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert await lotes.open_lote_from_file(deps, validated(), "e1", "c1") is None
    # A later revision of a file whose lote is alive makes no second lote either.
    assert await lotes.open_lote_from_file(deps, validated(revision=2), "e2", "c1") is None
    assert len(deps.lotes.docs) == 1  # type: ignore[attr-defined]
    assert deps.numbers.seqs == {"lote-331988": 1}  # type: ignore[attr-defined]


async def test_an_invalid_file_makes_no_lote() -> None:
    deps = fake_deps()
    assert await lotes.open_lote_from_file(deps, validated(status="invalido"), "e", "c") is None


async def test_close_reopen_close_send_each_logged_and_sent_once() -> None:
    deps = fake_deps()
    doc = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert doc
    lote_id = doc["_id"]
    with pytest.raises(LoteActionRefused):
        await lotes.act(deps, lote_id, "enviar", "clerk")  # still Aberto
    for action in ("fechar", "reabrir", "fechar", "enviar", "enviar"):
        doc = await lotes.act(deps, lote_id, action, "clerk")
    assert doc["status"] == "enviado" and doc["enviado_por"] == "clerk"
    stored = deps.lotes.docs[lote_id]  # type: ignore[attr-defined]
    [sent] = stored["outbox"]
    payload = sent["payload"]
    assert payload.numero_lote == "1000001" and payload.numero_lote_prestador == "5632"
    assert payload.prestador.nome == "ODONTO ARTE LTDA"
    assert [g.nome_beneficiario for g in payload.guias] == ["BENEFICIARIO TESTE", "OUTRO TESTE"]
    log = [(e["acao"], e["resultado"]) for e in stored["log"]]
    assert log == [
        ("criado", "ok"),
        ("enviar", "recusado"),
        ("fechar", "ok"),
        ("reabrir", "ok"),
        ("fechar", "ok"),
        ("enviar", "ok"),
        ("tentativa_envio", "ignorado"),
    ]
    with pytest.raises(LoteActionRefused) as refused:
        await lotes.act(deps, lote_id, "excluir", "clerk")
    assert "contato com a operadora" in refused.value.message


async def test_a_send_that_lost_the_race_reports_the_lote_sent() -> None:
    deps = fake_deps()
    doc = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert doc
    await lotes.act(deps, doc["_id"], "fechar", "clerk")
    # Another request sends between our read and our write.
    repo: FakeLotes = deps.lotes  # type: ignore[assignment]
    original = repo.get
    calls = 0

    async def stale_get(lote_id: str):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        found = await original(lote_id)
        if calls == 1:
            repo.docs[lote_id]["status"] = "enviado"
            assert found is not None
            found["status"] = "fechado"
        return found

    repo.get = stale_get  # type: ignore[method-assign]
    again = await lotes.act(deps, doc["_id"], "enviar", "outro")
    assert again["status"] == "enviado"
    assert repo.docs[doc["_id"]]["outbox"] == []  # this request sent nothing
    # A concurrent change to any other state is a conflict, not a silent success.
    repo.docs[doc["_id"]]["status"] = "aberto"
    calls = 0

    async def stale_open(lote_id: str):  # type: ignore[no-untyped-def]
        found = await original(lote_id)
        assert found is not None
        found["status"] = "fechado"
        repo.docs[lote_id]["status"] = "aberto"
        return found if lote_id else None

    repo.get = stale_open  # type: ignore[method-assign]
    with pytest.raises(LoteConflict):
        await lotes.act(deps, doc["_id"], "reabrir", "x")


async def test_delete_then_recreate_from_a_new_revision_gets_a_new_number() -> None:
    deps = fake_deps()
    first = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert first
    deleted = await lotes.act(deps, first["_id"], "excluir", "clerk")
    assert (deleted["status"], deleted["excluido_por"]) == ("excluido", "clerk")
    again = await lotes.open_lote_from_file(deps, validated(revision=2), "e2", "c1")
    assert again and again["_id"] != first["_id"]
    assert again["numero"] == first["numero"] + 1  # never reused


async def test_protocol_analysis_fills_the_four_values_per_guide() -> None:
    deps = fake_deps()
    doc = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert doc
    changed = StatusChanged(
        peg="2026000001",
        lote_id=doc["_id"],
        provider_id=doc["provider_id"],
        registro_ans="331988",
        numero_lote=doc["numero_lote"],
        status=5,
        guias=[
            AnaliseGuia(
                numero_guia_prestador="20300965",
                valor_processado=Decimal("317.62"),
                valor_liberado=Decimal("300"),
                valor_glosado=Decimal("17.62"),
            )
        ],
        changed_at=datetime(2026, 4, 18, tzinfo=UTC),
    )
    updated = await lotes.apply_protocol_status(deps, changed, "ev-1")
    assert updated
    assert (updated["valor_liberado"], updated["valor_glosado"]) == ("300.00", "17.62")
    assert updated["guias"][0]["valor_liberado"] == "300.00"
    assert updated["situacao_protocolo"] == "liberado"
    assert await lotes.apply_protocol_status(deps, changed, "ev-1") is None  # redelivery


async def test_sincronizar_brings_the_protocols_current_situation() -> None:
    deps = fake_deps()
    doc = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert doc
    await lotes.act(deps, doc["_id"], "fechar", "clerk")
    await lotes.act(deps, doc["_id"], "enviar", "clerk")
    assert await lotes.lotes_to_sync(deps, "07906129000102") == [doc["_id"]]
    protocolo = {
        "peg": "2026000009",
        "status": 3,
        "data_pagamento": "2026-04-24",
        "valor_liberado": "417.62",
        "valor_glosado": "0",
        "created_at": "2026-04-17T17:00:00+00:00",
    }
    result = await lotes.sincronizar(deps, "07906129000102", "clerk", {doc["_id"]: protocolo})
    assert result == {"verificados": 1, "atualizados": 1}
    stored = deps.lotes.docs[doc["_id"]]  # type: ignore[attr-defined]
    assert stored["situacao_protocolo"] == "faturado"
    assert stored["data_pagamento"] == "2026-04-24"


async def test_nf_only_for_sent_lotes_and_pdf_or_xml() -> None:
    deps = fake_deps()
    doc = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert doc
    args = {"numero": "123", "emissao": date(2026, 4, 17), "valor": "417,62", "by": "clerk"}
    with pytest.raises(LoteActionRefused):
        await lotes.attach_nf(deps, doc["_id"], filename="nf.pdf", content=b"%PDF-1.4", **args)
    await lotes.act(deps, doc["_id"], "fechar", "clerk")
    await lotes.act(deps, doc["_id"], "enviar", "clerk")
    with pytest.raises(lotes.NotaFiscalInvalida):
        await lotes.attach_nf(deps, doc["_id"], filename="nf.txt", content=b"oi", **args)
    updated = await lotes.attach_nf(
        deps, doc["_id"], filename="nf.pdf", content=b"%PDF-1.4 ...", **args
    )
    assert updated["nf"]["valor"] == "417.62" and updated["nf"]["media_type"] == "application/pdf"
    assert isinstance(deps.outbox, FakeOutbox)


async def test_released_without_values_is_released_as_informed_and_keeps_an_analysis() -> None:
    deps = fake_deps()
    doc = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert doc

    def changed(status: int, **extra: object) -> StatusChanged:
        return StatusChanged(
            peg="P1",
            lote_id=doc["_id"],
            provider_id=doc["provider_id"],
            registro_ans="331988",
            numero_lote=doc["numero_lote"],
            status=status,
            changed_at=datetime(2026, 4, 18, {2: 1, 5: 2, 3: 3}[status], tzinfo=UTC),
            **extra,  # type: ignore[arg-type]
        )

    em_analise = await lotes.apply_protocol_status(deps, changed(2), "ev-2")
    assert em_analise and em_analise["valor_liberado"] == "0.00"  # nothing known yet
    liberado = await lotes.apply_protocol_status(deps, changed(5), "ev-5")
    assert liberado and liberado["valor_liberado"] == "417.62"
    assert [g["valor_liberado"] for g in liberado["guias"]] == ["317.62", "100.00"]
    # Faturado later, with no values, does not undo an analysis already shown.
    deps.lotes.docs[doc["_id"]]["valor_liberado"] = "400.00"  # type: ignore[attr-defined]
    faturado = await lotes.apply_protocol_status(
        deps, changed(3, data_pagamento=date(2026, 4, 24)), "ev-3"
    )
    assert faturado and faturado["valor_liberado"] == "400.00"
    assert faturado["data_pagamento"] == "2026-04-24"
