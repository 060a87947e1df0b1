"""Scale out: the same load with one, then two validation processes in one consumer group.

One set of services; the load generator (`bench/load.py`) runs with one validation
instance, then a second one joins the group (the topic's 3 partitions are shared between
them) and the same load runs again. Throughput is files judged per second through the
whole pipeline; one machine's capacity is the better of the two, per hour.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from bench.load import run_load, summary
from bench.report import table
from bench.stack import BenchStack


def run(clinics: int = 50, files: int = 4) -> str:
    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    stack = BenchStack("scale")
    stack.start()
    results = []
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
        + json.dumps({str(i): s for i, s in results})
    )
