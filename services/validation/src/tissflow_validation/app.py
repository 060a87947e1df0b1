"""Validation service: judges each uploaded revision with the TISS engine, keeps critiques.

Consumes `file.uploaded` (fetching the bytes from ingest: claim check), runs
`tissflow_validation.engine.validate` off the event loop with the operator's registry,
rule settings and the file's ignored critiques, records the result and the critiques,
indexes the guides of imported files (for "guia já apresentada", 1308) and produces
`file.validated`. Owns the database `<prefix>_validation`.

Its internal API (under `/internal`, internal token) also serves the provider's online
correction (ignore a critique, save corrections, save and reprocess: a new revision
stored by ingest, which goes through the same pipeline), the operator's registry (JSON
and CSV) and the operator's rule settings (`/regras`), read at each validation.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError
from tissflow_contracts import (
    Envelope,
    FileUploaded,
    FileValidated,
    GuiaLote,
    LoteDeleted,
    Topic,
)
from tissflow_contracts import Prestador as PrestadorDoLote
from tissflow_runtime.consumer import PermanentError
from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings

from tissflow_validation.cadastro import CsvInvalido, TipoCadastro, decodificar, ler_csv
from tissflow_validation.correcoes import (
    com_ignorada,
    encontrar_critica,
    mesclar_pendentes,
    motivo,
    novo_estado,
    pares,
    pares_ignorados,
    publico,
    revisao_aplicada,
    sem_aplicadas,
)
from tissflow_validation.engine import (
    Critique,
    GuiaResumo,
    OperatorContext,
    ValidationResult,
    apply_correction,
    validate,
)
from tissflow_validation.engine.reference import glosa
from tissflow_validation.lookups import carteiras_in, guias_in, lazy_registry, prestadores_in
from tissflow_validation.regras_operadora import CATALOGO, contexto_regras, item_regra

log = logging.getLogger(__name__)

MAX_CSV_BYTES = 20 * 1024 * 1024
MAX_IGNORAR = 5000  # places one "Ignorar todas" may name (MAX_CRITICAS_XSD is 500)
_TENTATIVAS_ESTADO = 20
# Longer than the internal HTTP timeout: past it, an unfinished reprocess is dead.
_PRAZO_REPROCESSO = timedelta(seconds=120)


settings = ServiceSettings()
runtime = ServiceRuntime("validation", settings)
runtime.outbox_collections("results")
results = runtime.db["results"]
guias = runtime.db["guias"]
prestadores = runtime.db["prestadores"]
beneficiarios = runtime.db["beneficiarios"]
# One document per file: pending corrections, ignored critiques, reprocess in flight.
arquivos = runtime.db["arquivos"]
# One document per configured table-38 code: {"_id": codigo, enabled, ignoravel}.
regras = runtime.db["regras"]
router = APIRouter(prefix="/internal")


@runtime.on_startup
async def create_indexes(db: Any) -> None:
    await results.create_index([("file_id", ASCENDING), ("revision", DESCENDING)])
    await guias.create_index([("provider_id", ASCENDING)])


def erro(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message})


async def operator_context(provider_id: str, file_id: str, content: bytes) -> OperatorContext:
    """The operator data the engine needs for this file; an empty registry skips its check."""
    loop = asyncio.get_running_loop()

    async def fetch_prestadores(keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        query = {"$or": [{"_id": {"$in": keys}}, {"codigo_prestador": {"$in": keys}}]}
        async for d in prestadores.find(query):
            for key in (d["_id"], d.get("codigo_prestador")):
                if key in keys:
                    found[key] = d
        return found

    async def fetch_beneficiarios(keys: list[str]) -> dict[str, Any]:
        return {
            d["_id"]: {"nome": d.get("nome"), "ativo": bool(d.get("ativo", True))}
            async for d in beneficiarios.find({"_id": {"$in": keys}})
        }

    async def fetch_guias(keys: list[str]) -> dict[str, Any]:
        # A file's own guides (any revision) never count as already presented.
        query = {
            "provider_id": provider_id,
            "numero_guia": {"$in": keys},
            "file_id": {"$ne": file_id},
        }
        return {d["numero_guia"]: True async for d in guias.find(query, {"numero_guia": 1})}

    remetente = {provider_id}
    registro = await prestadores.find_one({"_id": provider_id})
    if registro is not None and registro.get("codigo_prestador"):
        remetente.add(registro["codigo_prestador"])
    prest = bene = None
    if await prestadores.find_one({}, {"_id": 1}) is not None:
        prest = await lazy_registry(prestadores_in(content), fetch_prestadores, loop)
    if await beneficiarios.find_one({}, {"_id": 1}) is not None:
        bene = await lazy_registry(carteiras_in(content), fetch_beneficiarios, loop)
    seen = await lazy_registry(guias_in(content), fetch_guias, loop)
    rules = contexto_regras([d async for d in regras.find({})])
    estado = await arquivos.find_one({"_id": file_id}, {"ignoradas": 1})

    def ja_apresentada(prestador: str, numero_guia: str) -> bool:
        return numero_guia in seen

    return OperatorContext(
        registro_ans=settings.operadora_registro_ans,
        prestadores=prest,
        beneficiarios=bene,
        guia_ja_apresentada=ja_apresentada,
        prestador_remetente=remetente,
        rules=rules,
        ignored=pares_ignorados((estado or {}).get("ignoradas", [])),
    )


async def fetch_content(event: FileUploaded) -> bytes:
    response = await runtime.http.get(f"{settings.ingest_url}{event.content_url}")
    response.raise_for_status()
    content = response.content
    if hashlib.sha256(content).hexdigest() != event.sha256:
        raise PermanentError(f"sha256 do conteúdo não confere com o evento ({event.file_id})")
    return content


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
        "outbox": [runtime.event(payload, key=event.file_id, correlation_id=correlation_id)],
    }


async def claim_guides(
    provider_id: str, file_id: str, revision: int, result: ValidationResult
) -> list[GuiaResumo]:
    """Index the file's guides as presented; the guides another file holds already."""
    claimed: list[str] = []
    taken: list[GuiaResumo] = []
    for guia in result.guias:
        numero = guia.numero_guia_prestador
        if not numero:
            continue
        key = f"{provider_id}:{numero}"
        try:
            await guias.insert_one(
                {
                    "_id": key,
                    "provider_id": provider_id,
                    "numero_guia": numero,
                    "file_id": file_id,
                    "revision": revision,
                }
            )
            claimed.append(key)
        except DuplicateKeyError:
            holder = await guias.find_one({"_id": key}, {"file_id": 1})
            if holder is not None and holder["file_id"] != file_id:
                taken.append(guia)
    if taken and claimed:
        await guias.delete_many({"_id": {"$in": claimed}, "file_id": file_id})
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


