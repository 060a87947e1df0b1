"""Wires Digitação de Guias into the batching service: its real repositories.

`routes(runtime)` returns the internal router to serve with the service's other routers
and registers the indexes at start-up.
"""

from __future__ import annotations

from fastapi import APIRouter
from tissflow_runtime.service import ServiceRuntime

from tissflow_batching.digitacao.adapters import Repositorio
from tissflow_batching.digitacao.entrypoints import router_digitacao


def routes(runtime: ServiceRuntime) -> APIRouter:
    repo = Repositorio(runtime.db, runtime.write_lock)

    @runtime.on_startup
    async def _indices(db: object) -> None:
        await repo.criar_indices()

    return router_digitacao(repo, lambda: runtime.settings.operadora_registro_ans)
