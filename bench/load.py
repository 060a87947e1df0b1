"""Load generator (`make test-load`, `python -m bench load`): many clinics at once.

Two ways to offer load, both through the public API (`/api/v1`, the demo's provider
logins) while `browsers` clerks page through the portal's lists (Histórico, Pesquisa de
Lotes, Demonstrativos) and download statements:

- **open loop, at a stated rate** (`rate` files/s, the default of `make test-load`):
  uploads arrive at that rate whatever the system does (Poisson arrivals by default, or
  evenly spaced), spread round-robin over the `clinics` clinics, a clinic's uploads
  overlapping when the system is slow. Latency runs from an upload's *scheduled* arrival
  (a late start counts against the system, not the generator) to its verdict. This is
  the latency under load: when the system keeps up, achieved ≈ offered and the p95 is the
  system's; when it does not, the report says so (achieved < offered).
- **closed loop** (`rate` None): each clinic uploads back to back with no think time,
  `clinics` uploads in flight at all times. This finds the saturation throughput (max
  files/s); its latency is mostly the queue it builds (Little's law), not the work.

Every `file.validated` (and `file.uploaded`, for where the time goes) is read from
Kafka: throughput is files judged per second through the whole pipeline. The run is
bounded: uploads stop after `duration` seconds or `files` files per clinic, arrivals in
flight are capped (`max_in_flight`), and the last verdicts are awaited at most
`verdict_timeout` seconds.

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from tissflow_contracts import Topic
from tissflow_demo.samples import build_lote, build_lote_grande

from bench.procs import CPU_HEADERS, CpuMeter, load_average, step_means, validation_steps
from bench.report import median, ms, percentile, table

# (login, password, CNPJ, operator code): the demo's two clinics.
LOGINS = [
    ("odontoarte", "odontoarte123", "07906129000102", "100234"),
    ("sorriso", "sorriso123", "11222333000181", "100300"),
]


@dataclass
class Outcome:
    clinics: int
    rate: float | None = None  # offered files/s (open loop); None: closed loop
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
    # Open loop: arrivals scheduled, their span, and how many started late (> 100 ms after
    # their time: the generator's cap on uploads in flight, or its own CPU).
    scheduled: int = 0
    schedule_span: float = 0.0
    late: int = 0
    cpu: CpuMeter | None = None  # per-process CPU over the run, when the pids were given
    steps: dict[str, tuple[float, int]] = field(default_factory=dict)  # validation /metrics

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
        claim check, engine, result, its relay) until `file.validated` is read. (Open
        loop: stage 1 starts at the scheduled arrival, so a late start shows there.)"""
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
        """Files judged per second, from the first arrival to the last verdict."""
        judged = [self.verdicts[f] for f in self.uploaded if f in self.verdicts]
        if not judged:
            return 0.0
        return len(judged) / max(1e-9, max(judged) - self.started)

    @property
    def offered_per_s(self) -> float | None:
        if self.rate is None or self.scheduled < 2:
            return None
        # n arrivals span n - 1 gaps
        return (self.scheduled - 1) / max(1e-9, self.schedule_span)

    @property
    def accepted_per_s(self) -> float:
        if not self.accepted:
            return 0.0
        return len(self.accepted) / max(1e-9, max(self.accepted.values()) - self.started)


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


def _file(clinic: int, large: bool, number: Iterator[int], large_mb: float) -> bytes:
    _, _, cnpj, codigo = LOGINS[clinic % len(LOGINS)]
    first = next(number)
    if large:
        for _ in range(20):
            next(number)
        return build_lote_grande(
            large_mb, n_guias=20, cnpj=cnpj, codigo_prestador=codigo, numero_guia_inicial=first
        )
    return build_lote(
        "consulta", n_guias=1, cnpj=cnpj, codigo_prestador=codigo, numero_guia_inicial=first
    )