@runtime.consumers.on(Topic.LOTE_DELETED)
async def on_lote_deleted(envelope: Envelope) -> None:
    """A lote deleted before sending was never presented: its guides may come again."""
    event = envelope.payload_as(LoteDeleted)
    if event.file_id:
        await guias.delete_many({"provider_id": event.provider_id, "file_id": event.file_id})


@runtime.consumers.on(Topic.FILE_UPLOADED)
async def on_file_uploaded(envelope: Envelope) -> None:
    event = envelope.payload_as(FileUploaded)
    # A reprocess whose caller died after ingest stored the revision: finish it here.
    await concluir_se_for_a_revisao(event.file_id, event.revision, event.sha256)
    result_id = f"{event.file_id}:{event.revision}"
    if await results.find_one({"_id": result_id}, {"_id": 1}) is not None:
        return  # already judged: a redelivery
    content = await fetch_content(event)
    context = await operator_context(event.provider_id, event.file_id, content)
    result = await asyncio.to_thread(validate, content, context)
    if result.valido:
        # Claim the guide numbers before saying "importado": of two files with the same
        # guide validated at the same time (other partitions, other replicas) one wins.
        # A crash after this is redone harmlessly: a file's own claims are its own.
        taken = await claim_guides(event.provider_id, event.file_id, event.revision, result)
        if taken:
            mark_presented(result, taken)
    doc = result_document(event, result, envelope.correlation_id)
    try:
        await results.insert_one(doc)
    except DuplicateKeyError:
        return
    runtime.relay.notify()


# --- a file's correction state (one document, guarded single-document writes) ----------


