"""Portal pages for lotes de pagamento (Pesquisa de Lotes, Detalhes do Lote, Log de Envio,
Nota Fiscal Pendente, Pagamentos Pendentes, Sincronizar, the operator's calendar)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from tissflow_contracts.dominios import STATUS_PROTOCOLO

from tissflow_gateway import lotes
from tissflow_gateway.core import ApiError, seg, settings
from tissflow_gateway.portal import (
    TIPOS_GUIA,
    TZ,
    PortalSession,
    data_br,
    parse_data,
    render,
    require_csrf,
)
from tissflow_gateway.routes.lotes import nf_response

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
LOTES = ("Lotes de Pagamento", "/lotes")
ACTION_LABELS = {
    "fechar": "Fechar Lote",
    "reabrir": "Reabrir Lote",
    "enviar": "Enviar Lote",
    "excluir": "Excluir Lote",
}
CONFIRM = {
    "fechar": "Confirma o fechamento do lote {n}?",
    "reabrir": "Confirma a reabertura do lote {n}?",
    "enviar": "Confirma o envio do lote {n} à operadora? Depois de enviado, o lote não "
    "poderá ser alterado nem cancelado.",
    "excluir": "Confirma a exclusão do lote {n}? As guias ficam livres para um novo lote.",
}
FLASH = {
    "enviar": "Lote enviado à operadora. O protocolo (PEG) aparece aqui em instantes.",
    "fechar": "Lote fechado: envio pendente.",
    "reabrir": "Lote reaberto.",
    "excluir": "Lote excluído.",
    "nf": "Nota fiscal anexada ao lote.",
    "sincronizado": "Situação do protocolo atualizada.",
}
SITUACOES_PROTOCOLO = [
    ("nao_enviado", "Lote não enviado"),
    ("enviado", "Lote enviado para a Operadora"),
    ("em_analise", "Em análise pela Operadora"),
    ("liberado", "Liberado para Faturamento"),
    ("faturado", "Faturado"),
    ("pago", "Pagamento efetuado"),
    ("encerrado", "Encerrado sem pagamento"),
    ("pendente", "Aguardando informação complementar"),
    ("cancelado", "Cancelado"),
]
SITUACOES_LOTE = [
    ("aberto", "Aberto"),
    ("fechado", "Fechado (envio pendente)"),
    ("enviado", "Enviado à operadora"),
]
COLUNAS = [
    ("data_inclusao", "Data Inclusão"),
    ("numero", "Nº Lote"),
    ("situacao", "Situação Lote"),
    ("protocolo", "Protocolo"),
    ("situacao_protocolo", "Situação Protocolo"),
    ("tipo_guia", "Tipo de Guia"),
]
STATUS_ANS = STATUS_PROTOCOLO
# How long a page waits for something asynchronous before saying what to do instead.
ESPERA_MAXIMA = 15  # reloads, 2 s apart: 30 s


def _params(session: PortalSession, **extra: Any) -> dict[str, Any]:
    params = {k: v for k, v in extra.items() if v not in (None, "")}
    if session.user.provider_filter():
        params["provider_id"] = session.user.provider_filter()
    return params


def _choice(value: str, allowed: list[tuple[str, str]] | dict[str, str]) -> str:
    """A select's value if it is one of its options; anything else ("Todas") is "any"."""
    keys = allowed.keys() if isinstance(allowed, dict) else [k for k, _ in allowed]
    return value if value in keys else ""


def _dia(texto: str, rotulo: str, erros: list[str]) -> date | None:
    try:
        return parse_data(texto)
    except ValueError:
        erros.append(f"Data {rotulo} inválida: use dd/mm/aaaa.")
        return None


