"""Ingest: stores uploaded TISS files (GridFS) and their revisions, and keeps their status.

Produces `file.uploaded` for each stored revision; consumes `file.validated` to mark a
file `importado` or `invalido`. Owns the database `<prefix>_ingest`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import Envelope, FileUploaded, FileValidated, Topic
from tissflow_contracts.events import Canal
from tissflow_runtime.consumer import mark_handled, not_handled
from tissflow_runtime.listing import match, page_of
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_ingest.domain import (
    MAX_UPLOAD_BYTES,
    FileStatus,
    UploadRejected,
    check_upload,
    content_path,
    sha256_hex,
)

runtime = ServiceRuntime("ingest", ServiceSettings())
runtime.outbox_collections("files")
files = runtime.db["files"]
bucket = AsyncGridFSBucket(runtime.db, bucket_name="xml")
router = APIRouter(prefix="/internal")


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await files.create_index([("provider_id", ASCENDING), ("created_at", DESCENDING)])
    await files.create_index([("provider_id", ASCENDING), ("idempotency_key", ASCENDING)])


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The registry record as the other services see it."""
    hidden = {"_id", "outbox", "handled"}
    out = {k: v for k, v in doc.items() if k not in hidden}
    out["file_id"] = doc["_id"]
    out["revisions"] = [
        {k: v for k, v in r.items() if k != "gridfs_id"} for r in doc.get("revisions", [])
    ]
    return out


async def _store(file_id: str, revision: int, content: bytes) -> Any:
    return await bucket.upload_from_stream(
        f"{file_id}.r{revision}.xml", content, metadata={"file_id": file_id, "revision": revision}
    )


def _uploaded_event(doc: dict[str, Any], revision: dict[str, Any]) -> dict[str, Any]:
    payload = FileUploaded(
        file_id=doc["_id"],
        revision=revision["revision"],
        provider_id=doc["provider_id"],
        filename=doc["filename"],
        size=revision["size"],
        sha256=revision["sha256"],
        uploaded_by=revision["created_by"],
        content_url=content_path(doc["_id"], revision["revision"]),
        canal=doc.get("canal", "upload_xml"),
    )
    return runtime.event(payload, key=doc["_id"], correlation_id=doc["correlation_id"])


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise UploadRejected(413, "arquivo_muito_grande", "O limite é 15 MB por arquivo.")
        chunks.append(chunk)
    return b"".join(chunks)


def _rejection(exc: UploadRejected) -> HTTPException:
    return HTTPException(exc.status_code, {"code": exc.code, "message": exc.message})


@router.post("/files", status_code=201)
async def create_file(
    request: Request,
    response: Response,
    provider_id: Annotated[str, Query(min_length=1)],
    filename: Annotated[str, Query(min_length=1, max_length=255)],
    uploaded_by: Annotated[str, Query(min_length=1)],
    idempotency_key: Annotated[str | None, Query(max_length=200)] = None,
    canal: Canal = "upload_xml",
) -> dict[str, Any]:
    """Store an upload as revision 1 and queue `file.uploaded` in the same document."""
    try:
        content = await _read_body(request)
        check_upload(filename, content)
    except UploadRejected as exc:
        raise _rejection(exc) from exc
    if idempotency_key:
        file_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{provider_id}/{idempotency_key}").hex
        existing = await files.find_one({"_id": file_id})
        if existing is not None:
            response.status_code = 200
            return public(existing)
    else:
        file_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    gridfs_id = await _store(file_id, 1, content)
    revision = {
        "revision": 1,
        "gridfs_id": gridfs_id,
        "size": len(content),
        "sha256": sha256_hex(content),
        "created_at": now,
        "created_by": uploaded_by,
        "reason": "upload",
    }
    doc: dict[str, Any] = {
        "_id": file_id,
        "provider_id": provider_id,
        "filename": filename,
        "status": FileStatus.EM_PROCESSAMENTO.value,
        "created_at": now,
        "updated_at": now,
        "current_revision": 1,
        "revisions": [revision],
        "corrigido_online": False,
        "correlation_id": file_id,
        "idempotency_key": idempotency_key,
        "canal": canal,
        "handled": [],
    }
    doc["outbox"] = [_uploaded_event(doc, revision)]
    try:
        await files.insert_one(doc)
    except DuplicateKeyError:
        # The same idempotency key raced us: the other request stored it.
        await bucket.delete(gridfs_id)
        existing = await files.find_one({"_id": file_id})
        response.status_code = 200
        return public(existing or doc)
    runtime.relay.notify()
    return public(doc)


