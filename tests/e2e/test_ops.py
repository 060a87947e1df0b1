"""The operations team sees every service's health and the messages they parked, and can
replay one; nobody else can."""

from __future__ import annotations

import uuid

import pytest
from tissflow_contracts import OperadoraReport, Topic, new_envelope

from tests.support import Api, Stack, publish, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ops(stack: Stack) -> Api:
    return Api.login(stack.services.url("gateway"), "ops", "ops123")


def test_ops_sees_health_and_parked_messages(stack: Stack, ops: Api, clinica: Api) -> None:
    saude = ops.get("/ops/saude")
    assert saude.status_code == 200
    assert {s["service"]: s["ready"] for s in saude.json()["items"]} == {
        "ingest": True,
        "validation": True,
        "batching": True,
        "protocol": True,
        "statements": True,
        "recursos": True,
        "gateway": True,
    }
    # The operator reports on a PEG that does not exist: parked, not dropped.
    peg = f"99{uuid.uuid4().int % 10**8:08d}"
    report = OperadoraReport(peg=peg, status=2)
    env = new_envelope(report, correlation_id=peg, producer="teste", key=peg)
    publish(stack.kafka, Topic.OPERADORA_INBOUND, peg, env.model_dump_json().encode())

    parada = wait_for(
        lambda: next(
            (m for m in ops.get("/ops/mensagens-paradas").json()["items"] if m["key"] == peg),
            None,
        ),
        what="a mensagem parada aparecer para operações",
    )
    assert parada["service"] == "protocol"
    assert parada["topic"] == Topic.OPERADORA_INBOUND
    assert f"protocolo {peg} não encontrado" in parada["error"]
    assert parada["status"] == "pendente"

    again = ops.post(f"/ops/mensagens-paradas/protocol/{parada['id']}/reprocessar")
    assert again.status_code == 409 and again.json()["code"] == "reprocessamento_falhou"

    assert clinica.get("/ops/mensagens-paradas").status_code == 403
    assert clinica.get("/ops/saude").status_code == 403
