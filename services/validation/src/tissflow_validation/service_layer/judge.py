"""Judge a stored revision: the use case behind `file.uploaded` (and `lote.deleted`).

Fetches the bytes from ingest (claim check, sha256 checked), runs
`tissflow_validation.engine.validate` off the event loop with the operator's registry,
rule settings and the file's ignored critiques, claims the guide numbers of a valid file
(1308 across files), and records the result with its `file.validated` in one document.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from prometheus_client import Histogram
from pydantic import ValidationError
from tissflow_contracts import FileUploaded, FileValidated, GuiaLote
from tissflow_contracts import Prestador as PrestadorDoLote
from tissflow_runtime.publisher import content_seal_text

from tissflow_validation.domain.correcoes import pares_ignorados
from tissflow_validation.domain.errors import ContentMismatch
from tissflow_validation.domain.regras_operadora import contexto_regras
from tissflow_validation.engine import (
    Critique,
    GuiaResumo,
    OperatorContext,
    ValidationResult,
    validate,
)
from tissflow_validation.engine.reference import glosa
from tissflow_validation.service_layer import corrections
from tissflow_validation.service_layer.lookups import (
    carteiras_in,
    guias_in,
    lazy_registry,
    prestadores_in,
)
from tissflow_validation.service_layer.ports import (
    CorrectionStates,
    Guides,
    Ingest,
    Publisher,
    Registry,
    Results,
    Rules,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Where a verdict's time goes (ADR 0019): `/metrics` of the service.
STEP_SECONDS = Histogram(
    "tissflow_validation_step_seconds",
    "Time of each step of judging one revision",
    ["step"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@contextmanager
def step(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        STEP_SECONDS.labels(name).observe(time.perf_counter() - started)


async def operator_context(
    registro_ans: str,
    registry: Registry,
    guides: Guides,
    rules: Rules,
    states: CorrectionStates,
    provider_id: str,
    file_id: str,
    content: bytes,
    estado: Awaitable[dict[str, Any] | None] | None = None,
) -> OperatorContext:
    """The operator data the engine needs for this file; an empty registry skips its check.
    `estado` is the file's correction state when the caller is already asking for it
    (awaited here alongside the other questions); otherwise it is read."""
    loop = asyncio.get_running_loop()

    async def fetch_guias(keys: list[str]) -> dict[str, Any]:
        # A file's own guides (any revision) never count as already presented.
        return dict.fromkeys(await guides.presented_elsewhere(provider_id, file_id, keys), True)

    async def state() -> dict[str, Any] | None:
        return await estado if estado is not None else await states.get(file_id)

    # Independent questions at once: their round trips overlap (ADR 0019). The look-ups
    # of the registries start before we know whether a registry is loaded (ADR 0021): one
    # wave of round trips instead of two; an unused answer is dropped.
    async def linked(registro: dict[str, Any] | None) -> set[str]:
        vinculados: set[str] = set()
        if registro is not None and registro.get("vinculados"):
            # providers the operator linked to the sender may execute its guides, named by
            # their CNPJ/CPF or by their code at the operator
            vinculados.update(registro["vinculados"])
            for d in (await registry.prestadores_by_keys(sorted(vinculados))).values():
                if d.get("codigo_prestador"):
                    vinculados.add(d["codigo_prestador"])
        return vinculados

    async def sender() -> tuple[dict[str, Any] | None, set[str]]:
        registro = await registry.prestador(provider_id)
        return registro, await linked(registro)

    (
        ((registro, vinculados), has_prestadores, has_beneficiarios, regras),
        (prest, bene, seen, estado_lido),
    ) = await asyncio.gather(
        asyncio.gather(
            sender(), registry.has_prestadores(), registry.has_beneficiarios(), rules.all()
        ),
        asyncio.gather(
            lazy_registry(prestadores_in(content), registry.prestadores_by_keys, loop),
            lazy_registry(carteiras_in(content), registry.beneficiarios_by_keys, loop),
            lazy_registry(guias_in(content), fetch_guias, loop),
            state(),
        ),
    )
    remetente = {provider_id}
    if registro is not None and registro.get("codigo_prestador"):
        remetente.add(registro["codigo_prestador"])
    settings = contexto_regras(regras)

    def ja_apresentada(prestador: str, numero_guia: str) -> bool:
        return numero_guia in seen

    return OperatorContext(
        registro_ans=registro_ans,
        prestadores=prest if has_prestadores else None,
        beneficiarios=bene if has_beneficiarios else None,
        guia_ja_apresentada=ja_apresentada,
        prestador_remetente=remetente,
        prestadores_vinculados=vinculados,
        rules=settings,
        ignored=pares_ignorados((estado_lido or {}).get("ignoradas", [])),
    )


async def fetch_content(ingest: Ingest, event: FileUploaded) -> bytes:
    """The revision's bytes (claim check); `ContentMismatch` if they are not the event's."""
    content = await ingest.content_at(event.content_url)
    if hashlib.sha256(content).hexdigest() != event.sha256:
        raise ContentMismatch(f"sha256 do conteúdo não confere com o evento ({event.file_id})")
    return content


def inline_content(event: FileUploaded) -> bytes:
    """A small file's bytes as the event carries them (ADR 0021), checked against its
    sha256 like a claim check's: `ContentMismatch` if they are not the event's."""
    assert event.content_base64 is not None
    try:
        content = base64.b64decode(event.content_base64, validate=True)
    except ValueError as exc:  # not base64 (binascii.Error), or not even ASCII
        raise ContentMismatch(f"conteúdo do evento não é base64 válido ({event.file_id})") from exc
    if hashlib.sha256(content).hexdigest() != event.sha256:
        raise ContentMismatch(f"sha256 do conteúdo não confere com o evento ({event.file_id})")
    return content


def sealed_by_us(publisher: Publisher, event: FileUploaded) -> bool:
    """Whether this deployment's ingest sealed the bytes the event carries: an event of
    another deployment sharing the broker (parallel test stacks), or one forged, is not
    judged on its own word; its bytes are fetched from ingest (claim check) instead."""
    if event.content_base64 is None or event.content_seal is None:
        return False
    text = content_seal_text(event.file_id, event.revision, event.sha256)
    return hmac.compare_digest(event.content_seal, publisher.seal(text))


async def event_content(ingest: Ingest, publisher: Publisher, event: FileUploaded) -> bytes:
    """The bytes the event names: carried in it when small and sealed by this deployment,
    else fetched (claim check)."""
    if sealed_by_us(publisher, event):
        with step("conteudo_no_evento"):
            return inline_content(event)
    with step("claim_check"):
        return await fetch_content(ingest, event)


def extrato_do_evento(event: FileUploaded, result: ValidationResult) -> dict[str, Any]:
    """The provider and each guide as file.validated carries them (all of an imported
    file; of a refused one, as much as could be read: a guide the contract cannot hold,
    such as one without its number, is left out rather than losing the verdict)."""
    extrato = result.extrato
    if extrato is None:
        return {}
    prestador = None
    if extrato.prestador is not None:
        ident = extrato.prestador.get("provider_id") or event.provider_id
        prestador = PrestadorDoLote.model_validate({**extrato.prestador, "provider_id": ident})
    guias_lote = []
    for guia in extrato.guias():
        try:
            guias_lote.append(GuiaLote.model_validate(guia))
        except ValidationError:
            log.warning("guia fora do contrato omitida de file.validated (%s)", event.file_id)
    return {"prestador": prestador, "guias": guias_lote}


def result_document(
    event: FileUploaded, result: ValidationResult, correlation_id: str, publisher: Publisher
) -> dict[str, Any]:
    data = result.to_dict()
    status: Literal["importado", "invalido"] = "importado" if result.valido else "invalido"
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
        canal=event.canal,
        **extrato_do_evento(event, result),
    )
    return {
        "_id": f"{event.file_id}:{event.revision}",
        "file_id": event.file_id,
        "revision": event.revision,
        "provider_id": event.provider_id,
        "status": status,
        "validated_at": datetime.now(UTC),
        "result": data,
        "outbox": [publisher.entry(payload, key=event.file_id, correlation_id=correlation_id)],
    }


async def claim_guides(
    guides: Guides, provider_id: str, file_id: str, revision: int, result: ValidationResult
) -> list[GuiaResumo]:
    """Index the file's guides as presented; the guides another file holds already."""
    numbered = [g for g in result.guias if g.numero_guia_prestador]
    docs: list[dict[str, Any]] = [
        {
            "_id": f"{provider_id}:{g.numero_guia_prestador}",
            "provider_id": provider_id,
            "numero_guia": g.numero_guia_prestador,
            "file_id": file_id,
            "revision": revision,
        }
        for g in numbered
    ]
    # One round trip for all of them (a lote has up to 100 guides); a guide number twice
    # in the file is claimed once (the engine refuses such a file anyway).
    unique = list({d["_id"]: d for d in docs}.values())
    inserted = dict(zip([d["_id"] for d in unique], await guides.claim_all(unique), strict=True))
    claimed = [key for key, ok in inserted.items() if ok]
    holders = await asyncio.gather(*(guides.holder(key) for key, ok in inserted.items() if not ok))
    held = dict(zip([k for k, ok in inserted.items() if not ok], holders, strict=True))
    taken = [
        g
        for g, d in zip(numbered, docs, strict=True)
        if d["_id"] in held and held[d["_id"]] is not None and held[d["_id"]] != file_id
    ]
    if taken and claimed:
        await guides.release(claimed, file_id)
    return taken


