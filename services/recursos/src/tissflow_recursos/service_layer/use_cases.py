"""Use cases of recursos de glosa, for both sides, on repositories passed in.

Clinic: project the glosas (from `lote.sent` and `protocolo.status_changed`), open a recurso
(one per guide, grouped), save the draft, attach documents, send (RECURSO_GLOSA, exactly
once through the outbox), take the operator's receipt and answer, ask the situation, count.
Operator: receive a recurso (Kafka or API: this one use case, idempotent), answer it
(RESPOSTA_RECURSO_GLOSA, `recurso.answered` through the outbox).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from tissflow_contracts import (
    LoteSent,
    ProtocoloStatusChanged,
    RecursoAnswered,
    RecursoReceived,
    RecursoSent,
)
from tissflow_tiss import erros_de_schema, glosa

from tissflow_recursos.adapters import tiss_xml
from tissflow_recursos.adapters.mongo import Repos
from tissflow_recursos.config import RecursosSettings
from tissflow_recursos.domain.model import (
    EM_ANALISE,
    ENVIADO,
    RASCUNHO,
    RESPONDIDO,
    Conflito,
    LinhaGlosada,
    NaoEncontrado,
    RecursoError,
    agrupar_por_guia,
    checar_duplicidade,
    checar_envio,
    checar_prazo,
    checar_resposta,
    checar_tamanho,
    dias_restantes,
    linhas_do_protocolo,
    linhas_glosadas,
    money,
    prazo_recurso,
)

TZ = ZoneInfo("America/Sao_Paulo")
ANEXO_TIPOS = {"application/pdf": b"%PDF", "image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8\xff"}


class Outbox(Protocol):
    def event(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]: ...


Clock = Callable[[], datetime]


def hoje(now: datetime) -> date:
    """The clinic's calendar day (São Paulo), the one deadlines are counted in."""
    return now.astimezone(TZ).date()


def descricao_glosa(codigo: str) -> str:
    row = glosa(codigo)
    return row.descricao if row else ""


# -- projection ---------------------------------------------------------------------------
async def project_lote_sent(repos: Repos, event_id: str, event: LoteSent) -> bool:
    fields = {
        "provider_id": event.provider_id,
        "registro_ans": event.registro_ans,
        "numero_lote": event.numero_lote,
        "lote_guias": [g.model_dump(mode="json") for g in event.guias],
        "valor_total": str(event.valor_total) if event.valor_total is not None else None,
    }
    return await repos.project(event.lote_id, event_id, fields)


async def project_status_changed(
    repos: Repos, event_id: str, event: ProtocoloStatusChanged
) -> bool:
    fields: dict[str, Any] = {
        "peg": event.peg,
        "provider_id": event.provider_id,
        "numero_lote": event.numero_lote,
        "status": event.status,
    }
    if event.registro_ans:
        fields["registro_ans"] = event.registro_ans
    if event.data_protocolo:
        fields["data_protocolo"] = event.data_protocolo.isoformat()
    if event.guias or event.glosas_protocolo:
        fields["glosas_protocolo"] = [g.model_dump(mode="json") for g in event.glosas_protocolo]
    if event.guias:
        fields["analise"] = [g.model_dump(mode="json") for g in event.guias]
        fields["valor_informado"] = str(event.valor_informado or "") or None
        fields["valor_glosado"] = str(event.valor_glosado or "") or None
    if event.status == 5:
        # Liberado para Faturamento: the Demonstrativo de Análise is emitted; the
        # appeal deadline counts from this day.
        fields["emissao"] = hoje(event.changed_at).isoformat()
    return await repos.project(event.lote_id, event_id, fields)


def _prazo(conta: dict[str, Any], cfg: RecursosSettings) -> date | None:
    if not conta.get("emissao"):
        return None
    return prazo_recurso(date.fromisoformat(conta["emissao"]), cfg.recurso_prazo_dias)


def _linha_doc(linha: LinhaGlosada) -> dict[str, Any]:
    return {
        "linha_id": linha.linha_id,
        "numero_guia": linha.numero_guia,
        "sequencial_item": linha.sequencial_item,
        "data_inicio": linha.data_inicio.isoformat() if linha.data_inicio else None,
        "codigo_tabela": linha.codigo_tabela,
        "codigo_procedimento": linha.codigo_procedimento,
        "descricao": linha.descricao,
        "codigo_glosa": linha.codigo_glosa,
        "descricao_glosa": descricao_glosa(linha.codigo_glosa),
        "codigos": list(linha.codigos),
        "valor_glosado": str(linha.valor_glosado),
        "valor_informado": str(linha.valor_informado) if linha.valor_informado else None,
    }