def build_files(
    clinics: int, per_clinic: int, large_every: int, large_mb: float = 1.0
) -> list[list[tuple[str, bytes]]]:
    """Each clinic's files, built before the clock starts, with guide numbers no other
    file used (the engine refuses a guide presented before). Round by round (every
    clinic's i-th file, then the (i+1)-th), every `large_every`-th file is a lote of
    ~`large_mb` MB (20 guides), the others one consulta (~3 KB): the large ones are spread
    over the run and over the clinics, not sent by every clinic at the same moment."""
    number = itertools.count(10**9 + random.randrange(10**8) * 10)
    out: list[list[tuple[str, bytes]]] = [[] for _ in range(clinics)]
    for i in range(per_clinic):
        for c in range(clinics):
            k = i * clinics + c  # the order of arrival in the open loop
            large = bool(large_every) and k % large_every == large_every - 1
            out[c].append((f"carga-{c}-{i}.xml", _file(c, large, number, large_mb)))
    return out


async def _upload(
    login: str,
    client: httpx.AsyncClient,
    name: str,
    content: bytes,
    t0: float,
    out: Outcome,
) -> None:
    """One upload; `t0` is when it was due (its latency starts there)."""
    try:
        response = await client.post(
            "/uploads", files={"arquivo": (name, content, "application/xml")}
        )
    except httpx.HTTPError as exc:
        out.refused.append(f"{name}: {type(exc).__name__}")
        return
    if response.status_code >= 300:
        out.refused.append(f"{name}: HTTP {response.status_code} {response.text[:200]}")
        return
    file_id = response.json()["file_id"]
    out.accepted[file_id] = time.perf_counter()
    out.uploaded[file_id] = t0
    out.sizes[file_id] = len(content)
    out.logins[file_id] = login


async def _clinic(
    login: str,
    client: httpx.AsyncClient,
    files: list[tuple[str, bytes]],
    deadline: float,
    out: Outcome,
) -> None:
    """Closed loop: the clinic's uploads back to back, no think time."""
    for name, content in files:
        if time.perf_counter() > deadline:
            return
        await _upload(login, client, name, content, time.perf_counter(), out)


def arrival_times(
    rate: float, duration: float, limit: int, arrivals: str, rng: random.Random
) -> list[float]:
    """Offsets (s from the start) of the open loop's arrivals: `rate` per second for
    `duration` seconds, at most `limit`; Poisson (exponential gaps) or evenly spaced."""
    times: list[float] = []
    t = 0.0
    while len(times) < limit:
        if times or arrivals == "poisson":
            t += rng.expovariate(rate) if arrivals == "poisson" else 1.0 / rate
        if t >= duration:
            break
        times.append(t)
    return times


