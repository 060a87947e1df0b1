"""Internal HTTP routes of the protocol service (the gateway's only way in): protocols,
status and analysis, glosas, messages and attachments, Capa do Lote, TISS XMLs.
Domain errors become `{code, message, details}` with 404, 409 or 422."""

from __future__ import annotations

import asyncio
import base64
import binascii
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from tissflow_contracts import AnaliseGuia, DadosBancarios, DebitoCredito, GlosaAnalise
from tissflow_runtime.errors import http_status
from tissflow_tiss import tabela_38

from tissflow_protocol.adapters import capa_pdf
from tissflow_protocol.domain.errors import DomainError, MensagemInvalida, NotFound
from tissflow_protocol.service_layer import use_cases
from tissflow_protocol.service_layer.ports import Deps


def http_error(exc: DomainError) -> HTTPException:
    return HTTPException(
        http_status(exc),
        {"code": exc.code, "message": exc.message, "details": exc.details},
    )


class StatusIn(BaseModel):
    status: int = Field(ge=1, le=10, description="ANS dm_statusProtocolo code")
    data_pagamento: date | None = None
    valor_liberado: Decimal | None = None
    valor_glosado: Decimal | None = None
    guias: list[AnaliseGuia] = Field(default_factory=list)
    glosas_protocolo: list[GlosaAnalise] = Field(default_factory=list)
    debitos_creditos: list[DebitoCredito] = Field(default_factory=list)
    dados_bancarios: DadosBancarios | None = None
    by: str = Field(min_length=1)


class GlosaIn(BaseModel):
    numero_guia_prestador: str = Field(min_length=1, max_length=20)
    sequencial_item: int | None = Field(default=None, ge=1)
    codigo: str = Field(pattern=r"^\d{4}$")
    valor: Decimal = Field(gt=0)
    observacao: str | None = Field(default=None, max_length=500)
    by: str = Field(min_length=1)


class AnexoIn(BaseModel):
    nome: str = Field(min_length=1, max_length=255)
    content_type: str = ""
    base64: str


class MensagemIn(BaseModel):
    papel: Literal["prestador", "operadora"]
    autor: str = Field(min_length=1)
    texto: str = ""
    anexos: list[AnexoIn] = Field(default_factory=list)


class ByIn(BaseModel):
    by: str = Field(min_length=1)


def _query(**filters: Any) -> dict[str, Any]:
    query = {k: v for k, v in filters.items() if v not in (None, "")}
    de, ate = query.pop("de", None), query.pop("ate", None)
    if de or ate:
        created: dict[str, Any] = {}
        if de:
            created["$gte"] = datetime.combine(de, datetime.min.time(), UTC)
        if ate:
            created["$lte"] = datetime.combine(ate, datetime.max.time(), UTC)
        query["created_at"] = created
    if "peg" in query:
        query["_id"] = query.pop("peg")
    return query


