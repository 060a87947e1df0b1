"""Validation's use cases against in-memory adapters (no server): judging a revision once,
claiming its guides, the correction state machine, the registry and the rule settings."""

from __future__ import annotations

import base64
import hashlib

import pytest
from tissflow_contracts import FileUploaded
from tissflow_contracts.errors import Conflict, Invalid, NotFound
from tissflow_demo.samples import build_lote
from tissflow_runtime.publisher import RecordingPublisher, content_seal_text
from tissflow_validation.domain.errors import ContentMismatch
from tissflow_validation.service_layer import corrections, judge, registry, rules
from tissflow_validation.service_layer.ports import Adapters

from .fakes import FakeIngest, FakeResults, fake_adapters

PROVIDER = "07906129000102"


def uploaded(ingest: FakeIngest, file_id: str, content: bytes, revision: int = 1) -> FileUploaded:
    ingest.contents[(file_id, revision)] = content
    return FileUploaded(
        file_id=file_id,
        revision=revision,
        provider_id=PROVIDER,
        filename="lote.xml",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by="odontoarte",
        content_url=f"/internal/files/{file_id}/revisions/{revision}/content",
    )


async def run_judge(a: Adapters, event: FileUploaded) -> None:
    await judge.judge_revision(
        registro_ans=a.registro_ans,
        results=a.results,
        guides=a.guides,
        registry=a.registry,
        rules=a.rules,
        states=a.states,
        ingest=a.ingest,
        publisher=a.publisher,
        event=event,
        correlation_id=event.file_id,
    )


def verdict(a: Adapters, file_id: str, revision: int = 1) -> dict:
    assert isinstance(a.results, FakeResults)
    return a.results.docs[f"{file_id}:{revision}"]


async def test_a_valid_revision_is_judged_once_and_claims_its_guides() -> None:
    a = fake_adapters()
    assert isinstance(a.ingest, FakeIngest)
    event = uploaded(a.ingest, "f1", build_lote("consulta", 2, numero_guia_inicial=500))
    await run_judge(a, event)
    await run_judge(a, event)  # a redelivery
    doc = verdict(a, "f1")
    assert doc["status"] == "importado"
    [entry] = doc["outbox"]
    assert entry["payload"].status == "importado"
    assert entry["payload"].numeros_guias == ["500", "501"]
    assert a.publisher.notified == 1  # type: ignore[attr-defined]
    assert await a.guides.presented_elsewhere(PROVIDER, "other", ["500", "501"]) == {"500", "501"}


async def test_a_guide_another_file_presented_is_1308_and_a_deleted_lote_frees_it() -> None:
    a = fake_adapters()
    assert isinstance(a.ingest, FakeIngest)
    await run_judge(a, uploaded(a.ingest, "f1", build_lote("consulta", numero_guia_inicial=700)))
    await run_judge(a, uploaded(a.ingest, "f2", build_lote("consulta", numero_guia_inicial=700)))
    second = verdict(a, "f2")
    assert second["status"] == "invalido"
    assert "1308" in {c["codigo"] for c in second["result"]["critiques"]}
    await judge.forget_lote_guides(a.guides, PROVIDER, "f1")
    await run_judge(a, uploaded(a.ingest, "f3", build_lote("consulta", numero_guia_inicial=700)))
    assert verdict(a, "f3")["status"] == "importado"


async def test_bytes_that_are_not_the_events_are_refused_for_good() -> None:
    a = fake_adapters()
    assert isinstance(a.ingest, FakeIngest)
    event = uploaded(a.ingest, "f1", build_lote("consulta"))
    a.ingest.contents[("f1", 1)] = b"<outro/>"
    with pytest.raises(ContentMismatch):
        await run_judge(a, event)


class NoIngest(FakeIngest):
    """An ingest that must not be asked: the event carries the bytes."""

    async def content_at(self, path: str) -> bytes:
        raise AssertionError(f"claim check at {path} for an event that carries its bytes")


def inline(event: FileUploaded, content: bytes, key: str = "test") -> FileUploaded:
    """The event as ingest sends a small file: its bytes in base64, sealed with the
    deployment's key (ADR 0021; the fakes' publisher seals with "test")."""
    text = content_seal_text(event.file_id, event.revision, event.sha256)
    return event.model_copy(
        update={
            "content_base64": base64.b64encode(content).decode(),
            "content_seal": RecordingPublisher(key=key).seal(text),
        }
    )


async def test_a_small_file_carried_in_the_event_is_judged_without_asking_ingest() -> None:
    a = fake_adapters()
    a.ingest = NoIngest()
    content = build_lote("consulta", 2, numero_guia_inicial=800)
    event = inline(uploaded(FakeIngest(), "f1", content), content)
    await run_judge(a, event)
    await run_judge(a, event)  # a redelivery
    doc = verdict(a, "f1")
    assert doc["status"] == "importado"
    assert doc["outbox"][0]["payload"].numeros_guias == ["800", "801"]
    assert a.publisher.notified == 1  # type: ignore[attr-defined]


