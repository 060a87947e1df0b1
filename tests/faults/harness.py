"""The fault suite's own world: a Kafka and a FerretDB started by `deploy/local/servers.sh`
in their own state dir, the six services as processes, a stream of uploads, and the
bookkeeping that turns a fault into one row of the report table.

Ports: Kafka `TISSFLOW_FAULTS_PORT_BASE` (default 19300; controller +1, FerretDB +2) and
services at the defaults plus `TISSFLOW_FAULTS_PORT_OFFSET` (default 10500: 18500,
18601...), so the suite runs beside `make test`'s own servers. Everything on 127.0.0.1;
every loop is bounded in count and time.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tissflow_demo.samples import build_lote
from tissflow_runtime.local import SERVICES, ServiceSet, service_env

from tests.support import Api, create_topics, fresh_guia

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "local" / "servers.sh"
# `make test-faults` sets it: more uploads per fault and every service killed in turn.
FULL = os.environ.get("TISSFLOW_FAULTS_FULL") == "1"
BASE = int(os.environ.get("TISSFLOW_FAULTS_PORT_BASE", "19300"))
OFFSET = int(os.environ.get("TISSFLOW_FAULTS_PORT_OFFSET", "10500"))
STATE = Path(os.environ.get("TISSFLOW_FAULTS_STATE_DIR", str(ROOT / ".local" / "test-faults")))


@dataclass
class Servers:
    """This suite's Kafka and FerretDB, driven by servers.sh as a user would."""

    state: Path = STATE
    kafka_port: int = BASE
    mongo_port: int = BASE + 2

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TISSFLOW_STATE_DIR": str(self.state),
            "TISSFLOW_KAFKA_PORT": str(self.kafka_port),
            "TISSFLOW_KAFKA_CONTROLLER_PORT": str(self.kafka_port + 1),
            "TISSFLOW_MONGO_PORT": str(self.mongo_port),
            # A shared CI machine can be slow to bring a broker back: be patient.
            "TISSFLOW_START_TIMEOUT": os.environ.get("TISSFLOW_START_TIMEOUT", "240"),
        }

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongo(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=400,
        )

    def pid(self, name: str) -> int:
        return int((self.state / "run" / f"{name}.pid").read_text())

    def kill9(self, name: str) -> None:
        os.kill(self.pid(name), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{self.pid(name)}").exists():
            time.sleep(0.1)


@dataclass
class Attempt:
    at: float
    status: int  # 0: no HTTP answer (connection refused or reset, timeout)
    file_id: str | None
    code: str | None = None


class UploadStream:
    """Uploads a valid one-guide file every `interval` seconds until stopped (at most
    `limit`), recording what the clinic saw each time."""

    def __init__(self, base: str, token: str, interval: float = 0.4, limit: int = 200) -> None:
        self._client = httpx.Client(
            base_url=f"{base}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=20,
        )
        self.interval = interval
        self.limit = limit
        self.attempts: list[Attempt] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.attempts) < self.limit:
            content = build_lote("consulta", 1, numero_guia_inicial=fresh_guia())
            at = time.monotonic()
            try:
                answer = self._client.post(
                    "/uploads",
                    files={"arquivo": ("falha.xml", content, "application/xml")},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                body = (
                    answer.json()
                    if answer.headers.get("content-type", "").startswith("application/json")
                    else {}
                )
                self.attempts.append(
                    Attempt(at, answer.status_code, body.get("file_id"), body.get("code"))
                )
            except httpx.HTTPError:
                self.attempts.append(Attempt(at, 0, None))
            self._stop.wait(self.interval)

    def __enter__(self) -> UploadStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self._client.close()

    @property
    def accepted(self) -> list[str]:
        return [a.file_id for a in self.attempts if a.status == 202 and a.file_id]

    def seen_between(self, start: float, end: float) -> str:
        """What the clinic saw in a window: `202×3 503×2 sem resposta×1`."""
        counts = collections.Counter(
            ("sem resposta" if a.status == 0 else str(a.status))
            for a in self.attempts
            if start <= a.at <= end
        )
        return " ".join(f"{k}×{v}" for k, v in sorted(counts.items())) or "—"


@dataclass
class World:
    servers: Servers
    services: ServiceSet
    prefix: str
    clinica: Api
    operadora: Api
    ops: Api
    token: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    poison_keys: set[str] = field(default_factory=set)

    @property
    def gateway(self) -> str:
        return self.services.url("gateway")

    def wait_ready(self, timeout: float = 120) -> float:
        """Seconds until every service answers ready (fails past `timeout`)."""
        started = time.monotonic()
        self.services.wait_ready(*SERVICES, timeout=timeout)
        return time.monotonic() - started

    def final_states(self, file_ids: list[str], timeout: float = 180) -> dict[str, str]:
        """Each file's status once none is em_processamento (or when time is up)."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        pending = list(file_ids)
        while pending and time.monotonic() < deadline:
            still = []
            for file_id in pending:
                try:
                    answer = self.clinica.get(f"/files/{file_id}")
                except httpx.HTTPError:
                    still.append(file_id)
                    continue
                status = answer.json().get("status") if answer.status_code == 200 else None
                if status in ("importado", "invalido"):
                    states[file_id] = status
                else:
                    still.append(file_id)
            pending = still
            if pending:
                time.sleep(0.5)
        return states

    def duplicated(self, states: dict[str, str]) -> int:
        """Files with more than one revision, or an imported file with other than one lote."""
        dup = 0
        for file_id, status in states.items():
            doc = self.clinica.get(f"/files/{file_id}").json()
            if len(doc.get("revisions", [])) != 1:
                dup += 1
                continue
            if status == "importado":
                total = _wait_total(self.clinica, "/lotes", {"file_id": file_id})
                if total != 1:
                    dup += 1
        return dup

    def run_fault(self, fault: str, inject: Any, restore: Any, during: float = 3.0) -> dict:
        """Uploads flow; `inject()` the fault, wait `during` s, `restore()`; then every
        accepted upload must reach exactly one final state. Returns the report row."""
        uploads = 12 if FULL else 6
        with UploadStream(self.gateway, self.token, interval=0.4, limit=uploads * 4) as stream:
            time.sleep(1.5)
            t_fault = time.monotonic()
            inject()
            time.sleep(during)
            restore()
            t_restore = time.monotonic()
            self.wait_ready()
            t_ready = time.monotonic()
            # A few uploads after the recovery, so the service is proven to work again.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and sum(
                1 for a in stream.attempts if a.at > t_ready and a.status == 202
            ) < max(2, uploads // 3):
                time.sleep(0.3)
        accepted = stream.accepted
        states = self.final_states(accepted)
        lost = len(accepted) - len(states)
        row = {
            "falha": fault,
            "aceitos": len(accepted),
            "finalizados": len(states),
            "perdidos": lost,
            "duplicados": self.duplicated(states),
            "recuperacao_s": round(t_ready - t_restore, 1),
            "usuario_viu": stream.seen_between(t_fault, t_ready),
        }
        self.rows.append(row)
        self.accepted += accepted
        return row


def _wait_total(api: Api, path: str, params: dict[str, Any], timeout: float = 30) -> int:
    """`total` of a listing once it is non-zero (or 0 when time is up)."""
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        total = api.get(path, params=params).json().get("total", 0)
        if total:
            return total
        time.sleep(0.3)
    return total


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/healthz", timeout=1)
    except httpx.HTTPError:
        return False
    return True


def start_world() -> World:
    servers = Servers()
    servers.state.mkdir(parents=True, exist_ok=True)
    reset = servers.run("reset")
    assert reset.returncode == 0, reset.stderr
    started = servers.run("start")
    assert started.returncode == 0, started.stderr
    create_topics(servers.kafka)
    prefix = "f" + uuid.uuid4().hex[:8]
    env = service_env(
        OFFSET,
        TISSFLOW_KAFKA_BOOTSTRAP=servers.kafka,
        TISSFLOW_MONGODB_URL=servers.mongo,
        TISSFLOW_DB_PREFIX=prefix,
        TISSFLOW_ENV="test",
        TISSFLOW_OUTBOX_POLL_SECONDS="0.5",
        TISSFLOW_RETRY_BACKOFF_SECONDS="0.05",
    )
    services = ServiceSet(env=env, log_dir=ROOT / "test-artifacts" / "logs" / prefix)
    busy = [name for name in SERVICES if _answers(services.url(name))]
    assert not busy, f"portas ocupadas por outro processo: {busy} (TISSFLOW_FAULTS_PORT_OFFSET)"
    services.start(*SERVICES)
    try:
        services.wait_ready(*SERVICES, timeout=240)
        for seed in ("tissflow_demo.validation_seed", "tissflow_gateway.seed"):
            subprocess.run([sys.executable, "-m", seed], env=env, check=True, timeout=120)
    except BaseException:
        services.stop()
        servers.run("stop")
        raise
    base = services.url("gateway")
    clinica = Api.login(base, "odontoarte", "odontoarte123")
    token = clinica.headers["Authorization"].split(" ", 1)[1]
    return World(
        servers=servers,
        services=services,
        prefix=prefix,
        clinica=clinica,
        operadora=Api.login(base, "operadora", "operadora123"),
        ops=Api.login(base, "ops", "ops123"),
        token=token,
    )


def table(rows: list[dict[str, Any]]) -> str:
    """The report: one line per fault."""
    header = ["falha", "aceitos", "finalizados", "perdidos", "duplicados", "recuperacao_s"]
    header.append("usuario_viu")
    widths = {h: max(len(h), *(len(str(r[h])) for r in rows)) for h in header} if rows else {}
    lines = [" | ".join(h.ljust(widths[h]) for h in header)]
    lines.append("-+-".join("-" * widths[h] for h in header))
    lines += [" | ".join(str(r[h]).ljust(widths[h]) for h in header) for r in rows]
    return "\n".join(lines)
