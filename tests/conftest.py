"""Fixtures for integration and e2e tests: the real Kafka and FerretDB, services as processes.

`make test` starts an isolated Kafka (127.0.0.1:19092) and FerretDB (127.0.0.1:27018) and
exports their addresses; the `stack` fixture starts all six services once per session with
their own database prefix and ports (18000, 18101, ...), seeds the demo and stops them at
the end. Service logs land in `test-artifacts/logs/`. `TISSFLOW_TEST_PORT_OFFSET` moves
the services' ports (default 10000: 18000, 18101, ...).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tissflow_runtime.local import SERVICES, ServiceSet, service_env

from tests.support import Api, Stack

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
KAFKA = os.environ.setdefault("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
MONGO = os.environ.setdefault("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    from tests.support import check_servers, create_topics

    check_servers(KAFKA, MONGO)
    create_topics(KAFKA)
    prefix = "t" + uuid.uuid4().hex[:8]
    # Parallel runs on one machine (several engineers) pick another offset.
    offset = int(os.environ.get("TISSFLOW_TEST_PORT_OFFSET", "10000"))
    env = service_env(
        offset,
        TISSFLOW_KAFKA_BOOTSTRAP=KAFKA,
        TISSFLOW_MONGODB_URL=MONGO,
        TISSFLOW_DB_PREFIX=prefix,
        TISSFLOW_OUTBOX_POLL_SECONDS="0.5",
        TISSFLOW_RETRY_BACKOFF_SECONDS="0.05",
    )
    services = ServiceSet(env=env, log_dir=ARTIFACTS / "logs" / prefix)
    services.start(*SERVICES)
    try:
        services.wait_ready(*SERVICES, timeout=90)
        for seed in ("tissflow_demo.validation_seed", "tissflow_gateway.seed"):
            subprocess.run([sys.executable, "-m", seed], env=env, check=True, timeout=60)
        yield Stack(services=services, prefix=prefix, kafka=KAFKA, mongo=MONGO)
    finally:
        services.stop()


@pytest.fixture(scope="session")
def clinica(stack: Stack) -> Api:
    """ODONTO ARTE LTDA's billing clerk, through the public API with a token."""
    return Api.login(stack.services.url("gateway"), "odontoarte", "odontoarte123")


@pytest.fixture(scope="session")
def outra_clinica(stack: Stack) -> Api:
    return Api.login(stack.services.url("gateway"), "sorriso", "sorriso123")


@pytest.fixture(scope="session")
def operadora(stack: Stack) -> Api:
    return Api.login(stack.services.url("gateway"), "operadora", "operadora123")
