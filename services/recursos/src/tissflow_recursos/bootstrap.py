"""Wires the recursos service: settings, runtime (MongoDB, Kafka, outbox relay), the
repositories, the consumers and the internal routes."""

from __future__ import annotations

from typing import Any

from tissflow_runtime.service import ServiceRuntime

from tissflow_recursos.adapters.mongo import Repos
from tissflow_recursos.config import RecursosSettings

settings = RecursosSettings()
runtime = ServiceRuntime("recursos", settings)
runtime.outbox_collections("recursos", "operadora_recursos")
repos = Repos(runtime.db, runtime.write_lock)


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await repos.create_indexes()


def build_app() -> Any:
    from tissflow_recursos.entrypoints import consumers, http

    consumers.register(runtime, repos, settings)
    return runtime.create_app([http.build_router(runtime, repos, settings)])
