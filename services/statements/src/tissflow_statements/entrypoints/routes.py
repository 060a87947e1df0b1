"""The internal HTTP API the gateway calls: listings, per-protocol statements, and the
statements built on request (Análise de Conta of up to 30 protocols; Pagamento by payment
date or competência). Domain errors become `{code, message, details}` with their status."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from tissflow_runtime.errors import http_status
from tissflow_runtime.listing import match

from tissflow_statements.domain.documentos import Analise, Pagamento
from tissflow_statements.domain.errors import DemonstrativoError
from tissflow_statements.service_layer import build
from tissflow_statements.service_layer.ports import Dependencias

Formato = Literal["xml", "pdf"]


def _erro(exc: DemonstrativoError) -> HTTPException:
    return HTTPException(
        http_status(exc), {"code": exc.code, "message": exc.message, "details": exc.details}
    )


async def _documento(
    deps: Dependencias, documento: Analise | Pagamento, formato: Formato
) -> Response:
    try:
        content = await build.documento_bytes(deps, documento, formato)
    except build.XmlForaDoPadrao as exc:
        raise HTTPException(
            500,
            {
                "code": "demonstrativo_fora_do_padrao",
                "message": "O demonstrativo gerado não passou no schema da ANS.",
                "details": str(exc),
            },
        ) from None
    except DemonstrativoError as exc:  # the PDF engine unavailable: a 503 in pt-BR
        raise _erro(exc) from None
    nome = f"{documento.tipo}-{documento.numero}.{formato}"
    return Response(
        content,
        media_type=build.MEDIA[formato],
        headers={"X-Demonstrativo-Numero": documento.numero, "X-Demonstrativo-Nome": nome},
    )


def router_for(deps: Dependencias) -> APIRouter:
    router = APIRouter(prefix="/internal")

    @router.get("/demonstrativos")
    async def list_demonstrativos(
        provider_id: str | None = None,
        tipo: Literal["analise", "pagamento"] | None = None,
        peg: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        query = match(provider_id=provider_id, tipo=tipo, peg=peg)
        return await deps.statements.page(query, page, page_size)

    @router.get("/demonstrativos/{statement_id}")
    async def get_demonstrativo(statement_id: str) -> dict[str, Any]:
        page = await deps.statements.page({"_id": statement_id}, 1, 1)
        if not page["items"]:
            raise HTTPException(
                404,
                {
                    "code": "demonstrativo_nao_encontrado",
                    "message": "Demonstrativo não encontrado.",
                },
            )
        item: dict[str, Any] = page["items"][0]
        return item

    @router.post("/demonstrativos/{statement_id}/aberto")
    async def mark_opened(statement_id: str) -> dict[str, Any]:
        """The clinic opened it: no longer "novo"."""
        await deps.statements.mark_opened(statement_id, datetime.now(UTC))
        return {"statement_id": statement_id}

    @router.get("/demonstrativos/{statement_id}/{formato}")
    async def get_document(statement_id: str, formato: Formato) -> Response:
        """A per-protocol statement's XML or PDF, as its protocol stands now."""
        try:
            documento = await build.do_indice(deps, statement_id)
        except DemonstrativoError as exc:
            raise _erro(exc) from None
        return await _documento(deps, documento, formato)

    @router.get("/analise/{formato}")
    async def analise(
        formato: Formato,
        peg: Annotated[list[str], Query(min_length=1)],
        provider_id: str | None = None,
    ) -> Response:
        """Demonstrativo de Análise de Conta of the protocols `peg` (repeated, up to 30)."""
        try:
            documento = await build.analise_de(deps, peg, provider_id)
        except DemonstrativoError as exc:
            raise _erro(exc) from None
        return await _documento(deps, documento, formato)

    @router.get("/pagamento/datas")
    async def datas(provider_id: str | None = None) -> dict[str, Any]:
        """The payment dates (and so the competências) a provider has statements for."""
        datas = await deps.projection.datas_pagas(provider_id)
        return {"datas": datas, "competencias": sorted({d[:7] for d in datas}, reverse=True)}

    @router.get("/pagamento/{formato}")
    async def pagamento(
        formato: Formato,
        provider_id: str,
        data: date | None = None,
        competencia: Annotated[str | None, Query(max_length=7)] = None,
    ) -> Response:
        """Demonstrativo de Pagamento of every protocol paid on `data` or in `competencia`."""
        try:
            periodo = build.periodo_de(data, competencia)
            documento = await build.pagamento_de(deps, provider_id, periodo)
        except DemonstrativoError as exc:
            raise _erro(exc) from None
        return await _documento(deps, documento, formato)

    return router
