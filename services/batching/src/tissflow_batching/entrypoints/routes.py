"""Batching's internal HTTP API (called by the gateway): lotes, actions, log, NF, sync,
pending lists and the operator's settings. Domain errors become `{code, message}` HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from tissflow_runtime.errors import http_status

from tissflow_batching.adapters.mongo import MongoConfigRepository
from tissflow_batching.domain import SITUACOES, Acao, ConfigOperadora, LoteError, LoteStatus
from tissflow_batching.service_layer import lotes
from tissflow_batching.service_layer.lotes import Deps
from tissflow_batching.service_layer.ports import Pesquisa

T = TypeVar("T")
NF_MAX_BYTES = lotes.NF_MAX_BYTES


def _invalid(campo: str, message: str) -> HTTPException:
    return HTTPException(
        422, {"code": "filtro_invalido", "message": message, "details": {"campo": campo}}
    )


async def run(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except LoteError as exc:
        raise HTTPException(http_status(exc), {"code": exc.code, "message": exc.message}) from exc


class Actor(BaseModel):
    by: str = Field(min_length=1, description="Who asks (user login)")


class SyncIn(BaseModel):
    by: str = Field(min_length=1)
    provider_id: str | None = None
    # The protocol service's record of each lote's PEG, by lote id (the gateway asks it).
    protocolos: dict[str, dict[str, Any] | None] = Field(default_factory=dict)


class ConfigIn(BaseModel):
    dia_limite_envio: int = Field(ge=1, le=31)
    nf_obrigatoria: bool
    nf_prazo_dias: int = Field(ge=0, le=365)
    pagamento_dias_apos_faturado: int = Field(default=15, ge=0, le=365)
    by: str = Field(min_length=1)


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def build_router(deps: Deps, config: MongoConfigRepository) -> APIRouter:
    router = APIRouter(prefix="/internal")

    async def view(doc: dict[str, Any]) -> dict[str, Any]:
        return lotes.public(doc, await config.get(), lotes.today(deps))

    @router.get("/lotes")
    async def list_lotes(
        provider_id: str | None = None,
        registro_ans: str | None = None,
        status: str | None = None,
        numero_lote: str | None = None,
        numero_lote_prestador: str | None = None,
        protocolo: str | None = None,
        tipo_guia: str | None = None,
        situacao_protocolo: str | None = None,
        situacoes: str | None = None,
        file_id: str | None = None,
        canal: str | None = None,
        de: datetime | None = None,
        ate: datetime | None = None,
        incluir_excluidos: bool = False,
        sem_nf: bool = False,
        ordem: str = "data_inclusao",
        direcao: str = "desc",
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=1000)] = 20,
    ) -> dict[str, Any]:
        status = _blank(status)
        if status and status not in {s.value for s in LoteStatus}:
            raise _invalid("status", f"Situação do lote desconhecida: {status}.")
        situacao = _blank(situacao_protocolo)
        if situacao and situacao not in SITUACOES:
            raise _invalid("situacao_protocolo", f"Situação do protocolo desconhecida: {situacao}.")
        pesquisa = Pesquisa(
            provider_id=_blank(provider_id),
            registro_ans=_blank(registro_ans),
            numero=_blank(numero_lote),
            numero_lote_prestador=_blank(numero_lote_prestador),
            protocolo=_blank(protocolo),
            tipo_guia=_blank(tipo_guia),
            status=status,
            situacao_protocolo=situacao,
            situacoes=[s for s in (situacoes or "").split(",") if s],
            file_id=_blank(file_id),
            canal=_blank(canal),
            de=de,
            ate=ate,
            incluir_excluidos=incluir_excluidos,
            sem_nf=sem_nf,
            ordem=ordem,
            decrescente=direcao != "asc",
        )
        docs, total = await deps.lotes.search(pesquisa, page, page_size)
        cfg = await config.get()
        hoje = lotes.today(deps)
        return {
            "items": [lotes.public(d, cfg, hoje) for d in docs],
            "total": total,
            "page": page,
            "page_size": page_size,
        }

    @router.get("/lotes/pendencias/pagamentos")
    async def pagamentos_pendentes(provider_id: str | None = None) -> dict[str, Any]:
        """Billed, not yet paid: Liberado para Faturamento, or Faturado with a payment date
        from today on (or none yet)."""
        pesquisa = Pesquisa(
            provider_id=_blank(provider_id), status="enviado", situacoes=["liberado", "faturado"]
        )
        docs, _ = await deps.lotes.search(pesquisa, 1, 1000)
        cfg = await config.get()
        hoje = lotes.today(deps)
        items = []
        for doc in docs:
            pagamento = doc.get("data_pagamento")
            if pagamento and date.fromisoformat(pagamento) < hoje:
                continue
            item = lotes.public(doc, cfg, hoje)
            item["data_prevista"] = pagamento
            item["valor_previsto"] = doc.get("valor_liberado")
            items.append(item)
        items.sort(key=lambda i: i["data_prevista"] or "9999")
        return {"items": items, "total": len(items)}

    @router.get("/lotes/sincronizar")
    async def to_sync(provider_id: str | None = None) -> dict[str, Any]:
        """Sincronizar, first step: the sent lotes whose protocol is still open."""
        return {"lote_ids": await lotes.lotes_to_sync(deps, _blank(provider_id))}

    @router.get("/lotes/{lote_id}")
    async def get_lote(lote_id: str) -> dict[str, Any]:
        doc = await deps.lotes.get(lote_id)
        if doc is None:
            raise HTTPException(
                404, {"code": "lote_nao_encontrado", "message": "Lote não encontrado."}
            )
        return await view(doc)

    @router.get("/lotes/{lote_id}/log")
    async def get_log(lote_id: str) -> dict[str, Any]:
        doc = await deps.lotes.get(lote_id)
        if doc is None:
            raise HTTPException(
                404, {"code": "lote_nao_encontrado", "message": "Lote não encontrado."}
            )
        return {
            "lote_id": lote_id,
            "numero_lote": doc.get("numero_lote"),
            "items": doc.get("log", []),
        }

    @router.post("/lotes/sincronizar")
    async def sync(body: SyncIn) -> dict[str, Any]:
        return await run(
            lambda: lotes.sincronizar(deps, body.provider_id, body.by, body.protocolos)
        )

    @router.post("/lotes/{lote_id}/nf")
    async def attach_nf(
        lote_id: str,
        request: Request,
        numero: Annotated[str, Query(max_length=40)],
        emissao: date,
        valor: Annotated[str, Query(max_length=30)],
        filename: Annotated[str, Query(max_length=255)],
        by: Annotated[str, Query(min_length=1)],
    ) -> dict[str, Any]:
        content = b""
        async for chunk in request.stream():
            content += chunk
            if len(content) > NF_MAX_BYTES:
                raise HTTPException(
                    413,
                    {
                        "code": "nf_arquivo_grande",
                        "message": "O arquivo da nota fiscal excede 5 MB.",
                    },
                )
        doc = await run(
            lambda: lotes.attach_nf(
                deps,
                lote_id,
                numero=numero,
                emissao=emissao,
                valor=valor,
                filename=filename,
                content=content,
                by=by,
            )
        )
        return await view(doc)

    @router.get("/lotes/{lote_id}/nf/arquivo")
    async def nf_file(lote_id: str) -> Response:
        found = await deps.notas.get(lote_id)
        if found is None:
            raise HTTPException(
                404, {"code": "nf_nao_encontrada", "message": "Nota fiscal não encontrada."}
            )
        content, media_type, filename = found
        return Response(content, media_type=media_type, headers={"X-Filename": filename})

    @router.post("/lotes/{lote_id}/{action}")
    async def act(lote_id: str, action: str, actor: Actor) -> dict[str, Any]:
        if action not in {a.value for a in Acao}:
            raise HTTPException(404, {"code": "acao_desconhecida", "message": "Ação desconhecida."})
        doc = await run(lambda: lotes.act(deps, lote_id, action, actor.by))
        return await view(doc)

    @router.get("/config")
    async def get_config() -> dict[str, Any]:
        return await config.get_doc()

    @router.put("/config")
    async def put_config(body: ConfigIn) -> dict[str, Any]:
        fields = body.model_dump(exclude={"by"})
        return await config.save(ConfigOperadora(**fields), body.by)

    return router
