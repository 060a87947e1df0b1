"""The publisher's seal: what tells this deployment's events from another's (ADR 0021)."""

from __future__ import annotations

from types import SimpleNamespace

from tissflow_runtime.publisher import RuntimePublisher
from tissflow_runtime.settings import ServiceSettings


def publisher(**settings: str) -> RuntimePublisher:
    return RuntimePublisher(SimpleNamespace(settings=ServiceSettings(**settings)))  # type: ignore[arg-type]


def test_two_services_of_one_deployment_agree_and_another_deployment_does_not() -> None:
    ingest, validation = publisher(db_prefix="tissflow"), publisher(db_prefix="tissflow")
    assert ingest.seal("f1:1:abc") == validation.seal("f1:1:abc")
    assert ingest.seal("f1:1:abc") != ingest.seal("f1:2:abc")
    assert publisher(db_prefix="t1234abcd").seal("f1:1:abc") != ingest.seal("f1:1:abc")
    other_secret = publisher(db_prefix="tissflow", internal_token="x" * 40)
    assert other_secret.seal("f1:1:abc") != ingest.seal("f1:1:abc")
