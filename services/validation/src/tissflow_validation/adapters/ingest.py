"""The ingest client: a file's record and revisions (claim check), and storing a corrected
revision, over the shared internal client; its errors become domain errors.

Claim checks made at the same moment (the files of one batch, ADR 0019) travel as one
request (`POST /internal/files/contents`); a large revision, or one the batch did not
return, is fetched alone at the event's `content_url`, whose answer (404...) decides."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tissflow_contracts.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    TooLarge,
    Unavailable,
    UpstreamFailed,
)
from tissflow_runtime.coalesce import KeyBatcher
from tissflow_runtime.internal_client import InternalCallError, InternalClient, ServiceUnavailable

_BY_STATUS: dict[int, type[DomainError]] = {
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    422: Invalid,
}


def _domain_error(exc: InternalCallError) -> DomainError:
    if isinstance(exc, ServiceUnavailable) and exc.status is None:
        return Unavailable(
            "ingest_indisponivel", "O serviço de arquivos não respondeu; tente novamente."
        )
    kind = _BY_STATUS.get(exc.status or 0)
    if kind is None:
        return UpstreamFailed(
            "ingest_indisponivel", "O serviço de arquivos falhou; tente novamente."
        )
    if exc.coded:
        return kind(exc.code, exc.message, exc.details)
    return kind("erro_ingest", "O serviço de arquivos recusou o pedido.")


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except InternalCallError as exc:
        raise _domain_error(exc) from exc


_CONTENT_PATH = re.compile(r"^/internal/files/([^/]+)/revisions/(\d+)/content$")


class IngestClient:
    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._claim_checks: KeyBatcher[tuple[str, int], dict[str, Any]] = KeyBatcher(
            self._contents, max_keys=64
        )

    async def file(self, file_id: str) -> dict[str, Any]:
        async with _translated():
            answer: dict[str, Any] = await self._client.get("ingest", f"/internal/files/{file_id}")
        return answer

    async def content(self, file_id: str, revision: int) -> bytes:
        return await self.content_at(f"/internal/files/{file_id}/revisions/{revision}/content")

    async def content_at(self, path: str) -> bytes:
        named = _CONTENT_PATH.match(path)
        if named is not None:
            found = await self._claim_checks.get((named[1], int(named[2])))
            if found is not None and found["base64"] is not None:
                return base64.b64decode(found["base64"])
        async with _translated():
            return await self._client.get_bytes("ingest", path)

    async def _contents(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Any]:
        body = {"revisoes": [{"file_id": f, "revision": r} for f, r in keys]}
        try:
            answer = await self._client.post(
                "ingest",
                "/internal/files/contents",
                json=body,
                retry=True,  # a read
            )
        except InternalCallError as exc:
            if exc.status in (404, 405):  # an ingest without the batch route: one by one
                return {}
            raise _domain_error(exc) from exc
        return {(c["file_id"], c["revision"]): c for c in answer["conteudos"]}

    async def store_revision(
        self, file_id: str, content: bytes, *, by: str, base_revision: int, reason: str
    ) -> dict[str, Any]:
        async with _translated():
            answer: dict[str, Any] = await self._client.post(
                "ingest",
                f"/internal/files/{file_id}/revisions",
                params={"created_by": by, "base_revision": base_revision, "reason": reason},
                content=content,
                headers={"Content-Type": "application/xml"},
            )
        return answer
