"""Scale out: the same load with one, then two validation processes in one consumer group.

One set of services; the load generator (`bench/load.py`) runs with one validation
instance, then a second one joins the group (the topic's 3 partitions are shared between
them; the report shows which instance holds which partition) and the same load runs
again. Throughput is files judged per second through the whole pipeline; one machine's
capacity is the better of the two, per hour.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from tissflow_contracts import Topic
from tissflow_contracts.topics import PARTITIONS

from bench.load import run_load, summary
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


def run(clinics: int = 50, files: int = 4) -> str:
    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    stack = BenchStack("scale")
    stack.start()
    results = []
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
                run_load(stack.gateway, kafka, clinics, 600, files, 0, 1, verdict_timeout=600)
            )
            results.append((instances, summary(out)))
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
    for instances, s in results:
        rows.append(
            [
                str(instances),
                f"{s['uploaded']}",
                f"{s['files_per_s']:.1f} arquivos/s",
                f"{s['p50_ms'] / 1000:.1f} s / {s['p95_ms'] / 1000:.1f} s" if s["p50_ms"] else "—",
                f"{s['lost']} / {s['duplicated']}",
            ]
        )
    base = results[0][1]["files_per_s"] or 1e-9
    best = max(s["files_per_s"] for _, s in results)
    rows.append(
        [
            "2 ÷ 1",
            "",
            f"{results[1][1]['files_per_s'] / base:.2f}×",
            "",
            "",
        ]
    )
    return (
        table(
            f"Escala: instâncias de validação no mesmo grupo ({clinics} clínicas, "
            f"{files} arquivos pequenos cada)",
            ["instâncias", "arquivos", "vazão", "p50 / p95 upload → veredito", "perdidos / dupl."],
            rows,
        )
        + f"\ncapacidade desta máquina: {best * 3600:,.0f} arquivos pequenos por hora\n"
        + f"partições de {Topic.FILE_UPLOADED} ({PARTITIONS[Topic.FILE_UPLOADED]}) por "
        + f"instância com 2: {json.dumps(split)}\n"
        + json.dumps({str(i): s for i, s in results})
    )
