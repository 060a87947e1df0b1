"""The protocol's use cases: receive a lote (PEG + receipt), change its status with the
operator's analysis, glose an item, exchange messages, ask for the situation.

Each takes its adapters in `Deps`. A state change and the `protocolo.status_changed` it
causes are one write of one document (outbox), guarded so that a concurrent change or a
redelivered event matches nothing. The Kafka consumers and the internal HTTP routes call
these same functions: both inbound paths behave alike.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from tissflow_contracts import (
    AnaliseGuia,
    DadosBancarios,
    DebitoCredito,
    GlosaAnalise,
    GuiaLote,
    LoteSent,
    Prestador,
    ProtocoloStatusChanged,
)
from tissflow_contracts.recuperacao import com_recuperado

from tissflow_protocol.adapters import mensagens_tiss
from tissflow_protocol.domain import analise as regras
from tissflow_protocol.domain.errors import (
    AnaliseInvalida,
    ConcurrentChange,
    Conflict,
    MensagemInvalida,
    NotFound,
    TransitionRefused,
)
from tissflow_protocol.domain.status import (
    ANALYSIS_CLOSED,
    STATUS_ANS,
    check_transition,
    etapa,
    format_peg,
    label,
)
from tissflow_protocol.service_layer.ports import Deps

Papel = Literal["prestador", "operadora"]
MAX_ANEXO = 5 * 1024 * 1024
MAX_TEXTO = 4000
TIPOS_ANEXO = {
    "application/pdf": (b"%PDF",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/xml": (b"<?xml", b"<"),
}
OUTRO_LADO: dict[str, Papel] = {"prestador": "operadora", "operadora": "prestador"}


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _data_protocolo(doc: dict[str, Any]) -> date:
    created = doc["created_at"]
    return (
        created.date() if isinstance(created, datetime) else date.fromisoformat(str(created)[:10])
    )


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The protocol as the internal API returns it (no bookkeeping, no XML bytes)."""
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox", "handled", "recebimento_xml"}}
    out["peg"] = doc["_id"]
    out["status_label"] = STATUS_ANS[doc["status"]]
    out["etapa"] = etapa(doc["status"])
    out["data_protocolo"] = _data_protocolo(doc).isoformat()
    out.setdefault("nao_lidas", {"prestador": 0, "operadora": 0})
    out.update(com_recuperado(doc))  # recursos de glosa answered: the value recovered
    return out


def status_event(
    deps: Deps, doc: dict[str, Any], previous: int | None, at: datetime, by: str
) -> dict[str, Any]:
    """The `protocolo.status_changed` outbox entry for the protocol as it now stands."""
    prestador = doc.get("prestador")
    payload = ProtocoloStatusChanged(
        peg=doc["_id"],
        lote_id=doc["lote_id"],
        provider_id=doc["provider_id"],
        registro_ans=doc.get("registro_ans"),
        numero_lote=doc["numero_lote"],
        status=doc["status"],
        status_anterior=previous,
        data_pagamento=date.fromisoformat(doc["data_pagamento"])
        if doc.get("data_pagamento")
        else None,
        valor_informado=_money(doc.get("valor_informado")),
        valor_processado=_money(doc.get("valor_processado")),
        valor_liberado=_money(doc.get("valor_liberado")),
        valor_glosado=_money(doc.get("valor_glosado")),
        guias=[AnaliseGuia.model_validate(g) for g in doc.get("guias") or []],
        glosas_protocolo=[
            GlosaAnalise.model_validate(g) for g in doc.get("glosas_protocolo") or []
        ],
        data_protocolo=_data_protocolo(doc),
        changed_at=at,
        changed_by=by,
        tipo_guia=doc.get("tipo_guia"),
        numero_lote_prestador=doc.get("numero_lote_prestador"),
        prestador=Prestador.model_validate(prestador) if prestador else None,
        **pagamento_do_evento(doc),
    )
    return deps.event(payload, doc["_id"], doc["correlation_id"])


def _log(tipo: str, at: datetime, by: str, texto: str, **extra: Any) -> dict[str, Any]:
    return {"tipo": tipo, "at": at, "by": by, "texto": texto, **extra}


