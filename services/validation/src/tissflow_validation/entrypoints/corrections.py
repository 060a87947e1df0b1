"""Internal routes of a file's critiques and online correction (called by the gateway)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tissflow_validation.service_layer import corrections
from tissflow_validation.service_layer.ports import Adapters

MAX_IGNORED_PLACES = 5000  # places one "Ignorar todas" may name (MAX_CRITICAS_XSD is 500)


class IgnoreRequest(BaseModel):
    codigo: str = Field(min_length=1, max_length=10)
    xpath: str | None = Field(default=None, max_length=2000)
    # Several places of the same code at once ("Ignorar todas"): one write for all.
    xpaths: list[str | None] | None = Field(default=None, max_length=MAX_IGNORED_PLACES)
    by: str = Field(min_length=1, max_length=200)


class Correction(BaseModel):
    xpath: str = Field(min_length=1, max_length=2000)
    valor: str = Field(max_length=10_000)


class CorrectionsRequest(BaseModel):
    correcoes: list[Correction] = Field(min_length=1, max_length=1000)
    by: str = Field(min_length=1, max_length=200)


class ReprocessRequest(BaseModel):
    by: str = Field(min_length=1, max_length=200)
    recalcular_totais: bool = False
    correcoes: list[Correction] = Field(default_factory=list, max_length=1000)
    # Optional: the same key retried returns the revision the first call created.
    idempotency_key: str | None = Field(default=None, max_length=200)


def build_router(a: Adapters) -> APIRouter:
    router = APIRouter(prefix="/internal")

    @router.get("/results/{file_id}")
    async def latest_result(file_id: str) -> dict[str, Any]:
        """The latest validated revision's result, pending corrections, ignored critiques."""
        return await corrections.latest_result(a.results, a.states, file_id)

    @router.get("/files/{file_id}/correcoes")
    async def correction_state(file_id: str) -> dict[str, Any]:
        return await corrections.correction_state(a.states, file_id)

    @router.post("/files/{file_id}/ignorar")
    async def ignore_critique(file_id: str, body: IgnoreRequest) -> dict[str, Any]:
        """Ignore ignorable critiques of the latest result: the one at `xpath`, or each of
        `xpaths` (all or none). Does not reprocess."""
        places = body.xpaths if body.xpaths is not None else [body.xpath]
        return await corrections.ignore_critiques(
            a.results, a.states, file_id, body.codigo, places, body.by
        )

    @router.post("/files/{file_id}/correcoes")
    async def save_corrections(file_id: str, body: CorrectionsRequest) -> dict[str, Any]:
        """Salvar: keep corrections as pending for the file (checked on the current revision)."""
        pairs = [(c.xpath, c.valor) for c in body.correcoes]
        return await corrections.save_corrections(a.ingest, a.states, file_id, pairs, body.by)

    @router.delete("/files/{file_id}/correcoes")
    async def discard_corrections(file_id: str) -> dict[str, Any]:
        """Discard every pending correction of the file (nothing is reprocessed)."""
        return await corrections.discard_corrections(a.states, file_id)

    @router.post("/files/{file_id}/reprocessar")
    async def reprocess(file_id: str, body: ReprocessRequest) -> dict[str, Any]:
        """Salvar e Reprocessar: a new revision with the pending corrections, validated anew."""
        return await corrections.reprocess(
            a.ingest,
            a.states,
            file_id,
            by=body.by,
            recalcular_totais=body.recalcular_totais,
            correcoes=[(c.xpath, c.valor) for c in body.correcoes],
            idempotency_key=body.idempotency_key,
        )

    return router