async def ler_estado(file_id: str) -> dict[str, Any]:
    return await arquivos.find_one({"_id": file_id}) or novo_estado(file_id)


async def alterar_estado(
    file_id: str, mudar: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> dict[str, Any]:
    """Apply `mudar(estado) -> fields to $set | None (nothing to do)` without losing writes.

    Optimistic concurrency on the document's `versao`, retried on a race; and, because
    FerretDB applies concurrent updates without isolation, the whole read-modify-write
    holds this process's write lock (real MongoDB needs only the version guard).
    """
    for _ in range(_TENTATIVAS_ESTADO):
        async with runtime.write_lock:
            doc = await arquivos.find_one({"_id": file_id})
            atual = doc or novo_estado(file_id)
            mudancas = mudar(atual)
            if mudancas is None:
                return atual
            versao = int(atual.get("versao", 0))
            novo = {**atual, **mudancas, "versao": versao + 1}
            if doc is None:
                try:
                    await arquivos.insert_one(novo)
                except DuplicateKeyError:
                    continue
                return novo
            feito = await arquivos.update_one(
                {"_id": file_id, "versao": versao}, {"$set": {**mudancas, "versao": versao + 1}}
            )
            if feito.matched_count:
                return novo
    raise erro(
        409,
        "edicao_concorrente",
        "O arquivo está sendo corrigido por outra pessoa neste momento; tente novamente.",
    )


async def concluir(file_id: str, em: dict[str, Any]) -> None:
    """Ingest holds the revision `em` describes: drop the corrections it carries."""

    def mudar(e: dict[str, Any]) -> dict[str, Any] | None:
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

    await alterar_estado(file_id, mudar)


async def abandonar(file_id: str, em: dict[str, Any]) -> None:
    """The revision `em` describes will never exist: forget it, keep the corrections."""

    def mudar(e: dict[str, Any]) -> dict[str, Any] | None:
        atual = e.get("em_andamento")
        if not atual or atual["sha256"] != em["sha256"] or atual["revision"] != em["revision"]:
            return None
        return {"em_andamento": None}

    await alterar_estado(file_id, mudar)


async def concluir_se_for_a_revisao(file_id: str, revision: int, sha256: str) -> None:
    estado = await arquivos.find_one({"_id": file_id}, {"em_andamento": 1})
    em = (estado or {}).get("em_andamento")
    if em and em["revision"] == revision and em["sha256"] == sha256:
        await concluir(file_id, em)


# --- ingest (owner of the files and revisions) ---------------------------------------------


def _detalhe(response: httpx.Response) -> dict[str, Any]:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, dict) and "code" in detail:
        return detail
    return {"code": "erro_ingest", "message": "O serviço de arquivos recusou o pedido."}