def router(deps: Deps) -> APIRouter:
    r = APIRouter(prefix="/internal")

    async def run(coro: Any) -> Any:
        try:
            return await coro
        except DomainError as exc:
            raise http_error(exc) from exc

    async def get(peg: str) -> dict[str, Any]:
        doc = await deps.repo.get(peg)
        if doc is None:
            raise http_error(NotFound("Protocolo não encontrado.", {"peg": peg}))
        return doc

    @r.get("/protocolos")
    async def list_protocolos(
        provider_id: str | None = None,
        lote_id: str | None = None,
        status: int | None = None,
        peg: str | None = None,
        numero_lote: str | None = None,
        tipo_guia: str | None = None,
        de: date | None = None,
        ate: date | None = None,
        nao_lidas: Literal["prestador", "operadora"] | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        query = _query(
            provider_id=provider_id,
            lote_id=lote_id,
            status=status,
            peg=peg,
            numero_lote=numero_lote,
            tipo_guia=tipo_guia,
            de=de,
            ate=ate,
        )
        if nao_lidas:
            query[f"nao_lidas.{nao_lidas}"] = {"$gt": 0}
        items, total = await deps.repo.page(query, page, page_size)
        return {
            "items": [use_cases.public(d) for d in items],
            "total": total,
            "page": page,
            "page_size": page_size,
        }

    @r.get("/protocolos/{peg}")
    async def get_protocolo(peg: str) -> dict[str, Any]:
        return use_cases.public(await get(peg))

    @r.post("/protocolos/{peg}/status")
    async def post_status(peg: str, body: StatusIn) -> dict[str, Any]:
        objetos = {"guias", "glosas_protocolo", "debitos_creditos", "dados_bancarios"}
        change = use_cases.StatusChange(**body.model_dump(exclude=objetos))
        change.guias, change.glosas_protocolo = body.guias, body.glosas_protocolo
        change.debitos_creditos, change.dados_bancarios = (
            body.debitos_creditos,
            body.dados_bancarios,
        )
        return use_cases.public(await run(use_cases.change_status(deps, peg, change)))

    @r.post("/protocolos/{peg}/glosas")
    async def post_glosa(peg: str, body: GlosaIn) -> dict[str, Any]:
        doc = await run(
            use_cases.glosar_item(
                deps,
                peg,
                numero_guia=body.numero_guia_prestador,
                sequencial_item=body.sequencial_item,
                codigo=body.codigo,
                valor=body.valor,
                observacao=body.observacao,
                by=body.by,
            )
        )
        return use_cases.public(doc)

    @r.get("/protocolos/{peg}/recebimento.xml")
    async def recebimento(peg: str) -> Response:
        doc = await deps.repo.get(peg)
        if doc is None or not doc.get("recebimento_xml"):
            raise http_error(NotFound("Protocolo não encontrado.", {"peg": peg}))
        return Response(bytes(doc["recebimento_xml"]), media_type="application/xml")

    @r.post("/protocolos/{peg}/situacao")
    async def situacao(peg: str, body: ByIn) -> dict[str, Any]:
        return await run(use_cases.solicitar_situacao(deps, peg, body.by))

    @r.get("/protocolos/{peg}/arquivos/{file_id}")
    async def arquivo(peg: str, file_id: str) -> Response:
        doc = await deps.repo.get_file(file_id)
        if doc is None or doc["peg"] != peg:
            raise HTTPException(
                404, {"code": "arquivo_nao_encontrado", "message": "Arquivo não encontrado."}
            )
        return Response(
            bytes(doc["dados"]),
            media_type=doc["content_type"],
            headers={"X-Filename": doc["nome"]},
        )

    @r.get("/protocolos/{peg}/capa.pdf")
    async def capa(
        peg: str,
        nf_numero: Annotated[str | None, Query(max_length=20)] = None,
        nf_emissao: date | None = None,
        nf_valor: Decimal | None = None,
    ) -> Response:
        """The Capa; the Nota Fiscal, attached to the lote after sending, comes from the
        caller (the gateway reads it from the lote)."""
        doc = await get(peg)
        if nf_numero:
            doc["nota_fiscal"] = {"numero": nf_numero, "emissao": nf_emissao, "valor": nf_valor}
        pdf = await asyncio.to_thread(capa_pdf.render_pdf, doc, deps.operadora, datetime.now(UTC))
        return Response(pdf, media_type="application/pdf")

    @r.get("/protocolos/{peg}/mensagens")
    async def mensagens(peg: str, papel: Literal["prestador", "operadora"]) -> dict[str, Any]:
        return await run(use_cases.read_messages(deps, peg, papel))

    @r.post("/protocolos/{peg}/mensagens")
    async def post_mensagem(peg: str, body: MensagemIn) -> dict[str, Any]:
        anexos = []
        for a in body.anexos:
            try:
                dados = base64.b64decode(a.base64, validate=True)
            except (binascii.Error, ValueError):
                raise http_error(MensagemInvalida(f"Anexo {a.nome} ilegível.")) from None
            anexos.append(use_cases.Anexo(a.nome, a.content_type, dados))
        return await run(
            use_cases.post_message(
                deps, peg, papel=body.papel, autor=body.autor, texto=body.texto, anexos=anexos
            )
        )

    @r.get("/mensagens/nao-lidas")
    async def nao_lidas(
        papel: Literal["prestador", "operadora"], provider_id: str | None = None
    ) -> dict[str, int]:
        return {"nao_lidas": await deps.repo.nao_lidas(papel, provider_id)}

    @r.get("/glosas")
    async def glosas(
        q: Annotated[str, Query(max_length=60)] = "", limit: int = 20
    ) -> dict[str, Any]:
        """Table 38, searched by code or words (the glosa picker)."""
        termos = [t for t in q.lower().split() if t]
        items = [
            {"codigo": g.codigo, "descricao": g.descricao, "grupo": g.grupo}
            for g in tabela_38().values()
            if all(t in f"{g.codigo} {g.descricao}".lower() for t in termos)
        ]
        return {"items": items[: max(1, min(limit, 1000))], "total": len(items)}

    return r