def _linhas(conta: dict[str, Any]) -> list[LinhaGlosada]:
    """Every glossed line of a protocol: its own glosa first, then guides and items."""
    return linhas_do_protocolo(conta.get("glosas_protocolo") or []) + linhas_glosadas(
        conta.get("lote_guias") or [], conta.get("analise") or []
    )


async def _conta(repos: Repos, peg: str, provider_id: str | None) -> dict[str, Any]:
    conta = await repos.conta_by_peg(peg)
    if conta is None or (provider_id and conta.get("provider_id") != provider_id):
        raise NaoEncontrado("protocolo_nao_encontrado", "Protocolo não encontrado.")
    return conta


async def glosas(
    repos: Repos, cfg: RecursosSettings, now: datetime, provider_id: str | None, peg: str | None
) -> list[dict[str, Any]]:
    """The glossed lines of each analysed protocol, with their deadline and the recurso
    that holds them (if any): what the clinic may appeal."""
    contas = [await _conta(repos, peg, provider_id)] if peg else await repos.contas_of(provider_id)
    out = []
    today = hoje(now)
    for conta in contas:
        if not conta.get("analise") and not conta.get("glosas_protocolo"):
            continue
        prazo = _prazo(conta, cfg)
        query: dict[str, Any] = {"peg": conta["peg"]}
        recursos = await repos.recursos_of(query)
        holder: dict[str, dict[str, Any]] = {}
        for r in sorted(recursos, key=lambda r: r["criado_em"]):
            for linha in r["linhas"]:
                holder[linha["linha_id"]] = {"recurso_id": r["_id"], "situacao": r["situacao"]}
        linhas = []
        for linha in _linhas(conta):
            doc = _linha_doc(linha)
            doc["recurso"] = holder.get(linha.linha_id)
            linhas.append(doc)
        out.append(
            {
                "peg": conta["peg"],
                "lote_id": conta["_id"],
                "numero_lote": conta.get("numero_lote"),
                "provider_id": conta.get("provider_id"),
                "emissao": conta.get("emissao"),
                "prazo": prazo.isoformat() if prazo else None,
                "dias_prazo": cfg.recurso_prazo_dias,
                "dias_restantes": dias_restantes(today, prazo) if prazo else None,
                "no_prazo": bool(prazo and today <= prazo),
                "linhas": linhas,
            }
        )
    return out


# -- the clinic's recurso -----------------------------------------------------------------
async def abrir(
    repos: Repos,
    cfg: RecursosSettings,
    now: datetime,
    *,
    provider_id: str,
    peg: str,
    linha_ids: list[str] | None,
    by: str,
) -> list[dict[str, Any]]:
    """Drafts for the chosen lines (all glossed lines when none: the whole protocol), one
    per guide, in one group."""
    conta = await _conta(repos, peg, provider_id)
    if not (conta.get("analise") or conta.get("glosas_protocolo")) or not conta.get("emissao"):
        raise RecursoError(
            "sem_demonstrativo_de_analise",
            "Este protocolo ainda não tem Demonstrativo de Análise com glosas para recorrer.",
        )
    todas = {linha.linha_id: linha for linha in _linhas(conta)}
    if not todas:
        raise RecursoError("sem_glosa", "Este protocolo não tem itens glosados.")
    ids = list(dict.fromkeys(linha_ids)) if linha_ids else list(todas)
    desconhecidas = [i for i in ids if i not in todas]
    if desconhecidas:
        raise RecursoError(
            "item_nao_glosado",
            f"Item não encontrado entre os glosados do protocolo {peg}: "
            f"{', '.join(desconhecidas)}.",
            {"linhas": desconhecidas},
        )
    prazo = _prazo(conta, cfg)
    checar_prazo(hoje(now), prazo)
    existentes = await repos.recursos_of({"peg": peg})
    checar_duplicidade(ids, existentes, cfg.recurso_permite_reapresentacao)
    grupo_id = uuid.uuid4().hex[:16]
    docs = []
    for numero_guia, linhas in agrupar_por_guia(todas[i] for i in ids).items():
        guia: dict[str, Any] = next(
            (
                g
                for g in conta.get("lote_guias") or []
                if str(g.get("numero_guia_prestador")) == numero_guia
            ),
            {},
        )
        recurso_id = uuid.uuid4().hex[:16]
        docs.append(
            {
                "_id": recurso_id,
                "grupo_id": grupo_id,
                "provider_id": provider_id,
                "registro_ans": conta.get("registro_ans") or cfg.operadora_registro_ans,
                "peg": peg,
                "lote_id": conta["_id"],
                "numero_lote": conta.get("numero_lote"),
                "numero_guia": numero_guia,
                "numero_guia_operadora": guia.get("numero_guia_operadora"),
                "senha": guia.get("senha"),
                "nome_beneficiario": guia.get("nome_beneficiario"),
                "numero_carteira": guia.get("numero_carteira"),
                "numero_guia_recurso": recurso_id.upper(),
                "objeto": {"protocolo": "protocolo", "guia": "guia"}.get(linhas[0].nivel, "itens"),
                "linhas": [
                    {
                        **_linha_doc(linha),
                        "valor_recursado": str(linha.valor_glosado),
                        "justificativa": "",
                    }
                    for linha in linhas
                ],
                "anexos": [],
                "situacao": RASCUNHO,
                "emissao": conta.get("emissao"),
                "prazo": prazo.isoformat() if prazo else None,
                "criado_em": now,
                "criado_por": by,
                "atualizado_em": now,
                "resposta_nova": False,
                "outbox": [],
                "handled": [],
            }
        )
    await _reservar(repos, docs, existentes, now)
    await repos.insert_recursos(docs)
    return [public(d) for d in docs]


