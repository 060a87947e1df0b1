"""Ingest's use cases: store an upload, store a corrected revision, record a verdict.

Each takes the file repository, the content store and the publisher as arguments
(`bootstrap.py` passes the MongoDB ones, unit tests in-memory fakes). The state change
and the `file.uploaded` it causes are one document write (outbox); a small upload's bytes
are in that same write (ADR 0020), a larger one's are stored first.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from tissflow_contracts import INLINE_CONTENT_MAX_BYTES, FileUploaded, FileValidated
from tissflow_contracts.events import Canal
from tissflow_runtime.publisher import Publisher, content_seal_text

from tissflow_ingest.domain import (
    INLINE_FIELD,
    INLINE_MAX_BYTES,
    INLINE_REF,
    FileNotFound,
    FileStatus,
    RevisionNotFound,
    StaleRevision,
    check_upload,
    content_path,
    new_revision,
    public,
)


class FileRepository(Protocol):
    async def get(self, file_id: str, *, content: bool = False) -> dict[str, Any] | None:
        """The file document; its inline bytes (INLINE_FIELD) only when `content`."""
        ...

    async def insert(self, doc: dict[str, Any]) -> bool:
        """False when a file with this id exists already."""
        ...

    async def add_revision(
        self,
        file_id: str,
        base_revision: int,
        fields: dict[str, Any],
        revision: dict[str, Any],
        event: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Push `revision` and `event` and `$set` fields, only if the current revision is
        `base_revision`; the document after, or None when it was not."""
        ...

    async def record_verdict(self, event_id: str, verdict: FileValidated, at: datetime) -> None:
        """Set the verdict on the file if it is for its current revision, once per event."""
        ...

    async def page(
        self,
        *,
        provider_id: str | None,
        status: str | None,
        nome: str | None,
        de: datetime | None,
        ate: datetime | None,
        page: int,
        page_size: int,
    ) -> dict[str, Any]:
        """`{items, total, page, page_size}`, newest first."""
        ...


class ContentStore(Protocol):
    async def put(self, file_id: str, revision: int, content: bytes) -> Any: ...

    async def get(self, ref: Any) -> bytes: ...

    async def delete(self, ref: Any) -> None: ...


@dataclass
class Stored:
    """A use case's answer: the file as others see it, and whether it is new."""

    file: dict[str, Any]
    created: bool = True


def uploaded_event(
    publisher: Publisher,
    doc: dict[str, Any],
    revision: dict[str, Any],
    content: bytes | None = None,
) -> dict[str, Any]:
    """The revision's `file.uploaded` outbox entry. A small file's bytes travel in it,
    sealed as this deployment's (ADR 0021), so validation needs no claim check; a larger
    one is fetched by URL."""
    carried: dict[str, str] = {}
    if content is not None and len(content) <= INLINE_CONTENT_MAX_BYTES:
        seal = content_seal_text(doc["_id"], revision["revision"], revision["sha256"])
        carried = {
            "content_base64": base64.b64encode(content).decode(),
            "content_seal": publisher.seal(seal),
        }
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
        **carried,
    )
    return publisher.entry(payload, key=doc["_id"], correlation_id=doc["correlation_id"])


def file_id_for(provider_id: str, idempotency_key: str | None) -> str:
    """The same key from the same provider names the same file (a retried upload)."""
    if idempotency_key:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{provider_id}/{idempotency_key}").hex
    return uuid.uuid4().hex


async def store_upload(
    files: FileRepository,
    store: ContentStore,
    publisher: Publisher,
    *,
    provider_id: str,
    filename: str,
    uploaded_by: str,
    content: bytes,
    idempotency_key: str | None = None,
    canal: Canal = "upload_xml",
) -> Stored:
    """Store an upload as revision 1 and queue `file.uploaded` in the same document.
    `canal` is how it came: the portal or API upload, typed guides, the web services."""
    check_upload(filename, content)
    file_id = file_id_for(provider_id, idempotency_key)
    inline = len(content) <= INLINE_MAX_BYTES
    if idempotency_key and not inline:
        # A retry should not store megabytes again just to drop them; a small upload
        # skips this read: its insert below says whether the key was used.
        existing = await files.get(file_id)
        if existing is not None:
            return Stored(public(existing), created=False)
    now = datetime.now(UTC)
    ref = INLINE_REF if inline else await store.put(file_id, 1, content)
    revision = new_revision(1, ref, content, uploaded_by, "upload", now)
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
    if inline:
        doc[INLINE_FIELD] = content
    doc["outbox"] = [uploaded_event(publisher, doc, revision, content)]
    if not await files.insert(doc):
        # The same idempotency key was used before (or raced us): the first file stands.
        if not inline:
            await store.delete(ref)
        existing = await files.get(file_id)
        return Stored(public(existing or doc), created=False)
    # The document was just inserted: the relay publishes its entry without reading it back.
    publisher.notify("files", file_id, {"_id": file_id, "outbox": doc["outbox"]})
    return Stored(public(doc))


