"""Online correction: a file's correction state machine and the use cases that drive it.

The state (`domain.correcoes`) lives in one document per file; every change is a guarded
single-document write (`change_state`): optimistic concurrency on `versao`, retried on a
race, under the process's write lock (FerretDB applies concurrent updates without
isolation). Reprocessing stores a new revision in ingest (`em_andamento` records it
first, so a retry or the `file.uploaded` consumer can finish it if the caller died).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tissflow_contracts.errors import DomainError

from tissflow_validation.domain import errors
from tissflow_validation.domain.correcoes import (
    com_ignorada,
    encontrar_critica,
    mesclar_pendentes,
    motivo,
    novo_estado,
    pares,
    publico,
    revisao_aplicada,
    sem_aplicadas,
)
from tissflow_validation.engine import apply_correction
from tissflow_validation.service_layer.ports import CorrectionStates, Ingest, Results

STATE_ATTEMPTS = 20
# Longer than the internal HTTP timeout: past it, an unfinished reprocess is dead.
REPROCESS_DEADLINE = timedelta(seconds=120)
# A refusal by ingest: that revision will never exist (an outage may still store it).
_REFUSALS = ("not_found", "conflict", "invalid", "too_large")

Change = Callable[[dict[str, Any]], dict[str, Any] | None]


async def read_state(states: CorrectionStates, file_id: str) -> dict[str, Any]:
    return await states.get(file_id) or novo_estado(file_id)


async def change_state(states: CorrectionStates, file_id: str, change: Change) -> dict[str, Any]:
    """Apply `change(state) -> fields to $set | None (nothing to do)` without losing writes.

    Optimistic concurrency on the document's `versao`, retried on a race; and, because
    FerretDB applies concurrent updates without isolation, the whole read-modify-write
    holds this process's write lock (real MongoDB needs only the version guard).
    """
    for _ in range(STATE_ATTEMPTS):
        async with states.lock():
            doc = await states.get(file_id)
            current = doc or novo_estado(file_id)
            changes = change(current)
            if changes is None:
                return current
            versao = int(current.get("versao", 0))
            new = {**current, **changes, "versao": versao + 1}
            if doc is None:
                if not await states.insert(new):
                    continue
                return new
            if await states.update_if_version(file_id, versao, {**changes, "versao": versao + 1}):
                return new
    raise errors.concurrent_edit()


async def conclude(states: CorrectionStates, file_id: str, em: dict[str, Any]) -> None:
    """Ingest holds the revision `em` describes: drop the corrections it carries."""

    def change(e: dict[str, Any]) -> dict[str, Any] | None:
        atual = e.get("em_andamento")
        if not atual or atual["sha256"] != em["sha256"] or atual["revision"] != em["revision"]:
            return None
        return {
            "pendentes": sem_aplicadas(e.get("pendentes", []), atual["aplicadas"]),
            "em_andamento": None,
            "ultimo_reprocessamento": {
                "revision": atual["revision"],
                "sha256": atual["sha256"],
                "by": atual.get("by"),
                "reason": atual.get("reason"),
                "aplicadas": len(atual["aplicadas"]),
                "idempotency_key": atual.get("idempotency_key"),
                "concluido_em": datetime.now(UTC),
            },
        }

    await change_state(states, file_id, change)


async def abandon(states: CorrectionStates, file_id: str, em: dict[str, Any]) -> None:
    """The revision `em` describes will never exist: forget it, keep the corrections."""

    def change(e: dict[str, Any]) -> dict[str, Any] | None:
        atual = e.get("em_andamento")
        if not atual or atual["sha256"] != em["sha256"] or atual["revision"] != em["revision"]:
            return None
        return {"em_andamento": None}

    await change_state(states, file_id, change)


async def conclude_if_revision(
    states: CorrectionStates, file_id: str, revision: int, sha256: str
) -> dict[str, Any] | None:
    """Finish a reprocess that stored this revision; the file's state after (None: none)."""
    estado = await states.get(file_id)
    em = (estado or {}).get("em_andamento")
    if em and em["revision"] == revision and em["sha256"] == sha256:
        await conclude(states, file_id, em)
        estado = await states.get(file_id)
    return estado


