"""Fixtures of the security suite: the ops user and a portal login."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.support import Api, Stack


@pytest.fixture(scope="session")
def ops_api(stack: Stack) -> Api:
    return Api.login(stack.services.url("gateway"), "ops", "ops123")


@contextmanager
def portal_login(base: str, username: str, password: str) -> Iterator[tuple[httpx.Client, str]]:
    """A logged-in portal client (cookies) and its session's CSRF token."""
    with httpx.Client(base_url=base, timeout=60, headers={"Accept": "text/html"}) as client:
        form = client.get("/login")
        login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert login_csrf, form.text
        logged = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": login_csrf[1]},
        )
        assert logged.status_code == 303, logged.text
        page = client.get("/uploads/novo")
        csrf = re.search(r'data-csrf="([^"]+)"', page.text)
        yield client, csrf[1] if csrf else ""
