"""Scale out: the same load with one, then two validation processes in one consumer group.

One set of services; the load generator (`bench/load.py`) runs with one validation
instance, then a second one joins the group (the topic's 3 partitions are shared between
them; the report shows which instance holds which partition) and the same load runs
again. Both phases are closed loops (every clinic uploads back to back): the saturation
throughput, files judged per second through the whole pipeline. One machine's capacity is
the better of the two, per hour.

Each phase also reports the CPU every process spent (services, FerretDB, Kafka, the load
generator) per file and as a share of the machine's cores: when the cores are already
busy with one instance, a second one has no CPU to add and the curve is flat, which the
table then shows (validation's share next to everyone else's) rather than hides.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from tissflow_contracts import Topic
from tissflow_contracts.topics import PARTITIONS

from bench.load import Outcome, run_load, summary
from bench.procs import CPU_HEADERS, load_average, server_pids
from bench.report import table
from bench.stack import BenchStack


async def partitions_by_member(kafka: str, group: str, topic: str) -> dict[str, list[int]]:
    """The group's members consuming `topic` and the partitions each holds now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka, client_id="bench-scale")
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
        out: dict[str, list[int]] = {}
        for member in response.to_object()["groups"][0]["members"]:
            raw = member["member_assignment"]
            if not raw:
                continue
            assignment = ConsumerProtocolMemberAssignment.decode(raw)
            for name, partitions in assignment.assignment:
                if name == topic:
                    # the instance's HTTP port names it (static membership id)
                    who = member["member_id"].split(f"{topic}:", 1)[-1].split("-", 1)[0]
                    out[who] = sorted(partitions)
        return out
    finally:
        await admin.close()


def _cpu_table(instances: int, out: Outcome) -> str:
    assert out.cpu is not None
    cpu = out.cpu
    return table(
        f"CPU com {instances} instância(s) de validação ({cpu.wall:.0f} s, "
        f"{len(out.verdicts)} vereditos; carga média antes {cpu.load_before}, "
        f"depois {cpu.load_after})",
        CPU_HEADERS,
        cpu.rows(len(out.verdicts)),
    )


def run(clinics: int = 50, files: int = 4) -> str:
    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    cores = os.cpu_count() or 1
    stack = BenchStack("scale")
    stack.start()
    results: list[tuple[int, dict[str, Any], Outcome]] = []
    split: dict[str, list[int]] = {}
    try:
        # Warm-up: connections, caches, and whatever the topics already held for this new
        # consumer group (a shared broker), so that both phases start from an empty queue.
        asyncio.run(run_load(stack.gateway, kafka, 2, 600, 1, 0, 0, verdict_timeout=600))
        for instances in (1, 2):
            if instances == 2:
                stack.add_validation(1)
                time.sleep(5)  # the group's rebalance
            out = asyncio.run(
                run_load(
                    stack.gateway,
                    kafka,
                    clinics,
                    600,
                    files,
                    0,
                    1,
                    verdict_timeout=600,
                    pids={**stack.pids(), **server_pids()},
                    validation_urls=stack.validation_urls(),
                )
            )
            results.append((instances, summary(out), out))
            if instances == 2:
                split = asyncio.run(
                    partitions_by_member(
                        kafka, f"{stack.prefix}-validation", str(Topic.FILE_UPLOADED)
                    )
                )
            print(f"# {instances} instância(s): {json.dumps(summary(out))}", flush=True)
    finally:
        stack.stop()
    rows = []
    for instances, s, out in results:
        assert out.cpu is not None
        used = out.cpu.used
        total = sum(used.values())
        validation = sum(v for k, v in used.items() if k.startswith("validation"))
        rows.append(
            [
                str(instances),
                f"{s['uploaded']}",
                f"{s['files_per_s']:.1f} arquivos/s",
                f"{s['p50_ms'] / 1000:.1f} s / {s['p95_ms'] / 1000:.1f} s" if s["p50_ms"] else "—",
                f"{s['lost']} / {s['duplicated']}",
                f"{total / out.cpu.wall:.2f} de {cores}",
                f"{validation / max(total, 1e-9) * 100:.0f}%",
                f"{total * 1000 / max(len(out.verdicts), 1):.0f} ms",
            ]
        )
    base = results[0][1]["files_per_s"] or 1e-9
    best = max(s["files_per_s"] for _, s, _ in results)
    rows.append(["2 ÷ 1", "", f"{results[1][1]['files_per_s'] / base:.2f}×", "", "", "", "", ""])
    busy = [out.cpu.busy for _, _, out in results if out.cpu]
    ours = [sum(out.cpu.used.values()) / out.cpu.wall / cores for _, _, out in results if out.cpu]
    per_file = [
        sum(out.cpu.used.values()) / max(len(out.verdicts), 1) for _, _, out in results if out.cpu
    ]
    shares = [
        sum(v for k, v in out.cpu.used.items() if k.startswith("validation"))
        / max(sum(out.cpu.used.values()), 1e-9)
        for _, _, out in results
        if out.cpu
    ]
    verdict = (
        f"máquina saturada: {min(busy) * 100:.0f}–{max(busy) * 100:.0f}% dos {cores} núcleos "
        f"ocupados em cada fase ({min(ours) * 100:.0f}–{max(ours) * 100:.0f}% por estes "
        f"processos, o resto por outros), e a validação é só {min(shares) * 100:.0f}–"
        f"{max(shares) * 100:.0f}% da CPU do pipeline: uma segunda instância não tem núcleo "
        "livre para usar e o gargalo não é ela, então a curva fica plana aqui. Numa máquina "
        "com núcleos livres o mesmo grupo reparte as partições como mostrado abaixo."
        if min(busy) >= 0.9
        else f"máquina não saturada ({min(busy) * 100:.0f}–{max(busy) * 100:.0f}% dos "
        f"{cores} núcleos ocupados); a validação é {min(shares) * 100:.0f}–"
        f"{max(shares) * 100:.0f}% da CPU do pipeline: a razão 2 ÷ 1 mede o que a segunda "
        "instância acrescenta."
    )
    text = table(
        f"Escala: instâncias de validação no mesmo grupo ({clinics} clínicas em laço fechado, "
        f"{files} arquivos pequenos cada; carga média ao fim {load_average()})",
        [
            "instâncias",
            "arquivos",
            "vazão",
            "p50 / p95 upload → veredito",
            "perdidos / dupl.",
            "núcleos usados",
            "validação",
            "CPU por arquivo",
        ],
        rows,
    )
    for instances, _, out in results:
        text += "\n" + _cpu_table(instances, out)
    return (
        text
        + f"\n{verdict}\n"
        + f"capacidade desta máquina: {best * 3600:,.0f} arquivos pequenos por hora "
        + f"({best:.1f} arquivos/s medidos; ~{min(per_file) * 1000:.0f} ms de CPU por arquivo "
        + f"somando todos os processos: {cores} núcleos só para isto dariam "
        + f"~{cores / min(per_file) * 3600:,.0f} por hora)\n"
        + f"partições de {Topic.FILE_UPLOADED} ({PARTITIONS[Topic.FILE_UPLOADED]}) por "
        + f"instância com 2: {json.dumps(split)}\n"
        + json.dumps({str(i): s for i, s, _ in results})
    )
