"""Pipeline benchmark: N uploads of a small TISS file through the running services.

Latency is measured from the moment the upload request starts to the moment the matching
`file.validated` event is read from Kafka; throughput is files judged per second. Baselines
measured in the same run: a bare Kafka produce→consume round trip on the same broker, and
the in-process engine time for the same file.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from tissflow_contracts import Topic
from tissflow_demo.samples import build_lote
from tissflow_runtime.local import SERVICES, ServiceSet, service_env
from tissflow_runtime.topics import ensure_topics
from tissflow_validation.engine import OperatorContext, validate

from bench.report import median, ms, percentile, table, timed

ROOT = Path(__file__).resolve().parents[1]


async def _at_end(consumer: AIOKafkaConsumer) -> None:
    """Wait for the group assignment, then start reading at the current end."""
    while not consumer.assignment():  # noqa: ASYNC110 - aiokafka offers no assignment event
        await asyncio.sleep(0.05)
    await consumer.seek_to_end()
    for tp in consumer.assignment():
        await consumer.position(tp)


class Arrivals(threading.Thread):
    """Reads a topic from its end and records when each key's first record arrived."""

    def __init__(self, kafka: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.kafka, self.topic = kafka, topic
        self.seen: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.kafka,
            group_id=f"bench-{uuid.uuid4().hex}",
            auto_offset_reset="latest",
        )
        await consumer.start()
        try:
            await _at_end(consumer)
            self.ready.set()
            while not self.stop.is_set():
                batches = await consumer.getmany(timeout_ms=100)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        key = record.key.decode() if record.key else ""
                        self.seen.setdefault(key, now)
        finally:
            await consumer.stop()


async def kafka_round_trip(kafka: str, n: int = 50) -> list[float]:
    topic = Topic.OPERADORA_INBOUND + ".dlq"  # a quiet topic; bench keys are never replayed
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"bench-{uuid.uuid4().hex}",
        auto_offset_reset="latest",
    )
    await producer.start()
    await consumer.start()
    samples = []
    try:
        await _at_end(consumer)
        for _ in range(n):
            key = uuid.uuid4().hex.encode()
            started = time.perf_counter()
            await producer.send_and_wait(topic, b"{}", key=key)
            found = False
            while not found:
                batches = await consumer.getmany(timeout_ms=1000)
                found = any(r.key == key for rs in batches.values() for r in rs)
            samples.append(time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()
    return samples


def run(n: int = 60, concurrency: int = 4, singles: int = 15) -> str:
    import os

    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    mongo = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
    asyncio.run(ensure_topics(kafka))
    prefix = "bench" + uuid.uuid4().hex[:6]
    env = service_env(
        int(os.environ.get("TISSFLOW_BENCH_PORT_OFFSET", "12000")),
        TISSFLOW_KAFKA_BOOTSTRAP=kafka,
        TISSFLOW_MONGODB_URL=mongo,
        TISSFLOW_DB_PREFIX=prefix,
        TISSFLOW_LOG_LEVEL="WARNING",
    )
    services = ServiceSet(env=env, log_dir=ROOT / ".local" / "bench-logs" / prefix)
    services.start(*SERVICES)
    try:
        services.wait_ready(*SERVICES, timeout=90)
        for seed in ("tissflow_demo.validation_seed", "tissflow_gateway.seed"):
            subprocess.run([sys.executable, "-m", seed], env=env, check=True, capture_output=True)
        gateway = services.url("gateway")
        token = httpx.post(
            f"{gateway}/api/v1/auth/token",
            json={"username": "odontoarte", "password": "odontoarte123"},
        ).json()["access_token"]
        files = [
            build_lote("consulta", n_guias=1, numero_guia_inicial=10**9 + i * 7 + 1)
            for i in range(n + 3 + singles)
        ]
        engine_s = median(
            timed(lambda: validate(files[0], OperatorContext(registro_ans="331988")), 20)
        )
        round_trip = asyncio.run(kafka_round_trip(kafka))
        arrivals = Arrivals(kafka, Topic.FILE_VALIDATED)
        arrivals.start()
        arrivals.ready.wait(30)
        client = httpx.Client(
            base_url=f"{gateway}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        started: dict[str, float] = {}

        def upload(i: int) -> None:
            t0 = time.perf_counter()
            response = client.post(
                "/uploads", files={"arquivo": (f"bench-{i}.xml", files[i], "application/xml")}
            )
            response.raise_for_status()
            started[response.json()["file_id"]] = t0

        for i in range(n, n + 3):  # warm-up: connections, caches, consumer assignment
            upload(i)
        deadline = time.monotonic() + 60
        while len([k for k in started if k in arrivals.seen]) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        started.clear()
        # Unloaded latency: one upload at a time, each waiting for its verdict.
        single: list[float] = []
        for i in range(n + 3, n + 3 + singles):
            upload(i)
            ((file_id, t0),) = started.items()
            while file_id not in arrivals.seen and time.perf_counter() - t0 < 60:
                time.sleep(0.002)
            single.append(arrivals.seen[file_id] - t0)
            started.clear()
        t_start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(upload, range(n)))
        deadline = time.monotonic() + 120
        while any(k not in arrivals.seen for k in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        arrivals.stop.set()
        missing = [k for k in started if k not in arrivals.seen]
        latencies = [arrivals.seen[k] - t0 for k, t0 in started.items() if k in arrivals.seen]
        elapsed = max(arrivals.seen[k] for k in started if k in arrivals.seen) - t_start
    finally:
        services.stop()
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    rt = median(round_trip)
    rows = [
        ["Kafka produce→consume (linha de base)", ms(rt), "", "1.00×"],
        ["motor em processo, mesmo arquivo (linha de base)", ms(engine_s), "", ""],
        [
            "upload → file.validated, sem carga, p50",
            ms(median(single)),
            f"{singles} uploads, um por vez",
            f"{median(single) / rt:.0f}× Kafka",
        ],
        [
            "upload → file.validated, sem carga, p95",
            ms(percentile(single, 95)),
            "",
            f"{percentile(single, 95) / rt:.0f}× Kafka",
        ],
        [
            "upload → file.validated, sob carga, p50",
            ms(p50),
            f"{n} uploads, {concurrency} em paralelo",
            f"{p50 / rt:.0f}× Kafka",
        ],
        ["upload → file.validated, sob carga, p95", ms(p95), "", f"{p95 / rt:.0f}× Kafka"],
        [
            "vazão",
            f"{len(latencies) / elapsed:.1f} arquivos/s",
            f"{n} uploads, {concurrency} em paralelo",
            "",
        ],
    ]
    if missing:
        rows.append(["sem veredito em 120 s", str(len(missing)), "", ""])
    return (
        table(
            "Pipeline: upload pela API até file.validated (serviços, Kafka e FerretDB reais)",
            ["medida", "valor", "carga", "razão"],
            rows,
        )
        + "\n"
        + json.dumps(
            {
                "unloaded_p50_ms": round(median(single) * 1000, 1),
                "loaded_p50_ms": round(p50 * 1000, 1),
                "loaded_p95_ms": round(p95 * 1000, 1),
                "files_per_s": round(len(latencies) / elapsed, 1),
            }
        )
    )
