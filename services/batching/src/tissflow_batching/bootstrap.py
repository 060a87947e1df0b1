"""Wires batching for the process: the runtime, the Mongo adapters, consumers and routes.

Unit tests build `Deps` with fakes instead (tests/fakes.py).
"""

from __future__ import annotations

from typing import Any

from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_batching.adapters.mongo import (
    MongoConfigRepository,
    MongoLoteRepository,
    MongoNotaFiscalStore,
    MongoNumberSequence,
)
from tissflow_batching.digitacao.bootstrap import routes as digitacao_routes
from tissflow_batching.entrypoints import consumers
from tissflow_batching.entrypoints import recursos as recursos_consumers
from tissflow_batching.entrypoints.routes import build_router
from tissflow_batching.service_layer.lotes import Deps

settings = ServiceSettings()
runtime = ServiceRuntime("batching", settings)
runtime.outbox_collections("lotes")


class _RuntimeOutbox:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    def event(self, payload: Any, *, key: str, correlation_id: str) -> dict[str, Any]:
        return self.runtime.event(payload, key=key, correlation_id=correlation_id)

    def notify(self, collection: str | None = None, doc_id: Any = None) -> None:
        self.runtime.relay.notify(collection, doc_id)


lote_repository = MongoLoteRepository(runtime.db, runtime.write_lock)
config_repository = MongoConfigRepository(runtime.db)
deps = Deps(
    lotes=lote_repository,
    numbers=MongoNumberSequence(runtime.db, runtime.write_lock),
    outbox=_RuntimeOutbox(runtime),
    config=config_repository,
    notas=MongoNotaFiscalStore(runtime.db),
    registro_ans=settings.operadora_registro_ans,
    operadora_nome=settings.operadora_nome,
)


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await lote_repository.create_indexes()


consumers.register(runtime, deps)
recursos_consumers.register(runtime, deps)
# Typed guides (Digitação) keep their own rooms under digitacao/ and add their routes.
app = runtime.create_app([build_router(deps, config_repository), digitacao_routes(runtime)])
