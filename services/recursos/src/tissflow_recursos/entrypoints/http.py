"""Internal HTTP routes (`/internal/...`, internal token): what the gateway calls.

A `provider_id` query parameter restricts a call to that provider's records: another
provider's recurso answers 404, as if it did not exist. Domain errors become
`{code, message, details}` with their HTTP status.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from tissflow_contracts import RecursoSent
from tissflow_runtime.errors import http_status
from tissflow_runtime.logs import correlation_id
from tissflow_runtime.service import ServiceRuntime

from tissflow_recursos.adapters.mongo import Repos
from tissflow_recursos.config import RecursosSettings
from tissflow_recursos.domain.model import EM_ANALISE, RecursoError
from tissflow_recursos.service_layer import use_cases as uc

T = TypeVar("T")
Provider = Annotated[str | None, Query(max_length=20)]


class Abrir(BaseModel):
    provider_id: str
    peg: str = Field(max_length=20)
    linhas: list[str] | None = Field(default=None, max_length=500)
    by: str = "prestador"


class LinhaRascunho(BaseModel):
    linha_id: str = Field(max_length=40)
    valor_recursado: str | None = Field(default=None, max_length=20)
    justificativa: str | None = Field(default=None, max_length=2000)


class Salvar(BaseModel):
    provider_id: str
    linhas: list[LinhaRascunho] = Field(max_length=500)


class Enviar(BaseModel):
    provider_id: str
    by: str = "prestador"


class RespostaLinha(BaseModel):
    linha_id: str = Field(max_length=40)
    acatado: bool
    valor_acatado: str | None = Field(default=None, max_length=20)
    justificativa: str | None = Field(default=None, max_length=2000)


class Responder(BaseModel):
    itens: list[RespostaLinha] = Field(min_length=1, max_length=500)
    by: str = "operadora"


async def _run(call: Awaitable[T]) -> T:
    try:
        return await call
    except RecursoError as exc:
        raise HTTPException(
            http_status(exc), {"code": exc.code, "message": exc.message, "details": exc.details}
        ) from None


def build_router(runtime: ServiceRuntime, repos: Repos, cfg: RecursosSettings) -> APIRouter:
    router = APIRouter(prefix="/internal")

    def cid() -> str:
        return correlation_id.get() or "recursos"

    @router.get("/glosas")
    async def list_glosas(provider_id: Provider = None, peg: str | None = None) -> dict[str, Any]:
        items = await _run(uc.glosas(repos, cfg, uc.utcnow(), provider_id, peg))
        return {"items": items, "total": len(items)}

    @router.get("/numeros")
    async def get_numeros(provider_id: Provider = None, peg: str | None = None) -> dict[str, Any]:
        return await _run(uc.numeros(repos, cfg, provider_id, peg))

    @router.get("/recursos")
    async def list_recursos(
        provider_id: Provider = None,
        situacao: str | None = None,
        peg: str | None = None,
        grupo_id: str | None = None,
    ) -> dict[str, Any]:
        query = {
            k: v
            for k, v in {
                "provider_id": provider_id,
                "situacao": situacao,
                "peg": peg,
                "grupo_id": grupo_id,
            }.items()
            if v
        }
        now = uc.utcnow()
        items = [uc.public(d, now=now) for d in await repos.recursos_of(query)]
        return {
            "items": items,
            "total": len(items),
            "respostas_novas": sum(1 for i in items if i.get("resposta_nova")),
        }

    @router.get("/recursos/respostas-novas")
    async def new_answers(provider_id: Provider = None) -> dict[str, int]:
        return {"respostas_novas": await repos.respostas_novas(provider_id)}

    @router.post("/recursos", status_code=201)
    async def open_recurso(body: Abrir) -> dict[str, Any]:
        items = await _run(
            uc.abrir(
                repos,
                cfg,
                uc.utcnow(),
                provider_id=body.provider_id,
                peg=body.peg,
                linha_ids=body.linhas,
                by=body.by,
            )
        )
        return {"items": items, "grupo_id": items[0]["grupo_id"], "total": len(items)}

    @router.get("/recursos/{recurso_id}")
    async def get_recurso(
        recurso_id: str, provider_id: Provider = None, marcar_lida: bool = False
    ) -> dict[str, Any]:
        return await _run(uc.obter(repos, uc.utcnow(), recurso_id, provider_id, marcar_lida))

    @router.put("/recursos/{recurso_id}")
    async def save_recurso(recurso_id: str, body: Salvar) -> dict[str, Any]:
        linhas = [linha.model_dump() for linha in body.linhas]
        return await _run(uc.salvar(repos, uc.utcnow(), recurso_id, body.provider_id, linhas))

    @router.post("/recursos/{recurso_id}/enviar")
    async def send_recurso(recurso_id: str, body: Enviar) -> dict[str, Any]:
        doc = await _run(
            uc.enviar(
                repos, cfg, runtime, uc.utcnow(), recurso_id, body.provider_id, body.by, cid()
            )
        )
        runtime.relay.notify("recursos", recurso_id)
        return doc

    @router.post("/recursos/{recurso_id}/situacao")
    async def refresh_recurso(recurso_id: str, provider_id: Provider = None) -> dict[str, Any]:
        return await _run(uc.atualizar_situacao(repos, cfg, uc.utcnow(), recurso_id, provider_id))

    @router.post("/recursos/{recurso_id}/anexos", status_code=201)
    async def attach(
        recurso_id: str,
        request: Request,
        provider_id: Annotated[str, Query(max_length=20)],
        nome: Annotated[str, Query(max_length=200)],
    ) -> dict[str, Any]:
        content = await request.body()
        media_type = request.headers.get("content-type", "").split(";")[0].strip()
        return await _run(
            uc.anexar(repos, cfg, uc.utcnow(), recurso_id, provider_id, nome, media_type, content)
        )

    @router.get("/recursos/{recurso_id}/arquivos/{nome}")
    async def get_file(recurso_id: str, nome: str, provider_id: Provider = None) -> Response:
        found = await _run(uc.arquivo(repos, recurso_id, provider_id, nome))
        headers = {}
        if found.get("nome"):
            headers["X-Filename"] = found["nome"].encode("ascii", "replace").decode()
        return Response(bytes(found["content"]), media_type=found["media_type"], headers=headers)

    # -- the operator -------------------------------------------------------------------
    @router.get("/operadora/recursos")
    async def operadora_list(
        situacao: Literal["em_analise", "respondido"] | None = None,
    ) -> dict[str, Any]:
        items = await repos.operadora_list({"situacao": situacao} if situacao else {})
        hoje = uc.hoje(uc.utcnow()).isoformat()
        for item in items:
            item["recurso_id"] = item.pop("_id")
            # The operator's own deadline to answer, tracked: past it and still unanswered.
            item["resposta_atrasada"] = (
                item["situacao"] == EM_ANALISE and (item.get("prazo_resposta") or hoje) < hoje
            )
        return {
            "items": items,
            "total": len(items),
            "pendentes": sum(1 for i in items if i["situacao"] == EM_ANALISE),
            "atrasados": sum(1 for i in items if i["resposta_atrasada"]),
        }

    @router.post("/operadora/recursos", status_code=201)
    async def operadora_receive(body: RecursoSent) -> dict[str, Any]:
        doc = await _run(uc.receber(repos, cfg, runtime, uc.utcnow(), body, cid()))
        runtime.relay.notify("operadora_recursos", body.recurso_id)
        doc = dict(doc)
        doc["recurso_id"] = doc.pop("_id")
        doc.pop("outbox", None)
        return doc

    @router.get("/operadora/recursos/{recurso_id}")
    async def operadora_get(recurso_id: str) -> dict[str, Any]:
        doc = await repos.operadora_recurso(recurso_id)
        if doc is None:
            raise HTTPException(
                404, {"code": "recurso_nao_encontrado", "message": "Recurso não encontrado."}
            )
        doc["recurso_id"] = doc.pop("_id")
        return doc

    @router.post("/operadora/recursos/{recurso_id}/resposta")
    async def operadora_answer(recurso_id: str, body: Responder) -> dict[str, Any]:
        respostas = [r.model_dump() for r in body.itens]
        doc = await _run(
            uc.responder(repos, cfg, runtime, uc.utcnow(), recurso_id, respostas, body.by, cid())
        )
        runtime.relay.notify("operadora_recursos", recurso_id)
        doc["recurso_id"] = doc.pop("_id")
        return doc

    return router
