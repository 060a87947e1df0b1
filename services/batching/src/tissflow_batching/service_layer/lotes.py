"""Use cases of the lote de pagamento: open from a file, act, follow the protocol, NF, sync.

Each takes its collaborators in a `Deps` bundle (real adapters from bootstrap, fakes in the
unit tests) and raises domain errors; the entry points map them to HTTP or to retries.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from tissflow_contracts import FileValidated, LoteDeleted, LoteSent, ProtocoloStatusChanged
from tissflow_contracts.dominios import STATUS_PROTOCOLO
from tissflow_contracts.recuperacao import com_recuperado

from tissflow_batching.domain import (
    SITUACOES,
    STATUS_LABELS,
    Acao,
    ConfigOperadora,
    LoteActionRefused,
    LoteConflict,
    LoteError,
    LoteNotFound,
    LoteStatus,
    acoes_disponiveis,
    allowed_from,
    aplicar_analise,
    aviso_de_limite,
    counter_id,
    enviar_ate,
    gera_demonstrativo,
    next_status,
    numero_do_lote,
    prazo_em_texto,
    prazo_nf,
    situacao_protocolo,
)
from tissflow_batching.domain.situacao import DEMONSTRATIVO_ANALISE, FINAIS
from tissflow_batching.domain.valores import liberar_sem_glosa, money
from tissflow_batching.service_layer.ports import (
    ConfigRepository,
    LoteRepository,
    NotaFiscalStore,
    NumberSequence,
    Outbox,
    Pesquisa,
)

CANAIS = {"upload_xml": "Upload XML", "digitacao": "Digitação", "webservice": "Web service"}
# The operator's calendar (Enviar Até, NF deadlines) runs on Brasília time.
TZ = ZoneInfo("America/Sao_Paulo")
NF_MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Deps:
    lotes: LoteRepository
    numbers: NumberSequence
    outbox: Outbox
    config: ConfigRepository
    notas: NotaFiscalStore
    registro_ans: str = "331988"
    operadora_nome: str = "PASA"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def lote_id_for(file_id: str, revision: int) -> str:
    """One lote per imported revision: a redelivery finds it; a lote recreated after an
    Excluir comes from a new revision of the same file, so it gets a new id."""
    return uuid.uuid5(uuid.NAMESPACE_OID, f"lote/{file_id}/{revision}").hex


def _log(
    at: datetime,
    by: str,
    acao: str,
    resultado: str = "ok",
    detalhe: str | None = None,
    de: str | None = None,
    para: str | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "by": by,
        "acao": acao,
        "resultado": resultado,
        "detalhe": detalhe,
        "de": de,
        "para": para,
    }


def _guia_doc(guia: dict[str, Any], digitada_em: datetime) -> dict[str, Any]:
    valor = guia.get("valor_informado")
    return {
        **guia,
        "valor_informado": money(Decimal(str(valor))) if valor not in (None, "") else None,
        "valor_processado": "0.00",
        "valor_glosado": "0.00",
        "valor_liberado": "0.00",
        "data_digitacao": digitada_em,
    }


# -- open ------------------------------------------------------------------------------
async def open_lote_from_file(
    deps: Deps, event: FileValidated, event_id: str, correlation_id: str
) -> dict[str, Any] | None:
    """An imported file (uploaded XML or a typed lote's generated XML) makes one lote.

    Idempotent: the lote of a revision exists once; a file with a live lote gets no other.
    """
    if event.status != "importado":
        return None
    lote_id = lote_id_for(event.file_id, event.revision)
    # Both questions at once: their round trips overlap.
    mine, active = await asyncio.gather(
        deps.lotes.get(lote_id), deps.lotes.active_for_file(event.file_id)
    )
    if mine is not None:
        return None  # a redelivery
    if active is not None:
        return None  # a later revision of a file whose lote is alive
    registro = event.registro_ans or deps.registro_ans
    numero = numero_do_lote(await deps.numbers.next(counter_id(registro)))
    now = deps.clock()
    canal = getattr(event, "canal", None) or "upload_xml"
    guias = [_guia_doc(g.model_dump(mode="json"), now) for g in event.guias]
    if not guias:  # a verdict without guide details: their numbers at least
        guias = [_guia_doc({"numero_guia_prestador": n}, now) for n in event.numeros_guias]
    informado = money(Decimal(str(event.valor_total))) if event.valor_total is not None else None
    doc: dict[str, Any] = {
        "_id": lote_id,
        "numero": numero,
        "numero_lote": str(numero),
        "numero_lote_prestador": event.numero_lote or None,
        "provider_id": event.provider_id,
        "prestador": event.prestador.model_dump(mode="json") if event.prestador else None,
        "registro_ans": registro,
        "operadora_nome": deps.operadora_nome,
        "canal": canal if canal in CANAIS else "upload_xml",
        "file_id": event.file_id,
        "file_revision": event.revision,
        "sha256": event.sha256,
        "versao_tiss": event.versao_tiss,
        "tipo_guia": event.tipo_guia,
        "quantidade_guias": event.quantidade_guias or len(guias),
        "valor_total": informado,
        "valor_informado": informado,
        "valor_processado": "0.00",
        "valor_glosado": "0.00",
        "valor_liberado": "0.00",
        "numeros_guias": list(event.numeros_guias) or [g["numero_guia_prestador"] for g in guias],
        "guias": guias,
        "status": LoteStatus.ABERTO.value,
        "situacao_protocolo": situacao_protocolo("aberto", None),
        "created_at": now,
        "updated_at": now,
        "fechado_em": None,
        "enviado_em": None,
        "enviado_por": None,
        "excluido_em": None,
        "excluido_por": None,
        "data_pagamento": None,
        "nf": None,
        "correlation_id": correlation_id,
        "protocolo": None,
        "log": [_log(now, "sistema", "criado", detalhe=CANAIS.get(canal, canal), para="aberto")],
        "handled": [event_id],
        "outbox": [],
    }
    if not await deps.lotes.add(doc):
        return None
    return doc


# -- act -------------------------------------------------------------------------------
def _lote_sent(doc: dict[str, Any], by: str, now: datetime) -> LoteSent:
    valor = doc.get("valor_informado") or doc.get("valor_total")
    guias = [
        {
            k: v
            for k, v in g.items()
            if k not in {"valor_processado", "valor_glosado", "valor_liberado", "data_digitacao"}
        }
        for g in doc.get("guias") or []
        if g.get("numero_guia_prestador")
    ]
    return LoteSent.model_validate(
        {
            "lote_id": doc["_id"],
            "provider_id": doc["provider_id"],
            "registro_ans": doc.get("registro_ans"),
            "numero_lote": doc["numero_lote"],
            "canal": doc["canal"],
            "file_id": doc.get("file_id"),
            "file_revision": doc.get("file_revision"),
            "sha256": doc.get("sha256"),
            "tipo_guia": doc.get("tipo_guia"),
            "quantidade_guias": doc["quantidade_guias"],
            "valor_total": Decimal(valor) if valor else None,
            "sent_by": by,
            "sent_at": now,
            "numero_lote_prestador": doc.get("numero_lote_prestador"),
            "versao_tiss": doc.get("versao_tiss"),
            "prestador": doc.get("prestador"),
            "guias": guias,
        }
    )


async def act(deps: Deps, lote_id: str, action: str, by: str) -> dict[str, Any]:
    """Fechar, Reabrir, Enviar or Excluir, each logged with who, when and the result.

    Enviar is exactly-once: the state change and its `lote.sent` are one conditional
    write; a repeated or concurrent Enviar finds the lote sent and sends nothing more.
    """
    acao = Acao(action)
    doc = await deps.lotes.get(lote_id)
    if doc is None:
        raise LoteNotFound()
    now = deps.clock()
    current = LoteStatus(doc["status"])
    try:
        target = next_status(acao, current)
        if acao == Acao.FECHAR and not doc.get("quantidade_guias"):
            raise LoteActionRefused("lote_vazio", "O lote não tem guias: inclua guias antes.")
    except LoteActionRefused as refused:
        if current != LoteStatus.EXCLUIDO:
            await deps.lotes.append_log(
                lote_id, _log(now, by, acao.value, "recusado", refused.message, current.value)
            )
        raise
    if current == target:  # Enviar on a sent lote: done already
        await deps.lotes.append_log(lote_id, _already_sent(now, by))
        return doc
    sets: dict[str, Any] = {"status": target.value, "updated_at": now}
    outbox = None
    if acao == Acao.FECHAR:
        sets["fechado_em"] = now
    elif acao == Acao.REABRIR:
        sets["fechado_em"] = None
    elif acao == Acao.ENVIAR:
        sets.update(enviado_em=now, enviado_por=by, situacao_protocolo="enviado")
        outbox = deps.outbox.event(
            _lote_sent(doc, by, now), key=lote_id, correlation_id=doc["correlation_id"]
        )
    elif acao == Acao.EXCLUIR:
        sets.update(excluido_em=now, excluido_por=by)
        deleted = LoteDeleted(
            lote_id=lote_id,
            provider_id=doc["provider_id"],
            file_id=doc.get("file_id"),
            file_revision=doc.get("file_revision"),
            numeros_guias=doc.get("numeros_guias", []),
            deleted_by=by,
            deleted_at=now,
        )
        outbox = deps.outbox.event(deleted, key=lote_id, correlation_id=doc["correlation_id"])
    detalhe = "Enviado à operadora" if acao == Acao.ENVIAR else None
    log = _log(now, by, acao.value, "ok", detalhe, current.value, target.value)
    updated = await deps.lotes.transition(lote_id, allowed_from(acao), sets, log, outbox)
    if updated is None:
        again = await deps.lotes.get(lote_id)
        if again is not None and acao == Acao.ENVIAR and again["status"] == target.value:
            await deps.lotes.append_log(lote_id, _already_sent(now, by))
            return again
        raise LoteConflict()
    if outbox is not None:
        deps.outbox.notify("lotes", lote_id)
    return updated


def _already_sent(now: datetime, by: str) -> dict[str, Any]:
    return _log(
        now,
        by,
        "tentativa_envio",
        "ignorado",
        "O lote já tinha sido enviado: nada foi reenviado.",
        "enviado",
        "enviado",
    )


# -- protocol --------------------------------------------------------------------------
def _protocol_sets(
    doc: dict[str, Any],
    *,
    peg: str,
    status: int,
    data_pagamento: date | None,
    data_protocolo: date | None,
    changed_at: datetime,
    analise: list[dict[str, Any]],
    valor_liberado: Any,
    valor_glosado: Any,
) -> dict[str, Any]:
    protocolo = {
        "peg": peg,
        "status": status,
        "status_label": STATUS_PROTOCOLO.get(status, str(status)),
        "data_pagamento": data_pagamento.isoformat() if data_pagamento else None,
        "data_protocolo": data_protocolo.isoformat() if data_protocolo else None,
        "atualizado_em": changed_at,
    }
    sets: dict[str, Any] = {
        "protocolo": protocolo,
        "situacao_protocolo": situacao_protocolo(doc["status"], protocolo),
        "data_pagamento": protocolo["data_pagamento"],
        "updated_at": changed_at,
    }
    if analise or valor_liberado is not None or valor_glosado is not None:
        guias, totais = aplicar_analise(
            doc.get("guias") or [], analise, valor_liberado, valor_glosado
        )
        sets["guias"] = guias
        sets.update(totais)
    elif status in DEMONSTRATIVO_ANALISE and not doc.get("analisado"):
        # Released without values reported: as informed, nothing glosed.
        guias, totais = liberar_sem_glosa(doc.get("guias") or [])
        sets["guias"] = guias
        sets.update(totais)
    if "guias" in sets:
        sets["analisado"] = True
    return sets


async def apply_protocol_status(
    deps: Deps, event: ProtocoloStatusChanged, event_id: str
) -> dict[str, Any] | None:
    """The lote shows its protocol's situation, payment date and the operator's values."""
    doc = await deps.lotes.get(event.lote_id)
    if doc is None or event_id in doc.get("handled", []):
        return None
    stored = doc.get("protocolo") or {}
    if stored.get("atualizado_em") and _aware(stored["atualizado_em"]) > _aware(event.changed_at):
        # Sincronizar already brought a newer situation: only record the event as seen.
        return await deps.lotes.update_fields(event.lote_id, {}, event_id=event_id)
    sets = _protocol_sets(
        doc,
        peg=event.peg,
        status=event.status,
        data_pagamento=event.data_pagamento,
        data_protocolo=event.data_protocolo,
        changed_at=event.changed_at,
        analise=[g.model_dump(mode="json") for g in event.guias],
        valor_liberado=event.valor_liberado,
        valor_glosado=event.valor_glosado,
    )
    label = STATUS_PROTOCOLO.get(event.status, str(event.status))
    log = _log(deps.clock(), "operadora", "protocolo", "ok", f"PEG {event.peg}: {label}")
    return await deps.lotes.update_fields(event.lote_id, sets, log=log, event_id=event_id)


def _instant(value: Any) -> datetime | None:
    """A timestamp from another service's JSON (ISO text), timezone-aware."""
    if not value:
        return None
    try:
        return _aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def lotes_to_sync(deps: Deps, provider_id: str | None) -> list[str]:
    """Sincronizar, first step: the sent lotes whose protocol is not final yet."""
    pesquisa = Pesquisa(provider_id=provider_id, status="enviado")
    lotes, _ = await deps.lotes.search(pesquisa, 1, 1000)
    return [doc["_id"] for doc in lotes if (doc.get("protocolo") or {}).get("status") not in FINAIS]


async def sincronizar(
    deps: Deps,
    provider_id: str | None,
    by: str,
    protocolos: Mapping[str, dict[str, Any] | None],
) -> dict[str, int]:
    """Sincronizar: every open protocol's situation now, from the protocol service's
    records the gateway brings (`protocolos`, by lote id; batching calls no service)."""
    pesquisa = Pesquisa(provider_id=provider_id, status="enviado")
    lotes, _ = await deps.lotes.search(pesquisa, 1, 1000)
    verificados = atualizados = 0
    for doc in lotes:
        status = (doc.get("protocolo") or {}).get("status")
        if status in FINAIS:
            continue
        verificados += 1
        atual = protocolos.get(doc["_id"])
        if not atual:
            continue
        pagamento = atual.get("data_pagamento")
        data_protocolo = str(atual.get("created_at") or "")[:10] or None
        mudou = atual["status"] != status or (
            pagamento and pagamento != (doc.get("protocolo") or {}).get("data_pagamento")
        )
        if not mudou and doc.get("protocolo"):
            continue
        sets = _protocol_sets(
            doc,
            peg=atual["peg"],
            status=int(atual["status"]),
            data_pagamento=date.fromisoformat(pagamento) if pagamento else None,
            data_protocolo=date.fromisoformat(data_protocolo) if data_protocolo else None,
            changed_at=_instant(atual.get("updated_at")) or deps.clock(),
            analise=atual.get("guias") or [],
            valor_liberado=atual.get("valor_liberado"),
            valor_glosado=atual.get("valor_glosado"),
        )
        label = STATUS_PROTOCOLO.get(int(atual["status"]), str(atual["status"]))
        log = _log(deps.clock(), by, "sincronizar", "ok", f"PEG {atual['peg']}: {label}")
        await deps.lotes.update_fields(doc["_id"], sets, log=log)
        atualizados += 1
    return {"verificados": verificados, "atualizados": atualizados}


# -- nota fiscal -----------------------------------------------------------------------
class NotaFiscalInvalida(LoteError):
    kind = "invalid"


def _tipo_do_arquivo(content: bytes, filename: str) -> str:
    head = content[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"<") and filename.lower().endswith(".xml"):
        return "application/xml"
    raise NotaFiscalInvalida(
        "nf_formato_invalido", "Anexe a nota fiscal em PDF ou o XML da NFS-e (arquivo .xml)."
    )


async def attach_nf(
    deps: Deps,
    lote_id: str,
    *,
    numero: str,
    emissao: date,
    valor: str,
    filename: str,
    content: bytes,
    by: str,
) -> dict[str, Any]:
    """Attach the clinic's invoice (número, emissão, valor and the PDF or NFS-e XML)."""
    doc = await deps.lotes.get(lote_id)
    if doc is None:
        raise LoteNotFound()
    if doc["status"] != LoteStatus.ENVIADO.value:
        raise LoteActionRefused(
            "nf_lote_nao_enviado", "A nota fiscal é anexada depois do envio do lote."
        )
    numero = numero.strip()
    if not numero or len(numero) > 20:
        raise NotaFiscalInvalida("nf_numero_invalido", "Informe o número da nota fiscal.")
    if emissao > deps.clock().astimezone(TZ).date():
        raise NotaFiscalInvalida("nf_emissao_futura", "A data de emissão não pode ser futura.")
    try:
        quantia = (
            Decimal(valor.strip().replace(".", "").replace(",", "."))
            if "," in valor
            else (Decimal(valor.strip()))
        )
    except InvalidOperation:
        raise NotaFiscalInvalida("nf_valor_invalido", "Valor da nota fiscal inválido.") from None
    if not quantia.is_finite() or quantia <= 0:
        raise NotaFiscalInvalida("nf_valor_invalido", "O valor da nota fiscal deve ser positivo.")
    if not content:
        raise NotaFiscalInvalida("nf_sem_arquivo", "Anexe o arquivo da nota fiscal.")
    if len(content) > NF_MAX_BYTES:
        raise NotaFiscalInvalida("nf_arquivo_grande", "O arquivo da nota fiscal excede 5 MB.")
    media_type = _tipo_do_arquivo(content, filename)
    await deps.notas.put(lote_id, content, media_type, filename)
    now = deps.clock()
    nf = {
        "numero": numero,
        "emissao": emissao.isoformat(),
        "valor": money(quantia),
        "arquivo": filename[-120:],
        "media_type": media_type,
        "tamanho": len(content),
        "anexada_por": by,
        "anexada_em": now,
    }
    log = _log(now, by, "nota_fiscal", "ok", f"NF {numero} anexada")
    updated = await deps.lotes.update_fields(lote_id, {"nf": nf}, log=log, only_status="enviado")
    if updated is None:
        raise LoteConflict()
    return updated


# -- views -----------------------------------------------------------------------------
def public(doc: dict[str, Any], config: ConfigOperadora, hoje: date) -> dict[str, Any]:
    """The lote as the internal API returns it, with what the pages compute from it."""
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox", "handled"}}
    out["lote_id"] = doc["_id"]
    status = LoteStatus(doc["status"])
    out["status_label"] = STATUS_LABELS[status]
    out["canal_label"] = CANAIS.get(doc.get("canal") or "", doc.get("canal"))
    situacao = doc.get("situacao_protocolo") or situacao_protocolo(status.value, None)
    out["situacao_protocolo"] = situacao
    out["situacao_protocolo_label"] = SITUACOES.get(situacao, situacao)
    out["acoes"] = acoes_disponiveis(status)
    out["aviso_limite"] = aviso_de_limite(int(doc.get("quantidade_guias") or 0))
    out["gera_demonstrativo"] = gera_demonstrativo(doc.get("protocolo"))
    out["operadora"] = f"{doc.get('operadora_nome') or ''} | {doc.get('registro_ans') or ''}"
    created = _aware(doc["created_at"]).astimezone(TZ).date() if doc.get("created_at") else hoje
    limite = enviar_ate(created, config.dia_limite_envio)
    out["enviar_ate"] = limite.isoformat()
    out["enviar_ate_texto"] = (
        prazo_em_texto(limite, hoje) if status in (LoteStatus.ABERTO, LoteStatus.FECHADO) else None
    )
    if doc.get("enviado_em"):
        prazo = prazo_nf(_aware(doc["enviado_em"]).astimezone(TZ).date(), config)
        out["nf_obrigatoria"] = config.nf_obrigatoria
        out["nf_prazo"] = prazo.isoformat() if prazo else None
        out["nf_prazo_texto"] = prazo_em_texto(prazo, hoje) if prazo and not doc.get("nf") else None
    out.update(com_recuperado(doc))  # recursos de glosa answered: the value recovered
    return out


def today(deps: Deps) -> date:
    """The operator's today (Brasília time)."""
    return deps.clock().astimezone(TZ).date()
