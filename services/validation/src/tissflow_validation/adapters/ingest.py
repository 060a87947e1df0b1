"""The ingest client: a file's record and revisions (claim check), and storing a corrected
revision, over the shared internal client; its errors become domain errors."""

from __future__ import annotations

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


class IngestClient:
    def __init__(self, client: InternalClient) -> None:
        self._client = client

    async def file(self, file_id: str) -> dict[str, Any]:
        async with _translated():
            answer: dict[str, Any] = await self._client.get("ingest", f"/internal/files/{file_id}")
        return answer

    async def content(self, file_id: str, revision: int) -> bytes:
        return await self.content_at(f"/internal/files/{file_id}/revisions/{revision}/content")

    async def content_at(self, path: str) -> bytes:
        async with _translated():
            return await self._client.get_bytes("ingest", path)

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
