"""Delivery guarantees on the real Kafka and FerretDB: duplicates have one effect, poison
messages go to the DLQ without stopping the consumer, and a crash between a service's write
and its publish loses nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from tissflow_contracts import FileValidated, LoteSent, Topic, dlq, new_envelope
from tissflow_validation.samples import build_lote

from tests.support import (
    Api,
    Stack,
    count_matching,
    fresh_guia,
    publish,
    read_topic,
    wait_for,
)

pytestmark = pytest.mark.integration


def _file_validated(file_id: str, provider_id: str = "07906129000102") -> bytes:
    payload = FileValidated(
        file_id=file_id,
        revision=1,
        provider_id=provider_id,
        sha256="0" * 64,
        status="importado",
        critiques=0,
        numero_lote="777",
        tipo_guia="consulta",
        quantidade_guias=1,
        numeros_guias=["1"],
    )
    env = new_envelope(payload, correlation_id=file_id, producer="test", key=file_id)
    return env.model_dump_json().encode()


def test_same_event_delivered_twice_has_one_effect(stack: Stack, clinica: Api) -> None:
    file_id = f"dup-{uuid.uuid4().hex}"
    message = _file_validated(file_id)
    publish(stack.kafka, Topic.FILE_VALIDATED, file_id, message)
    publish(stack.kafka, Topic.FILE_VALIDATED, file_id, message)
    lote = wait_for(
        lambda: (clinica.get("/lotes", params={"file_id": file_id}).json()["items"] or [None])[0],
        what="o lote criado pelo evento",
    )
    # Send the lote.sent event twice too: the protocol service must give one PEG.
    sent = LoteSent(
        lote_id=lote["lote_id"],
        provider_id="07906129000102",
        registro_ans="331988",
        numero_lote="777",
        canal="upload_xml",
        file_id=file_id,
        tipo_guia="consulta",
        quantidade_guias=1,
        valor_total=None,
        sent_by="teste",
        sent_at=datetime.now(UTC),
    )
    env = new_envelope(sent, correlation_id=file_id, producer="test", key=lote["lote_id"])
    for _ in range(2):
        publish(stack.kafka, Topic.LOTE_SENT, lote["lote_id"], env.model_dump_json().encode())
    wait_for(
        lambda: clinica.get("/protocolos", params={"lote_id": lote["lote_id"]}).json()["total"],
        what="o protocolo do lote",
    )
    # Both duplicates have been consumed once the later, unrelated events are handled.
    marker = f"dup-marker-{uuid.uuid4().hex}"
    publish(stack.kafka, Topic.FILE_VALIDATED, marker, _file_validated(marker))
    wait_for(
        lambda: clinica.get("/lotes", params={"file_id": marker}).json()["total"],
        what="o evento marcador",
    )
    assert clinica.get("/lotes", params={"file_id": file_id}).json()["total"] == 1
    assert clinica.get("/protocolos", params={"lote_id": lote["lote_id"]}).json()["total"] == 1
    peg = clinica.get("/protocolos", params={"lote_id": lote["lote_id"]}).json()["items"][0]["peg"]
    changes = count_matching(
        stack.kafka,
        Topic.PROTOCOLO_STATUS_CHANGED,
        lambda r: (
            json.loads(r.value)["payload"]["peg"] == peg
            and json.loads(r.value)["payload"]["lote_id"] == lote["lote_id"]
        ),
    )
    assert changes == 1


def test_poison_message_goes_to_dlq_and_consumer_goes_on(stack: Stack, clinica: Api) -> None:
    poison_key = f"poison-{uuid.uuid4().hex}"
    publish(stack.kafka, Topic.FILE_VALIDATED, poison_key, b"{isto nao e json")
    # A payload that parses as an envelope but not as the event's payload is poison too.
    bad_payload = json.loads(_file_validated(poison_key))
    bad_payload["payload"]["status"] = "talvez"
    publish(stack.kafka, Topic.FILE_VALIDATED, poison_key, json.dumps(bad_payload).encode())
    good = f"after-poison-{uuid.uuid4().hex}"
    publish(stack.kafka, Topic.FILE_VALIDATED, good, _file_validated(good))

    parked = read_topic(
        stack.kafka, dlq(Topic.FILE_VALIDATED), lambda r: r.key == poison_key.encode()
    )
    assert parked is not None, "a mensagem inválida não chegou à DLQ"
    headers = {k: v.decode() for k, v in parked.headers}
    assert headers["x-original-topic"] == Topic.FILE_VALIDATED
    assert headers["x-consumer-group"].endswith(("-batching", "-ingest"))
    assert headers["x-error"]
    assert parked.value == b"{isto nao e json"
    wait_for(
        lambda: clinica.get("/lotes", params={"file_id": good}).json()["total"],
        what="o consumidor seguir após a mensagem inválida",
    )
    # Ops see the parked message in the consumer's service, and replaying garbage fails again.
    batching = stack.services.url("batching")
    internal = {"X-Internal-Token": "tissflow-local-internal-token"}
    parked_list = httpx.get(f"{batching}/internal/dlq", headers=internal).json()["items"]
    ours = [p for p in parked_list if p["key"] == poison_key]
    assert len(ours) == 2 and all(p["status"] == "pendente" for p in ours)
    garbage = next(p for p in ours if p["body"] == "{isto nao e json")
    replay = httpx.post(f"{batching}/internal/dlq/{garbage['id']}/reprocessar", headers=internal)
    assert replay.status_code == 409 and replay.json()["detail"]["code"] == "reprocessamento_falhou"
    assert (
        count_matching(
            stack.kafka, dlq(Topic.FILE_VALIDATED), lambda r: r.key == poison_key.encode()
        )
        == 4  # two poison messages, each parked by both consumer groups (ingest, batching)
    )


def test_killed_between_write_and_publish_publishes_after_restart(stack: Stack) -> None:
    services = stack.services
    services.stop("ingest")
    services.start("ingest", extra_env={"TISSFLOW_OUTBOX_RELAY": "false"})
    services.wait_ready("ingest")
    ingest = services.url("ingest")
    headers = {
        "X-Internal-Token": services.env.get(
            "TISSFLOW_INTERNAL_TOKEN", "tissflow-local-internal-token"
        )
    }
    created = httpx.post(
        f"{ingest}/internal/files",
        params={"provider_id": "07906129000102", "filename": "crash.xml", "uploaded_by": "t"},
        content=build_lote(numero_lote="424242", numero_guia_inicial=fresh_guia()),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    file_id = created.json()["file_id"]
    assert created.json()["status"] == "em_processamento"

    def published(timeout: float) -> object:
        return read_topic(
            stack.kafka, Topic.FILE_UPLOADED, lambda r: r.key == file_id.encode(), timeout
        )

    assert published(2.0) is None, "publicou sem o relay: o teste não simula a queda"
    services.kill("ingest")  # the crash: the write is durable, the event not yet sent
    services.start("ingest")
    services.wait_ready("ingest")
    record = published(30.0)
    assert record is not None, "o evento do outbox não foi publicado após reiniciar"
    assert json.loads(record.value)["payload"]["file_id"] == file_id

    # ...and the pipeline carries on from there: the file gets its verdict.
    def verdict() -> dict | None:
        doc = httpx.get(f"{ingest}/internal/files/{file_id}", headers=headers).json()
        return doc if doc["status"] != "em_processamento" else None

    assert wait_for(verdict, what="o veredito do arquivo")["status"] == "importado"


def test_concurrent_sends_of_one_lote_send_it_once(stack: Stack, clinica: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    content = build_lote(
        tipo_guia="consulta", numero_lote="900301", numero_guia_inicial=fresh_guia()
    )
    file_id = clinica.upload(content, filename="corrida.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    lote = clinica.lote_do_arquivo(file_id)
    assert clinica.post(f"/lotes/{lote['lote_id']}/fechar").status_code == 200
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(lambda _: clinica.post(f"/lotes/{lote['lote_id']}/enviar"), range(12))
        )
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["status"] for a in answers} == {"enviado"}
    sent = count_matching(
        stack.kafka,
        Topic.LOTE_SENT,
        lambda r: json.loads(r.value)["payload"]["lote_id"] == lote["lote_id"],
    )
    assert sent == 1
    detail = clinica.get(f"/lotes/{lote['lote_id']}").json()
    assert [entry["acao"] for entry in detail["log"]].count("enviar") == 1
