"""`tissLoteGuias`: loteGuiasWS → protocoloRecebimentoWS, over the one billing pipeline.

The call's `cabecalho` + `loteGuias` are rewrapped as the ENVIO_LOTE_GUIAS `mensagemTISS`
a clinic would upload (the header as sent but without `loginSenhaPrestador`, so no
credential is ever stored in a file; the optional WS `Signature` is dropped; the epilogue
hash recomputed over the new message in ISO-8859-1) and uploaded through the same use case
as `POST /api/v1/uploads` with canal "webservice". From there it is judged by the same
engine; an imported file becomes its lote in batching (Canal "Web service"), which this
operation closes and sends with the portal's own actions, and the protocol service gives
the PEG and its PROTOCOLO_RECEBIMENTO, whose `recebimentoLote` is the answer.

The synchronous answer meets the event-driven pipeline by waiting, up to a bound
(`TISSFLOW_WS_ESPERA_SEGUNDOS`, 60 s by default), for the verdict and then the PEG (ADR
0014). Every step is idempotent and keyed by the call (provider + sequencialTransacao +
numeroLote + hash): the upload carries that key as its idempotency key (one file), the
file makes one lote, closing/sending act on its state, and `ws_lotes` keeps the outcome.
One caller at a time works a key (a lease in `ws_lotes`); identical concurrent calls wait
for its outcome. Past the bound the caller gets `ErroInesperadoServidor` saying to resend
the same message, and the resend picks up where the pipeline is: never a second lote.

A refused file is answered `recebimentoLote/mensagemErro` with one table-38 code (the
standard's structure holds one: the first critique the XSD's dm_tipoGlosa can carry), the
same code in `cabecalho/falhaNegocio`, and in `descricaoGlosa` (≤ 500 characters) the
count, where the full list is (the portal's Histórico de Arquivos Enviados and
`GET /api/v1/files/{id}/criticas`, the file id given) and as many critiques as fit.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo.errors import DuplicateKeyError
from tissflow_tiss import NS, codigos_glosa_xsd, el, finalizar

from tissflow_gateway import files, lotes
from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, db, seg
from tissflow_gateway.routes import protocolos
from tissflow_gateway.ws.registry import Call, Reply, WsFault, operation

log = logging.getLogger(__name__)
_A = {"ans": NS}
ws_lotes = db["ws_lotes"]
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
POLL_SECONDS = 0.25
MAX_DESCRICAO = 500
CODIGO_PADRAO = "5001"  # MENSAGEM ELETRÔNICA FORA DO PADRÃO TISS


class WsLoteSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TISSFLOW_WS_")
    espera_segundos: float = 60.0
    """How long one call waits for the verdict and the PEG before answering 'resend'."""


settings = WsLoteSettings()


class StillRunning(Exception):
    """The bound passed before the outcome: the caller is told to resend."""


def call_key(provider_id: str, sequencial: str, numero_lote: str, hash_: str) -> str:
    """The identity of a call: the same provider resending the same message."""
    text = f"{provider_id}|{sequencial}|{numero_lote}|{hash_.lower()}"
    return hashlib.sha256(text.encode()).hexdigest()


def rewrap(cabecalho: etree._Element, lote: etree._Element) -> bytes:
    """The ENVIO_LOTE_GUIAS mensagemTISS of a loteGuiasWS: its header without the
    credentials, its loteGuias, a fresh epilogue hash; ISO-8859-1 bytes."""
    root = etree.Element(f"{{{NS}}}mensagemTISS", nsmap={"ans": NS})
    cab = copy.deepcopy(cabecalho)
    for login in cab.findall("ans:loginSenhaPrestador", _A):
        cab.remove(login)
    root.append(cab)
    el(root, "prestadorParaOperadora").append(copy.deepcopy(lote))
    return finalizar(root)


def _texto(value: Any) -> str:
    return " ".join(str(value or "").split())


def mensagem_erro(file_id: str, critiques: list[dict[str, Any]]) -> tuple[str, str]:
    """(table-38 code, descricaoGlosa ≤ 500) for a refused file."""
    permitidos = codigos_glosa_xsd()
    errors = [c for c in critiques if not c.get("ignorada")] or critiques
    codigo = next((c["codigo"] for c in errors if c.get("codigo") in permitidos), CODIGO_PADRAO)
    head = (
        f"Lote recusado com {len(errors)} crítica(s). Lista completa: portal, Histórico de "
        f"Arquivos Enviados, arquivo {file_id} (ou GET /api/v1/files/{file_id}/criticas)."
    )
    parts = [head]
    for c in errors:
        guia = f" guia {c['numero_guia']}" if c.get("numero_guia") else ""
        parts.append(
            f"[{c.get('codigo')}]{guia}: {_texto(c.get('mensagem') or c.get('descricao'))}"
        )
    text = " ".join(parts)
    if len(text) > MAX_DESCRICAO:
        text = text[: MAX_DESCRICAO - 1].rstrip() + "…"
    return codigo, text


# -- the pipeline, step by step (each idempotent) -----------------------------------------
async def _wait(probe: Any, deadline: float) -> Any:
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise StillRunning()
        await asyncio.sleep(POLL_SECONDS)


async def _verdict(user: User, file_id: str, deadline: float) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        doc = await files.get_file(user, file_id)
        return doc if doc["status"] != "em_processamento" else None

    return await _wait(probe, deadline)


async def _send(user: User, file_id: str, deadline: float) -> dict[str, Any]:
    """The file's lote, closed and sent with the portal's actions; returns it sent."""

    async def lote() -> dict[str, Any] | None:
        return await lotes.lote_of_file(user, file_id)

    doc = await _wait(lote, deadline)
    for _ in range(4):
        status = doc["status"]
        if status == "enviado":
            return doc
        if status == "excluido":
            raise WsFault(
                "ErroInesperadoServidor",
                "O lote deste envio foi excluído no portal; envie um novo lote.",
            )
        acao = "fechar" if status == "aberto" else "enviar"
        try:
            doc = await lotes.act(user, doc["lote_id"], acao)
        except ApiError as exc:
            if exc.status_code != 409:
                raise
            doc = await lotes.get_lote(user, doc["lote_id"])  # someone acted first
    return doc


async def _peg(user: User, lote_id: str, deadline: float) -> str:
    async def probe() -> str | None:
        page = await protocolos.list_protocolos(user, lote_id=lote_id)
        items = page.get("items") or []
        return items[0].get("peg") if items else None

    return await _wait(probe, deadline)


async def recebimento(user: User, peg: str) -> etree._Element:
    """The protocol's PROTOCOLO_RECEBIMENTO content (`recebimentoLote`), as the portal
    downloads it."""
    await protocolos.get_protocolo(user, peg)
    upstream = await call("GET", "protocol", f"/internal/protocolos/{seg(peg)}/recebimento.xml")
    root = etree.fromstring(upstream.content, _SAFE)
    node = root.find("ans:operadoraParaPrestador/ans:recebimentoLote", _A)
    if node is None:
        raise ApiError(502, "erro_interno", "PROTOCOLO_RECEBIMENTO sem recebimentoLote.")
    return node


def _recusa_reply(recusa: dict[str, str]) -> Reply:
    body = etree.Element(f"{{{NS}}}recebimentoLote", nsmap={"ans": NS})
    erro = el(body, "mensagemErro")
    el(erro, "codigoGlosa", recusa["codigo"])
    el(erro, "descricaoGlosa", recusa["descricao"])
    return Reply("PROTOCOLO_RECEBIMENTO", body, falha_negocio=recusa["codigo"])


async def _outcome(user: User, done: dict[str, Any]) -> Reply:
    if done.get("recusa"):
        return _recusa_reply(done["recusa"])
    return Reply("PROTOCOLO_RECEBIMENTO", await recebimento(user, done["peg"]))


async def _run(req: Call, key: str, deadline: float) -> dict[str, Any]:
    """Upload (idempotent by `key`), verdict, lote, send, PEG; the outcome stored."""
    numero = (req.body.findtext("ans:numeroLote", namespaces=_A) or "").strip()
    content = rewrap(req.cabecalho, req.body)
    stored = await files.store_upload(
        req.user,
        f"webservice-lote-{numero or 'sem-numero'}.xml",
        content,
        idempotency_key=f"ws-{key}",
        canal="webservice",
    )
    file_id = stored["file_id"]
    await ws_lotes.update_one({"_id": key}, {"$set": {"file_id": file_id}})
    verdict = await _verdict(req.user, file_id, deadline)
    if verdict["status"] == "invalido":
        result = await files.get_result(req.user, file_id)
        codigo, descricao = mensagem_erro(file_id, result["result"].get("critiques") or [])
        outcome: dict[str, Any] = {"recusa": {"codigo": codigo, "descricao": descricao}}
    else:
        lote = await _send(req.user, file_id, deadline)
        outcome = {
            "lote_id": lote["lote_id"],
            "peg": await _peg(req.user, lote["lote_id"], deadline),
        }
    outcome["done_at"] = datetime.now(UTC)
    await ws_lotes.update_one({"_id": key}, {"$set": outcome})
    return outcome


async def _claim(key: str, doc: dict[str, Any], lease: timedelta) -> dict[str, Any] | None:
    """None: this call works the key now (lease taken); else the record as it stands."""
    now = datetime.now(UTC)
    try:
        await ws_lotes.insert_one(
            {**doc, "_id": key, "created_at": now, "lease_until": now + lease}
        )
        return None
    except DuplicateKeyError:
        pass
    existing = await ws_lotes.find_one({"_id": key})
    if existing is None or existing.get("done_at"):
        return existing
    if existing["lease_until"].replace(tzinfo=UTC) <= now:
        taken = await ws_lotes.update_one(
            {"_id": key, "lease_until": existing["lease_until"]},
            {"$set": {"lease_until": now + lease}},
        )
        if taken.modified_count == 1:
            return None
    return existing


EM_PROCESSAMENTO = (
    "O lote ainda está em processamento. Reenvie a mesma mensagem (mesmo "
    "sequencialTransacao, numeroLote e hash) em alguns instantes para receber o protocolo; "
    "o reenvio nunca cria um segundo lote."
)


@operation("tissLoteGuias", request="loteGuiasWS", response="protocoloRecebimentoWS")
async def lote_guias(req: Call) -> Reply:
    """Envio de lote de guias: o protocolo (PEG) de recebimento ou a recusa com as críticas."""
    ident = req.cabecalho.findtext("ans:identificacaoTransacao/ans:sequencialTransacao", "", _A)
    numero = req.body.findtext("ans:numeroLote", "", _A)
    hash_ = etree.fromstring(req.raw, _SAFE).findtext("ans:hash", "", _A) or ""
    assert req.user.provider_id is not None
    key = call_key(req.user.provider_id, ident.strip(), numero.strip(), hash_.strip())
    espera = settings.espera_segundos
    deadline = time.monotonic() + espera
    record = {
        "provider_id": req.user.provider_id,
        "sequencial": ident.strip(),
        "numero_lote": numero.strip(),
        "hash": hash_.strip().lower(),
        "by": req.user.username,
    }
    existing = await _claim(key, record, timedelta(seconds=espera + 5))
    if existing is not None and existing.get("done_at"):
        return await _outcome(req.user, existing)
    if existing is not None:  # an identical call is working it: wait for its outcome
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            again = await ws_lotes.find_one({"_id": key})
            if again and again.get("done_at"):
                return await _outcome(req.user, again)
        raise WsFault("ErroInesperadoServidor", EM_PROCESSAMENTO)
    try:
        outcome = await _run(req, key, deadline)
    except StillRunning:
        # Give the key back, so the resend carries on at once from where the pipeline is.
        await ws_lotes.update_one({"_id": key}, {"$set": {"lease_until": datetime.now(UTC)}})
        raise WsFault("ErroInesperadoServidor", EM_PROCESSAMENTO) from None
    except BaseException:
        await ws_lotes.update_one({"_id": key}, {"$set": {"lease_until": datetime.now(UTC)}})
        raise
    return await _outcome(req.user, outcome)