CLAIM_ORFAO = timedelta(minutes=2)


def _claim_id(peg: str, linha_id: str, existentes: list[dict[str, Any]]) -> str:
    """One claim per line and appeal round: the round counts the answered recursos that
    already held the line (a new round only where the operator allows a new appeal)."""
    rodada = sum(
        1
        for r in existentes
        if r["situacao"] == RESPONDIDO and any(x["linha_id"] == linha_id for x in r["linhas"])
    )
    return f"{peg}|{linha_id}|{rodada}"


async def _reservar(
    repos: Repos, docs: list[dict[str, Any]], existentes: list[dict[str, Any]], now: datetime
) -> None:
    """Claim every line of the new drafts (a unique insert each): when two clerks appeal
    the same item at once, exactly one recurso gets it and the other is refused with 409,
    giving back what it had claimed. A claim whose recurso never got written (a crash
    between the two inserts) is taken over once it is old enough."""
    taken: list[tuple[str, str]] = []
    for doc in docs:
        for linha in doc["linhas"]:
            claim_id = _claim_id(doc["peg"], linha["linha_id"], existentes)
            holder = await repos.claim(claim_id, doc["_id"], now)
            if holder is not None and await _orfao(repos, claim_id, holder, now):
                holder = await repos.claim(claim_id, doc["_id"], now)
            if holder is None:
                taken.append((claim_id, doc["_id"]))
                continue
            for claimed, recurso_id in taken:
                await repos.release(claimed, recurso_id)
            raise Conflito(
                "item_ja_em_recurso",
                f"O item {linha['linha_id']} acabou de entrar em outro recurso, aberto ao "
                "mesmo tempo por outro usuário. Atualize a página e abra esse recurso.",
                {"linha_id": linha["linha_id"], "recurso_id": holder or None},
            )


async def _orfao(repos: Repos, claim_id: str, holder: str, now: datetime) -> bool:
    """A claim left by a request that stopped before writing its recurso: released."""
    if not holder or await repos.recurso(holder) is not None:
        return False
    claim = await repos.claim_of(claim_id)
    at = (claim or {}).get("at")
    if at is None or (at if at.tzinfo else at.replace(tzinfo=UTC)) > now - CLAIM_ORFAO:
        return False
    await repos.release(claim_id, holder)
    return True


def public(
    doc: dict[str, Any], cfg: RecursosSettings | None = None, now: datetime | None = None
) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in {"_id", "outbox", "handled"}}
    out["recurso_id"] = doc["_id"]
    out["valor_glosado"] = str(
        sum((money(x["valor_glosado"]) for x in doc["linhas"]), Decimal("0.00"))
    )
    out["valor_recursado"] = str(
        sum((money(x.get("valor_recursado")) for x in doc["linhas"]), Decimal("0.00"))
    )
    if doc.get("prazo") and now is not None:
        out["dias_restantes"] = dias_restantes(hoje(now), date.fromisoformat(doc["prazo"]))
    return out


