"""Faults while uploads flow (issue 22, items 11-15): kill -9 of services, FerretDB and
Kafka down and back, poison on every topic. Afterwards every accepted upload has exactly
one final state, nothing is duplicated, and the dead-letter queues hold only the poison.

The short form (in `make test`) kills two services, FerretDB and Kafka once each;
`make test-faults` (TISSFLOW_FAULTS_FULL=1) kills every service in turn and sends more.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from tissflow_contracts import ALL_TOPICS
from tissflow_runtime.local import SERVICES

from tests.faults.harness import FULL, World
from tests.support import publish, wait_for

# Servers restart and services start inside these tests: slow on a shared machine.
pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(1200)]

KILLED = SERVICES if FULL else ("validation",)


def _check(row: dict) -> None:
    assert row["aceitos"] > 0, row
    assert row["perdidos"] == 0, row
    assert row["duplicados"] == 0, row


@pytest.mark.parametrize("service", KILLED)
def test_kill_9_of_a_service_loses_nothing(world: World, service: str) -> None:
    def inject() -> None:
        world.services.kill(service)

    def restore() -> None:
        world.services.start(service)

    _check(world.run_fault(f"kill -9 {service}", inject, restore, during=2.0))


def test_servers_sh_restarts_a_crashed_ferretdb_and_services_recover_alone(
    world: World,
) -> None:
    """FerretDB kill -9, then `servers.sh start` (a stale pid file must not abort it); no
    service is restarted: each must reconnect by itself (item 11)."""
    pids = {name: proc.pid for name, proc in world.services.procs.items()}
    answers: list[int] = []

    def inject() -> None:
        world.servers.kill9("ferretdb")
        # While the database is down the gateway answers 503 in pt-BR, not a 500 or a reset.
        answer = world.clinica.get("/files")
        answers.append(answer.status_code)
        assert answer.status_code == 503, answer.text[:300]
        body = answer.json()
        assert body["code"] == "servico_indisponivel"
        assert "indisponível" in body["message"]

    def restore() -> None:
        started = world.servers.run("start")
        assert started.returncode == 0, started.stderr

    row = world.run_fault("FerretDB kill -9", inject, restore, during=4.0)
    _check(row)
    assert answers == [503]
    assert {n: p.pid for n, p in world.services.procs.items()} == pids, "nenhum reinício"


def _log_lines(world: World) -> dict[str, int]:
    return {
        name: sum(1 for _ in (world.services.log_dir / f"{name}.log").open("rb"))
        for name in SERVICES
    }


def test_kafka_down_is_quiet_bounded_and_recovered(world: World) -> None:
    """Kafka stopped: the logs grow slowly (repeated errors rate-limited), a service on
    SIGTERM stops within its bound, and after Kafka returns everything flows again."""
    measured: dict[str, object] = {}

    def inject() -> None:
        stopped = world.servers.run("stop", "kafka")
        assert stopped.returncode == 0, stopped.stderr
        before = _log_lines(world)
        time.sleep(10)
        after = _log_lines(world)
        measured["lines"] = {n: after[n] - before[n] for n in SERVICES}
        proc = world.services.procs["batching"]
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)  # raises if it does not stop: each step is bounded at 8 s
        measured["stop_s"] = time.monotonic() - started
        world.services.procs.pop("batching")

    def restore() -> None:
        started = world.servers.run("start")
        assert started.returncode == 0, started.stderr
        world.services.start("batching")

    row = world.run_fault("Kafka parado", inject, restore, during=0.5)
    _check(row)
    lines = measured["lines"]
    assert isinstance(lines, dict)
    noisy = {n: c for n, c in lines.items() if c > 60}
    assert not noisy, f"linhas de log em 10 s com o Kafka fora: {lines}"
    print(f"batching parou em {measured['stop_s']:.1f} s com o Kafka fora; linhas: {lines}")


def test_poison_on_every_topic_is_parked_and_nothing_else(world: World) -> None:
    for topic in ALL_TOPICS:
        if topic.endswith(".dlq"):
            continue
        key = f"veneno-{uuid.uuid4().hex[:8]}"
        world.poison_keys.add(key)
        publish(world.servers.kafka, topic, key, b"isto nao e um envelope")
    parked = wait_for(
        lambda: (
            [
                m
                for m in world.ops.get("/ops/mensagens-paradas").json()["items"]
                if m["key"] in world.poison_keys
            ]
            or None
        ),
        timeout=60,
        what="o veneno chegar às filas de mensagens paradas",
    )
    assert parked
    world.rows.append(
        {
            "falha": "veneno em todos os tópicos",
            "aceitos": 0,
            "finalizados": 0,
            "perdidos": 0,
            "duplicados": 0,
            "recuperacao_s": 0,
            "usuario_viu": f"{len(parked)}+ paradas",
        }
    )


def test_afterwards_one_final_state_one_peg_one_payment_and_only_poison_parked(
    world: World,
) -> None:
    states = world.final_states(world.accepted)
    assert len(states) == len(world.accepted), "uploads aceitos sem situação final"
    assert len(set(world.accepted)) == len(world.accepted), "um upload aceito duas vezes"
    # Sent lotes: exactly one protocol (PEG) each; one Faturado: exactly one payment.
    imported = [f for f, s in states.items() if s == "importado"][: 6 if FULL else 2]
    assert imported
    pegs = []
    for file_id in imported:
        lote = world.clinica.lote_do_arquivo(file_id)
        pegs.append(world.clinica.enviar_e_aguardar_peg(lote["lote_id"]))
        again = world.clinica.post(f"/lotes/{lote['lote_id']}/enviar")
        assert again.status_code in (200, 409), again.text
        protocolos = world.clinica.get("/protocolos", params={"lote_id": lote["lote_id"]})
        assert protocolos.json()["total"] == 1
    peg = pegs[0]
    for status in (2, 5):
        assert (
            world.operadora.post(
                f"/operadora/protocolos/{peg}/status", json={"status": status}
            ).status_code
            == 200
        )
    pago = world.operadora.post(
        f"/operadora/protocolos/{peg}/status",
        json={"status": 3, "data_pagamento": time.strftime("%Y-%m-%d")},
    )
    assert pago.status_code == 200, pago.text
    wait_for(
        lambda: world.clinica.get(
            "/demonstrativos", params={"peg": peg, "tipo": "pagamento"}
        ).json()["total"],
        timeout=60,
        what="o demonstrativo de pagamento",
    )
    time.sleep(2)  # a duplicate would arrive right behind the first
    pagamentos = world.clinica.get("/demonstrativos", params={"peg": peg, "tipo": "pagamento"})
    assert pagamentos.json()["total"] == 1
    parked = world.ops.get("/ops/mensagens-paradas").json()
    strays = [m for m in parked["items"] if m["key"] not in world.poison_keys]
    assert not strays, [(m["service"], m["topic"], m["error"][:200]) for m in strays]


def test_servers_sh_start_survives_a_stale_pid_file(tmp_path: Path) -> None:
    """The exact failure of item 12, without servers: `alive` on a pid that is gone."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    script = (
        "set -euo pipefail\n"
        f"source <(sed -n '/^alive()/,/^}}/p' {Path(__file__).resolve().parents[2]}"
        "/deploy/local/servers.sh)\n"
        f"alive {dead.pid} && echo vivo || echo morto\n"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "morto"
