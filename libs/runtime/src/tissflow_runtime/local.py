"""Starts and stops tissflow's services as local processes (for `make run` and the tests).

Each service runs as `python -m tissflow_<name>` with its output in `<log_dir>/<name>.log`;
`wait_ready` polls every `/readyz` and names the service (and its log) that did not come up;
`Supervisor` restarts a service that exited or that stayed unready too long.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tissflow_runtime.settings import SERVICE_PORTS

SERVICES = (
    "ingest",
    "validation",
    "batching",
    "protocol",
    "statements",
    "recursos",
    "gateway",
)


def service_env(base_port_offset: int = 0, **overrides: str) -> dict[str, str]:
    """Environment for a set of services whose ports are the defaults plus an offset."""
    env = dict(os.environ)
    for name, port in SERVICE_PORTS.items():
        env[f"TISSFLOW_{name.upper()}_URL"] = f"http://127.0.0.1:{port + base_port_offset}"
    env.update(overrides)
    return env


@dataclass
class ServiceSet:
    env: dict[str, str]
    log_dir: Path
    run_dir: Path | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.env[f"TISSFLOW_{name.upper()}_URL"]

    def start(self, *names: str, extra_env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in names or SERVICES:
            if name in self.procs and self.procs[name].poll() is None:
                continue
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"tissflow_{name}"],
                env={**self.env, **(extra_env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            if self.run_dir is not None:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                (self.run_dir / f"{name}.pid").write_text(str(self.procs[name].pid))

    def wait_ready(self, *names: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names or self.procs)
        while pending:
            name = pending[0]
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(self._failure(name, f"terminou com código {proc.returncode}"))
            try:
                if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(self._failure(name, f"não ficou pronto em {timeout:.0f} s"))
            time.sleep(0.2)

    def _failure(self, name: str, what: str) -> str:
        log = self.log_dir / f"{name}.log"
        tail = ""
        if log.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        return f"O serviço {name} {what}. Log: {log}\n{tail}"

    def stop(self, *names: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        targets = [n for n in (names or list(self.procs)) if n in self.procs]
        for name in targets:
            if self.procs[name].poll() is None:
                self.procs[name].send_signal(sig)
        for name in targets:
            try:
                self.procs[name].wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.procs[name].kill()
                self.procs[name].wait()
            if self.run_dir is not None:
                (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
            del self.procs[name]

    def kill(self, name: str) -> None:
        """SIGKILL: the crash the outbox must survive."""
        self.stop(name, sig=signal.SIGKILL, timeout=5)


def probe_ready(url: str) -> bool:
    """One `/readyz` probe (2 s at most)."""
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Supervisor:
    """What `make run` does every few seconds: restart a service whose process exited, and
    one that has been unready for `unready_seconds` in a row (a wedged client that its
    dependency's return did not cure; a restart does)."""

    services: ServiceSet
    unready_seconds: float = 60.0
    probe: Callable[[str], bool] = probe_ready
    clock: Callable[[], float] = time.monotonic
    say: Callable[[str], None] = print
    unready_since: dict[str, float] = field(default_factory=dict)

    def check(self) -> list[str]:
        """One round; returns the services restarted."""
        restarted = []
        now = self.clock()
        for name, proc in list(self.services.procs.items()):
            if proc.poll() is not None:
                self.say(f"AVISO: {name} parou (código {proc.returncode}); reiniciando")
            elif name in SERVICES and not self.probe(self.services.url(name)):
                since = self.unready_since.setdefault(name, now)
                if now - since < self.unready_seconds:
                    continue
                self.say(f"AVISO: {name} sem prontidão há {now - since:.0f} s; reiniciando")
                self.services.stop(name, timeout=10)
            else:
                self.unready_since.pop(name, None)
                continue
            self.unready_since.pop(name, None)
            self.services.procs.pop(name, None)
            self.services.start(name)
            restarted.append(name)
        return restarted