async def _own(repos: Repos, recurso_id: str, provider_id: str | None) -> dict[str, Any]:
    doc = await repos.recurso(recurso_id)
    if doc is None or (provider_id and doc["provider_id"] != provider_id):
        raise NaoEncontrado("recurso_nao_encontrado", "Recurso não encontrado.")
    return doc


async def obter(
    repos: Repos, now: datetime, recurso_id: str, provider_id: str | None, marcar_lida: bool
) -> dict[str, Any]:
    doc = await _own(repos, recurso_id, provider_id)
    if marcar_lida and doc.get("resposta_nova"):
        await repos.update_recurso(recurso_id, {}, {"$set": {"resposta_nova": False}})
    return public(doc, now=now)


async def salvar(
    repos: Repos,
    now: datetime,
    recurso_id: str,
    provider_id: str,
    linhas: list[dict[str, Any]],
    observacao: str | None = None,
) -> dict[str, Any]:
    """Save the draft as typed (values and justificativas); checks wait for Enviar, so a
    half-written appeal is never refused and never lost."""
    doc = await _own(repos, recurso_id, provider_id)
    if doc["situacao"] != RASCUNHO:
        raise Conflito("recurso_ja_enviado", "Este recurso já foi enviado; não pode ser alterado.")
    by_id = {linha["linha_id"]: linha for linha in linhas}
    novas = []
    for linha in doc["linhas"]:
        editada = by_id.get(linha["linha_id"])
        if editada is not None:
            justificativa = (editada.get("justificativa") or "").strip()
            checar_tamanho(justificativa, linha["linha_id"])
            valor = editada.get("valor_recursado")
            linha = {
                **linha,
                "valor_recursado": str(money(valor)) if valor not in (None, "") else "",
                "justificativa": justificativa,
            }
        novas.append(linha)
    await repos.update_recurso(
        recurso_id,
        {"situacao": RASCUNHO},
        {"$set": {"linhas": novas, "atualizado_em": now}},
    )
    return public(await _own(repos, recurso_id, provider_id), now=now)


async def anexar(
    repos: Repos,
    cfg: RecursosSettings,
    now: datetime,
    recurso_id: str,
    provider_id: str,
    nome: str,
    media_type: str,
    content: bytes,
) -> dict[str, Any]:
    """A PDF or image (PNG, JPEG) of at most 5 MB, checked by its first bytes too."""
    doc = await _own(repos, recurso_id, provider_id)
    if doc["situacao"] != RASCUNHO:
        raise Conflito("recurso_ja_enviado", "Este recurso já foi enviado; não aceita anexos.")
    if len(content) > cfg.recurso_anexo_max_bytes:
        raise RecursoError(
            "anexo_grande",
            f"O anexo {nome} tem {len(content) / 1024 / 1024:.1f} MB; o limite é "
            f"{cfg.recurso_anexo_max_bytes // (1024 * 1024)} MB.",
        )
    magic = ANEXO_TIPOS.get(media_type)
    if not content or magic is None or not content.startswith(magic):
        raise RecursoError(
            "anexo_tipo_invalido",
            f"O anexo {nome} não é um PDF nem uma imagem (PNG ou JPEG).",
        )
    anexo_id = uuid.uuid4().hex[:12]
    await repos.put_file(f"anexo-{anexo_id}", content, media_type, recurso_id=recurso_id, nome=nome)
    anexo = {
        "anexo_id": anexo_id,
        "nome": nome[:200],
        "media_type": media_type,
        "size": len(content),
    }
    await repos.update_recurso(
        recurso_id,
        {"situacao": RASCUNHO},
        {"$push": {"anexos": anexo}, "$set": {"atualizado_em": now}},
    )
    return anexo


