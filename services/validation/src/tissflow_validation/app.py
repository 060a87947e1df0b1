"""Validation service: judges each uploaded revision with the TISS engine, keeps critiques.

Consumes `file.uploaded` (fetching the bytes from ingest: claim check), runs
`tissflow_validation.engine.validate` off the event loop, records the result and the
critiques, indexes the guides of imported files (for "guia já apresentada", 1308) and
produces `file.validated`. Owns the database `<prefix>_validation`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import Envelope, FileUploaded, FileValidated, Topic
from tissflow_runtime.consumer import PermanentError
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_validation.engine import OperatorContext, ValidationResult, validate

log = logging.getLogger(__name__)


class ValidationSettings(ServiceSettings):
    operadora_registro_ans: str = "331988"


settings = ValidationSettings()
runtime = ServiceRuntime("validation", settings)
runtime.outbox_collections("results")
results = runtime.db["results"]
guias = runtime.db["guias"]
prestadores = runtime.db["prestadores"]
beneficiarios = runtime.db["beneficiarios"]
router = APIRouter(prefix="/internal")


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await results.create_index([("file_id", ASCENDING), ("revision", DESCENDING)])
    await guias.create_index([("provider_id", ASCENDING)])


async def operator_context(provider_id: str, file_id: str) -> OperatorContext:
    """The operator data the engine needs; registries absent = those checks are skipped."""
    prest: dict[str, Any] = {}
    async for d in prestadores.find({}):
        prest[d["_id"]] = d
        if d.get("codigo_prestador"):
            prest[d["codigo_prestador"]] = d
    benef = {d["_id"]: bool(d.get("ativo", True)) async for d in beneficiarios.find({})}
    seen = {
        d["numero_guia"]
        async for d in guias.find(
            {"provider_id": provider_id, "file_id": {"$ne": file_id}}, {"numero_guia": 1}
        )
    }

    def ja_apresentada(prestador: str, numero_guia: str) -> bool:
        return numero_guia in seen

    return OperatorContext(
        registro_ans=settings.operadora_registro_ans,
        prestadores=prest or None,
        beneficiarios=benef or None,
        guia_ja_apresentada=ja_apresentada,
    )


async def fetch_content(event: FileUploaded) -> bytes:
    response = await runtime.http.get(f"{settings.ingest_url}{event.content_url}")
    response.raise_for_status()
    content = response.content
    if hashlib.sha256(content).hexdigest() != event.sha256:
        raise PermanentError(f"sha256 do conteúdo não confere com o evento ({event.file_id})")
    return content


def result_document(
    event: FileUploaded, result: ValidationResult, correlation_id: str
) -> dict[str, Any]:
    data = result.to_dict()
    status = "importado" if result.valido else "invalido"
    open_critiques = [c for c in result.critiques if not c.ignorada]
    payload = FileValidated(
        file_id=event.file_id,
        revision=event.revision,
        provider_id=event.provider_id,
        sha256=event.sha256,
        status=status,
        critiques=len(open_critiques),
        versao_tiss=result.versao_tiss,
        registro_ans=result.registro_ans,
        numero_lote=result.numero_lote,
        tipo_guia=result.tipo_guia,
        quantidade_guias=result.quantidade_guias,
        valor_total=result.valor_total,
        numeros_guias=[g["numero_guia_prestador"] for g in data.get("guias", [])][:100],
    )
    return {
        "_id": f"{event.file_id}:{event.revision}",
        "file_id": event.file_id,
        "revision": event.revision,
        "provider_id": event.provider_id,
        "status": status,
        "validated_at": datetime.now(UTC),
        "result": data,
        "outbox": [runtime.event(payload, key=event.file_id, correlation_id=correlation_id)],
    }


@runtime.consumers.on(Topic.FILE_UPLOADED)
async def on_file_uploaded(envelope: Envelope) -> None:
    event = envelope.payload_as(FileUploaded)
    result_id = f"{event.file_id}:{event.revision}"
    if await results.find_one({"_id": result_id}, {"_id": 1}) is not None:
        return  # already judged: a redelivery
    content = await fetch_content(event)
    context = await operator_context(event.provider_id, event.file_id)
    result = await asyncio.to_thread(validate, content, context)
    doc = result_document(event, result, envelope.correlation_id)
    if result.valido:
        # Index first: a crash after this and before the result is redone harmlessly,
        # because a file's own guides never count as already presented.
        ops = [
            UpdateOne(
                {"_id": f"{event.provider_id}:{g['numero_guia_prestador']}"},
                {
                    "$setOnInsert": {
                        "provider_id": event.provider_id,
                        "numero_guia": g["numero_guia_prestador"],
                        "file_id": event.file_id,
                        "revision": event.revision,
                    }
                },
                upsert=True,
            )
            for g in doc["result"].get("guias", [])
        ]
        if ops:
            await guias.bulk_write(ops, ordered=False)
    try:
        await results.insert_one(doc)
    except DuplicateKeyError:
        return
    runtime.relay.notify()


@router.get("/results/{file_id}")
async def latest_result(file_id: str) -> dict[str, Any]:
    doc = await results.find_one({"file_id": file_id}, {"outbox": 0}, sort=[("revision", -1)])
    if doc is None:
        raise HTTPException(
            404, {"code": "resultado_nao_encontrado", "message": "Arquivo ainda não validado."}
        )
    doc.pop("_id")
    return doc


class Prestador(BaseModel):
    cnpj_cpf: str = Field(min_length=11, max_length=14, pattern=r"^\d+$")
    codigo_prestador: str | None = None
    nome: str


class Beneficiario(BaseModel):
    numero_carteira: str = Field(min_length=1, max_length=20)
    nome: str
    ativo: bool = True


@router.put("/cadastro/prestadores")
async def import_prestadores(items: list[Prestador]) -> dict[str, int]:
    ops = [UpdateOne({"_id": p.cnpj_cpf}, {"$set": p.model_dump()}, upsert=True) for p in items]
    if ops:
        await prestadores.bulk_write(ops, ordered=False)
    return {"importados": len(ops)}


@router.put("/cadastro/beneficiarios")
async def import_beneficiarios(items: list[Beneficiario]) -> dict[str, int]:
    ops = [
        UpdateOne({"_id": b.numero_carteira}, {"$set": b.model_dump()}, upsert=True) for b in items
    ]
    if ops:
        await beneficiarios.bulk_write(ops, ordered=False)
    return {"importados": len(ops)}


app = runtime.create_app([router])