async def _ingest(method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        response = await runtime.http.request(method, f"{settings.ingest_url}{path}", **kwargs)
    except httpx.HTTPError as exc:
        raise erro(
            503, "ingest_indisponivel", "O serviço de arquivos não respondeu; tente novamente."
        ) from exc
    if response.status_code in (404, 409, 413, 422):
        raise HTTPException(response.status_code, _detalhe(response))
    if response.status_code >= 400:
        raise erro(502, "ingest_indisponivel", "O serviço de arquivos falhou; tente novamente.")
    return response


async def arquivo_ingest(file_id: str) -> dict[str, Any]:
    return (await _ingest("GET", f"/internal/files/{file_id}")).json()


async def conteudo(file_id: str, revision: int) -> bytes:
    return (await _ingest("GET", f"/internal/files/{file_id}/revisions/{revision}/content")).content


async def corrigir(content: bytes, correcoes: list[tuple[str, str]], recalcular: bool) -> bytes:
    """`apply_correction` off the event loop; a correction that cannot apply is a 422."""
    try:
        return await asyncio.to_thread(apply_correction, content, correcoes, recalcular)
    except ValueError as exc:  # CorrecaoInvalida, or a value lxml cannot hold
        raise erro(
            422, "correcao_invalida", f"Não foi possível aplicar a correção: {exc}."
        ) from exc


# --- critiques and online correction -------------------------------------------------------


def exigir_invalido(status: str | None) -> None:
    """Corrections are for rejected files: an imported (maybe sent) file is not edited."""
    if status != "invalido":
        raise erro(
            409,
            "arquivo_nao_editavel",
            "Somente arquivos com situação “Inválido” podem ser corrigidos ou reprocessados.",
        )


@router.get("/results/{file_id}")
async def latest_result(file_id: str) -> dict[str, Any]:
    """The latest validated revision's result, the pending corrections and ignored critiques."""
    doc = await results.find_one({"file_id": file_id}, {"outbox": 0}, sort=[("revision", -1)])
    if doc is None:
        raise erro(404, "resultado_nao_encontrado", "Arquivo ainda não validado.")
    doc.pop("_id")
    doc.update(publico(await ler_estado(file_id)))
    return doc


@router.get("/files/{file_id}/correcoes")
async def correction_state(file_id: str) -> dict[str, Any]:
    return {"file_id": file_id, **publico(await ler_estado(file_id))}


class IgnorarIn(BaseModel):
    codigo: str = Field(min_length=1, max_length=10)
    xpath: str | None = Field(default=None, max_length=2000)
    # Several places of the same code at once ("Ignorar todas"): one write for all.
    xpaths: list[str | None] | None = Field(default=None, max_length=MAX_IGNORAR)
    by: str = Field(min_length=1, max_length=200)


@router.post("/files/{file_id}/ignorar")
async def ignore_critique(file_id: str, body: IgnorarIn) -> dict[str, Any]:
    """Mark ignorable critiques of the latest result as ignored for this file: the one at
    `xpath`, or each of `xpaths` (all or none: every place must be an ignorable critique).

    Does not reprocess: the next revision (reprocessar) is validated with them ignored.
    """
    doc = await results.find_one({"file_id": file_id}, {"outbox": 0}, sort=[("revision", -1)])
    if doc is None:
        raise erro(404, "resultado_nao_encontrado", "Arquivo ainda não validado.")
    exigir_invalido(doc["status"])
    lugares = body.xpaths if body.xpaths is not None else [body.xpath]
    for xpath in lugares:
        critica = encontrar_critica(doc["result"].get("critiques", []), body.codigo, xpath)
        if critica is None:
            raise erro(
                404,
                "critica_nao_encontrada",
                f"O arquivo não tem a crítica {body.codigo} em {xpath or '(sem localização)'}.",
            )
        if not critica.get("ignoravel"):
            raise erro(
                409,
                "critica_nao_ignoravel",
                f"A crítica {body.codigo} ({critica.get('descricao')}) não pode ser ignorada; "
                "corrija o arquivo.",
            )
    agora = datetime.now(UTC)

    def mudar(e: dict[str, Any]) -> dict[str, Any] | None:
        ignoradas, mudou = e.get("ignoradas", []), False
        for xpath in lugares:
            novas = com_ignorada(ignoradas, body.codigo, xpath, by=body.by, agora=agora)
            if novas is not None:
                ignoradas, mudou = novas, True
        return {"ignoradas": ignoradas} if mudou else None

    estado = await alterar_estado(file_id, mudar)
    return {"file_id": file_id, "revision": doc["revision"], **publico(estado)}


class CorrecaoIn(BaseModel):
    xpath: str = Field(min_length=1, max_length=2000)
    valor: str = Field(max_length=10_000)


class CorrecoesIn(BaseModel):
    correcoes: list[CorrecaoIn] = Field(min_length=1, max_length=1000)
    by: str = Field(min_length=1, max_length=200)


async def _salvar(
    file_id: str, revision: int, content: bytes, novas: list[tuple[str, str]], by: str
) -> dict[str, Any]:
    await corrigir(content, novas, False)  # every path must exist in this revision
    agora = datetime.now(UTC)

    def mudar(e: dict[str, Any]) -> dict[str, Any] | None:
        atuais = e.get("pendentes", [])
        novos = mesclar_pendentes(atuais, novas, by=by, revision=revision, agora=agora)
        return None if novos == atuais else {"pendentes": novos}

    return await alterar_estado(file_id, mudar)


@router.post("/files/{file_id}/correcoes")
async def save_corrections(file_id: str, body: CorrecoesIn) -> dict[str, Any]:
    """Salvar: keep corrections as pending for the file (checked on the current revision)."""
    arquivo = await arquivo_ingest(file_id)
    exigir_invalido(arquivo.get("status"))
    revision = int(arquivo["current_revision"])
    content = await conteudo(file_id, revision)
    novas = [(c.xpath, c.valor) for c in body.correcoes]
    estado = await _salvar(file_id, revision, content, novas, body.by)
    return {"file_id": file_id, "revision": revision, **publico(estado)}


@router.delete("/files/{file_id}/correcoes")
async def discard_corrections(file_id: str) -> dict[str, Any]:
    """Discard every pending correction of the file (nothing is reprocessed)."""
    estado = await alterar_estado(
        file_id, lambda e: {"pendentes": []} if e.get("pendentes") else None
    )
    return {"file_id": file_id, **publico(estado)}


class ReprocessarIn(BaseModel):
    by: str = Field(min_length=1, max_length=200)
    recalcular_totais: bool = False
    correcoes: list[CorrecaoIn] = Field(default_factory=list, max_length=1000)
    # Optional: the same key retried returns the revision the first call created.
    idempotency_key: str | None = Field(default=None, max_length=200)


def em_curso(em: dict[str, Any]) -> bool:
    """A reprocess started less than `_PRAZO_REPROCESSO` ago may still reach ingest."""
    iniciado = em.get("iniciado_em")
    if iniciado is None:
        return False
    if iniciado.tzinfo is None:
        iniciado = iniciado.replace(tzinfo=UTC)
    return datetime.now(UTC) - iniciado < _PRAZO_REPROCESSO


def _ja_reprocessando() -> HTTPException:
    return erro(
        409,
        "reprocessamento_em_andamento",
        "O arquivo já está sendo reprocessado; aguarde alguns segundos e recarregue.",
    )


def _resposta(file_id: str, revision: int, reason: str, aplicadas: int) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "revision": revision,
        "status": "em_processamento",
        "reason": reason,
        "correcoes_aplicadas": aplicadas,
    }


