"""Portal pages of recursos de glosa: the clinic's "Recursos de Glosa" (glossed items with
their deadline, Recorrer, drafts, sending, situation, answer) and the operator staff's
recursos to answer (oldest deadline first) with the answer form per item."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tissflow_gateway.core import ApiError, seg
from tissflow_gateway.portal import PortalSession, render, require_csrf
from tissflow_gateway.routes import recursos as api

router = APIRouter(include_in_schema=False)
RECURSOS = ("Recursos de Glosa", "/recursos")
OPERADORA = ("Recursos a responder", "/operadora/recursos")
SITUACOES = {
    "rascunho": "Rascunho",
    "enviado": "Enviado",
    "em_analise": "Em análise",
    "respondido": "Respondido",
}
FLASH = {
    "salvo": "Rascunho salvo.",
    "enviado": "Recurso enviado à operadora.",
    "anexo": "Anexo incluído.",
}


def prazo_texto(prazo: str | None, dias: int | None) -> str:
    """'prazo até dd/mm/aaaa (N dias)'"""
    if not prazo:
        return "—"
    texto = f"prazo até {date.fromisoformat(prazo):%d/%m/%Y}"
    if dias is None:
        return texto
    if dias < 0:
        return f"{texto} (vencido)"
    return f"{texto} ({dias} {'dia' if dias == 1 else 'dias'})"


def _only_provider(session: PortalSession) -> None:
    if session.user.role != "prestador":
        raise ApiError(403, "acesso_negado", "Somente o prestador recorre de suas glosas.")


def _only_operadora(session: PortalSession) -> None:
    if session.user.role != "operadora":
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe da operadora.")


def _refusal(exc: ApiError) -> tuple[int, str]:
    """A refusal the clerk can act on (a 4xx other than 404) is shown on the page it came
    from, with its status and pt-BR message; anything else propagates to the error page."""
    if exc.status_code >= 500 or exc.status_code == 404:
        raise exc
    return exc.status_code, exc.detail["message"]


async def _glosas(session: PortalSession, peg: str) -> list[dict[str, Any]]:
    """The glossed items to appeal; none for a protocol not analysed yet."""
    try:
        return await api.glosas(session.user, peg or None)
    except ApiError as exc:
        if exc.status_code == 404:
            return []
        raise


@router.get("/recursos")
async def recursos_page(
    request: Request,
    session: PortalSession,
    situacao: Annotated[str, Query(max_length=20)] = "",
    peg: Annotated[str, Query(max_length=20)] = "",
    erro: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    listing = await api.listar(
        session.user, situacao=situacao if situacao in SITUACOES else None, peg=peg or None
    )
    grupos: dict[str, list[dict[str, Any]]] = {}
    for item in listing["items"]:
        grupos.setdefault(item["grupo_id"], []).append(item)
    return render(
        request,
        "recursos.html",
        session,
        active="recursos",
        crumbs=[("Recursos de Glosa", None)],
        grupos=list(grupos.values()),
        total=listing["total"],
        respostas_novas=listing.get("respostas_novas", 0),
        glosas=await _glosas(session, peg) if not situacao else [],
        numeros=await api.numeros(session.user),
        filtros={"situacao": situacao, "peg": peg},
        situacoes=SITUACOES,
        prazo_texto=prazo_texto,
        erro=erro,
    )


@router.post("/recursos/novo")
async def recorrer(request: Request, session: PortalSession) -> Response:
    """Recorrer: the chosen items, a whole guide or the whole protocol."""
    _only_provider(session)
    form = await request.form()
    require_csrf(session, str(form.get("csrf_token", "")))
    peg = str(form.get("peg", ""))[:20]
    linhas = [str(v) for v in form.getlist("linhas")][:500]
    nivel = str(form.get("nivel", "itens"))
    if nivel.startswith("guia:"):
        guia = nivel.removeprefix("guia:")
        todas = await api.glosas(session.user, peg)
        linhas = [
            linha["linha_id"]
            for conta in todas
            for linha in conta["linhas"]
            if linha["numero_guia"] == guia and not linha.get("recurso")
        ]
    elif nivel == "glosa_protocolo":
        # The protocol's own glosa (recursoProtocolo): one recurso per table-38 code.
        todas = await api.glosas(session.user, peg)
        linhas = [
            linha["linha_id"]
            for conta in todas
            for linha in conta["linhas"]
            if not linha["numero_guia"] and not linha.get("recurso")
        ]
        if not linhas:
            return await recursos_page(
                request, session, peg=peg, erro="A glosa do protocolo já está em recurso."
            )
    elif nivel == "protocolo":
        linhas = []
    elif not linhas:
        return await recursos_page(
            request, session, peg=peg, erro="Selecione ao menos um item glosado para recorrer."
        )
    try:
        criado = await api.abrir(session.user, peg, linhas or None)
    except ApiError as exc:
        _, erro = _refusal(exc)
        return await recursos_page(request, session, peg=peg, erro=erro)
    primeiro = criado["items"][0]["recurso_id"]
    return RedirectResponse(f"/recursos/{seg(primeiro)}", status_code=303)


def _titulo(doc: dict[str, Any]) -> str:
    if doc.get("objeto") == "protocolo":
        return f"Recurso da glosa do protocolo {doc['peg']}"
    return f"Recurso da guia {doc['numero_guia']}"


async def _recurso_page(
    request: Request,
    session: PortalSession,
    recurso_id: str,
    status_code: int = 200,
    erro: str | None = None,
    flash: str | None = None,
    recurso: dict[str, Any] | None = None,
) -> Response:
    doc = recurso or await api.obter(
        session.user, recurso_id, marcar_lida=session.user.role == "prestador"
    )
    grupo = (await api.listar(session.user, grupo_id=doc["grupo_id"]))["items"]
    return render(
        request,
        "recurso.html",
        session,
        status_code=status_code,
        active="recursos",
        crumbs=[RECURSOS, (_titulo(doc), None)],
        recurso=doc,
        grupo=[g for g in grupo if g["recurso_id"] != doc["recurso_id"]],
        situacoes=SITUACOES,
        prazo_texto=prazo_texto,
        editavel=doc["situacao"] == "rascunho" and session.user.role == "prestador",
        erro=erro,
        flash=flash,
    )


@router.get("/recursos/{recurso_id}")
async def recurso_page(
    request: Request,
    recurso_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return await _recurso_page(request, session, recurso_id, flash=FLASH.get(ok or ""))


@router.post("/recursos/{recurso_id}/salvar")
async def recurso_salvar(request: Request, recurso_id: str, session: PortalSession) -> Response:
    """Salvar rascunho or Enviar: the draft is saved first either way, so nothing typed is
    lost when a check refuses the sending."""
    _only_provider(session)
    form = await request.form()
    require_csrf(session, str(form.get("csrf_token", "")))
    doc = await api.obter(session.user, recurso_id)
    linhas = [
        {
            "linha_id": linha["linha_id"],
            "valor_recursado": str(form.get(f"valor:{linha['linha_id']}", ""))[:20],
            "justificativa": str(form.get(f"justificativa:{linha['linha_id']}", ""))[:2000],
        }
        for linha in doc["linhas"]
    ]
    try:
        await api.salvar(session.user, recurso_id, linhas)
        if form.get("acao") == "enviar":
            await api.enviar(session.user, recurso_id)
            return RedirectResponse(f"/recursos/{seg(recurso_id)}?ok=enviado", status_code=303)
    except ApiError as exc:
        status, erro = _refusal(exc)
        return await _recurso_page(request, session, recurso_id, status_code=status, erro=erro)
    return RedirectResponse(f"/recursos/{seg(recurso_id)}?ok=salvo", status_code=303)


@router.post("/recursos/{recurso_id}/anexos")
async def recurso_anexo(request: Request, recurso_id: str, session: PortalSession) -> Response:
    _only_provider(session)
    form = await request.form()
    require_csrf(session, str(form.get("csrf_token", "")))
    upload = form.get("arquivo")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return await _recurso_page(
            request, session, recurso_id, status_code=422, erro="Escolha um arquivo para anexar."
        )
    content = await upload.read(api.ANEXO_MAX + 1)
    media_type = (upload.content_type or "").split(";")[0]
    try:
        await api.anexar(session.user, recurso_id, upload.filename, media_type, content)
    except ApiError as exc:
        status, erro = _refusal(exc)
        return await _recurso_page(request, session, recurso_id, status_code=status, erro=erro)
    return RedirectResponse(f"/recursos/{seg(recurso_id)}?ok=anexo", status_code=303)


@router.post("/recursos/{recurso_id}/situacao")
async def recurso_situacao(request: Request, recurso_id: str, session: PortalSession) -> Response:
    _only_provider(session)
    form = await request.form()
    require_csrf(session, str(form.get("csrf_token", "")))
    try:
        doc = await api.atualizar(session.user, recurso_id)
    except ApiError as exc:
        status, erro = _refusal(exc)
        return await _recurso_page(request, session, recurso_id, status_code=status, erro=erro)
    return await _recurso_page(request, session, recurso_id, flash=doc.get("consulta"))


@router.get("/recursos/{recurso_id}/arquivos/{nome}")
async def recurso_arquivo(recurso_id: str, nome: str, session: PortalSession) -> Response:
    return await api.arquivo(session.user, recurso_id, nome)


# -- the operator's staff -------------------------------------------------------------------
@router.get("/operadora/recursos")
async def operadora_recursos(
    request: Request,
    session: PortalSession,
    situacao: Annotated[str, Query(max_length=20)] = "em_analise",
) -> Response:
    _only_operadora(session)
    escolhida = situacao if situacao in ("em_analise", "respondido") else None
    listing = await api.operadora_listar(escolhida)
    return render(
        request,
        "operadora_recursos.html",
        session,
        active="operadora_recursos",
        crumbs=[("Operadora", None), ("Recursos de Glosa", None)],
        recursos=listing["items"],
        pendentes=listing["pendentes"],
        filtros={"situacao": situacao},
        situacoes=SITUACOES,
    )


async def _operadora_recurso_page(
    request: Request,
    session: PortalSession,
    recurso_id: str,
    status_code: int = 200,
    erro: str | None = None,
    flash: str | None = None,
) -> Response:
    doc = await api.operadora_obter(recurso_id)
    return render(
        request,
        "operadora_recurso.html",
        session,
        status_code=status_code,
        active="operadora_recursos",
        crumbs=[OPERADORA, (f"Recurso {doc['numero_protocolo_recurso']}", None)],
        recurso=doc,
        respostas={r["linha_id"]: r for r in doc.get("resposta") or []},
        situacoes=SITUACOES,
        erro=erro,
        flash=flash,
    )


@router.get("/operadora/recursos/{recurso_id}")
async def operadora_recurso(
    request: Request,
    recurso_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    _only_operadora(session)
    flash = "Resposta enviada ao prestador." if ok == "respondido" else None
    return await _operadora_recurso_page(request, session, recurso_id, flash=flash)


@router.post("/operadora/recursos/{recurso_id}/resposta")
async def operadora_responder(
    request: Request, recurso_id: str, session: PortalSession
) -> Response:
    _only_operadora(session)
    form = await request.form()
    require_csrf(session, str(form.get("csrf_token", "")))
    doc = await api.operadora_obter(recurso_id)
    itens = []
    for linha in doc["linhas"]:
        key = linha["linha_id"]
        itens.append(
            {
                "linha_id": key,
                "acatado": form.get(f"acatado:{key}") == "S",
                "valor_acatado": str(form.get(f"valor:{key}", ""))[:20] or None,
                "justificativa": str(form.get(f"justificativa:{key}", ""))[:2000] or None,
            }
        )
    try:
        await api.operadora_responder(session.user, recurso_id, itens)
    except ApiError as exc:
        status, erro = _refusal(exc)
        return await _operadora_recurso_page(
            request, session, recurso_id, status_code=status, erro=erro
        )
    return RedirectResponse(f"/operadora/recursos/{seg(recurso_id)}?ok=respondido", status_code=303)
