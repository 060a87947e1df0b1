"""Wires Digitação de Guias into the batching service: real repositories and ingest client.

`routes(runtime)` returns the internal router to serve with the service's other routers
and registers the indexes at start-up.
"""

from __future__ import annotations

from fastapi import APIRouter
from tissflow_runtime.service import ServiceRuntime

from tissflow_batching.digitacao.adapters import IngestHttp, Repositorio
from tissflow_batching.digitacao.entrypoints import router_digitacao


def routes(runtime: ServiceRuntime) -> APIRouter:
    repo = Repositorio(runtime.db, runtime.write_lock)

    @runtime.on_startup
    async def _indices(db: object) -> None:
        await repo.criar_indices()

    ingest = IngestHttp(lambda: runtime.http, runtime.settings.ingest_url)
    return router_digitacao(repo, ingest, lambda: runtime.settings.operadora_registro_ans)
