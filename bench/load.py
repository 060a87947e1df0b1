"""Load generator (`make test-load`, `python -m bench load`): many clinics at once.

`clinics` clinics upload TISS files through the public API (`/api/v1`, several provider
logins) for `duration` seconds or until each sent `files` files, while `browsers`
others page through the portal's lists (Histórico, Pesquisa de Lotes, Demonstrativos)
and download statements. Every `file.validated` is read from Kafka: throughput is files
judged per second through the whole pipeline (upload, ingest, validation, verdict), the
latency runs from the start of the upload to the verdict's arrival. The run is bounded:
after the uploads it waits at most `verdict_timeout` seconds for the last verdicts.

`Outcome.lost` and `Outcome.duplicated` are what a short run in `make test` asserts
(every accepted file judged, each one once: one distinct verdict event per file); the
times are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from tissflow_contracts import Topic
from tissflow_demo.samples import build_lote, build_lote_grande

from bench.report import median, ms, percentile, table

# (login, password, CNPJ, operator code): the demo's two clinics.
LOGINS = [
    ("odontoarte", "odontoarte123", "07906129000102", "100234"),
    ("sorriso", "sorriso123", "11222333000181", "100300"),
]


@dataclass
class Outcome:
    clinics: int
    uploaded: dict[str, float] = field(default_factory=dict)  # file_id → upload start
    sizes: dict[str, int] = field(default_factory=dict)
    logins: dict[str, str] = field(default_factory=dict)  # file_id → who uploaded it
    verdicts: dict[str, float] = field(default_factory=dict)  # file_id → first verdict
    # file_id → first `file.uploaded` read (ingest stored it and its relay published it)
    queued: dict[str, float] = field(default_factory=dict)
    accepted: dict[str, float] = field(default_factory=dict)  # file_id → upload answered
    verdict_events: dict[str, set[str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # uploads the API did not accept
    browse: dict[str, list[float]] = field(default_factory=dict)
    browse_errors: list[str] = field(default_factory=list)
    started: float = 0.0
    uploads_done: float = 0.0

    @property
    def lost(self) -> list[str]:
        return [f for f in self.uploaded if f not in self.verdicts]

    @property
    def duplicated(self) -> dict[str, set[str]]:
        return {
            f: ids for f, ids in self.verdict_events.items() if len(ids) > 1 and f in self.uploaded
        }

    def latencies(self, large: bool | None = None) -> list[float]:
        return [
            self.verdicts[f] - t0
            for f, t0 in self.uploaded.items()
            if f in self.verdicts and (large is None or (self.sizes[f] > 100_000) == large)
        ]

    def stages(self) -> dict[str, list[float]]:
        """Where an upload's time goes: the HTTP upload (gateway, ingest: bytes, document,
        outbox), ingest's relay until `file.uploaded` is read, then validation (fetch,
        claim check, engine, result, its relay) until `file.validated` is read."""
        done = [f for f in self.uploaded if f in self.verdicts and f in self.queued]
        return {
            "1. upload HTTP (gateway + ingest)": [
                self.accepted[f] - self.uploaded[f] for f in done if f in self.accepted
            ],
            "2. resposta → file.uploaded lido": [
                max(0.0, self.queued[f] - self.accepted[f]) for f in done if f in self.accepted
            ],
            "3. file.uploaded → file.validated (validação)": [
                self.verdicts[f] - self.queued[f] for f in done
            ],
        }

    @property
    def files_per_s(self) -> float:
        judged = [self.verdicts[f] for f in self.uploaded if f in self.verdicts]
        if not judged:
            return 0.0
        return len(judged) / max(1e-9, max(judged) - self.started)


class Verdicts:
    """Reads `file.validated` (and `file.uploaded`, for where the time goes) from their
    current end: first arrival and event ids per file."""

    def __init__(self, kafka: str, outcome: Outcome) -> None:
        self.kafka, self.outcome = kafka, outcome
        self.consumer = AIOKafkaConsumer(
            Topic.FILE_VALIDATED,
            Topic.FILE_UPLOADED,
            bootstrap_servers=kafka,
            group_id=f"load-{uuid.uuid4().hex}",
            auto_offset_reset="latest",
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        while not self.consumer.assignment():  # noqa: ASYNC110 - aiokafka has no event
            await asyncio.sleep(0.05)
        await self.consumer.seek_to_end()
        for tp in self.consumer.assignment():
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    key = record.key.decode() if record.key else ""
                    if record.topic == Topic.FILE_UPLOADED:
                        self.outcome.queued.setdefault(key, now)
                        continue
                    headers = {k: v.decode() for k, v in record.headers or ()}
                    event_id = headers.get("event_id") or json.loads(record.value)["event_id"]
                    self.outcome.verdicts.setdefault(key, now)
                    self.outcome.verdict_events.setdefault(key, set()).add(event_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.consumer.stop()


async def _login(gateway: str, user: str, password: str) -> httpx.AsyncClient:
    async with httpx.AsyncClient(timeout=120) as anon:
        response = await anon.post(
            f"{gateway}/api/v1/auth/token", json={"username": user, "password": password}
        )
        response.raise_for_status()
    return httpx.AsyncClient(
        base_url=f"{gateway}/api/v1",
        headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        timeout=120,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
    )


def build_files(
    clinics: int, per_clinic: int, large_every: int, large_mb: float = 1.0
) -> list[list[tuple[str, bytes]]]:
    """Each clinic's files, built before the clock starts, with guide numbers no other
    file used (the engine refuses a guide presented before); every `large_every`-th file
    is a lote of ~`large_mb` MB (20 guides), the others one consulta (~3 KB)."""
    number = itertools.count(10**9 + random.randrange(10**8) * 10)
    out: list[list[tuple[str, bytes]]] = []
    for c in range(clinics):
        _, _, cnpj, codigo = LOGINS[c % len(LOGINS)]
        files = []
        for i in range(per_clinic):
            first = next(number)
            if large_every and (c * per_clinic + i) % large_every == large_every - 1:
                for _ in range(20):
                    next(number)
                content = build_lote_grande(
                    large_mb, n_guias=20, cnpj=cnpj, codigo_prestador=codigo,
                    numero_guia_inicial=first,
                )  # fmt: skip
            else:
                content = build_lote(
                    "consulta", n_guias=1, cnpj=cnpj, codigo_prestador=codigo,
                    numero_guia_inicial=first,
                )  # fmt: skip
            files.append((f"carga-{c}-{i}.xml", content))
        out.append(files)
    return out


async def _clinic(
    login: str,
    client: httpx.AsyncClient,
    files: list[tuple[str, bytes]],
    deadline: float,
    out: Outcome,
) -> None:
    for name, content in files:
        if time.perf_counter() > deadline:
            return
        t0 = time.perf_counter()
        try:
            response = await client.post(
                "/uploads", files={"arquivo": (name, content, "application/xml")}
            )
        except httpx.HTTPError as exc:
            out.refused.append(f"{name}: {type(exc).__name__}")
            continue
        if response.status_code >= 300:
            out.refused.append(f"{name}: HTTP {response.status_code} {response.text[:200]}")
            continue
        file_id = response.json()["file_id"]
        out.accepted[file_id] = time.perf_counter()
        out.uploaded[file_id] = t0
        out.sizes[file_id] = len(content)
        out.logins[file_id] = login


async def _browser(
    client: httpx.AsyncClient, stop: asyncio.Event, out: Outcome, rounds: list[int], n: int
) -> None:
    """A clerk paging through the lists and downloading statements while clinics upload
    (`rounds[n]` counts the rounds done: a run ends after each clerk did one)."""
    pages = [
        ("Histórico (/files)", "/files", {"page_size": 20}),
        ("Pesquisa de Lotes (/lotes)", "/lotes", {"page_size": 20}),
        ("Demonstrativos (/demonstrativos)", "/demonstrativos", {"page_size": 20}),
    ]
    while not stop.is_set():
        for label, path, params in pages:
            t0 = time.perf_counter()
            try:
                response = await client.get(path, params=params)
            except httpx.HTTPError as exc:
                out.browse_errors.append(f"{path}: {type(exc).__name__}")
                continue
            out.browse.setdefault(label, []).append(time.perf_counter() - t0)
            if response.status_code != 200:
                out.browse_errors.append(f"{path}: HTTP {response.status_code}")
                continue
            if path == "/demonstrativos":
                for item in response.json()["items"][:1]:
                    sid = item.get("statement_id") or item.get("id")
                    for formato in ("xml", "pdf"):
                        t0 = time.perf_counter()
                        got = await client.get(f"/demonstrativos/{sid}/{formato}")
                        label = f"baixar demonstrativo ({formato})"
                        out.browse.setdefault(label, []).append(time.perf_counter() - t0)
                        if got.status_code != 200:
                            out.browse_errors.append(f"{label}: HTTP {got.status_code}")
            await asyncio.sleep(0.2)
        rounds[n] += 1


async def run_load(
    gateway: str,
    kafka: str,
    clinics: int = 50,
    duration: float = 30.0,
    files: int = 20,
    large_every: int = 0,
    browsers: int = 2,
    verdict_timeout: float = 120.0,
) -> Outcome:
    """Drive the running stack (see the module's docstring); returns what was measured."""
    out = Outcome(clinics=clinics)
    work = build_files(clinics, files, large_every)
    clients = [await _login(gateway, u, p) for u, p, _, _ in LOGINS]
    verdicts = Verdicts(kafka, out)
    await verdicts.start()
    stop_browsing = asyncio.Event()
    try:
        rounds = [0] * browsers
        browsing = [
            asyncio.create_task(_browser(clients[b % len(clients)], stop_browsing, out, rounds, b))
            for b in range(browsers)
        ]
        out.started = time.perf_counter()
        deadline = out.started + duration
        await asyncio.gather(
            *(
                _clinic(
                    LOGINS[c % len(LOGINS)][0], clients[c % len(clients)], work[c], deadline, out
                )
                for c in range(clinics)
            )
        )
        out.uploads_done = time.perf_counter()
        wait_until = time.perf_counter() + verdict_timeout
        while out.lost and time.perf_counter() < wait_until:  # noqa: ASYNC110 - polls Kafka's tally
            await asyncio.sleep(0.1)
        # Every clerk pages every list at least once, however fast the verdicts came.
        while min(rounds, default=1) < 1 and time.perf_counter() < wait_until:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        stop_browsing.set()
        await asyncio.gather(*browsing, return_exceptions=True)
        await asyncio.sleep(1.0)  # a repeated verdict would come right after the first
    finally:
        stop_browsing.set()
        await verdicts.stop()
        for client in clients:
            await client.aclose()
    return out


def report(out: Outcome, title: str = "") -> str:
    all_ = out.latencies()
    small, large = out.latencies(large=False), out.latencies(large=True)
    rows = [
        ["clínicas em paralelo", str(out.clinics), ""],
        ["arquivos aceitos / com veredito", f"{len(out.uploaded)} / {len(out.verdicts)}", ""],
        ["sem veredito (perdidos)", str(len(out.lost)), "meta: 0"],
        ["com mais de um veredito", str(len(out.duplicated)), "meta: 0"],
        ["recusados pela API", str(len(out.refused)), out.refused[0][:120] if out.refused else ""],
        ["vazão", f"{out.files_per_s:.1f} arquivos/s", "meta: ≥ 40 pequenos/s"],
    ]
    for label, samples in (("todos", all_), ("≤ 100 KB", small), ("~1 MB", large)):
        if samples:
            rows.append(
                [
                    f"upload → veredito, {label}, p50 / p95",
                    f"{ms(median(samples))} / {ms(percentile(samples, 95))}",
                    "meta p95: ≤ 2 s" if label != "todos" else f"{len(samples)} arquivos",
                ]
            )
    for label, samples in out.stages().items():
        if samples:
            rows.append(
                [
                    f"  {label}, p50 / p95",
                    f"{ms(median(samples))} / {ms(percentile(samples, 95))}",
                    "onde o tempo vai",
                ]
            )
    for label, samples in sorted(out.browse.items()):
        rows.append(
            [
                f"portal: {label}, p50 / p95",
                f"{ms(median(samples))} / {ms(percentile(samples, 95))}",
                f"{len(samples)} pedidos",
            ]
        )
    if out.browse_errors:
        rows.append(["erros ao navegar", str(len(out.browse_errors)), out.browse_errors[0]])
    return table(title or "Carga: clínicas enviando pela API", ["medida", "valor", "nota"], rows)


def summary(out: Outcome) -> dict[str, Any]:
    lat = out.latencies()
    return {
        "clinics": out.clinics,
        "uploaded": len(out.uploaded),
        "lost": len(out.lost),
        "duplicated": len(out.duplicated),
        "files_per_s": round(out.files_per_s, 1),
        "p50_ms": round(median(lat) * 1000, 1) if lat else None,
        "p95_ms": round(percentile(lat, 95) * 1000, 1) if lat else None,
        "stages_p50_ms": {
            k.split(".")[0]: round(median(v) * 1000, 1) for k, v in out.stages().items() if v
        },
    }


def run(clinics: int, duration: float, files: int, large_every: int, browsers: int) -> str:
    """`python -m bench load`: the stack at TISSFLOW_LOAD_GATEWAY, or one started here."""
    from bench.stack import started_stack

    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    with started_stack("load") as gateway:
        out = asyncio.run(run_load(gateway, kafka, clinics, duration, files, large_every, browsers))
    return report(out) + "\n" + json.dumps(summary(out))