@router.get("/lotes")
async def lista_lotes(
    request: Request,
    session: PortalSession,
    operadora: Annotated[str, Query(max_length=10)] = "",
    numero_lote: Annotated[str, Query(max_length=20)] = "",
    protocolo: Annotated[str, Query(max_length=20)] = "",
    tipo_guia: Annotated[str, Query(max_length=30)] = "",
    situacao_protocolo: Annotated[str, Query(max_length=30)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    de: Annotated[str | None, Query(max_length=10)] = None,
    ate: Annotated[str | None, Query(max_length=10)] = None,
    ordem: Annotated[str, Query(max_length=30)] = "data_inclusao",
    direcao: Annotated[str, Query(max_length=4)] = "desc",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
    ok: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Pesquisa de Lotes. Every combination answers: an unknown option means "any", a date
    that is not one is said next to the filter; the period defaults to the last 30 days."""
    hoje = datetime.now(TZ).date()
    erros: list[str] = []
    desde = _dia(de, "inicial", erros) if de is not None else hoje - timedelta(days=30)
    until = _dia(ate, "final", erros) if ate is not None else hoje
    if desde and until and desde > until:
        erros.append("A data inicial é posterior à final.")
        desde = until = None
    ordem = _choice(ordem, COLUNAS) or "data_inclusao"
    direcao = "asc" if direcao == "asc" else "desc"
    filtros = lotes.Filtros(
        registro_ans=_choice(operadora, {settings.operadora_registro_ans: ""}) or None,
        numero_lote=numero_lote.strip() or None,
        protocolo=protocolo.strip() or None,
        tipo_guia=_choice(tipo_guia, TIPOS_GUIA) or None,
        situacao_protocolo=_choice(situacao_protocolo, SITUACOES_PROTOCOLO) or None,
        status=_choice(status, SITUACOES_LOTE) or None,
        de=datetime.combine(desde, datetime.min.time(), TZ) if desde else None,
        ate=datetime.combine(until, datetime.max.time(), TZ) if until else None,
        ordem=ordem,
        direcao=direcao,
    )
    listing = await lotes.search(session.user, filtros, pagina, PAGE_SIZE)
    args = {
        "operadora": filtros.registro_ans or "",
        "numero_lote": numero_lote.strip(),
        "protocolo": protocolo.strip(),
        "tipo_guia": filtros.tipo_guia or "",
        "situacao_protocolo": filtros.situacao_protocolo or "",
        "status": filtros.status or "",
        "de": data_br(desde) if desde else "",
        "ate": data_br(until) if until else "",
    }
    return render(
        request,
        "lotes.html",
        session,
        active="lotes",
        crumbs=[("Pesquisa de Lotes", None)],
        lotes=listing["items"],
        total=listing["total"],
        pagina=pagina,
        paginas=max(1, math.ceil(listing["total"] / PAGE_SIZE)),
        filtros=args,
        ordem=ordem,
        direcao=direcao,
        colunas=COLUNAS,
        situacoes_protocolo=SITUACOES_PROTOCOLO,
        situacoes_lote=SITUACOES_LOTE,
        erros=erros,
        flash=FLASH.get(ok or ""),
    )


@router.get("/lotes/nota-fiscal-pendente")
async def nf_pendente(
    request: Request,
    session: PortalSession,
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    listing = await lotes.nf_pendentes(session.user, pagina, PAGE_SIZE)
    config = await lotes.get_config()
    return render(
        request,
        "lotes_nf_pendente.html",
        session,
        active="lotes-nf",
        crumbs=[LOTES, ("Nota Fiscal Pendente", None)],
        lotes=listing["items"],
        total=listing["total"],
        pagina=pagina,
        paginas=max(1, math.ceil(listing["total"] / PAGE_SIZE)),
        config=config,
    )


@router.get("/lotes/pagamentos-pendentes")
async def pagamentos_pendentes(request: Request, session: PortalSession) -> Response:
    listing = await lotes.pagamentos_pendentes(session.user)
    total = sum(Decimal(i.get("valor_previsto") or "0") for i in listing["items"])
    return render(
        request,
        "lotes_pagamentos.html",
        session,
        active="lotes-pagamentos",
        crumbs=[LOTES, ("Pagamentos Pendentes", None)],
        lotes=listing["items"],
        total=listing["total"],
        valor_total=str(total),
    )


@router.get("/lotes/sincronizar")
async def sincronizar_pagina(
    request: Request,
    session: PortalSession,
    verificados: Annotated[int | None, Query(ge=0)] = None,
    atualizados: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    return render(
        request,
        "lotes_sincronizar.html",
        session,
        active="lotes-sincronizar",
        crumbs=[LOTES, ("Sincronizar", None)],
        verificados=verificados,
        atualizados=atualizados,
    )


@router.post("/lotes/sincronizar")
async def sincronizar(
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    lote_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    result = await lotes.sincronizar(session.user)
    if lote_id:
        return RedirectResponse(f"/lotes/{seg(lote_id)}?ok=sincronizado", status_code=303)
    return RedirectResponse(
        f"/lotes/sincronizar?verificados={result['verificados']}"
        f"&atualizados={result['atualizados']}",
        status_code=303,
    )


@router.get("/lotes/{lote_id}")
async def lote(
    request: Request,
    lote_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=20)] = None,
    espera: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    doc = await lotes.get_lote(session.user, lote_id)
    protocolo = None
    if doc.get("protocolo"):
        try:
            protocolo = await lotes.get_protocolo(session.user, doc["protocolo"]["peg"])
        except ApiError:
            protocolo = None
    acoes = doc.get("acoes", []) if session.user.role == "prestador" else []
    numero = doc["numero_lote"]
    return render(
        request,
        "lote.html",
        session,
        active="lotes",
        crumbs=[LOTES, (f"Lote {numero}", None)],
        lote=doc,
        protocolo=protocolo,
        acoes=[(a, ACTION_LABELS[a], CONFIRM[a].format(n=numero)) for a in acoes],
        flash=FLASH.get(ok or ""),
        status_ans=STATUS_ANS,
        espera=espera,
        espera_maxima=ESPERA_MAXIMA,
    )


@router.get("/lotes/{lote_id}/log")
async def lote_log(request: Request, lote_id: str, session: PortalSession) -> Response:
    doc = await lotes.get_lote(session.user, lote_id)
    log = await lotes.get_log(session.user, lote_id)
    return render(
        request,
        "lote_log.html",
        session,
        active="lotes",
        crumbs=[LOTES, (f"Lote {doc['numero_lote']}", f"/lotes/{lote_id}"), ("Log de Envio", None)],
        lote=doc,
        entradas=log["items"],
    )


@router.post("/lotes/{lote_id}/acao/{acao}")
async def lote_acao(
    request: Request,
    lote_id: str,
    acao: Literal["fechar", "reabrir", "enviar", "excluir"],
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    doc = await lotes.act(session.user, lote_id, acao)
    if acao == "excluir" and doc.get("file_id"):
        return RedirectResponse(f"/arquivos/{seg(doc['file_id'])}?ok=lote_excluido", 303)
    target = "/lotes?ok=excluir" if acao == "excluir" else f"/lotes/{seg(lote_id)}?ok={acao}"
    return RedirectResponse(target, status_code=303)


@router.post("/arquivos/{file_id}/lote/recriar")
async def recriar_lote(
    file_id: str, session: PortalSession, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """ "Criar lote novamente" after an Excluir: the file is validated again (its page
    follows it) and, imported, gets a new lote."""
    require_csrf(session, csrf_token)
    await lotes.recreate_lote(session.user, file_id)
    return RedirectResponse(f"/arquivos/{seg(file_id)}?ok=lote_recriado", status_code=303)


@router.get("/lotes/{lote_id}/nota-fiscal")
async def nf_form(request: Request, lote_id: str, session: PortalSession) -> Response:
    doc = await lotes.get_lote(session.user, lote_id)
    return render(
        request,
        "lote_nf.html",
        session,
        active="lotes-nf",
        crumbs=[LOTES, (f"Lote {doc['numero_lote']}", f"/lotes/{lote_id}"), ("Nota Fiscal", None)],
        lote=doc,
        erro=None,
        campos={},
    )


@router.post("/lotes/{lote_id}/nota-fiscal")
async def nf_anexar(request: Request, lote_id: str, session: PortalSession) -> Response:
    doc = await lotes.get_lote(session.user, lote_id)
    campos: dict[str, str] = {}
    try:
        nf = await lotes.receive_nf(request)
        campos = nf.campos
        require_csrf(session, nf.campos.get("csrf_token", ""))
        await lotes.attach_nf(session.user, lote_id, nf)
    except ApiError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        return render(
            request,
            "lote_nf.html",
            session,
            status_code=exc.status_code,
            active="lotes-nf",
            crumbs=[
                LOTES,
                (f"Lote {doc['numero_lote']}", f"/lotes/{lote_id}"),
                ("Nota Fiscal", None),
            ],
            lote=doc,
            erro=exc.detail["message"],
            campos=campos,
        )
    return RedirectResponse(f"/lotes/{seg(lote_id)}?ok=nf", status_code=303)


@router.get("/lotes/{lote_id}/nota-fiscal/arquivo")
async def nf_arquivo(lote_id: str, session: PortalSession) -> Response:
    return await nf_response(session.user, lote_id)


@router.get("/operadora/lotes/configuracao")
async def config_page(
    request: Request, session: PortalSession, ok: Annotated[str | None, Query(max_length=5)] = None
) -> Response:
    _only_operadora(session)
    return render(
        request,
        "operadora_lotes_config.html",
        session,
        active="operadora-lotes",
        crumbs=[("Operadora", None), ("Calendário e Nota Fiscal", None)],
        config=await lotes.get_config(),
        flash="Configuração salva." if ok else None,
    )


@router.post("/operadora/lotes/configuracao")
async def config_save(
    session: PortalSession,
    dia_limite_envio: Annotated[int, Form(ge=1, le=31)],
    nf_prazo_dias: Annotated[int, Form(ge=0, le=365)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    nf_obrigatoria: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    _only_operadora(session)
    await lotes.save_config(
        session.user,
        {
            "dia_limite_envio": dia_limite_envio,
            "nf_obrigatoria": nf_obrigatoria == "on",
            "nf_prazo_dias": nf_prazo_dias,
        },
    )
    return RedirectResponse("/operadora/lotes/configuracao?ok=1", status_code=303)


def _only_operadora(session: PortalSession) -> None:
    if session.user.role != "operadora":
        raise ApiError(404, "nao_encontrado", "Página não encontrada.")