# -- receive a lote --------------------------------------------------------------------
async def receive_lote(
    deps: Deps, event: LoteSent, event_id: str, correlation_id: str
) -> dict[str, Any]:
    """Give a sent lote its PEG and PROTOCOLO_RECEBIMENTO; a redelivery changes nothing."""
    found = await deps.repo.find_by_lote(event.lote_id)
    if found is not None:
        return found
    now = deps.clock()
    peg = await deps.repo.claim_peg(event.lote_id, lambda seq: format_peg(seq, now.year))
    guias_lote = [g.model_dump(mode="json") for g in event.guias]
    nota = getattr(event, "nota_fiscal", None)
    doc: dict[str, Any] = {
        "_id": peg,
        "lote_id": event.lote_id,
        "provider_id": event.provider_id,
        "registro_ans": event.registro_ans or deps.operadora.registro_ans,
        "numero_lote": event.numero_lote,
        "numero_lote_prestador": event.numero_lote_prestador,
        "file_id": event.file_id,
        "canal": event.canal,
        "tipo_guia": event.tipo_guia,
        "versao_tiss": event.versao_tiss,
        "prestador": event.prestador.model_dump(mode="json") if event.prestador else None,
        "nota_fiscal": nota.model_dump(mode="json") if nota is not None else None,
        "quantidade_guias": event.quantidade_guias,
        "valor_informado": str(event.valor_total) if event.valor_total is not None else None,
        "guias_lote": guias_lote,
        "sent_at": event.sent_at,
        "sent_by": event.sent_by,
        "status": 1,
        "created_at": now,
        "updated_at": now,
        "data_pagamento": None,
        "valor_processado": None,
        "valor_liberado": None,
        "valor_glosado": None,
        "guias": [],
        "glosas_protocolo": [],
        "historico": [{"status": 1, "at": now, "by": "operadora"}],
        "log": [
            _log("envio", event.sent_at, event.sent_by, f"Lote {event.numero_lote} enviado."),
            _log(
                "recebimento",
                now,
                deps.operadora.nome,
                f"PROTOCOLO_RECEBIMENTO: protocolo {peg} (1 - {STATUS_ANS[1]}).",
            ),
        ],
        "mensagens": [],
        "nao_lidas": {"prestador": 0, "operadora": 0},
        "situacoes": [],
        "correlation_id": correlation_id,
        "handled": [event_id],
    }
    doc["recebimento_xml"] = mensagens_tiss.protocolo_recebimento(
        doc, deps.operadora.registro_ans, now
    )
    doc["outbox"] = [status_event(deps, doc, None, now, deps.operadora.nome)]
    if not await deps.repo.insert(doc):
        found = await deps.repo.find_by_lote(event.lote_id)
        assert found is not None
        return found
    return doc


# -- status and analysis ---------------------------------------------------------------
@dataclass
class StatusChange:
    status: int
    by: str
    data_pagamento: date | None = None
    valor_liberado: Decimal | None = None
    valor_glosado: Decimal | None = None
    guias: list[AnaliseGuia] = field(default_factory=list)
    glosas_protocolo: list[GlosaAnalise] = field(default_factory=list)
    debitos_creditos: list[DebitoCredito] = field(default_factory=list)
    dados_bancarios: DadosBancarios | None = None

    @property
    def has_analysis(self) -> bool:
        return bool(
            self.guias
            or self.glosas_protocolo
            or self.valor_liberado is not None
            or self.valor_glosado is not None
        )


async def _get(deps: Deps, peg: str) -> dict[str, Any]:
    doc = await deps.repo.get(peg)
    if doc is None:
        raise NotFound("Protocolo não encontrado.", {"peg": peg})
    return doc


def _lote(doc: dict[str, Any]) -> list[GuiaLote]:
    return [GuiaLote.model_validate(g) for g in doc.get("guias_lote") or []]


def _same_analysis(doc: dict[str, Any], change: StatusChange, checked: regras.Analise) -> bool:
    recorded = (
        doc.get("guias") or [],
        doc.get("glosas_protocolo") or [],
        doc.get("valor_liberado"),
        doc.get("valor_glosado"),
    )
    given = (
        checked.guias,
        checked.glosas_protocolo,
        str(checked.valor_liberado),
        str(checked.valor_glosado),
    )
    return _norm(recorded) == _norm(given)