@router.post("/files/{file_id}/reprocessar")
async def reprocess(file_id: str, body: ReprocessarIn) -> dict[str, Any]:
    """Salvar e Reprocessar: a new revision with the pending corrections, validated anew.

    The new revision is made from the latest one, with the pending corrections (plus
    `correcoes`) applied, totals recalculated on request and the hash always recomputed;
    ingest stores it and emits `file.uploaded`. Pending corrections are dropped only once
    ingest has accepted the revision.
    """
    arquivo = await arquivo_ingest(file_id)
    base = int(arquivo["current_revision"])
    estado = await ler_estado(file_id)
    em = estado.get("em_andamento")
    if em:
        if revisao_aplicada(em, arquivo.get("revisions", [])):
            await concluir(file_id, em)
            if body.idempotency_key and em.get("idempotency_key") == body.idempotency_key:
                return _resposta(file_id, em["revision"], em["reason"], len(em["aplicadas"]))
        elif em_curso(em):
            raise _ja_reprocessando()
        else:  # its caller died before ingest stored anything
            await abandonar(file_id, em)
    ultimo = estado.get("ultimo_reprocessamento") or {}
    if (
        body.idempotency_key
        and ultimo.get("idempotency_key") == body.idempotency_key
        and ultimo.get("revision") == base
    ):
        return _resposta(
            file_id, base, ultimo.get("reason") or "reprocessamento", ultimo.get("aplicadas", 0)
        )
    exigir_invalido(arquivo.get("status"))
    content = await conteudo(file_id, base)
    novas = [(c.xpath, c.valor) for c in body.correcoes]
    if novas:
        estado = await _salvar(file_id, base, content, novas, body.by)
    else:
        estado = await ler_estado(file_id)
    pendentes = estado.get("pendentes", [])
    novo = await corrigir(content, pares(pendentes), body.recalcular_totais)
    reason = motivo(pendentes) if not body.recalcular_totais else "correcao"
    em = {
        "base_revision": base,
        "revision": base + 1,
        "sha256": hashlib.sha256(novo).hexdigest(),
        "aplicadas": [p["id"] for p in pendentes],
        "reason": reason,
        "by": body.by,
        "idempotency_key": body.idempotency_key,
        "iniciado_em": datetime.now(UTC),
    }

    def iniciar(e: dict[str, Any]) -> dict[str, Any]:
        if e.get("em_andamento"):  # another reprocess started meanwhile
            raise _ja_reprocessando()
        return {"em_andamento": em}

    await alterar_estado(file_id, iniciar)
    try:
        response = await _ingest(
            "POST",
            f"/internal/files/{file_id}/revisions",
            params={"created_by": body.by, "base_revision": base, "reason": reason},
            content=novo,
            headers={"Content-Type": "application/xml"},
        )
    except HTTPException as exc:
        if exc.status_code < 500:  # refused: that revision will never exist
            await abandonar(file_id, em)
        raise
    await concluir(file_id, em)
    revision = int(response.json().get("current_revision", base + 1))
    return _resposta(file_id, revision, reason, len(pendentes))