async def arquivo(
    repos: Repos, recurso_id: str, provider_id: str | None, nome: str
) -> dict[str, Any]:
    """An attachment (`anexo-<id>`) or a TISS XML (`recurso`, `resposta`) of the recurso."""
    doc = await _own(repos, recurso_id, provider_id)
    if nome.startswith("anexo-"):
        if not any(f"anexo-{a['anexo_id']}" == nome for a in doc.get("anexos", [])):
            raise NaoEncontrado("arquivo_nao_encontrado", "Arquivo não encontrado.")
        file_id = nome
    elif nome == "recurso" and doc.get("xml_file"):
        file_id = doc["xml_file"]
    elif nome == "resposta" and doc["situacao"] == RESPONDIDO:
        op = await repos.operadora_recurso(recurso_id)
        file_id = (op or {}).get("xml_file") or ""
    else:
        raise NaoEncontrado("arquivo_nao_encontrado", "Arquivo não encontrado.")
    found = await repos.get_file(file_id)
    if found is None:
        raise NaoEncontrado("arquivo_nao_encontrado", "Arquivo não encontrado.")
    return found


def _checar_xml(xml: bytes, what: str) -> None:
    if problems := erros_de_schema(xml):
        raise RecursoError(
            "mensagem_fora_do_padrao",
            f"A mensagem {what} não valida no XSD da ANS (5001): {problems[0]}",
            {"erros": problems[:5]},
        )


async def enviar(
    repos: Repos,
    cfg: RecursosSettings,
    outbox: Outbox,
    now: datetime,
    recurso_id: str,
    provider_id: str,
    by: str,
    correlation_id: str,
) -> dict[str, Any]:
    """Checks, RECURSO_GLOSA XML (XSD-valid, hashed), then `recurso.sent` in the same write
    as the new situation. Sending a sent recurso again changes nothing."""
    doc = await _own(repos, recurso_id, provider_id)
    if doc["situacao"] != RASCUNHO:
        return public(doc, now=now)
    total = checar_envio(doc, hoje(now))
    outros = [r for r in await repos.recursos_of({"peg": doc["peg"]}) if r["_id"] != recurso_id]
    checar_duplicidade(
        [linha["linha_id"] for linha in doc["linhas"]], outros, cfg.recurso_permite_reapresentacao
    )
    xml = tiss_xml.recurso_glosa(doc, operadora_nome=cfg.operadora_nome, quando=now)
    _checar_xml(xml, "RECURSO_GLOSA")
    # Named by its hash and referenced in the same write as the new situation: a double
    # click that loses the race never leaves its own bytes behind the recurso sent.
    xml_file = f"{recurso_id}.recurso.{hashlib.sha256(xml).hexdigest()[:16]}.xml"
    await repos.put_file(xml_file, xml, "application/xml")
    payload = RecursoSent(
        recurso_id=recurso_id,
        grupo_id=doc["grupo_id"],
        provider_id=doc["provider_id"],
        registro_ans=doc.get("registro_ans"),
        peg=doc["peg"],
        lote_id=doc["lote_id"],
        numero_lote=doc.get("numero_lote") or "",
        numero_guia_prestador=doc["numero_guia"],
        numero_guia_operadora=doc.get("numero_guia_operadora"),
        senha=doc.get("senha"),
        numero_guia_recurso=doc["numero_guia_recurso"],
        objeto=doc["objeto"],
        # pydantic validates the dicts into the event's items
        itens=[
            {  # type: ignore[misc]
                k: linha.get(k)
                for k in (
                    "linha_id",
                    "sequencial_item",
                    "data_inicio",
                    "codigo_tabela",
                    "codigo_procedimento",
                    "descricao",
                    "codigo_glosa",
                    "valor_glosado",
                    "valor_recursado",
                    "justificativa",
                )
            }
            for linha in doc["linhas"]
        ],
        anexos=doc.get("anexos") or [],
        valor_total_recursado=total,
        prazo_recurso=date.fromisoformat(doc["prazo"]) if doc.get("prazo") else None,
        sent_by=by,
        sent_at=now,
        xml_sha256=hashlib.sha256(xml).hexdigest(),
    )
    sent = await repos.update_recurso(
        recurso_id,
        {"situacao": RASCUNHO},
        {
            "$set": {
                "situacao": ENVIADO,
                "enviado_em": now,
                "enviado_por": by,
                "valor_total_recursado": str(total),
                "xml_sha256": payload.xml_sha256,
                "xml_file": xml_file,
            },
            "$push": {
                "outbox": outbox.event(payload, key=recurso_id, correlation_id=correlation_id)
            },
        },
    )
    if not sent:
        raise Conflito("recurso_ja_enviado", "Este recurso já foi enviado à operadora.")
    return public(await _own(repos, recurso_id, provider_id), now=now)


