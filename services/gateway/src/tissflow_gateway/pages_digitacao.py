"""Portal pages of Digitação de Guias: type a guide, + Novo Lote, + Adicionar Guias, gerar
the lote, Geração Automática.

The guide form posts plain HTML (fields `c.<campo>` and `i.<n>.<campo>`); `digitacao.js`
adds and removes items, computes totals and does the carteira and TUSS look-ups. A guide
posted after the session expired is never lost: the page comes back with everything typed
and a login box that signs in and saves it in one step.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from tissflow_gateway import digitacao
from tissflow_gateway.auth import authenticate, create_session, session_user
from tissflow_gateway.core import ApiError, seg
from tissflow_gateway.portal import (
    LOGIN_CSRF_COOKIE,
    PortalSession,
    Session,
    login_csrf_token,
    render,
    require_csrf,
    signed_in,
    with_login_csrf,
)

router = APIRouter(include_in_schema=False)
DIGITACAO = ("Guias Digitadas", "/digitacao")
Tipo = Literal["consulta", "sp_sadt", "odontologia", "honorarios"]
_ITEM = re.compile(r"^i\.(\d{1,3})\.([a-z_]{1,40})$")
_CAMPO = re.compile(r"^c\.([a-z_]{1,40})$")


def _provider_only(session: Session) -> None:
    if session.user.role != "prestador":
        raise ApiError(404, "nao_encontrado", "Página não encontrada.")


def ler_formulario(form: FormData) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The guide's fields and its items (in the order of their numbers, blank rows dropped)."""
    campos: dict[str, str] = {}
    itens: dict[int, dict[str, str]] = {}
    for chave, valor in form.multi_items():
        if not isinstance(valor, str):
            continue
        if m := _CAMPO.match(chave):
            campos[m[1]] = valor.strip()[:600]
        elif m := _ITEM.match(chave):
            itens.setdefault(int(m[1]), {})[m[2]] = valor.strip()[:600]
    padrao = {"tabela", "quantidade", "reducao_acrescimo"}
    linhas = [
        itens[n] for n in sorted(itens) if any(v for k, v in itens[n].items() if k not in padrao)
    ]
    return campos, linhas


async def _pagina_guia(
    request: Request,
    session: Session | None,
    tipo: str,
    *,
    guia: dict[str, Any] | None = None,
    campos: dict[str, str] | None = None,
    itens: list[dict[str, str]] | None = None,
    lote_id: str | None = None,
    flash: str | None = None,
    alerta: str | None = None,
    sessao_expirada: bool = False,
    status_code: int = 200,
) -> Response:
    form = await digitacao.formulario(tipo)
    valores = campos if campos is not None else (guia or {}).get("campos", {})
    linhas = itens if itens is not None else (guia or {}).get("itens", [])
    context: dict[str, Any] = {
        "form": form,
        "guia": guia,
        "valores": valores,
        "linhas": linhas,
        "erros": (guia or {}).get("erros", {}) if campos is None else {},
        "lote_id": lote_id or (guia or {}).get("lote_digitado_id"),
        "flash": flash,
        "alerta": alerta,
        "sessao_expirada": sessao_expirada,
        "active": "digitar",
        "prestador": session.user.provider_id if session else "",
        "crumbs": [DIGITACAO, ((guia or {}).get("numero_guia_prestador") or form["nome"], None)],
    }
    if sessao_expirada:
        token = login_csrf_token(request)
        context["login_csrf"] = token
        context["rascunho"] = json.dumps(
            {
                "tipo": tipo,
                "guia_id": (guia or {}).get("guia_id"),
                "lote_id": lote_id,
                "campos": valores,
                "itens": linhas,
            },
            ensure_ascii=False,
        )
        response = render(request, "digitacao_guia.html", None, status_code, **context)
        return with_login_csrf(response, token)
    return render(request, "digitacao_guia.html", session, status_code, **context)


async def _rascunho_de_volta(
    request: Request,
    session: Session | None,
    tipo: str,
    guia_id: str | None,
    campos: dict[str, str],
    itens: list[dict[str, str]],
    lote_id: str | None,
    **aviso: Any,
) -> Response:
    """The guide form again with everything the clerk typed (not saved yet) and why."""
    return await _pagina_guia(
        request,
        session,
        tipo,
        guia={"guia_id": guia_id} if guia_id else None,
        campos=campos,
        itens=itens,
        lote_id=lote_id,
        **aviso,
    )


def _escolher_tipo(
    request: Request, session: Session, active: str, crumb: str, acao: str, metodo: str, texto: str
) -> Response:
    """Digitar Guia and + Novo Lote start by choosing the guide type."""
    return render(
        request,
        "digitacao_tipo.html",
        session,
        active=active,
        crumbs=[DIGITACAO, (crumb, None)],
        tipos=digitacao.TIPOS,
        acao=acao,
        metodo=metodo,
        titulo=crumb,
        texto=texto,
    )