def _norm(value: Any) -> Any:
    """Compare analyses by value: Decimals written '5' or '5.00' are the same money."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if v not in (None, [], "")}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return Decimal(value).quantize(Decimal("0.01"))
    return value


async def change_status(
    deps: Deps, peg: str, change: StatusChange, event_id: str | None = None
) -> dict[str, Any]:
    """Move a protocol to `change.status` with its analysis (optional) and payment date.

    Idempotent: the same report twice changes nothing; a report of the current status
    with another analysis updates the analysis while it is still open (2, 5 or 8)."""
    doc = await _get(deps, peg)
    if event_id and event_id in (doc.get("handled") or []):
        return doc
    current = doc["status"]
    extras = pagamento_informado(doc, change)
    checked: regras.Analise | None = None
    if change.has_analysis:
        if current in ANALYSIS_CLOSED or change.status in (1, 6, 7, 9):
            raise TransitionRefused(
                f"A análise (valores e glosas) não pode ser informada com o protocolo em "
                f"{label(current)} indo para {label(change.status)}.",
                {"status": current},
            )
        checked = regras.conferir(
            change.guias,
            change.glosas_protocolo,
            _lote(doc),
            deps.descreve_glosa,
            numero_lote=doc["numero_lote"],
            valor_informado=_money(doc.get("valor_informado")),
            valor_liberado=change.valor_liberado,
            valor_glosado=change.valor_glosado,
        )
    if current == change.status:
        if change.data_pagamento and doc.get("data_pagamento") not in (
            None,
            change.data_pagamento.isoformat(),
        ):
            raise Conflict(
                f"O protocolo já está em {label(current)} com outra data de pagamento "
                f"({doc['data_pagamento']}); a data não muda por repetição da situação.",
                {"status": current},
            )
        repetir_pagamento(doc, extras)
        if checked is None or _same_analysis(doc, change, checked):
            return doc  # a repeated report: nothing changes
        if current in ANALYSIS_CLOSED:
            raise Conflict(f"O protocolo já está em {label(current)}.", {"status": current})
    else:
        check_transition(current, change.status, change.data_pagamento)
    now = deps.clock()
    new = {**doc, "status": change.status}
    sets: dict[str, Any] = {"status": change.status, "updated_at": now}
    if checked is not None:
        values = {
            "guias": checked.guias,
            "glosas_protocolo": checked.glosas_protocolo,
            "valor_processado": str(checked.valor_processado),
            "valor_liberado": str(checked.valor_liberado),
            "valor_glosado": str(checked.valor_glosado),
        }
        sets.update(values)
        new.update(values)
    elif change.status in (3, 6) and doc.get("valor_liberado") is None:
        # Paid without an analysis reported: everything informed was released.
        informado = doc.get("valor_informado") or "0.00"
        paid = {"valor_processado": informado, "valor_liberado": informado, "valor_glosado": "0.00"}
        sets.update(paid)
        new.update(paid)
    if change.data_pagamento:
        sets["data_pagamento"] = new["data_pagamento"] = change.data_pagamento.isoformat()
    sets.update(extras)
    new.update(extras)
    texto = (
        f"Situação: {label(change.status)}"
        if current != change.status
        else f"Análise atualizada ({label(current)})"
    )
    if change.data_pagamento:
        texto += f"; pagamento em {change.data_pagamento.strftime('%d/%m/%Y')}"
    if checked is not None:
        texto += (
            f"; liberado {regras.brl(checked.valor_liberado)}, "
            f"glosado {regras.brl(checked.valor_glosado)}"
        )
    pushes: dict[str, Any] = {
        "log": _log("situacao", now, change.by, texto + ".", status=change.status),
        "outbox": status_event(deps, new, current, now, change.by),
    }
    if current != change.status:
        pushes["historico"] = {"status": change.status, "at": now, "by": change.by}
    updated = await deps.repo.update(
        peg, expected_status=current, sets=sets, pushes=pushes, event_id=event_id
    )
    if updated is None:
        again = await deps.repo.get(peg)
        if again is not None and event_id and event_id in (again.get("handled") or []):
            return again
        raise ConcurrentChange("O protocolo mudou enquanto era alterado; tente de novo.")
    return updated


# -- the payment's débitos/créditos and bank data -----------------------------------------
PAGAMENTO = (3, 6)


def pagamento_informado(doc: dict[str, Any], change: StatusChange) -> dict[str, Any]:
    """The débitos/créditos and bank data a report carries, as the protocol stores them.

    They come with the payment only (3 Liberado para pagamento, 6 Pagamento efetuado), and
    the débitos cannot take more than the released value plus the créditos (a negative
    net payment is the operator's mistake, refused with the figures)."""
    if not change.debitos_creditos and change.dados_bancarios is None:
        return {}
    if change.status not in PAGAMENTO:
        raise TransitionRefused(
            "Débitos, créditos e dados bancários acompanham o pagamento "
            f"({label(3)} ou {label(6)}), não a situação {label(change.status)}.",
            {"status": change.status},
        )
    extras: dict[str, Any] = {}
    if change.debitos_creditos:
        liberado = _money(doc.get("valor_liberado") or doc.get("valor_informado")) or Decimal(0)
        debitos = sum(
            (d.valor for d in change.debitos_creditos if d.indicador == "debito"), Decimal(0)
        )
        creditos = sum(
            (d.valor for d in change.debitos_creditos if d.indicador == "credito"), Decimal(0)
        )
        if debitos > liberado + creditos:
            raise AnaliseInvalida(
                f"Os débitos ({regras.brl(debitos)}) superam o valor liberado "
                f"({regras.brl(liberado)}) mais os créditos ({regras.brl(creditos)}).",
                {"debitos": str(debitos), "liberado": str(liberado), "creditos": str(creditos)},
            )
        extras["debitos_creditos"] = [d.model_dump(mode="json") for d in change.debitos_creditos]
    if change.dados_bancarios is not None:
        extras["dados_bancarios"] = change.dados_bancarios.model_dump(mode="json")
    return extras


def repetir_pagamento(doc: dict[str, Any], extras: dict[str, Any]) -> None:
    """A repeated situation may repeat its débitos/créditos and bank data, not change them."""
    if extras and _norm({k: doc.get(k) for k in extras}) != _norm(extras):
        raise Conflict(
            f"O protocolo já está em {label(doc['status'])} com outros débitos/créditos ou "
            "dados bancários; eles mudam com a próxima situação (6 - Pagamento efetuado).",
            {"status": doc["status"]},
        )


def pagamento_do_evento(doc: dict[str, Any]) -> dict[str, Any]:
    """The `protocolo.status_changed` fields of the payment, as the protocol stores them."""
    banco = doc.get("dados_bancarios")
    return {
        "debitos_creditos": [
            DebitoCredito.model_validate(d) for d in doc.get("debitos_creditos") or []
        ],
        "dados_bancarios": DadosBancarios.model_validate(banco) if banco else None,
    }


async def glosar_item(
    deps: Deps,
    peg: str,
    *,
    numero_guia: str,
    sequencial_item: int | None,
    codigo: str,
    valor: Decimal,
    observacao: str | None,
    by: str,
) -> dict[str, Any]:
    """A clerk of the operator gloses one item (or a guide): the analysis so far (or the
    lote paid in full) with one more glosa, checked and recorded like any report."""
    doc = await _get(deps, peg)
    if doc["status"] not in (2, 5, 8):
        raise TransitionRefused(
            f"Só se glosa um protocolo Em análise ou Liberado para Faturamento; este está em "
            f"{label(doc['status'])}.",
            {"status": doc["status"]},
        )
    if valor <= 0:
        raise AnaliseInvalida("Informe um valor de glosa maior que zero.", {"valor": str(valor)})
    atual = [AnaliseGuia.model_validate(g) for g in doc.get("guias") or []]
    if not atual:
        atual = regras.analise_integral(_lote(doc))
    glosa = GlosaAnalise(codigo=codigo, valor=valor, observacao=observacao or None)
    guias = regras.glosar(atual, numero_guia, sequencial_item, glosa)
    protocolo = [GlosaAnalise.model_validate(g) for g in doc.get("glosas_protocolo") or []]
    change = StatusChange(status=doc["status"], by=by, guias=guias, glosas_protocolo=protocolo)
    return await change_status(deps, peg, change)


# -- messages ----------------------------------------------------------------------------
@dataclass
class Anexo:
    nome: str
    content_type: str
    dados: bytes


def _tipo_anexo(anexo: Anexo) -> str:
    nome = re.sub(r"[^\w.\- ]", "_", anexo.nome)[:120] or "anexo"
    if len(anexo.dados) > MAX_ANEXO:
        raise MensagemInvalida(
            f"O anexo {nome} tem {len(anexo.dados) / 1024 / 1024:.1f} MB; o limite é 5 MB.".replace(
                ".", ",", 1
            ),
            {"anexo": nome},
        )
    if not anexo.dados:
        raise MensagemInvalida(f"O anexo {nome} está vazio.", {"anexo": nome})
    head = anexo.dados[:16].lstrip(b"\xef\xbb\xbf \t\r\n")
    for tipo, magics in TIPOS_ANEXO.items():
        if any(head.startswith(m) for m in magics):
            return tipo
    raise MensagemInvalida(f"O anexo {nome} não é PDF, imagem (PNG/JPEG) nem XML.", {"anexo": nome})


async def post_message(
    deps: Deps,
    peg: str,
    *,
    papel: Papel,
    autor: str,
    texto: str,
    anexos: list[Anexo] | None = None,
) -> dict[str, Any]:
    """A message on the protocol's thread (clinic ↔ operator staff): the other side's
    unread count goes up, and the protocol's log records it."""
    await _get(deps, peg)
    texto = texto.strip()
    anexos = anexos or []
    if not texto and not anexos:
        raise MensagemInvalida("Escreva a mensagem ou anexe um arquivo.")
    if len(texto) > MAX_TEXTO:
        raise MensagemInvalida(f"A mensagem passa de {MAX_TEXTO} caracteres.")
    if len(anexos) > 5:
        raise MensagemInvalida("No máximo 5 anexos por mensagem.")
    now = deps.clock()
    guardados = []
    for anexo in anexos:
        tipo = _tipo_anexo(anexo)
        file_id = uuid.uuid4().hex
        nome = re.sub(r"[^\w.\- ]", "_", anexo.nome)[:120] or "anexo"
        await deps.repo.save_file(
            {
                "_id": file_id,
                "peg": peg,
                "tipo": "anexo",
                "nome": nome,
                "content_type": tipo,
                "tamanho": len(anexo.dados),
                "dados": anexo.dados,
                "at": now,
            }
        )
        guardados.append(
            {"id": file_id, "nome": nome, "content_type": tipo, "tamanho": len(anexo.dados)}
        )
    mensagem = {
        "id": uuid.uuid4().hex,
        "papel": papel,
        "autor": autor,
        "texto": texto,
        "at": now,
        "anexos": guardados,
    }
    resumo = texto[:80] + ("…" if len(texto) > 80 else "")
    quem = "Prestador" if papel == "prestador" else "Operadora"
    updated = await deps.repo.update(
        peg,
        expected_status=None,
        sets={"updated_msg_at": now},
        pushes={
            "mensagens": mensagem,
            "log": _log("mensagem", now, autor, f"Mensagem ({quem}): {resumo}", papel=papel),
        },
        incs={f"nao_lidas.{OUTRO_LADO[papel]}": 1},
    )
    if updated is None:
        raise NotFound("Protocolo não encontrado.", {"peg": peg})
    return mensagem


async def read_messages(deps: Deps, peg: str, papel: Papel) -> dict[str, Any]:
    """The thread, and this side's unread count back to zero."""
    doc = await _get(deps, peg)
    if (doc.get("nao_lidas") or {}).get(papel):
        doc = (
            await deps.repo.update(
                peg, expected_status=None, sets={f"nao_lidas.{papel}": 0}, pushes={}
            )
            or doc
        )
    return {"peg": peg, "mensagens": doc.get("mensagens") or [], "nao_lidas": doc.get("nao_lidas")}


# -- Atualizar Situação Protocolo ---------------------------------------------------------
async def solicitar_situacao(deps: Deps, peg: str, by: str) -> dict[str, Any]:
    """SOLIC_STATUS_PROTOCOLO from the clinic and the operator's SITUACAO_PROTOCOLO, both
    kept as XML and in the log; returns the situation now."""
    doc = await _get(deps, peg)
    now = deps.clock()
    n = len(doc.get("situacoes") or []) + 1
    sequencial = f"{peg[-8:]}{n:04d}"
    pedido = mensagens_tiss.solicitacao_status(doc, sequencial, now)
    resposta = mensagens_tiss.situacao_protocolo(doc, deps.operadora.registro_ans, sequencial, now)
    ids = {}
    for tipo, xml in (("solicitacao", pedido), ("situacao", resposta)):
        file_id = f"{peg}-{tipo}-{n}"
        ids[tipo] = file_id
        await deps.repo.save_file(
            {
                "_id": file_id,
                "peg": peg,
                "tipo": tipo,
                "nome": f"{peg}-{tipo}-{n}.xml",
                "content_type": "application/xml",
                "tamanho": len(xml),
                "dados": xml,
                "at": now,
            }
        )
    consulta = {
        "n": n,
        "at": now,
        "by": by,
        "status": doc["status"],
        "solicitacao_id": ids["solicitacao"],
        "situacao_id": ids["situacao"],
    }
    await deps.repo.update(
        peg,
        expected_status=None,
        sets={},
        pushes={
            "situacoes": consulta,
            "log": _log(
                "consulta",
                now,
                by,
                f"SOLIC_STATUS_PROTOCOLO → SITUACAO_PROTOCOLO: {label(doc['status'])}.",
            ),
        },
    )
    return {
        **consulta,
        "peg": peg,
        "status_label": STATUS_ANS[doc["status"]],
        "etapa": etapa(doc["status"]),
    }