async def on_received(repos: Repos, event_id: str, event: RecursoReceived) -> None:
    """The operator's receipt: the recurso's protocol number; enviado → em análise."""
    await repos.update_recurso(
        event.recurso_id,
        {"handled": {"$ne": event_id}},
        {
            "$set": {
                "numero_protocolo_recurso": event.numero_protocolo_recurso,
                "data_recebimento": event.data_recebimento.isoformat(),
                "prazo_resposta": event.prazo_resposta.isoformat()
                if event.prazo_resposta
                else None,
            },
            "$push": {"handled": event_id},
        },
    )
    await repos.update_recurso(
        event.recurso_id, {"situacao": ENVIADO}, {"$set": {"situacao": EM_ANALISE}}
    )


async def on_answered(repos: Repos, event_id: str, event: RecursoAnswered) -> bool:
    """The operator's answer: per line acatado and valor acatado; the recovered value."""
    doc = await repos.recurso_with_handled(event.recurso_id)
    if doc is None or event_id in doc.get("handled", []):
        return False
    respostas = {i.linha_id: i for i in event.itens}
    linhas = []
    for linha in doc["linhas"]:
        r = respostas.get(linha["linha_id"])
        if r is not None:
            linha = {
                **linha,
                "acatado": r.acatado,
                "valor_acatado": str(r.valor_acatado),
                "justificativa_operadora": r.justificativa,
            }
        linhas.append(linha)
    return await repos.update_recurso(
        event.recurso_id,
        {"handled": {"$ne": event_id}},
        {
            "$set": {
                "linhas": linhas,
                "situacao": RESPONDIDO,
                "numero_protocolo_recurso": event.numero_protocolo_recurso,
                "valor_recuperado": str(event.valor_total_acatado),
                "respondido_em": event.answered_at,
                "resposta_nova": True,
            },
            "$push": {"handled": event_id},
        },
    )


async def atualizar_situacao(
    repos: Repos, cfg: RecursosSettings, now: datetime, recurso_id: str, provider_id: str | None
) -> dict[str, Any]:
    """ "Atualizar situação": SOLIC_STATUS_RECURSO_GLOSA to the operator, its
    `reciboGlosaStatus` answer read back (both XSD-checked)."""
    doc = await _own(repos, recurso_id, provider_id)
    if doc["situacao"] == RASCUNHO:
        raise Conflito("recurso_nao_enviado", "O recurso ainda não foi enviado à operadora.")
    op = await repos.operadora_recurso(recurso_id)
    if op is None:
        await repos.update_recurso(recurso_id, {}, {"$set": {"consultado_em": now}})
        return {
            **public(doc, now=now),
            "consulta": "A operadora ainda não registrou o recebimento deste recurso.",
        }
    pedido = tiss_xml.solicitacao_status(
        op, numero_protocolo=op["numero_protocolo_recurso"], quando=now
    )
    _checar_xml(pedido, "SOLIC_STATUS_RECURSO_GLOSA")
    resposta = situacao_operadora(op, now)
    update: dict[str, Any] = {
        "consultado_em": now,
        "numero_protocolo_recurso": op["numero_protocolo_recurso"],
        "situacao_operadora": op["situacao"],
    }
    await repos.update_recurso(recurso_id, {}, {"$set": update})
    if doc["situacao"] == ENVIADO:
        await repos.update_recurso(
            recurso_id, {"situacao": ENVIADO}, {"$set": {"situacao": EM_ANALISE}}
        )
    await repos.put_file(f"{recurso_id}.situacao.xml", resposta, "application/xml")
    labels = {EM_ANALISE: "em análise", RESPONDIDO: "respondido"}
    return {
        **public(await _own(repos, recurso_id, provider_id), now=now),
        "consulta": f"Situação na operadora: {labels.get(op['situacao'], op['situacao'])} "
        f"(protocolo {op['numero_protocolo_recurso']}).",
    }


def situacao_operadora(op: dict[str, Any], now: datetime) -> bytes:
    xml = tiss_xml.recibo_status(
        op,
        situacao=op["situacao"],
        data_envio=op["sent_at"].date()
        if isinstance(op["sent_at"], datetime)
        else date.fromisoformat(str(op["sent_at"])[:10]),
        data_recebimento=date.fromisoformat(op["data_recebimento"]),
        data_situacao=hoje(now),
        quando=now,
    )
    _checar_xml(xml, "RESPOSTA_RECURSO_GLOSA (situação)")
    return xml


