"""Internal HTTP routes of Digitação de Guias (`/internal/digitacao/...`, internal token).

The gateway calls them on behalf of a provider's clerk and always passes `provider_id`:
a provider reaches only its own guides and lotes. Domain refusals become
`{code, message, details}` with their HTTP status.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from tissflow_runtime.errors import http_status

from tissflow_batching.digitacao import service_layer as uc
from tissflow_batching.digitacao.adapters import Repositorio
from tissflow_batching.digitacao.domain.formularios import FORMULARIOS
from tissflow_batching.digitacao.domain.lotes import DigitacaoRecusada

Tipo = Literal["consulta", "sp_sadt", "odontologia", "honorarios"]


class Quem(BaseModel):
    provider_id: str = Field(min_length=1, max_length=20)
    by: str = Field(min_length=1, max_length=100)


class GuiaIn(Quem):
    tipo: Tipo
    campos: dict[str, str | None] = Field(default_factory=dict, max_length=80)
    itens: list[dict[str, str | None]] = Field(default_factory=list, max_length=200)
    lote_digitado_id: str | None = None


class GuiaEdit(Quem):
    campos: dict[str, str | None] = Field(default_factory=dict, max_length=80)
    itens: list[dict[str, str | None]] = Field(default_factory=list, max_length=200)


class LoteIn(Quem):
    tipo: Tipo


class EnvioIn(Quem):
    file_id: str = Field(min_length=1, max_length=64)


class GuiasIn(Quem):
    guia_ids: list[str] = Field(min_length=1, max_length=100)


def router_digitacao(repo: Repositorio, registro_ans: Callable[[], str]) -> APIRouter:
    router = APIRouter(prefix="/internal/digitacao", tags=["digitacao"])

    async def run(coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except DigitacaoRecusada as exc:
            raise HTTPException(
                http_status(exc), {"code": exc.code, "message": exc.message, "details": exc.details}
            ) from exc

    @router.get("/formularios/{tipo}")
    async def formulario(tipo: Tipo) -> dict[str, Any]:
        return FORMULARIOS[tipo].para_formulario()

    @router.get("/guias")
    async def listar_guias(
        provider_id: Annotated[str, Query(min_length=1)],
        tipo: Tipo | None = None,
        livres: bool = False,
        lote_digitado_id: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"provider_id": provider_id}
        if tipo:
            query["tipo"] = tipo
        if livres:
            query["lote_digitado_id"] = None
        if lote_digitado_id:
            query["lote_digitado_id"] = lote_digitado_id
        docs, total = await repo.listar_guias(query, (page - 1) * page_size, page_size)
        return {
            "items": [uc.publico_guia(d) for d in docs],
            "total": total,
            "page": page,
            "page_size": page_size,
        }

    @router.post("/guias", status_code=201)
    async def criar_guia(body: GuiaIn) -> dict[str, Any]:
        return await run(
            uc.salvar_guia(
                repo,
                provider_id=body.provider_id,
                por=body.by,
                tipo=body.tipo,
                campos=body.campos,
                itens=body.itens,
                lote_id=body.lote_digitado_id,
            )
        )

    @router.get("/guias/{guia_id}")
    async def obter_guia(guia_id: str, provider_id: Annotated[str, Query(min_length=1)]) -> Any:
        return uc.publico_guia(await run(repo.guia(provider_id, guia_id)))

    @router.put("/guias/{guia_id}")
    async def editar_guia(guia_id: str, body: GuiaEdit) -> dict[str, Any]:
        atual = await run(repo.guia(body.provider_id, guia_id))
        return await run(
            uc.salvar_guia(
                repo,
                provider_id=body.provider_id,
                por=body.by,
                tipo=atual["tipo"],
                campos=body.campos,
                itens=body.itens,
                guia_id=guia_id,
            )
        )

    @router.delete("/guias/{guia_id}")
    async def excluir_guia(
        guia_id: str, provider_id: Annotated[str, Query(min_length=1)]
    ) -> dict[str, Any]:
        await run(uc.excluir_guia(repo, provider_id=provider_id, guia_id=guia_id))
        return {"excluida": guia_id}

    @router.get("/lotes")
    async def listar_lotes(
        provider_id: Annotated[str, Query(min_length=1)],
        situacao: Literal["aberto", "enviado_validacao"] | None = None,
        tipo: Tipo | None = None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"provider_id": provider_id}
        if situacao:
            query["situacao"] = situacao
        if tipo:
            query["tipo"] = tipo
        docs = await repo.listar_lotes(query)
        return {"items": [uc.publico_lote(d) for d in docs], "total": len(docs)}

    @router.post("/lotes", status_code=201)
    async def criar_lote(body: LoteIn) -> dict[str, Any]:
        return await run(
            uc.novo_lote(repo, provider_id=body.provider_id, por=body.by, tipo=body.tipo)
        )

    @router.get("/lotes/{lote_id}")
    async def obter_lote(lote_id: str, provider_id: Annotated[str, Query(min_length=1)]) -> Any:
        return uc.publico_lote(await run(repo.lote(provider_id, lote_id)))

    @router.post("/lotes/{lote_id}/guias")
    async def adicionar(lote_id: str, body: GuiasIn) -> dict[str, Any]:
        return await run(
            uc.adicionar_guias(
                repo, provider_id=body.provider_id, lote_id=lote_id, guia_ids=body.guia_ids
            )
        )

    @router.delete("/lotes/{lote_id}/guias/{guia_id}")
    async def remover(
        lote_id: str, guia_id: str, provider_id: Annotated[str, Query(min_length=1)]
    ) -> dict[str, Any]:
        return await run(
            uc.remover_do_lote(repo, provider_id=provider_id, lote_id=lote_id, guia_id=guia_id)
        )

    @router.post("/lotes/{lote_id}/arquivo")
    async def arquivo(lote_id: str, body: Quem) -> dict[str, Any]:
        """Gerar Lote, first step: the XML the gateway submits to ingest (null: already
        submitted). `xml` is base64 of the ISO-8859-1 bytes."""
        lote, arquivo = await run(
            uc.build_lote_file(
                repo, provider_id=body.provider_id, lote_id=lote_id, registro_ans=registro_ans()
            )
        )
        if arquivo is None:
            return {"lote": lote, "arquivo": None}
        return {
            "lote": lote,
            "arquivo": {
                "filename": arquivo.filename,
                "idempotency_key": arquivo.idempotency_key,
                "xml": base64.b64encode(arquivo.xml).decode("ascii"),
            },
        }

    @router.post("/lotes/{lote_id}/envio")
    async def envio(lote_id: str, body: EnvioIn) -> dict[str, Any]:
        """Gerar Lote, last step: ingest stored the file `file_id`."""
        return await run(
            uc.record_submission(
                repo,
                provider_id=body.provider_id,
                por=body.by,
                lote_id=lote_id,
                file_id=body.file_id,
            )
        )

    @router.post("/geracao-automatica")
    async def automatica(body: Quem) -> dict[str, Any]:
        """Geração Automática, first step: new open lotes of the free complete guides."""
        return await run(uc.make_automatic_lotes(repo, provider_id=body.provider_id, por=body.by))

    return router
