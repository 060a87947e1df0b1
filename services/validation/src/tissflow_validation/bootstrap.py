"""Wires the validation service: MongoDB repositories, the ingest client and the outbox
for the process, or the fakes a test passes in; `build()` returns the runnable service.

Validation judges each uploaded revision with the TISS engine and keeps the critiques.
It consumes `file.uploaded` (fetching the bytes from ingest: claim check) and
`lote.deleted`, and produces `file.validated`. Its internal API (under `/internal`,
internal token) serves the provider's online correction, the operator's registry (JSON
and CSV) and the operator's rule settings. Owns the database `<prefix>_validation`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI
from tissflow_contracts import Topic
from tissflow_runtime.publisher import RuntimePublisher
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_validation.adapters.ingest import IngestClient
from tissflow_validation.adapters.mongo import (
    MongoCorrectionStates,
    MongoGuides,
    MongoRegistry,
    MongoResults,
    MongoRules,
)
from tissflow_validation.entrypoints import consultas, corrections, estatisticas, registry, rules
from tissflow_validation.entrypoints.consumers import build_consumers
from tissflow_validation.service_layer.batch_cache import batch_scope
from tissflow_validation.service_layer.ports import Adapters

BATCH = 32


class ValidationSettings(ServiceSettings):
    # `file.uploaded` records read and judged together (TISSFLOW_VALIDATION_BATCH; 1:
    # one at a time). Their look-ups are shared and they are committed once (ADR 0019).
    validation_batch: int = BATCH


@dataclass
class Validation:
    runtime: ServiceRuntime
    app: FastAPI
    adapters: Adapters


def real_adapters(runtime: ServiceRuntime) -> Adapters:
    """The process's adapters over its MongoDB database and the internal client."""
    results, guides = MongoResults(runtime.db), MongoGuides(runtime.db)
    registry = MongoRegistry(runtime.db)

    @runtime.on_startup
    async def create_indexes(db: Any) -> None:
        await results.create_indexes()
        await guides.create_indexes()
        await registry.create_indexes()

    return Adapters(
        registro_ans=runtime.settings.operadora_registro_ans,
        results=results,
        guides=guides,
        registry=registry,
        rules=MongoRules(runtime.db),
        states=MongoCorrectionStates(runtime.db, runtime.write_lock),
        ingest=IngestClient(runtime.internal),
        publisher=RuntimePublisher(runtime),
    )


def build(settings: ServiceSettings | None = None, **fakes: Any) -> Validation:
    """The service; keyword arguments replace adapters (`results=FakeResults()`, ...)."""
    settings = settings or ValidationSettings()
    runtime = ServiceRuntime("validation", settings)
    runtime.outbox_collections("results")
    adapters = real_adapters(runtime)
    if fakes:
        adapters = replace(adapters, **fakes)
    batch = settings.validation_batch if isinstance(settings, ValidationSettings) else BATCH
    for topic, handler in build_consumers(adapters).items():
        if topic == Topic.FILE_UPLOADED:
            runtime.consumers.register(topic, handler, batch=batch, batch_scope=batch_scope)
        else:
            runtime.consumers.register(topic, handler)
    routers = [m.build_router(adapters) for m in (corrections, registry, rules, consultas)]
    routers.append(estatisticas.build_router(runtime.db))
    return Validation(runtime, runtime.create_app(routers), adapters)