# -- the operator -------------------------------------------------------------------------
async def receber(
    repos: Repos,
    cfg: RecursosSettings,
    outbox: Outbox,
    now: datetime,
    recurso: RecursoSent,
    correlation_id: str,
) -> dict[str, Any]:
    """The operator receives a recurso (from Kafka or its API): a protocol number and an
    answer deadline; receiving the same recurso again returns the first receipt."""
    found = await repos.operadora_recurso(recurso.recurso_id)
    if found is not None:
        return found
    numero = await repos.next_protocolo(hoje(now).year)
    recebido = hoje(now)
    prazo = recebido + timedelta(days=cfg.recurso_prazo_resposta_dias)
    receipt = RecursoReceived(
        recurso_id=recurso.recurso_id,
        provider_id=recurso.provider_id,
        numero_protocolo_recurso=numero,
        data_recebimento=recebido,
        prazo_resposta=prazo,
    )
    dumped = recurso.model_dump(mode="json")
    doc = {
        "_id": recurso.recurso_id,
        **{k: v for k, v in dumped.items() if k not in ("recurso_id", "itens")},
        "registro_ans": recurso.registro_ans or cfg.operadora_registro_ans,
        "numero_guia": recurso.numero_guia_prestador,
        "linhas": [
            {**item, "descricao_glosa": descricao_glosa(item["codigo_glosa"])}
            for item in dumped["itens"]
        ],
        "sent_at": recurso.sent_at,
        "enviado_em": recurso.sent_at.isoformat(),
        "situacao": EM_ANALISE,
        "numero_protocolo_recurso": numero,
        "data_recebimento": recebido.isoformat(),
        "recebido_em": now,
        "prazo_resposta": prazo.isoformat(),
        "outbox": [outbox.event(receipt, key=recurso.recurso_id, correlation_id=correlation_id)],
    }
    if not await repos.insert_operadora(doc):
        return await repos.operadora_recurso(recurso.recurso_id) or doc
    return {k: v for k, v in doc.items() if k != "outbox"}


async def responder(
    repos: Repos,
    cfg: RecursosSettings,
    outbox: Outbox,
    now: datetime,
    recurso_id: str,
    respostas: list[dict[str, Any]],
    by: str,
    correlation_id: str,
) -> dict[str, Any]:
    """The operator's answer per line: checks, RESPOSTA_RECURSO_GLOSA XML, then
    `recurso.answered` in the same write as the new situation (once)."""
    op = await repos.operadora_recurso(recurso_id)
    if op is None:
        raise NaoEncontrado("recurso_nao_encontrado", "Recurso não encontrado.")
    if op["situacao"] != EM_ANALISE:
        raise Conflito("recurso_ja_respondido", "Este recurso já foi respondido.")
    by_id = {r.get("linha_id"): r for r in respostas}
    faltando = [linha["linha_id"] for linha in op["linhas"] if linha["linha_id"] not in by_id]
    if faltando:
        raise RecursoError(
            "resposta_incompleta",
            f"Responda todos os itens do recurso: falta {', '.join(faltando)}.",
            {"linhas": faltando},
        )
    checadas = {
        linha["linha_id"]: checar_resposta(linha, by_id[linha["linha_id"]])
        for linha in op["linhas"]
    }
    xml = tiss_xml.resposta_recurso_glosa(
        op, checadas, operadora_nome=cfg.operadora_nome, quando=now
    )
    _checar_xml(xml, "RESPOSTA_RECURSO_GLOSA")
    xml_file = f"{recurso_id}.resposta.{hashlib.sha256(xml).hexdigest()[:16]}.xml"
    await repos.put_file(xml_file, xml, "application/xml")
    recursado = sum((money(linha["valor_recursado"]) for linha in op["linhas"]), Decimal("0.00"))
    acatado = sum((money(r["valor_acatado"]) for r in checadas.values()), Decimal("0.00"))
    payload = RecursoAnswered(
        recurso_id=recurso_id,
        provider_id=op["provider_id"],
        peg=op["peg"],
        lote_id=op["lote_id"],
        numero_guia_prestador=op["numero_guia"],
        numero_protocolo_recurso=op["numero_protocolo_recurso"],
        # pydantic validates the dicts into the event's items
        itens=[
            {  # type: ignore[misc]
                **checadas[linha["linha_id"]],
                "sequencial_item": linha.get("sequencial_item"),
                "codigo_glosa": linha["codigo_glosa"],
                "valor_recursado": linha["valor_recursado"],
            }
            for linha in op["linhas"]
        ],
        valor_total_recursado=recursado,
        valor_total_acatado=acatado,
        answered_by=by,
        answered_at=now,
    )
    done = await repos.update_operadora(
        recurso_id,
        {"situacao": EM_ANALISE},
        {
            "$set": {
                "situacao": RESPONDIDO,
                "resposta": list(checadas.values()),
                "respondido_em": now,
                "respondido_por": by,
                "valor_total_acatado": str(acatado),
                "xml_file": xml_file,
                "resposta_no_prazo": hoje(now) <= date.fromisoformat(op["prazo_resposta"]),
            },
            "$push": {
                "outbox": outbox.event(payload, key=recurso_id, correlation_id=correlation_id)
            },
        },
    )
    if not done:
        raise Conflito("recurso_ja_respondido", "Este recurso já foi respondido.")
    return await repos.operadora_recurso(recurso_id) or {}


