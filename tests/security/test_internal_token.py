"""The internal token (issue 22, item 2): no demo secret outside development, compared in
constant time, and no `/internal` route on the public gateway."""

from __future__ import annotations

import hmac
import os
import subprocess
import sys

import httpx
import pytest
from fastapi import HTTPException
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import DEMO_INTERNAL_TOKEN, ServiceSettings

from tests.support import Stack

pytestmark = pytest.mark.security


@pytest.mark.parametrize("token", [None, DEMO_INTERNAL_TOKEN, "curto-demais"])
def test_a_service_outside_development_refuses_to_start_without_a_real_secret(
    token: str | None,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TISSFLOW_INTERNAL_TOKEN"}
    env["TISSFLOW_ENV"] = "production"
    if token is not None:
        env["TISSFLOW_INTERNAL_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "tissflow_ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "TISSFLOW_INTERNAL_TOKEN" in done.stderr
    assert "pelo menos 32 caracteres" in done.stderr


def test_development_keeps_the_demo_token_and_production_takes_a_real_one() -> None:
    assert ServiceSettings(TISSFLOW_ENV="development").internal_token == DEMO_INTERNAL_TOKEN
    assert ServiceSettings(TISSFLOW_ENV="test").internal_token == DEMO_INTERNAL_TOKEN
    secret = "s" * 40
    assert ServiceSettings(TISSFLOW_ENV="production", internal_token=secret).internal_token


def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = ServiceRuntime("ingest", ServiceSettings(internal_token="t" * 40))
    check = runtime.require_internal()
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    check("t" * 40)
    for wrong in ("t" * 39 + "x", "", None):
        with pytest.raises(HTTPException) as refused:
            check(wrong)
        assert refused.value.status_code == 401
    assert len(compared) == 4


@pytest.mark.e2e
def test_dead_letters_are_not_reachable_through_the_public_gateway(stack: Stack) -> None:
    gateway = stack.services.url("gateway")
    headers = {"X-Internal-Token": DEMO_INTERNAL_TOKEN}
    for method, path in (
        ("GET", "/internal/dlq"),
        ("GET", "/internal/dlq?status=pendente"),
        ("POST", "/internal/dlq/x/reprocessar"),
    ):
        response = httpx.request(method, gateway + path, headers=headers, timeout=10)
        assert response.status_code in (404, 405), (path, response.status_code)
        assert "items" not in response.text
