"""The first login of an installation is made from the command line, and works at once."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.support import Api, Stack

pytestmark = pytest.mark.e2e


def _users(
    stack: Stack, *args: str, password: str, env: str = "test"
) -> subprocess.CompletedProcess[str]:
    environ = {**stack.services.env, "TISSFLOW_NEW_PASSWORD": password, "TISSFLOW_ENV": env}
    if env == "production":
        environ["TISSFLOW_INTERNAL_TOKEN"] = "x" * 40
    return subprocess.run(
        [sys.executable, "-m", "tissflow_gateway.users", "create", *args],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_users_create_makes_a_login_the_api_accepts(stack: Stack) -> None:
    login = f"ana{uuid.uuid4().hex[:6]}"
    done = _users(
        stack,
        "--login",
        login,
        "--nome",
        "Ana Souza",
        "--papel",
        "operadora",
        password="uma senha longa e boa",
    )
    assert done.returncode == 0, done.stderr
    assert f"login {login} (operadora) pronto" in done.stdout
    api = Api.login(stack.services.url("gateway"), login, "uma senha longa e boa")
    me = api.get("/me").json()
    assert (me["username"], me["role"], me["nome"]) == (login, "operadora", "Ana Souza")


def test_users_create_refuses_a_weak_password_in_production(stack: Stack) -> None:
    login = f"bia{uuid.uuid4().hex[:6]}"
    done = _users(
        stack,
        "--login",
        login,
        "--nome",
        "Bia",
        "--papel",
        "ops",
        password="curta",
        env="production",
    )
    assert done.returncode != 0
    assert "pelo menos 12 caracteres" in done.stderr
    refused = httpx.post(
        f"{stack.services.url('gateway')}/api/v1/auth/token",
        json={"username": login, "password": "curta"},
    )
    assert refused.status_code == 401, "nothing was created"


def test_a_provider_login_needs_its_provider(stack: Stack) -> None:
    done = _users(stack, "--login", "x", "--nome", "X", "--papel", "prestador", password="p")
    assert done.returncode == 2 and "--prestador" in done.stderr


def test_the_demo_seed_never_runs_in_production(stack: Stack) -> None:
    environ = {**os.environ, **stack.services.env, "TISSFLOW_ENV": "production"}
    environ["TISSFLOW_INTERNAL_TOKEN"] = "y" * 40
    done = subprocess.run(
        [sys.executable, "-m", "tissflow_gateway.seed"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "não são criados em production" in done.stderr