async def test_carried_bytes_that_are_not_the_events_are_refused_for_good() -> None:
    a = fake_adapters()
    a.ingest = NoIngest()
    content = build_lote("consulta", numero_guia_inicial=900)
    event = uploaded(FakeIngest(), "f1", content)
    tampered = inline(event, content.replace(b"900", b"901"))
    with pytest.raises(ContentMismatch, match="sha256"):
        await run_judge(a, tampered)
    garbled = tampered.model_copy(update={"content_base64": "não é base64!"})
    with pytest.raises(ContentMismatch, match="base64"):
        await run_judge(a, garbled)
    assert isinstance(a.results, FakeResults) and a.results.docs == {}


async def test_carried_bytes_another_deployment_sealed_are_ignored_for_a_claim_check() -> None:
    """An event of another deployment sharing the broker (or forged): its bytes are not
    judged on its word; ingest's answer decides, here that it has no such file."""
    a = fake_adapters()
    assert isinstance(a.ingest, FakeIngest)
    content = build_lote("consulta", numero_guia_inicial=950)
    event = uploaded(FakeIngest(), "f1", content)
    foreign = inline(event, content, key="outro-deployment")
    with pytest.raises(NotFound):
        await run_judge(a, foreign)
    unsealed = foreign.model_copy(update={"content_seal": None})
    with pytest.raises(NotFound):
        await run_judge(a, unsealed)
    a.ingest.contents[("f1", 1)] = content  # ingest has it: judged from its bytes
    await run_judge(a, foreign)
    assert verdict(a, "f1")["status"] == "importado"


async def test_reprocess_stores_a_revision_with_the_pending_corrections_once() -> None:
    a = fake_adapters()
    assert isinstance(a.ingest, FakeIngest)
    content = build_lote("consulta", numero_guia_inicial=900)
    a.ingest.add("f1", content)
    xpath = "/mensagemTISS/prestadorParaOperadora/loteGuias/numeroLote"
    with pytest.raises(Invalid) as bad:
        await corrections.save_corrections(a.ingest, a.states, "f1", [("/nao/existe", "1")], "x")
    assert bad.value.code == "correcao_invalida"
    saved = await corrections.save_corrections(a.ingest, a.states, "f1", [(xpath, "77")], "ana")
    assert [p["valor"] for p in saved["pendentes"]] == ["77"]
    done = await corrections.reprocess(a.ingest, a.states, "f1", by="ana", idempotency_key="k")
    assert (done["revision"], done["correcoes_aplicadas"]) == (2, 1)
    assert b"<ans:numeroLote>77</ans:numeroLote>" in a.ingest.contents[("f1", 2)]
    state = await corrections.correction_state(a.states, "f1")
    assert state["pendentes"] == []
    # The same key again: the same revision, nothing new stored.
    again = await corrections.reprocess(a.ingest, a.states, "f1", by="ana", idempotency_key="k")
    assert again["revision"] == 2 and ("f1", 3) not in a.ingest.contents


async def test_an_imported_file_is_not_corrected() -> None:
    a = fake_adapters()
    assert isinstance(a.ingest, FakeIngest)
    a.ingest.add("f1", build_lote("consulta"), status="importado")
    with pytest.raises(Conflict) as refused:
        await corrections.reprocess(a.ingest, a.states, "f1", by="ana")
    assert refused.value.code == "arquivo_nao_editavel"
    with pytest.raises(NotFound):
        await corrections.latest_result(a.results, a.states, "f1")


async def test_rules_refuse_unknown_and_structural_codes_and_keep_the_author() -> None:
    a = fake_adapters()
    with pytest.raises(NotFound):
        await rules.configure_rule(
            a.rules, "0000", enabled=False, ignoravel=False, severidade="erro", by="op"
        )
    with pytest.raises(Conflict) as structural:
        await rules.configure_rule(
            a.rules, "5001", enabled=False, ignoravel=False, severidade="erro", by="op"
        )
    assert structural.value.code == "regra_nao_configuravel"
    item = await rules.configure_rule(
        a.rules, "1001", enabled=True, ignoravel=True, severidade="alerta", by="op"
    )
    assert item["atualizado_por"] == "op"
    listed = {i["codigo"]: i for i in (await rules.list_rules(a.rules))["items"]}
    assert listed["1001"]["severidade"] == "alerta"


async def test_a_registry_csv_imports_good_lines_and_reports_bad_ones() -> None:
    a = fake_adapters()
    data = b"numero_carteira;nome;ativo\n123;ANA;S\n456;BIA;X\n"
    answer = await registry.import_csv(a.registry, "beneficiarios", data)
    assert answer["importados"] == 1 and [e["linha"] for e in answer["erros"]] == [3]
    found = await a.registry.beneficiarios_by_keys(["123", "456"])
    assert found == {"123": {"nome": "ANA", "ativo": True}}
    with pytest.raises(Invalid):
        await registry.import_csv(a.registry, "beneficiarios", b"sem;cabecalho\n")
