"""Wires the statements service: settings, MongoDB adapters, the PDF renderer, consumers
and the internal app. Owns `<prefix>_statements` (projection `lotes`, `protocolos`; the
statement index `demonstrativos`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_statements.adapters.pdf import shared_renderer
from tissflow_statements.adapters.repository import (
    MongoDocumentCache,
    MongoProjection,
    MongoStatements,
    create_indexes,
)
from tissflow_statements.domain.operadora import Operadora
from tissflow_statements.entrypoints import consumers, glosas, routes
from tissflow_statements.service_layer.ports import Dependencias


def operadora_de(settings: ServiceSettings) -> Operadora:
    """The operator record every statement states, from `TISSFLOW_OPERADORA_*`."""
    return Operadora(
        registro_ans=settings.operadora_registro_ans,
        razao_social=settings.operadora_razao_social,
        nome_fantasia=settings.operadora_nome_fantasia,
        cnpj=settings.operadora_cnpj,
        endereco=settings.operadora_endereco,
        marca=settings.operadora_marca,
    )


log = logging.getLogger(__name__)
# One PDF at a time in the background: rendering is CPU work the requests also need.
_render_slot = asyncio.Semaphore(1)
_pending: set[asyncio.Task[None]] = set()


def in_background(work: Awaitable[None]) -> None:
    """Render ahead without holding the consumer; a failure only costs the cache."""

    async def run() -> None:
        async with _render_slot:
            try:
                await work
            except Exception:
                log.warning("pré-renderização do demonstrativo falhou", exc_info=True)

    task = asyncio.get_running_loop().create_task(run())
    _pending.add(task)
    task.add_done_callback(_pending.discard)


settings = ServiceSettings()
runtime = ServiceRuntime("statements", settings)
runtime.outbox_collections("demonstrativos")
runtime.on_startup(create_indexes)
deps = Dependencias(
    projection=MongoProjection(runtime.db),
    statements=MongoStatements(runtime.db, runtime.write_lock),
    operadora=operadora_de(settings),
    renderer=shared_renderer(),
    event=runtime.event,
    notify=runtime.relay.notify,
    cache=MongoDocumentCache(runtime.db),
    background=in_background,
)
consumers.register(runtime.consumers, deps)
app = runtime.create_app([routes.router_for(deps), glosas.router_for(runtime.db)])