# --- the operator's registry ------------------------------------------------------------------


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


async def _importar_csv(tipo: TipoCadastro, request: Request) -> dict[str, Any]:
    partes: list[bytes] = []
    tamanho = 0
    async for parte in request.stream():
        tamanho += len(parte)
        if tamanho > MAX_CSV_BYTES:
            raise erro(413, "csv_muito_grande", "O limite é 20 MB por arquivo CSV.")
        partes.append(parte)
    try:
        importacao = ler_csv(tipo, decodificar(b"".join(partes)))
    except CsvInvalido as exc:
        raise erro(422, "csv_invalido", f"Arquivo CSV inválido: {exc}.") from exc
    colecao = prestadores if tipo == "prestadores" else beneficiarios
    ops = [
        UpdateOne(
            {"_id": r["_id"]}, {"$set": {k: v for k, v in r.items() if k != "_id"}}, upsert=True
        )
        for r in importacao.registros
    ]
    if ops:
        await colecao.bulk_write(ops, ordered=True)  # in file order: a later line wins
    return {"importados": len(importacao.registros), "erros": importacao.erros}


_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.post("/cadastro/prestadores/csv", openapi_extra=_CSV_BODY)
async def import_prestadores_csv(request: Request) -> dict[str, Any]:
    """`cnpj_cpf;codigo_prestador;nome` (UTF-8, `;`); bad lines are reported, not imported."""
    return await _importar_csv("prestadores", request)


@router.post("/cadastro/beneficiarios/csv", openapi_extra=_CSV_BODY)
async def import_beneficiarios_csv(request: Request) -> dict[str, Any]:
    """`numero_carteira;nome;ativo` (ativo S/N; UTF-8, `;`); bad lines are reported."""
    return await _importar_csv("beneficiarios", request)


# --- the operator's rule settings --------------------------------------------------------------


@router.get("/regras")
async def list_rules() -> dict[str, Any]:
    """Every table-38 code the engine can raise, with the operator's setting."""
    salvos = {d["_id"]: d async for d in regras.find({})}
    items = [item_regra(codigo, salvos.get(codigo)) for codigo in CATALOGO]
    return {"items": items, "total": len(items)}


class RegraIn(BaseModel):
    enabled: bool
    ignoravel: bool
    # "alerta": the critique is shown but does not make the file invalid.
    severidade: Literal["erro", "alerta"] = "erro"
    by: str | None = Field(default=None, max_length=200)


@router.put("/regras/{codigo}")
async def configure_rule(codigo: str, body: RegraIn) -> dict[str, Any]:
    """Switch a rule on/off, make it ignorable or a mere alert; applies to the next files."""
    entrada = CATALOGO.get(codigo)
    if entrada is None:
        raise erro(404, "regra_nao_encontrada", f"O validador não usa o código {codigo}.")
    if not entrada.configuravel:
        raise erro(
            409,
            "regra_nao_configuravel",
            f"A crítica {codigo} ({entrada.etapa}) é estrutural: sempre ativa e não ignorável.",
        )
    salvo = {
        "enabled": body.enabled,
        "ignoravel": body.ignoravel,
        "severidade": body.severidade,
        "atualizado_por": body.by,
        "atualizado_em": datetime.now(UTC),
    }
    await regras.update_one({"_id": codigo}, {"$set": salvo}, upsert=True)
    return item_regra(codigo, salvo)


app = runtime.create_app([router])