@router.post("/files/{file_id}/revisions", status_code=201)
async def create_revision(
    file_id: str,
    request: Request,
    created_by: Annotated[str, Query(min_length=1)],
    base_revision: Annotated[int, Query(ge=1)],
    reason: Annotated[str, Query(max_length=200)] = "correcao",
) -> dict[str, Any]:
    """Store a corrected revision (made from `base_revision`) and reprocess it."""
    try:
        content = await _read_body(request)
        check_upload("revisao.xml", content)
    except UploadRejected as exc:
        raise _rejection(exc) from exc
    doc = await files.find_one({"_id": file_id})
    if doc is None:
        raise HTTPException(
            404, {"code": "arquivo_nao_encontrado", "message": "Arquivo não encontrado."}
        )
    number = base_revision + 1
    gridfs_id = await _store(file_id, number, content)
    now = datetime.now(UTC)
    revision = {
        "revision": number,
        "gridfs_id": gridfs_id,
        "size": len(content),
        "sha256": sha256_hex(content),
        "created_at": now,
        "created_by": created_by,
        "reason": reason,
    }
    # Only from the revision the editor saw: two concurrent corrections cannot both win.
    async with runtime.write_lock:
        updated = await files.find_one_and_update(
            {"_id": file_id, "current_revision": base_revision},
            {
                "$set": {
                    "current_revision": number,
                    "status": FileStatus.EM_PROCESSAMENTO.value,
                    "updated_at": now,
                    "corrigido_online": True,
                },
                "$push": {"revisions": revision, "outbox": _uploaded_event(doc, revision)},
            },
            return_document=ReturnDocument.AFTER,
        )
    if updated is None:
        await bucket.delete(gridfs_id)
        raise HTTPException(
            409,
            {
                "code": "revisao_desatualizada",
                "message": "O arquivo mudou desde que você abriu a correção; recarregue.",
            },
        )
    runtime.relay.notify()
    return public(updated)


@router.get("/files")
async def list_files(
    provider_id: str | None = None,
    status: FileStatus | None = None,
    nome: str | None = None,
    de: datetime | None = None,
    ate: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    query = match(
        provider_id=provider_id,
        status=status.value if status else None,
        filename={"$regex": re.escape(nome), "$options": "i"} if nome else None,
        created_at={**({"$gte": de} if de else {}), **({"$lte": ate} if ate else {})} or None,
    )
    return await page_of(files, query, page, page_size, public)


@router.get("/files/{file_id}")
async def get_file(file_id: str) -> dict[str, Any]:
    doc = await files.find_one({"_id": file_id})
    if doc is None:
        raise HTTPException(
            404, {"code": "arquivo_nao_encontrado", "message": "Arquivo não encontrado."}
        )
    return public(doc)


@router.get("/files/{file_id}/revisions/{revision}/content")
async def get_content(file_id: str, revision: int) -> Response:
    doc = await files.find_one({"_id": file_id}, {"revisions": 1, "filename": 1})
    match = [r for r in (doc or {}).get("revisions", []) if r["revision"] == revision]
    if not match:
        raise HTTPException(
            404, {"code": "revisao_nao_encontrada", "message": "Revisão não encontrada."}
        )
    stream = await bucket.open_download_stream(match[0]["gridfs_id"])
    content = await stream.read()
    return Response(
        content,
        media_type="application/xml",
        headers={"X-Content-SHA256": match[0]["sha256"]},
    )


@runtime.consumers.on(Topic.FILE_VALIDATED)
async def on_file_validated(envelope: Envelope) -> None:
    """Record the verdict, unless it is for a revision that is no longer current."""
    event = envelope.payload_as(FileValidated)
    async with runtime.write_lock:
        await files.update_one(
            {
                "_id": event.file_id,
                "current_revision": event.revision,
                **not_handled(envelope.event_id),
            },
            {
                "$set": {
                    "status": event.status,
                    "updated_at": datetime.now(UTC),
                    "validacao": {
                        "revision": event.revision,
                        "critiques": event.critiques,
                        "numero_lote": event.numero_lote,
                        "tipo_guia": event.tipo_guia,
                        "quantidade_guias": event.quantidade_guias,
                        "valor_total": str(event.valor_total)
                        if event.valor_total is not None
                        else None,
                        "versao_tiss": event.versao_tiss,
                    },
                },
                "$push": mark_handled(envelope.event_id),
            },
        )


app = runtime.create_app([router])
