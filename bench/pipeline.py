"""Pipeline benchmark: where an unloaded upload's time goes, next to the machine's floors,
then N uploads of a small TISS file with a few in parallel.

Latency is measured from the moment the upload request starts to the moment the matching
`file.validated` event is read from Kafka; throughput is files judged per second. One file
at a time (unloaded), the time is split by stage as seen from outside (the HTTP upload;
ingest's answer until `file.uploaded` is read; `file.uploaded` until `file.validated` is
read) and, inside validation, by step (validation's `/metrics`,
`tissflow_validation_step_seconds{step}`). Every stage and step is printed with its ratio
to the floor it stands on (`bench/floors.py`), measured in the same run: a bare Kafka
round trip, a bare lxml parse + XSD of the same file, a bare FerretDB insert and indexed
`find_one`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from aiokafka import AIOKafkaConsumer
from tissflow_contracts import Topic
from tissflow_demo.samples import build_lote
from tissflow_validation.engine import OperatorContext, validate

from bench.floors import DbFloors, at_end, db_floors, floor_rows, kafka_round_trip, xsd_floor
from bench.procs import load_average, step_means, validation_steps
from bench.report import median, ms, percentile, table, timed
from bench.stack import BenchStack

# Validation's steps (judge.py, ADR 0021): estado and ja_julgado run alongside a chain that
# gets the bytes (carried in the event, or the claim check) and then the operator's context;
# motor, guias and resultado follow one after the other. Used only to estimate the time
# outside the steps; each step is printed as measured.
ALONGSIDE = ("estado", "ja_julgado")
CONTENT = ("conteudo_no_evento", "claim_check")  # one or the other, per file
CHAIN = (*CONTENT, "contexto")
SEQUENTIAL = ("motor", "guias", "resultado")
LISTS = [
    ("Histórico (GET /files)", "/files"),
    ("Pesquisa de Lotes (GET /lotes)", "/lotes"),
    ("Demonstrativos (GET /demonstrativos)", "/demonstrativos"),
]


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
            await at_end(consumer)
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


class Probe:
    """Uploads one file at a time and times each step from the outside."""

    def __init__(self, stack: BenchStack, kafka: str) -> None:
        self.stack, self.kafka = stack, kafka
        token = httpx.post(
            f"{stack.gateway}/api/v1/auth/token",
            json={"username": "odontoarte", "password": "odontoarte123"},
            timeout=60,
        ).json()["access_token"]
        self.api = httpx.Client(
            base_url=f"{stack.gateway}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        self.uploaded = Arrivals(kafka, Topic.FILE_UPLOADED)
        self.validated = Arrivals(kafka, Topic.FILE_VALIDATED)
        for arrivals in (self.uploaded, self.validated):
            arrivals.start()
            arrivals.ready.wait(60)
        self.number = 10**9 + random.randrange(10**8) * 10

    def file(self) -> bytes:
        self.number += 7
        return build_lote("consulta", n_guias=1, numero_guia_inicial=self.number)

    def one(self) -> dict[str, float]:
        content = self.file()
        t0 = time.perf_counter()
        response = self.api.post(
            "/uploads", files={"arquivo": ("bench.xml", content, "application/xml")}
        )
        t_http = time.perf_counter()
        response.raise_for_status()
        file_id = response.json()["file_id"]
        while file_id not in self.validated.seen and time.perf_counter() - t0 < 120:
            time.sleep(0.002)
        t_up = self.uploaded.seen.get(file_id, t_http)
        t_val = self.validated.seen[file_id]
        return {
            "total": t_val - t0,
            "http": t_http - t0,
            "relay": max(0.0, t_up - t_http),
            "validation": t_val - max(t_up, t_http),
            "file_id": file_id,  # type: ignore[dict-item]
        }

    def singles(self, n: int) -> list[dict[str, float]]:
        for _ in range(2):  # warm-up
            self.one()
        return [self.one() for _ in range(n)]

    def lists(self, repeat: int) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for label, path in LISTS:
            self.api.get(path, params={"page_size": 20}).raise_for_status()  # warm-up
            for i in range(repeat):
                t0 = time.perf_counter()
                # The first pages, as a clerk pages back and forth.
                response = self.api.get(path, params={"page_size": 20, "page": 1 + i % 3})
                out.setdefault(label, []).append(time.perf_counter() - t0)
                response.raise_for_status()
        return out

    def close(self) -> None:
        for arrivals in (self.uploaded, self.validated):
            arrivals.stop.set()
        self.api.close()


def _x(value: float, floor: float) -> str:
    return f"{value / floor:.1f}×" if floor > 0 else "—"


def breakdown_rows(
    singles: list[dict[str, float]],
    steps: dict[str, tuple[float, int]],
    kafka_s: float,
    xsd_s: float,
    engine_s: float,
    db: DbFloors,
) -> list[list[str]]:
    """An unloaded upload, stage by stage and validation's steps, each with its ratio to
    the floor it stands on: rows of (medida, p50 / média, razão ao piso)."""

    def p50(key: str) -> float:
        return median([s[key] for s in singles])

    total = p50("total")
    target = 10 * kafka_s + engine_s
    rows = [
        [
            "upload → file.validated, sem carga, p50",
            ms(total),
            f"{_x(total, kafka_s)} Kafka; meta ≤ 10× Kafka + motor = {ms(target)}: "
            f"{_x(total, target)} a meta",
        ],
        [
            "upload → file.validated, sem carga, p95",
            ms(percentile([s["total"] for s in singles], 95)),
            f"{len(singles)} uploads, um por vez",
        ],
        [
            "  1. upload HTTP (gateway → ingest: conteúdo, documento, outbox), p50",
            ms(p50("http")),
            f"{_x(p50('http'), db.insert)} o insert",
        ],
        [
            "  2. resposta → file.uploaded lido (relay do ingest, Kafka), p50",
            ms(p50("relay")),
            f"{_x(p50('relay'), kafka_s)} Kafka",
        ],
        [
            "  3. file.uploaded → file.validated lido (validação, seu relay, Kafka), p50",
            ms(p50("validation")),
            f"{_x(p50('validation'), kafka_s)} Kafka",
        ],
    ]
    floors = {
        "estado": (db.by_id, "leitura por _id"),
        "ja_julgado": (db.by_id, "leitura por _id"),
        "claim_check": (db.by_id, "leitura por _id (+ HTTP ao ingest)"),
        "contexto": (db.by_id, "leitura por _id"),
        "motor": (xsd_s, "lxml + XSD"),
        "guias": (db.insert, "insert"),
        "resultado": (db.insert, "insert"),
    }
    floors["conteudo_no_evento"] = (0.0, "")
    for name in ALONGSIDE + CHAIN + SEQUENTIAL:
        if name not in steps:
            continue
        mean = steps[name][0]
        floor, what = floors[name]
        note = f"{_x(mean, floor)} {what}" if floor else ""
        if name == "motor":  # in a worker thread of a busy event loop
            note = f"{_x(mean, engine_s)} o motor em processo; {note}"
        when = {
            **dict.fromkeys(ALONGSIDE, " (ao mesmo tempo que conteúdo + contexto)"),
            **dict.fromkeys(CHAIN, " (em sequência, ao mesmo tempo que estado, já julgado)"),
        }.get(name, "")
        rows.append([f"     validação /metrics: {name}{when}, média", ms(mean), note])
    for name in sorted(set(steps) - set(ALONGSIDE + CHAIN + SEQUENTIAL)):
        rows.append([f"     validação /metrics: {name}, média", ms(steps[name][0]), ""])
    # the bytes' step, per file (a file takes one way or the other)
    got = [steps[n] for n in CONTENT if n in steps]
    content = sum(m * n for m, n in got) / max(1, sum(n for _, n in got))
    chain = content + steps.get("contexto", (0.0, 0))[0]
    inside = max([chain] + [steps[n][0] for n in ALONGSIDE if n in steps])
    inside += sum(steps[n][0] for n in SEQUENTIAL if n in steps)
    if steps:
        rest = p50("validation") - inside
        rows.append(
            [
                "     fora dos passos: consumo em lote, relay do resultado, Kafka",
                ms(max(0.0, rest)),
                f"{_x(max(0.0, rest), kafka_s)} Kafka",
            ]
        )
    return rows


def run(n: int = 60, concurrency: int = 4, singles: int = 15) -> str:
    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    mongo = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
    load_before = load_average()
    stack = BenchStack("bench")
    stack.start()
    probe = Probe(stack, kafka)
    try:
        # Floors first, on the same servers, the same file as the pipeline's.
        sample = probe.file()
        xsd_s = xsd_floor(sample)
        engine_s = median(
            timed(lambda: validate(sample, OperatorContext(registro_ans="331988")), 20)
        )
        round_trip = median(asyncio.run(kafka_round_trip(kafka)))
        db = asyncio.run(db_floors(mongo))
        for _ in range(3):  # warm-up: connections, caches, consumer assignment
            probe.one()
        validation = stack.services.url("validation")
        before = validation_steps(validation)
        single = [probe.one() for _ in range(singles)]
        steps = step_means(before, validation_steps(validation))
        # Lightly loaded: `concurrency` uploads in flight.
        started: dict[str, float] = {}
        files = [probe.file() for _ in range(n)]

        def upload(i: int) -> None:
            t0 = time.perf_counter()
            response = probe.api.post(
                "/uploads", files={"arquivo": (f"bench-{i}.xml", files[i], "application/xml")}
            )
            response.raise_for_status()
            started[response.json()["file_id"]] = t0

        t_start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(upload, range(n)))
        seen = probe.validated.seen
        deadline = time.monotonic() + 120
        while any(k not in seen for k in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        missing = [k for k in started if k not in seen]
        latencies = [seen[k] - t0 for k, t0 in started.items() if k in seen]
        elapsed = max(seen[k] for k in started if k in seen) - t_start
    finally:
        probe.close()
        stack.stop()
    load_after = load_average()
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    unloaded = median([s["total"] for s in single])
    rows = floor_rows(round_trip, xsd_s, engine_s, db)
    rows += breakdown_rows(single, steps, round_trip, xsd_s, engine_s, db)
    rows += [
        [
            f"upload → file.validated, {concurrency} em paralelo, p50 / p95",
            f"{ms(p50)} / {ms(p95)}",
            f"{n} uploads; {_x(p50, round_trip)} / {_x(p95, round_trip)} Kafka",
        ],
        ["vazão", f"{len(latencies) / elapsed:.1f} arquivos/s", f"{concurrency} em paralelo"],
    ]
    if missing:
        rows.append(["sem veredito em 120 s", str(len(missing)), ""])
    return (
        table(
            "Pipeline: onde o tempo de um upload vai, ao lado dos pisos desta máquina "
            f"(carga média antes {load_before}, depois {load_after})",
            ["medida", "valor (p50, média nos passos)", "razão ao piso"],
            rows,
        )
        + "\n"
        + json.dumps(
            {
                "unloaded_p50_ms": round(unloaded * 1000, 1),
                "unloaded_over_kafka": round(unloaded / round_trip, 1),
                "target_ms": round((10 * round_trip + engine_s) * 1000, 1),
                "kafka_round_trip_ms": round(round_trip * 1000, 2),
                "xsd_ms": round(xsd_s * 1000, 2),
                "engine_ms": round(engine_s * 1000, 2),
                "insert_ms": round(db.insert * 1000, 2),
                "find_by_id_ms": round(db.by_id * 1000, 2),
                "find_by_index_ms": round(db.by_index * 1000, 2),
                "stages_p50_ms": {
                    k: round(median([s[k] for s in single]) * 1000, 1)
                    for k in ("http", "relay", "validation")
                },
                "steps_mean_ms": {k: round(v[0] * 1000, 2) for k, v in steps.items()},
                "loaded_p50_ms": round(p50 * 1000, 1),
                "loaded_p95_ms": round(p95 * 1000, 1),
                "files_per_s": round(len(latencies) / elapsed, 1),
                "load_average": load_after,
            }
        )
    )