def mark_presented(result: ValidationResult, taken: list[GuiaResumo]) -> None:
    """Add the 1308 critiques the engine could not see (a concurrent file won the guide)."""
    g = glosa("1308")
    for guia in taken:
        result.critiques.append(
            Critique(
                sequencial=len(result.critiques) + 1,
                codigo="1308",
                descricao=g.descricao,
                mensagem=f"{g.descricao} Detalhes: a guia {guia.numero_guia_prestador} já foi "
                "apresentada em outro arquivo deste prestador",
                xpath=guia.xpath,
                linha=guia.linha,
                numero_guia=guia.numero_guia_prestador,
            )
        )
    result.valido = False


async def judge_revision(
    *,
    registro_ans: str,
    results: Results,
    guides: Guides,
    registry: Registry,
    rules: Rules,
    states: CorrectionStates,
    ingest: Ingest,
    publisher: Publisher,
    event: FileUploaded,
    correlation_id: str,
) -> None:
    """Judge one stored revision once (a redelivery finds its result and stops)."""

    async def timed(name: str, work: Awaitable[T]) -> T:
        with step(name):
            return await work

    # Everything that does not need the verdict, at once (ADR 0019, 0021): a reprocess
    # whose caller died after ingest stored the revision is finished; a redelivery finds
    # its result; the bytes (carried in the event, or the claim check) and the operator's
    # data the engine needs are read meanwhile. Only a revision not judged yet needs the
    # bytes and the context, so their failure is ignored for a judged one, as before.
    estado = asyncio.ensure_future(
        timed(
            "estado",
            corrections.conclude_if_revision(states, event.file_id, event.revision, event.sha256),
        )
    )

    async def prepared() -> tuple[bytes, OperatorContext]:
        content = await event_content(ingest, publisher, event)
        with step("contexto"):
            context = await operator_context(
                registro_ans,
                registry,
                guides,
                rules,
                states,
                event.provider_id,
                event.file_id,
                content,
                estado=estado,
            )
        return content, context

    judged, ready = await asyncio.gather(
        timed("ja_julgado", results.exists(f"{event.file_id}:{event.revision}")),
        prepared(),
        return_exceptions=True,
    )
    await estado  # its failure, if any, is the one to report
    if isinstance(judged, BaseException):
        raise judged
    if judged:
        return  # already judged: a redelivery
    if isinstance(ready, BaseException):
        raise ready
    content, context = ready
    with step("motor"):
        result = await asyncio.to_thread(validate, content, context)
    with step("guias"):
        if result.valido:
            # Claim the guide numbers before saying "importado": of two files with the same
            # guide validated at the same time (other partitions, other replicas) one wins.
            # A crash after this is redone harmlessly: a file's own claims are its own.
            taken = await claim_guides(
                guides, event.provider_id, event.file_id, event.revision, result
            )
            if taken:
                mark_presented(result, taken)
    with step("resultado"):
        doc = result_document(event, result, correlation_id, publisher)
        if await results.insert(doc):
            # A new document holds just what we wrote: the relay need not read it back.
            publisher.notify("results", doc["_id"], {"_id": doc["_id"], "outbox": doc["outbox"]})


async def forget_lote_guides(guides: Guides, provider_id: str, file_id: str | None) -> None:
    """A lote deleted before sending was never presented: its guides may come again."""
    if file_id:
        await guides.forget_file(provider_id, file_id)
