"""Ingest's entry points: the internal HTTP API and the `file.validated` consumer.

They read requests and events, call the use cases of `service_layer` with the adapters
`bootstrap` wired, and leave domain errors to the runtime's handler (HTTP status by kind).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from tissflow_contracts import Envelope, FileValidated, Topic
from tissflow_contracts.events import Canal
from tissflow_runtime.consumer import Handler
from tissflow_runtime.limits import BodyTooLarge, read_limited
from tissflow_runtime.publisher import Publisher

from tissflow_ingest import service_layer
from tissflow_ingest.domain import MAX_UPLOAD_BYTES, FileStatus, too_large
from tissflow_ingest.service_layer import ContentStore, FileRepository


async def read_body(request: Request) -> bytes:
    """The request body, refused while it streams past 15 MB."""
    try:
        return await read_limited(request.stream(), MAX_UPLOAD_BYTES)
    except BodyTooLarge:
        raise too_large() from None


# A batch of claim checks answers in one JSON body: each revision up to this size inline.
BATCH_CONTENT_MAX_BYTES = 1024 * 1024


class Revisao(BaseModel):
    file_id: str = Field(min_length=1, max_length=200)
    revision: int = Field(ge=1)


class ClaimChecks(BaseModel):
    revisoes: list[Revisao] = Field(max_length=200)


def build_router(files: FileRepository, store: ContentStore, publisher: Publisher) -> APIRouter:
    router = APIRouter(prefix="/internal")

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
        stored = await service_layer.store_upload(
            files,
            store,
            publisher,
            provider_id=provider_id,
            filename=filename,
            uploaded_by=uploaded_by,
            content=await read_body(request),
            idempotency_key=idempotency_key,
            canal=canal,
        )
        if not stored.created:
            response.status_code = 200
        return stored.file

    @router.post("/files/{file_id}/revisions", status_code=201)
    async def create_revision(
        file_id: str,
        request: Request,
        created_by: Annotated[str, Query(min_length=1)],
        base_revision: Annotated[int, Query(ge=1)],
        reason: Annotated[str, Query(max_length=200)] = "correcao",
    ) -> dict[str, Any]:
        """Store a corrected revision (made from `base_revision`) and reprocess it."""
        stored = await service_layer.store_revision(
            files,
            store,
            publisher,
            file_id=file_id,
            base_revision=base_revision,
            created_by=created_by,
            reason=reason,
            content=await read_body(request),
        )
        return stored.file

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
        return await files.page(
            provider_id=provider_id,
            status=status.value if status else None,
            nome=nome,
            de=de,
            ate=ate,
            page=page,
            page_size=page_size,
        )

    @router.get("/files/{file_id}")
    async def get_file(file_id: str) -> dict[str, Any]:
        return await service_layer.get_file(files, file_id)

    @router.post("/files/contents")
    async def get_contents(body: ClaimChecks) -> dict[str, Any]:
        """Many revisions' bytes at once (validation's claim checks of one batch): each
        found one with its sha256, its bytes in base64 up to 1 MB (a larger one comes
        with `base64: null` and is fetched alone); one not found is left out."""
        wanted = [(r.file_id, r.revision) for r in body.revisoes]
        found = await service_layer.read_revisions(files, store, wanted, BATCH_CONTENT_MAX_BYTES)
        return {
            "conteudos": [
                {
                    "file_id": file_id,
                    "revision": revision,
                    "sha256": sha256,
                    "base64": base64.b64encode(content).decode() if content is not None else None,
                }
                for (file_id, revision), (content, sha256) in found.items()
            ]
        }

    @router.get("/files/{file_id}/revisions/{revision}/content")
    async def get_content(file_id: str, revision: int) -> Response:
        content, sha256 = await service_layer.read_revision(files, store, file_id, revision)
        return Response(content, media_type="application/xml", headers={"X-Content-SHA256": sha256})

    return router


def build_consumers(files: FileRepository) -> dict[str, Handler]:
    """The handler of each consumed topic."""

    async def on_file_validated(envelope: Envelope) -> None:
        """Record the verdict, unless it is for a revision that is no longer current."""
        verdict = envelope.payload_as(FileValidated)
        await service_layer.record_verdict(files, str(envelope.event_id), verdict)

    return {Topic.FILE_VALIDATED: on_file_validated}