async def store_revision(
    files: FileRepository,
    store: ContentStore,
    publisher: Publisher,
    *,
    file_id: str,
    base_revision: int,
    created_by: str,
    reason: str,
    content: bytes,
) -> Stored:
    """Store a corrected revision (made from `base_revision`) and reprocess it."""
    check_upload("revisao.xml", content)
    doc = await files.get(file_id)
    if doc is None:
        raise FileNotFound()
    number = base_revision + 1
    ref = await store.put(file_id, number, content)
    now = datetime.now(UTC)
    revision = new_revision(number, ref, content, created_by, reason, now)
    fields = {
        "current_revision": number,
        "status": FileStatus.EM_PROCESSAMENTO.value,
        "updated_at": now,
        "corrigido_online": True,
    }
    # Only from the revision the editor saw: two concurrent corrections cannot both win.
    updated = await files.add_revision(
        file_id, base_revision, fields, revision, uploaded_event(publisher, doc, revision, content)
    )
    if updated is None:
        await store.delete(ref)
        raise StaleRevision()
    publisher.notify("files", file_id)
    return Stored(public(updated))


async def get_file(files: FileRepository, file_id: str) -> dict[str, Any]:
    doc = await files.get(file_id)
    if doc is None:
        raise FileNotFound()
    return public(doc)


async def read_revision(
    files: FileRepository, store: ContentStore, file_id: str, revision: int
) -> tuple[bytes, str]:
    """A revision's bytes and their sha256 (the claim check's answer)."""
    doc = await files.get(file_id, content=True)
    found = _revision_of(doc, revision)
    if doc is None or found is None:
        raise RevisionNotFound()
    return await _bytes_of(store, doc, found), found["sha256"]


def _revision_of(doc: dict[str, Any] | None, revision: int) -> dict[str, Any] | None:
    """The file document's record of `revision` (None: no such file or revision)."""
    return next((r for r in (doc or {}).get("revisions", []) if r["revision"] == revision), None)


async def _bytes_of(store: ContentStore, doc: dict[str, Any], revision: dict[str, Any]) -> bytes:
    """A revision's bytes: in its file document (a small upload) or in the store."""
    ref = revision["gridfs_id"]
    if ref == INLINE_REF:
        return bytes(doc[INLINE_FIELD])
    return await store.get(ref)


async def read_revisions(
    files: FileRepository,
    store: ContentStore,
    wanted: list[tuple[str, int]],
    max_bytes: int,
) -> dict[tuple[str, int], tuple[bytes | None, str]]:
    """Several revisions' bytes and sha256 at once (a batch of claim checks); a revision
    larger than `max_bytes` comes without its bytes (the caller fetches it alone), one
    that does not exist is left out."""

    async def one(file_id: str, revision: int) -> tuple[bytes | None, str] | None:
        doc = await files.get(file_id, content=True)
        found = _revision_of(doc, revision)
        if doc is None or found is None:
            return None
        if found["size"] > max_bytes:
            return None, found["sha256"]
        return await _bytes_of(store, doc, found), found["sha256"]

    # Concurrently: the repositories answer concurrent look-ups with one query.
    answers = await asyncio.gather(*(one(f, r) for f, r in wanted))
    return {key: a for key, a in zip(wanted, answers, strict=True) if a is not None}


async def record_verdict(files: FileRepository, event_id: str, verdict: FileValidated) -> None:
    """Record the verdict, unless it is for a revision that is no longer current."""
    await files.record_verdict(event_id, verdict, datetime.now(UTC))