async def _open_loop(
    work: list[list[tuple[str, bytes]]],
    clients: list[httpx.AsyncClient],
    rate: float,
    duration: float,
    arrivals: str,
    max_in_flight: int,
    out: Outcome,
) -> None:
    """Uploads at `rate` files/s (see the module's docstring); returns when every
    upload started has been answered."""
    clinics = len(work)
    order = [(c, i) for i in range(len(work[0]) if work else 0) for c in range(clinics)]
    times = arrival_times(rate, duration, len(order), arrivals, random.Random(20))
    out.scheduled = len(times)
    out.schedule_span = times[-1] - times[0] if times else 0.0
    slots = asyncio.Semaphore(max_in_flight)
    tasks: set[asyncio.Task[None]] = set()

    async def one(c: int, i: int, due: float) -> None:
        async with slots:
            if time.perf_counter() - due > 0.1:
                out.late += 1
            name, content = work[c][i]
            login = LOGINS[c % len(LOGINS)][0]
            await _upload(login, clients[c % len(clients)], name, content, due, out)

    for (c, i), offset in zip(order, times, strict=False):
        due = out.started + offset
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(c, i, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*list(tasks))


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
    *,
    rate: float | None = None,
    arrivals: str = "poisson",
    max_in_flight: int = 400,
    pids: dict[str, int] | None = None,
    validation_urls: tuple[str, ...] = (),
) -> Outcome:
    """Drive the running stack (see the module's docstring); returns what was measured.
    `pids` (name → pid) adds the CPU each process spent over the run;
    `validation_urls` adds validation's step times from its `/metrics`."""
    out = Outcome(clinics=clinics, rate=rate)
    work = build_files(clinics, files, large_every)
    clients = [await _login(gateway, u, p) for u, p, _, _ in LOGINS]
    verdicts = Verdicts(kafka, out)
    await verdicts.start()
    stop_browsing = asyncio.Event()
    steps_before = [validation_steps(url) for url in validation_urls]
    try:
        rounds = [0] * browsers
        browsing = [
            asyncio.create_task(_browser(clients[b % len(clients)], stop_browsing, out, rounds, b))
            for b in range(browsers)
        ]
        if pids is not None:
            out.cpu = CpuMeter(dict(pids)).start()
        out.started = time.perf_counter()
        if rate is not None:
            await _open_loop(work, clients, rate, duration, arrivals, max_in_flight, out)
        else:
            deadline = out.started + duration
            await asyncio.gather(
                *(
                    _clinic(
                        LOGINS[c % len(LOGINS)][0],
                        clients[c % len(clients)],
                        work[c],
                        deadline,
                        out,
                    )
                    for c in range(clinics)
                )
            )
        out.uploads_done = time.perf_counter()
        wait_until = time.perf_counter() + verdict_timeout
        while out.lost and time.perf_counter() < wait_until:  # noqa: ASYNC110 - polls Kafka's tally
            await asyncio.sleep(0.1)
        if out.cpu is not None:
            out.cpu.stop()
        # Every clerk pages every list at least once, however fast the verdicts came.
        while min(rounds, default=1) < 1 and time.perf_counter() < wait_until:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        stop_browsing.set()
        await asyncio.gather(*browsing, return_exceptions=True)
        await asyncio.sleep(1.0)  # a repeated verdict would come right after the first
        for url, before in zip(validation_urls, steps_before, strict=True):
            for step, (mean, n) in step_means(before, validation_steps(url)).items():
                # several instances: the mean over all of them
                m0, n0 = out.steps.get(step, (0.0, 0))
                out.steps[step] = ((m0 * n0 + mean * n) / (n0 + n), n0 + n)
    finally:
        stop_browsing.set()
        await verdicts.stop()
        for client in clients:
            await client.aclose()
    return out


def _pcts(samples: list[float]) -> str:
    return " / ".join(ms(percentile(samples, q)) for q in (50, 95, 99))


def report(out: Outcome, title: str = "") -> str:
    all_ = out.latencies()
    small, large = out.latencies(large=False), out.latencies(large=True)
    if out.rate is not None:
        mode = f"aberto: {out.rate:g} arquivos/s oferecidos, {out.clinics} clínicas"
    else:
        mode = f"fechado: {out.clinics} clínicas enviando sem pausa (saturação)"
    rows = [["modo", mode, ""]]
    if out.rate is not None and out.offered_per_s is not None:
        rows.append(
            [
                "oferecido → aceito pela API / julgado",
                f"{out.offered_per_s:.1f} → {out.accepted_per_s:.1f} / "
                f"{out.files_per_s:.1f} arquivos/s",
                f"{out.scheduled} chegadas; {out.late} começaram > 100 ms atrasadas",
            ]
        )
        if out.files_per_s < 0.9 * out.offered_per_s:
            rows.append(
                [
                    "  o sistema não acompanhou a taxa oferecida",
                    f"{out.files_per_s / out.offered_per_s:.0%} dela julgada",
                    "a latência abaixo é a da fila que cresceu; a vazão máxima: modo fechado",
                ]
            )
    rows += [
        ["arquivos aceitos / com veredito", f"{len(out.uploaded)} / {len(out.verdicts)}", ""],
        ["sem veredito (perdidos)", str(len(out.lost)), "meta: 0"],
        ["com mais de um veredito", str(len(out.duplicated)), "meta: 0"],
        ["recusados pela API", str(len(out.refused)), out.refused[0][:120] if out.refused else ""],
        [
            "vazão (julgados/s)",
            f"{out.files_per_s:.1f} arquivos/s",
            "meta: ≥ 40 pequenos/s"
            + (" (máximo: modo fechado)" if out.rate is None else " (a esta taxa)"),
        ],
    ]
    for label, samples in (("todos", all_), ("≤ 100 KB", small), ("~1 MB", large)):
        if samples:
            rows.append(
                [
                    f"upload → veredito, {label}, p50 / p95 / p99",
                    _pcts(samples),
                    f"{len(samples)} arquivos" + ("; meta p95 ≤ 2 s" if label != "todos" else ""),
                ]
            )
    for label, samples in out.stages().items():
        if samples:
            rows.append([f"  {label}, p50 / p95 / p99", _pcts(samples), "onde o tempo vai"])
    for step, (mean, n) in sorted(out.steps.items(), key=lambda kv: -kv[1][0]):
        rows.append([f"    validação /metrics: {step}, média", ms(mean), f"{n} vezes"])
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
    text = table(title or "Carga: clínicas enviando pela API", ["medida", "valor", "nota"], rows)
    if out.cpu is not None:
        text += "\n" + table(
            f"CPU por processo durante a carga ({out.cpu.wall:.0f} s, {len(out.verdicts)} "
            f"vereditos; carga média antes {out.cpu.load_before}, depois {out.cpu.load_after})",
            CPU_HEADERS,
            out.cpu.rows(len(out.verdicts)),
        )
    return text


