"""The services a benchmark drives: its own set, on its own database prefix and ports.

`started_stack` starts every service (and `validation_instances` validation processes in
the same consumer group), seeds the demo's clinics and yields the gateway's URL; with
`TISSFLOW_LOAD_GATEWAY` set it drives that gateway instead and starts nothing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tissflow_runtime.local import SERVICES, ServiceSet, service_env

ROOT = Path(__file__).resolve().parents[1]


def bench_env(prefix: str, offset: int | None = None) -> dict[str, str]:
    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    mongo = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
    if offset is None:
        offset = int(os.environ.get("TISSFLOW_BENCH_PORT_OFFSET", "12000"))
    return service_env(
        offset,
        TISSFLOW_KAFKA_BOOTSTRAP=kafka,
        TISSFLOW_MONGODB_URL=mongo,
        TISSFLOW_DB_PREFIX=prefix,
        TISSFLOW_LOG_LEVEL="WARNING",
    )


class BenchStack:
    """A running set of services (see the module's docstring)."""

    def __init__(self, name: str, prefix: str | None = None, validation_instances: int = 1):
        import asyncio

        from tissflow_runtime.topics import ensure_topics

        self.prefix = prefix or f"{name}{uuid.uuid4().hex[:6]}"
        self.env = bench_env(self.prefix)
        asyncio.run(ensure_topics(self.env["TISSFLOW_KAFKA_BOOTSTRAP"]))
        self.services = ServiceSet(
            env=self.env, log_dir=ROOT / ".local" / "bench-logs" / self.prefix
        )
        self.extra: list[ServiceSet] = []
        self.validation_instances = validation_instances

    @property
    def gateway(self) -> str:
        return self.services.url("gateway")

    def start(self, seed: bool = True) -> None:
        self.services.start(*SERVICES)
        self.services.wait_ready(*SERVICES, timeout=120)
        for n in range(1, self.validation_instances):
            self.add_validation(n)
        if seed:
            for module in ("tissflow_demo.validation_seed", "tissflow_gateway.seed"):
                subprocess.run(
                    [sys.executable, "-m", module], env=self.env, check=True, capture_output=True
                )

    def add_validation(self, n: int) -> None:
        """Another validation process in the same consumer group (its own HTTP port)."""
        with socket.socket() as probe:  # a port nobody holds now
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**self.env, "TISSFLOW_VALIDATION_URL": f"http://127.0.0.1:{port}"}
        extra = ServiceSet(env=env, log_dir=self.services.log_dir / f"validation-{n}")
        extra.start("validation")
        extra.wait_ready("validation", timeout=120)
        self.extra.append(extra)

    def validation_urls(self) -> tuple[str, ...]:
        """Every validation instance's HTTP address (its `/metrics`)."""
        return (self.services.url("validation"),) + tuple(
            extra.url("validation") for extra in self.extra
        )

    def pids(self) -> dict[str, int]:
        out = {name: proc.pid for name, proc in self.services.procs.items()}
        for n, extra in enumerate(self.extra, start=1):
            out[f"validation#{n + 1}"] = extra.procs["validation"].pid
        return out

    def stop(self) -> None:
        for extra in self.extra:
            extra.stop()
        self.services.stop()


@contextmanager
def started_stack(name: str, validation_instances: int = 1) -> Iterator[str]:
    given = os.environ.get("TISSFLOW_LOAD_GATEWAY")
    if given:
        yield given
        return
    stack = BenchStack(name, validation_instances=validation_instances)
    try:
        stack.start()
        yield stack.gateway
    finally:
        stack.stop()