# -- numbers ------------------------------------------------------------------------------
def _pct(part: Decimal, whole: Decimal) -> str:
    if whole <= 0:
        return "0.00"
    return str((part * 100 / whole).quantize(Decimal("0.01")))


async def numeros(
    repos: Repos, cfg: RecursosSettings, provider_id: str | None, peg: str | None
) -> dict[str, Any]:
    """Per protocol and overall: glosa inicial (value and %), recursado, recuperado, glosa
    final (value and %), recursos sent past their deadline."""
    contas = [await _conta(repos, peg, provider_id)] if peg else await repos.contas_of(provider_id)
    por_protocolo = []
    zero = Decimal("0.00")
    total: dict[str, Any] = {
        "informado": zero,
        "inicial": zero,
        "recursado": zero,
        "recuperado": zero,
        "fora": 0,
    }
    for conta in contas:
        if not conta.get("analise") and not conta.get("glosas_protocolo"):
            continue
        analise = conta.get("analise") or []
        informado = money(conta.get("valor_informado")) or sum(
            (money(g.get("valor_processado")) for g in analise), zero
        )
        inicial = sum((money(g.get("valor_glosado")) for g in analise), zero) + sum(
            (money(g.get("valor")) for g in conta.get("glosas_protocolo") or []), zero
        )
        recursos = [
            r for r in await repos.recursos_of({"peg": conta["peg"]}) if r["situacao"] != RASCUNHO
        ]
        recursado = sum((money(r.get("valor_total_recursado")) for r in recursos), zero)
        recuperado = sum((money(r.get("valor_recuperado")) for r in recursos), zero)
        fora = sum(
            1
            for r in recursos
            if r.get("prazo")
            and r.get("enviado_em")
            and hoje(r["enviado_em"]) > date.fromisoformat(r["prazo"])
        )
        final = inicial - recuperado
        por_protocolo.append(
            {
                "peg": conta["peg"],
                "lote_id": conta["_id"],
                "numero_lote": conta.get("numero_lote"),
                "valor_informado": str(informado),
                "glosa_inicial": str(inicial),
                "glosa_inicial_pct": _pct(inicial, informado),
                "valor_recursado": str(recursado),
                "valor_recuperado": str(recuperado),
                "glosa_final": str(final),
                "glosa_final_pct": _pct(final, informado),
                "recursos": len(recursos),
                "recursos_fora_do_prazo": fora,
            }
        )
        total["informado"] += informado
        total["inicial"] += inicial
        total["recursado"] += recursado
        total["recuperado"] += recuperado
        total["fora"] += fora
    final = total["inicial"] - total["recuperado"]
    return {
        "geral": {
            "valor_informado": str(total["informado"]),
            "glosa_inicial": str(total["inicial"]),
            "glosa_inicial_pct": _pct(total["inicial"], total["informado"]),
            "valor_recursado": str(total["recursado"]),
            "valor_recuperado": str(total["recuperado"]),
            "glosa_final": str(final),
            "glosa_final_pct": _pct(final, total["informado"]),
            "recursos_fora_do_prazo": total["fora"],
        },
        "protocolos": por_protocolo,
    }


def utcnow() -> datetime:
    return datetime.now(UTC)
