"""Wires the ingest service: real adapters (MongoDB, GridFS, the outbox relay) for the
process, or the fakes a test passes in; `build()` returns the runnable service.

Ingest stores uploaded TISS files (their bytes in `conteudos`) and their revisions and
keeps their status. It produces `file.uploaded` for each stored revision and consumes
`file.validated` to mark a file `importado` or `invalido`. Owns the database `<prefix>_ingest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from tissflow_runtime.publisher import Publisher, RuntimePublisher
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_ingest import estatisticas
from tissflow_ingest.adapters import ContentDocuments, MongoFileRepository
from tissflow_ingest.entrypoints import build_consumers, build_router
from tissflow_ingest.service_layer import ContentStore, FileRepository


@dataclass
class Ingest:
    runtime: ServiceRuntime
    app: FastAPI
    files: FileRepository
    store: ContentStore
    publisher: Publisher


def build(
    settings: ServiceSettings | None = None,
    *,
    files: FileRepository | None = None,
    store: ContentStore | None = None,
    publisher: Publisher | None = None,
) -> Ingest:
    runtime = ServiceRuntime("ingest", settings or ServiceSettings())
    runtime.outbox_collections("files")
    if files is None:
        mongo_files = MongoFileRepository(runtime.db, runtime.write_lock)

        @runtime.on_startup
        async def create_indexes(db: Any) -> None:
            await mongo_files.create_indexes()

        files = mongo_files
    store = store or ContentDocuments(runtime.db)
    publisher = publisher or RuntimePublisher(runtime)
    for topic, handler in build_consumers(files).items():
        # Verdicts in batches: a file's in order, one commit per batch (ADR 0019).
        runtime.consumers.register(topic, handler, batch=32)
    app = runtime.create_app(
        [build_router(files, store, publisher), estatisticas.build_router(runtime.db)]
    )
    return Ingest(runtime, app, files, store, publisher)