def summary(out: Outcome) -> dict[str, Any]:
    lat = out.latencies()
    small, large = out.latencies(large=False), out.latencies(large=True)

    def p(samples: list[float], q: float) -> float | None:
        return round(percentile(samples, q) * 1000, 1) if samples else None

    return {
        "clinics": out.clinics,
        "rate": out.rate,
        "offered_per_s": round(out.offered_per_s, 1) if out.offered_per_s else None,
        "uploaded": len(out.uploaded),
        "lost": len(out.lost),
        "duplicated": len(out.duplicated),
        "refused": len(out.refused),
        "first_refusal": out.refused[0][:160] if out.refused else None,
        "late": out.late,
        "files_per_s": round(out.files_per_s, 1),
        "p50_ms": p(lat, 50),
        "p95_ms": p(lat, 95),
        "p99_ms": p(lat, 99),
        "small_p95_ms": p(small, 95),
        "large_p95_ms": p(large, 95),
        "stages_p50_ms": {
            k.split(".")[0]: round(median(v) * 1000, 1) for k, v in out.stages().items() if v
        },
        "cpu_ms_per_file": out.cpu.per_file_ms(len(out.verdicts)) if out.cpu else None,
        "machine_busy": round(out.cpu.busy, 2) if out.cpu else None,
        "load_average": out.cpu.load_after if out.cpu else load_average(),
    }


def run(
    clinics: int,
    duration: float,
    files: int,
    large_every: int,
    browsers: int,
    rate: float | None = None,
    arrivals: str = "poisson",
    max_in_flight: int = 400,
) -> str:
    """`python -m bench load`: the stack at TISSFLOW_LOAD_GATEWAY, or one started here
    (then the CPU of its processes, FerretDB's and Kafka's is reported too)."""
    from bench.procs import server_pids
    from bench.stack import BenchStack

    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    options: dict[str, Any] = {"rate": rate, "arrivals": arrivals, "max_in_flight": max_in_flight}
    given = os.environ.get("TISSFLOW_LOAD_GATEWAY")
    if given:
        out = asyncio.run(
            run_load(given, kafka, clinics, duration, files, large_every, browsers, **options)
        )
    else:
        stack = BenchStack("load")
        try:
            stack.start()
            options["pids"] = {**stack.pids(), **server_pids()}
            options["validation_urls"] = stack.validation_urls()
            out = asyncio.run(
                run_load(
                    stack.gateway, kafka, clinics, duration, files, large_every, browsers, **options
                )
            )
        finally:
            stack.stop()
    return report(out) + "\n" + json.dumps(summary(out))