def _pagina_automatica(
    request: Request,
    session: Session,
    por_tipo: dict[str, dict[str, int]],
    resultado: dict[str, Any] | None,
) -> Response:
    return render(
        request,
        "digitacao_automatica.html",
        session,
        active="automatica",
        crumbs=[("Lotes de Pagamento", "/lotes"), ("Geração Automática", None)],
        por_tipo=por_tipo,
        tipos=digitacao.TIPOS,
        resultado=resultado,
    )


@router.get("/digitacao")
async def guias_digitadas(
    request: Request,
    session: PortalSession,
    aba: Literal["livres", "todas"] = "livres",
    ok: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    _provider_only(session)
    guias = await digitacao.listar_guias(session.user, livres=aba == "livres", page_size=200)
    lotes = await digitacao.listar_lotes(session.user)
    return render(
        request,
        "digitacao.html",
        session,
        active="digitacao",
        crumbs=[("Lotes de Pagamento", "/lotes"), ("Guias Digitadas", None)],
        guias=guias["items"],
        total=guias["total"],
        lotes=lotes["items"],
        aba=aba,
        tipos=digitacao.TIPOS,
        flash={"excluida": "Guia excluída."}.get(ok or ""),
    )


@router.get("/digitacao/guias/nova")
async def nova_guia(
    request: Request,
    session: PortalSession,
    tipo: Tipo | None = None,
    lote: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    _provider_only(session)
    if lote:
        lote_doc = await digitacao.lote(session.user, lote)
        tipo = lote_doc["tipo"]
    if tipo is None:
        return _escolher_tipo(
            request,
            session,
            "digitar",
            "Digitar Guia",
            "/digitacao/guias/nova",
            "get",
            "Escolha o tipo de guia a digitar.",
        )
    return await _pagina_guia(request, session, tipo, campos={}, itens=[], lote_id=lote)


async def _salvar_do_form(
    request: Request, tipo: str, guia_id: str | None, lote_id: str | None
) -> Response:
    form = await request.form()
    campos, itens = ler_formulario(form)
    found = await session_user(request)
    if found is None:
        # The session expired while the clerk typed: everything comes back on the page.
        return await _rascunho_de_volta(
            request,
            None,
            tipo,
            guia_id,
            campos,
            itens,
            lote_id,
            sessao_expirada=True,
            status_code=401,
        )
    session = Session(*found)
    _provider_only(session)
    token = str(form.get("csrf_token") or "")
    if not token or not secrets.compare_digest(token, session.csrf):
        # Signed in again elsewhere meanwhile: the page was stale, not the guide.
        return await _rascunho_de_volta(
            request,
            session,
            tipo,
            guia_id,
            campos,
            itens,
            lote_id,
            alerta="Esta página era de uma sessão anterior e a guia ainda não foi salva. "
            "Confira os dados abaixo e clique em “Salvar guia” de novo.",
            status_code=409,
        )
    guia = await digitacao.salvar_guia(session.user, tipo, campos, itens, guia_id, lote_id)
    ok = "fora_do_lote" if guia.get("aviso") else "salva"
    return RedirectResponse(f"/digitacao/guias/{seg(guia['guia_id'])}?ok={ok}", status_code=303)


@router.post("/digitacao/guias")
async def criar_guia(
    request: Request,
    tipo: Annotated[Tipo, Query()],
    lote: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return await _salvar_do_form(request, tipo, None, lote)


@router.get("/digitacao/guias/{guia_id}")
async def ver_guia(
    request: Request,
    guia_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    _provider_only(session)
    guia = await digitacao.guia(session.user, guia_id)
    flash = alerta = None
    if ok == "salva" and guia["completa"]:
        flash = f"Guia {guia['numero_guia_prestador']} salva e completa."
    elif ok == "salva":
        alerta = (
            f"Guia {guia['numero_guia_prestador']} salva como rascunho: "
            f"{len(guia['erros'])} campo(s) a corrigir antes de entrar num lote."
        )
    if ok == "fora_do_lote":
        alerta = (
            "A guia foi salva, mas não entrou no lote (já gerado, com 100 guias ou de outro "
            "tipo): adicione-a a outro lote."
        )
    elif guia["erros"] and not alerta:
        alerta = f"{len(guia['erros'])} campo(s) a corrigir antes de entrar num lote."
    return await _pagina_guia(request, session, guia["tipo"], guia=guia, flash=flash, alerta=alerta)


@router.post("/digitacao/guias/{guia_id}")
async def editar_guia(request: Request, guia_id: str, tipo: Annotated[Tipo, Query()]) -> Response:
    return await _salvar_do_form(request, tipo, guia_id, None)


@router.post("/digitacao/guias/{guia_id}/excluir")
async def excluir_guia(
    guia_id: str, session: PortalSession, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    require_csrf(session, csrf_token)
    _provider_only(session)
    await digitacao.excluir_guia(session.user, guia_id)
    return RedirectResponse("/digitacao?ok=excluida", status_code=303)


@router.post("/digitacao/retomar")
async def retomar(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    rascunho: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Sign in again and save the guide typed before the session expired, in one step."""
    try:
        dados = json.loads(rascunho)
        tipo = str(dados["tipo"])
        campos = {str(k): str(v) for k, v in dict(dados.get("campos") or {}).items()}
        itens = [{str(k): str(v) for k, v in dict(i).items()} for i in dados.get("itens") or []]
    except (ValueError, KeyError, TypeError):
        raise ApiError(422, "dados_invalidos", "Os dados da guia não puderam ser lidos.") from None
    guia_id, lote_id = dados.get("guia_id"), dados.get("lote_id")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    try:
        if not cookie or not secrets.compare_digest(cookie, csrf_token):
            raise ApiError(
                403, "csrf_invalido", "A página expirou; informe usuário e senha de novo."
            )
        user = await authenticate(username.strip(), password)
    except ApiError as exc:
        return await _rascunho_de_volta(
            request,
            None,
            tipo,
            guia_id,
            campos,
            itens,
            lote_id,
            sessao_expirada=True,
            alerta=exc.detail["message"],
            status_code=exc.status_code,
        )
    session_id, _ = await create_session(user)
    guia = await digitacao.salvar_guia(user, tipo, campos, itens, guia_id, lote_id)
    response = RedirectResponse(
        f"/digitacao/guias/{seg(guia['guia_id'])}?ok=salva", status_code=303
    )
    return signed_in(response, session_id)


@router.get("/digitacao/lotes/novo")
async def novo_lote_form(request: Request, session: PortalSession) -> Response:
    _provider_only(session)
    return _escolher_tipo(
        request,
        session,
        "novo_lote",
        "+ Novo Lote",
        "/digitacao/lotes",
        "post",
        "Escolha o tipo de guia do lote: um lote reúne até 100 guias de um só tipo.",
    )


@router.post("/digitacao/lotes")
async def criar_lote(
    session: PortalSession,
    tipo: Annotated[Tipo, Form()],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    _provider_only(session)
    lote = await digitacao.novo_lote(session.user, tipo)
    return RedirectResponse(f"/digitacao/lotes/{seg(lote['lote_digitado_id'])}", status_code=303)


@router.get("/digitacao/lotes/{lote_id}")
async def ver_lote(
    request: Request,
    lote_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    _provider_only(session)
    lote = await digitacao.lote(session.user, lote_id)
    no_lote = await digitacao.listar_guias(session.user, lote_digitado_id=lote_id, page_size=100)
    livres: list[dict[str, Any]] = []
    if lote["situacao"] == "aberto":
        livres = (
            await digitacao.listar_guias(
                session.user, tipo=lote["tipo"], livres=True, page_size=200
            )
        )["items"]
    return render(
        request,
        "digitacao_lote.html",
        session,
        active="novo_lote",
        crumbs=[DIGITACAO, (f"Lote de {lote['tipo_label']}", None)],
        lote=lote,
        guias=no_lote["items"],
        livres=livres,
        flash={
            "adicionadas": "Guia(s) adicionada(s) ao lote.",
            "removida": "Guia retirada do lote.",
        }.get(ok or ""),
    )


@router.post("/digitacao/lotes/{lote_id}/guias")
async def adicionar_guias(request: Request, lote_id: str, session: PortalSession) -> Response:
    form = await request.form()
    require_csrf(session, str(form.get("csrf_token") or ""))
    _provider_only(session)
    ids = [str(v) for v in form.getlist("guia_id")][:100]
    if not ids:
        raise ApiError(422, "nenhuma_guia", "Marque ao menos uma guia para adicionar ao lote.")
    await digitacao.adicionar_guias(session.user, lote_id, ids)
    return RedirectResponse(f"/digitacao/lotes/{seg(lote_id)}?ok=adicionadas", status_code=303)


@router.post("/digitacao/lotes/{lote_id}/guias/{guia_id}/remover")
async def remover_guia(
    lote_id: str,
    guia_id: str,
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    _provider_only(session)
    await digitacao.remover_guia(session.user, lote_id, guia_id)
    return RedirectResponse(f"/digitacao/lotes/{seg(lote_id)}?ok=removida", status_code=303)


@router.post("/digitacao/lotes/{lote_id}/gerar")
async def gerar_lote(
    lote_id: str, session: PortalSession, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    require_csrf(session, csrf_token)
    _provider_only(session)
    lote = await digitacao.gerar(session.user, lote_id)
    return RedirectResponse(f"/arquivos/{seg(lote['file_id'])}?ok=digitacao", status_code=303)


@router.get("/digitacao/geracao-automatica")
async def automatica_form(request: Request, session: PortalSession) -> Response:
    _provider_only(session)
    livres = await digitacao.listar_guias(session.user, livres=True, page_size=200)
    por_tipo: dict[str, dict[str, int]] = {}
    for g in livres["items"]:
        conta = por_tipo.setdefault(g["tipo"], {"completas": 0, "incompletas": 0})
        conta["completas" if g["completa"] else "incompletas"] += 1
    return _pagina_automatica(request, session, por_tipo, None)


@router.post("/digitacao/geracao-automatica")
async def automatica(
    request: Request,
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    _provider_only(session)
    resultado = await digitacao.geracao_automatica(session.user)
    return _pagina_automatica(request, session, {}, resultado)