async def correct(content: bytes, correcoes: list[tuple[str, str]], recalcular: bool) -> bytes:
    """`apply_correction` off the event loop; a correction that cannot apply is invalid."""
    try:
        return await asyncio.to_thread(apply_correction, content, correcoes, recalcular)
    except ValueError as exc:  # CorrecaoInvalida, or a value lxml cannot hold
        raise errors.invalid_correction(exc) from exc


def require_invalid(status: str | None) -> None:
    """Corrections are for rejected files: an imported (maybe sent) file is not edited."""
    if status != "invalido":
        raise errors.not_editable()


def in_flight(em: dict[str, Any]) -> bool:
    """A reprocess started less than `REPROCESS_DEADLINE` ago may still reach ingest."""
    iniciado = em.get("iniciado_em")
    if iniciado is None:
        return False
    if iniciado.tzinfo is None:
        iniciado = iniciado.replace(tzinfo=UTC)
    return bool(datetime.now(UTC) - iniciado < REPROCESS_DEADLINE)


# --- use cases ------------------------------------------------------------------------------


async def latest_result(results: Results, states: CorrectionStates, file_id: str) -> dict[str, Any]:
    """The latest validated revision's result, the pending corrections and ignored critiques."""
    doc = await results.latest(file_id)
    if doc is None:
        raise errors.result_not_found()
    doc.pop("_id", None)
    doc.update(publico(await read_state(states, file_id)))
    return doc


async def correction_state(states: CorrectionStates, file_id: str) -> dict[str, Any]:
    return {"file_id": file_id, **publico(await read_state(states, file_id))}


async def ignore_critiques(
    results: Results,
    states: CorrectionStates,
    file_id: str,
    codigo: str,
    xpaths: list[str | None],
    by: str,
) -> dict[str, Any]:
    """Mark ignorable critiques of the latest result as ignored for this file, each of
    `xpaths` (all or none: every place must be an ignorable critique).

    Does not reprocess: the next revision (reprocessar) is validated with them ignored.
    """
    doc = await results.latest(file_id)
    if doc is None:
        raise errors.result_not_found()
    require_invalid(doc["status"])
    for xpath in xpaths:
        critica = encontrar_critica(doc["result"].get("critiques", []), codigo, xpath)
        if critica is None:
            raise errors.critique_not_found(codigo, xpath)
        if not critica.get("ignoravel"):
            raise errors.critique_not_ignorable(codigo, critica.get("descricao"))
    agora = datetime.now(UTC)

    def change(e: dict[str, Any]) -> dict[str, Any] | None:
        ignoradas, mudou = e.get("ignoradas", []), False
        for xpath in xpaths:
            novas = com_ignorada(ignoradas, codigo, xpath, by=by, agora=agora)
            if novas is not None:
                ignoradas, mudou = novas, True
        return {"ignoradas": ignoradas} if mudou else None

    estado = await change_state(states, file_id, change)
    return {"file_id": file_id, "revision": doc["revision"], **publico(estado)}


async def _save(
    states: CorrectionStates,
    file_id: str,
    revision: int,
    content: bytes,
    novas: list[tuple[str, str]],
    by: str,
) -> dict[str, Any]:
    await correct(content, novas, False)  # every path must exist in this revision
    agora = datetime.now(UTC)

    def change(e: dict[str, Any]) -> dict[str, Any] | None:
        atuais = e.get("pendentes", [])
        novos = mesclar_pendentes(atuais, novas, by=by, revision=revision, agora=agora)
        return None if novos == atuais else {"pendentes": novos}

    return await change_state(states, file_id, change)


