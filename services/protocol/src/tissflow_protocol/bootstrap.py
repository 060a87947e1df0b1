"""Wires the protocol service: settings, runtime (Kafka, MongoDB, outbox relay), the
MongoDB repository, the consumers and the internal routes. Unit tests build `Deps` with
`adapters.memory.MemoryProtocolos` instead."""

from __future__ import annotations

import asyncio
from typing import Any

from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings
from tissflow_tiss import glosa

from tissflow_protocol.adapters import capa_pdf
from tissflow_protocol.adapters.mongo import MongoProtocolos
from tissflow_protocol.service_layer.ports import Deps, Operadora


def descreve_glosa(codigo: str) -> str | None:
    row = glosa(codigo)
    return row.descricao if row else None


def operadora_de(settings: ServiceSettings) -> Operadora:
    """The operator record from settings: the Capa do Lote and every receipt state it."""
    return Operadora(
        registro_ans=settings.operadora_registro_ans,
        nome=settings.operadora_nome,
        razao_social=settings.operadora_razao_social,
        cnpj=settings.operadora_cnpj,
        nome_fantasia=settings.operadora_nome_fantasia,
        endereco=settings.operadora_endereco,
    )


def build(settings: ServiceSettings | None = None) -> tuple[ServiceRuntime, Deps, Any]:
    from tissflow_protocol.entrypoints import consumers, routes
    from tissflow_protocol.entrypoints import recursos as recursos_consumers

    settings = settings or ServiceSettings()
    runtime = ServiceRuntime("protocol", settings)
    runtime.outbox_collections("protocolos")
    repo = MongoProtocolos(runtime.db, runtime.write_lock, runtime.relay.notify)

    def event(payload: Any, key: str, correlation_id: str) -> dict[str, Any]:
        return runtime.event(payload, key=key, correlation_id=correlation_id)

    deps = Deps(
        repo=repo, event=event, operadora=operadora_de(settings), descreve_glosa=descreve_glosa
    )

    @runtime.on_startup
    async def indexes(db: Any) -> None:
        await repo.create_indexes()
        # WeasyPrint (Pango) takes seconds to import: not on the first Capa's request.
        asyncio.get_running_loop().run_in_executor(None, capa_pdf.warm_up)

    consumers.register(runtime, deps)
    recursos_consumers.register(runtime, deps)
    app = runtime.create_app([routes.router(deps)])
    return runtime, deps, app