async def save_corrections(
    ingest: Ingest,
    states: CorrectionStates,
    file_id: str,
    correcoes: list[tuple[str, str]],
    by: str,
) -> dict[str, Any]:
    """Salvar: keep corrections as pending for the file (checked on the current revision)."""
    arquivo = await ingest.file(file_id)
    require_invalid(arquivo.get("status"))
    revision = int(arquivo["current_revision"])
    content = await ingest.content(file_id, revision)
    estado = await _save(states, file_id, revision, content, correcoes, by)
    return {"file_id": file_id, "revision": revision, **publico(estado)}


async def discard_corrections(states: CorrectionStates, file_id: str) -> dict[str, Any]:
    """Discard every pending correction of the file (nothing is reprocessed)."""
    estado = await change_state(
        states, file_id, lambda e: {"pendentes": []} if e.get("pendentes") else None
    )
    return {"file_id": file_id, **publico(estado)}


def _answer(file_id: str, revision: int, reason: str, aplicadas: int) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "revision": revision,
        "status": "em_processamento",
        "reason": reason,
        "correcoes_aplicadas": aplicadas,
    }


async def reprocess(
    ingest: Ingest,
    states: CorrectionStates,
    file_id: str,
    *,
    by: str,
    recalcular_totais: bool = False,
    correcoes: list[tuple[str, str]] | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Salvar e Reprocessar: a new revision with the pending corrections, validated anew.

    The new revision is made from the latest one, with the pending corrections (plus
    `correcoes`) applied, totals recalculated on request and the hash always recomputed;
    ingest stores it and emits `file.uploaded`. Pending corrections are dropped only once
    ingest has accepted the revision.
    """
    arquivo = await ingest.file(file_id)
    base = int(arquivo["current_revision"])
    estado = await read_state(states, file_id)
    em = estado.get("em_andamento")
    if em:
        if revisao_aplicada(em, arquivo.get("revisions", [])):
            await conclude(states, file_id, em)
            if idempotency_key and em.get("idempotency_key") == idempotency_key:
                return _answer(file_id, em["revision"], em["reason"], len(em["aplicadas"]))
        elif in_flight(em):
            raise errors.already_reprocessing()
        else:  # its caller died before ingest stored anything
            await abandon(states, file_id, em)
    ultimo = estado.get("ultimo_reprocessamento") or {}
    if (
        idempotency_key
        and ultimo.get("idempotency_key") == idempotency_key
        and ultimo.get("revision") == base
    ):
        return _answer(
            file_id, base, ultimo.get("reason") or "reprocessamento", ultimo.get("aplicadas", 0)
        )
    require_invalid(arquivo.get("status"))
    content = await ingest.content(file_id, base)
    if correcoes:
        estado = await _save(states, file_id, base, content, correcoes, by)
    else:
        estado = await read_state(states, file_id)
    pendentes = estado.get("pendentes", [])
    novo = await correct(content, pares(pendentes), recalcular_totais)
    reason = motivo(pendentes) if not recalcular_totais else "correcao"
    em = {
        "base_revision": base,
        "revision": base + 1,
        "sha256": hashlib.sha256(novo).hexdigest(),
        "aplicadas": [p["id"] for p in pendentes],
        "reason": reason,
        "by": by,
        "idempotency_key": idempotency_key,
        "iniciado_em": datetime.now(UTC),
    }

    def start(e: dict[str, Any]) -> dict[str, Any]:
        if e.get("em_andamento"):  # another reprocess started meanwhile
            raise errors.already_reprocessing()
        return {"em_andamento": em}

    await change_state(states, file_id, start)
    try:
        stored = await ingest.store_revision(
            file_id, novo, by=by, base_revision=base, reason=reason
        )
    except DomainError as exc:
        if exc.kind in _REFUSALS:  # refused: that revision will never exist
            await abandon(states, file_id, em)
        raise
    await conclude(states, file_id, em)
    revision = int(stored.get("current_revision", base + 1))
    return _answer(file_id, revision, reason, len(pendentes))
