"""Portal pages of protocols (PEG). The clinic: its protocols, a protocol's page (Atualizar
Situação Protocolo, Capa do Lote, Troca de Mensagens, Exibir Log de Envio, the analysis per
guide and item, updating by itself), the message thread. The operator's staff: protocols
received (Prestador column, Pesquisa de Lotes filters), a protocol's guides and items with
glosa per item (table-38 picker), stage and payment date, answers. Ops read only."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from tissflow_contracts.dominios import DEBITO_CREDITO_TIPO, STATUS_PROTOCOLO

from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.portal import PortalSession, parse_data, render, require_csrf
from tissflow_gateway.routes import protocolos as uc

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
FLASH = {
    "mensagem": "Mensagem enviada.",
    "situacao": "Situação atualizada.",
    "glosa": "Glosa registrada.",
    "status": "Situação do protocolo atualizada.",
}


def _staff(session: PortalSession) -> None:
    if session.user.role not in ("operadora", "ops"):
        raise ApiError(404, "nao_encontrado", "Página não encontrada.")


def _operadora(session: PortalSession) -> None:
    if session.user.role != "operadora":
        raise ApiError(403, "acesso_negado", "Só a equipe da operadora altera protocolos.")


def _periodo(de: str, ate: str) -> dict[str, Any]:
    try:
        return {"de": parse_data(de), "ate": parse_data(ate)}
    except ValueError:
        raise ApiError(422, "dados_invalidos", "Período inválido: use dd/mm/aaaa.") from None


def resumo(doc: dict[str, Any]) -> dict[str, Any]:
    """Per guide: as billed, and its analysis (values, glosas per item) when reported."""
    analise = {g["numero_guia_prestador"]: g for g in doc.get("guias") or []}
    lote = doc.get("guias_lote") or [{"numero_guia_prestador": n, "itens": []} for n in analise]
    guias = []
    for g in lote:
        a = analise.get(g["numero_guia_prestador"]) or {}
        itens_a = {i["sequencial_item"]: i for i in a.get("itens") or []}
        itens = [{**i, "analise": itens_a.get(i["sequencial_item"])} for i in g.get("itens") or []]
        guias.append({**g, "analise": a or None, "itens": itens})
    return {"guias": guias}


async def _tabela_38() -> list[dict[str, Any]]:
    """Every table-38 code for the glosa picker (a datalist: search by code or words)."""
    return (await call("GET", "protocol", "/internal/glosas", params={"limit": 1000, "q": ""}))[
        "items"
    ]


# -- the clinic ------------------------------------------------------------------------
@router.get("/protocolos")
async def lista(
    request: Request,
    session: PortalSession,
    peg: Annotated[str, Query(max_length=20)] = "",
    numero_lote: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=2)] = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if session.user.role != "prestador":
        return RedirectResponse("/operadora/protocolos", status_code=303)
    listing = await uc.list_protocolos(
        session.user,
        peg=peg.strip(),
        numero_lote=numero_lote.strip(),
        status=int(status) if status.isdigit() else None,
        page=pagina,
        page_size=PAGE_SIZE,
    )
    return render(
        request,
        "protocolos.html",
        session,
        active="protocolos",
        crumbs=[("Protocolos", None)],
        protocolos=listing["items"],
        total=listing["total"],
        pagina=pagina,
        paginas=max(1, math.ceil(listing["total"] / PAGE_SIZE)),
        filtros={"peg": peg, "numero_lote": numero_lote, "status": status},
        status_ans=STATUS_PROTOCOLO,
    )


@router.get("/protocolos/{peg}")
async def protocolo(
    request: Request,
    peg: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if session.user.role != "prestador":
        return RedirectResponse(f"/operadora/protocolos/{seg(peg)}", status_code=303)
    doc = await uc.get_protocolo(session.user, peg)
    return render(
        request,
        "protocolo.html",
        session,
        active="protocolos",
        crumbs=[("Protocolos", "/protocolos"), (f"Protocolo {doc['peg']}", None)],
        p=doc,
        r=resumo(doc),
        flash=FLASH.get(ok or ""),
        status_ans=STATUS_PROTOCOLO,
    )


@router.get("/protocolos/{peg}/parcial")
async def protocolo_parcial(request: Request, peg: str, session: PortalSession) -> Response:
    """The live part of a protocol's page (stage, values, guides, messages, log): the page
    fetches it every few seconds and swaps it in, so it updates without reloading."""
    doc = await uc.get_protocolo(session.user, peg)
    return render(
        request,
        "_protocolo_live.html",
        session,
        p=doc,
        r=resumo(doc),
        status_ans=STATUS_PROTOCOLO,
        papel=session.user.role,
    )


@router.get("/protocolos/{peg}/mensagens")
async def mensagens(
    request: Request,
    peg: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    doc = await uc.get_protocolo(session.user, peg)
    thread = await uc.read_messages(session.user, peg)
    return render(
        request,
        "protocolo_mensagens.html",
        session,
        active="protocolos",
        crumbs=[
            ("Protocolos", "/protocolos"),
            (f"Protocolo {doc['peg']}", f"/protocolos/{seg(peg)}"),
            ("Troca de Mensagens", None),
        ],
        p=doc,
        mensagens=thread["mensagens"],
        flash=FLASH.get(ok or ""),
    )


async def _post_message(request: Request, peg: str, session: PortalSession) -> None:
    await uc.get_protocolo(session.user, peg)
    texto, anexos, fields = await uc.receive_message_form(request)
    require_csrf(session, fields.get("csrf_token", ""))
    await uc.post_message(session.user, peg, texto, anexos)


@router.post("/protocolos/{peg}/mensagens")
async def enviar_mensagem(request: Request, peg: str, session: PortalSession) -> Response:
    await _post_message(request, peg, session)
    return RedirectResponse(f"/protocolos/{seg(peg)}/mensagens?ok=mensagem", status_code=303)


@router.post("/protocolos/{peg}/situacao")
async def atualizar_situacao(
    peg: str, session: PortalSession, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    require_csrf(session, csrf_token)
    await uc.situacao(session.user, peg)
    return RedirectResponse(f"/protocolos/{seg(peg)}?ok=situacao#situacao", status_code=303)


@router.get("/protocolos/{peg}/capa.pdf")
async def capa(peg: str, session: PortalSession) -> Response:
    return await uc.capa(session.user, peg)


@router.get("/protocolos/{peg}/recebimento.xml")
async def recebimento(peg: str, session: PortalSession) -> Response:
    return await uc.document(
        session.user, peg, "recebimento.xml", f"protocolo-recebimento-{peg}.xml"
    )


@router.get("/protocolos/{peg}/arquivos/{file_id}")
async def arquivo(peg: str, file_id: str, session: PortalSession) -> Response:
    return await uc.document(session.user, peg, f"arquivos/{seg(file_id)}", "arquivo")


# -- the operator's staff --------------------------------------------------------------
@router.get("/operadora/protocolos")
async def operadora_lista(
    request: Request,
    session: PortalSession,
    prestador: Annotated[str, Query(max_length=14)] = "",
    peg: Annotated[str, Query(max_length=20)] = "",
    numero_lote: Annotated[str, Query(max_length=20)] = "",
    tipo_guia: Annotated[str, Query(max_length=30)] = "",
    status: Annotated[str, Query(max_length=2)] = "",
    de: Annotated[str, Query(max_length=10)] = "",
    ate: Annotated[str, Query(max_length=10)] = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
    ok: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    _staff(session)
    periodo = _periodo(de, ate)
    listing = await uc.list_protocolos(
        session.user,
        provider_id="".join(c for c in prestador if c.isalnum()),
        peg=peg.strip(),
        numero_lote=numero_lote.strip(),
        tipo_guia=tipo_guia,
        status=int(status) if status.isdigit() else None,
        de=periodo["de"],
        ate=periodo["ate"],
        page=pagina,
        page_size=PAGE_SIZE,
    )
    filtros = {
        "prestador": prestador,
        "peg": peg,
        "numero_lote": numero_lote,
        "tipo_guia": tipo_guia,
        "status": status,
        "de": de,
        "ate": ate,
    }
    return render(
        request,
        "operadora_protocolos.html",
        session,
        active="operadora",
        crumbs=[("Operadora", None), ("Protocolos", None)],
        protocolos=listing["items"],
        total=listing["total"],
        pagina=pagina,
        paginas=max(1, math.ceil(listing["total"] / PAGE_SIZE)),
        filtros=filtros,
        status_ans=STATUS_PROTOCOLO,
        flash=FLASH.get(ok or ""),
    )


@router.get("/operadora/protocolos/{peg}")
async def operadora_protocolo(
    request: Request,
    peg: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=20)] = None,
    erro: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    _staff(session)
    return await _pagina_operadora(request, peg, session, flash=FLASH.get(ok or ""))


async def _pagina_operadora(
    request: Request,
    peg: str,
    session: PortalSession,
    *,
    status_code: int = 200,
    flash: str | None = None,
    erro: str | None = None,
) -> Response:
    """The operator's protocol page; only the operator's role may change it."""
    doc = await uc.get_protocolo(session.user, peg)
    thread = await uc.read_messages(session.user, peg)
    pode_alterar = session.user.role == "operadora"
    return render(
        request,
        "operadora_protocolo.html",
        session,
        status_code=status_code,
        active="operadora",
        crumbs=[
            ("Operadora", None),
            ("Protocolos", "/operadora/protocolos"),
            (f"Protocolo {doc['peg']}", None),
        ],
        p=doc,
        r=resumo(doc),
        mensagens=thread["mensagens"],
        tabela_38=await _tabela_38() if pode_alterar else [],
        status_ans=STATUS_PROTOCOLO,
        flash=flash,
        erro=erro,
        pode_alterar=pode_alterar,
        tipos_debito_credito=DEBITO_CREDITO_TIPO,
    )


async def _back_with_error(
    request: Request, peg: str, session: PortalSession, exc: ApiError
) -> Response:
    """An operator's change refused (4xx): the page again with the reason on it."""
    if exc.status_code >= 500 or exc.detail["code"] in ("csrf_invalido", "acesso_negado"):
        raise exc
    return await _pagina_operadora(
        request, peg, session, status_code=exc.status_code, erro=exc.detail["message"]
    )


def _valor_br(text: str) -> Decimal | None:
    """A value typed the pt-BR way ("1.234,56"); None when it is not a number."""
    try:
        value = Decimal(text.strip().replace(".", "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


MAX_LINHAS_DC = 10
"""Rows of débito/crédito one Mover etapa form may carry (the form shows three)."""


def _debitos_creditos(
    indicadores: list[str], tipos: list[str], descricoes: list[str], valores: list[str]
) -> list[dict[str, str]]:
    """The payment's débitos/créditos rows the operator filled in (blank rows skipped);
    the protocol service checks them against the payment as it does the API's."""
    linhas = []
    for n, (indicador, tipo, descricao, valor) in enumerate(
        zip(indicadores, tipos, descricoes, valores, strict=False), start=1
    ):
        if not (descricao.strip() or valor.strip()):
            continue
        if len(valor) > 20 or len(descricao) > 200:
            raise ApiError(422, "dados_invalidos", f"Débito/crédito {n}: texto longo demais.")
        amount = _valor_br(valor)
        if amount is None or amount <= 0 or not descricao.strip():
            raise ApiError(
                422,
                "dados_invalidos",
                f"Débito/crédito {n}: informe a descrição e um valor maior que zero (1.234,56).",
            )
        linhas.append(
            {
                "indicador": "credito" if indicador == "credito" else "debito",
                "tipo": tipo if tipo in DEBITO_CREDITO_TIPO else "09",
                "descricao": descricao.strip()[:40],
                "valor": str(amount.quantize(Decimal("0.01"))),
            }
        )
    return linhas


@router.post("/operadora/protocolos/{peg}/status")
async def operadora_status(
    request: Request,
    peg: str,
    session: PortalSession,
    status: Annotated[int, Form(ge=1, le=10)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    data_pagamento: Annotated[str, Form(max_length=10)] = "",
    voltar: Annotated[str, Form(max_length=20)] = "",
    dc_indicador: Annotated[list[str] | None, Form(max_length=MAX_LINHAS_DC)] = None,
    dc_tipo: Annotated[list[str] | None, Form(max_length=MAX_LINHAS_DC)] = None,
    dc_descricao: Annotated[list[str] | None, Form(max_length=MAX_LINHAS_DC)] = None,
    dc_valor: Annotated[list[str] | None, Form(max_length=MAX_LINHAS_DC)] = None,
    banco: Annotated[str, Form(max_length=4)] = "",
    agencia: Annotated[str, Form(max_length=7)] = "",
    conta: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    _operadora(session)
    change: dict[str, Any] = {"status": status}
    try:
        try:
            if dia := parse_data(data_pagamento):
                change["data_pagamento"] = dia.isoformat()
        except ValueError:
            raise ApiError(
                422, "dados_invalidos", "Data de pagamento inválida (dd/mm/aaaa)."
            ) from None
        if linhas := _debitos_creditos(
            dc_indicador or [], dc_tipo or [], dc_descricao or [], dc_valor or []
        ):
            change["debitos_creditos"] = linhas
        if any(v.strip() for v in (banco, agencia, conta)):
            change["dados_bancarios"] = {
                "banco": banco.strip() or None,
                "agencia": agencia.strip() or None,
                "conta": conta.strip() or None,
            }
        await uc.change_status(session.user, peg, change)
    except ApiError as exc:
        return await _back_with_error(request, peg, session, exc)
    if voltar == "lista":
        return RedirectResponse("/operadora/protocolos?ok=status", status_code=303)
    return RedirectResponse(f"/operadora/protocolos/{seg(peg)}?ok=status", status_code=303)


@router.post("/operadora/protocolos/{peg}/glosas")
async def operadora_glosa(
    request: Request,
    peg: str,
    session: PortalSession,
    numero_guia_prestador: Annotated[str, Form(max_length=20)],
    codigo: Annotated[str, Form(max_length=200)],
    valor: Annotated[str, Form(max_length=20)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    sequencial_item: Annotated[str, Form(max_length=4)] = "",
    observacao: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    require_csrf(session, csrf_token)
    _operadora(session)
    try:
        # The picker gives "1705 - VALOR APRESENTADO A MAIOR": the code is the first word.
        code = (codigo.strip().split() or [""])[0]
        amount = _valor_br(valor)
        if amount is None:
            raise ApiError(422, "dados_invalidos", "Valor da glosa inválido.")
        if not (code.isdigit() and len(code) == 4):
            raise ApiError(
                422, "dados_invalidos", "Escolha o código da glosa na tabela 38 (4 dígitos)."
            )
        await uc.glosar(
            session.user,
            peg,
            {
                "numero_guia_prestador": numero_guia_prestador,
                "sequencial_item": int(sequencial_item) if sequencial_item.isdigit() else None,
                "codigo": code,
                "valor": str(amount),
                "observacao": observacao.strip() or None,
            },
        )
    except ApiError as exc:
        return await _back_with_error(request, peg, session, exc)
    return RedirectResponse(f"/operadora/protocolos/{seg(peg)}?ok=glosa#guias", status_code=303)


@router.post("/operadora/protocolos/{peg}/mensagens")
async def operadora_mensagem(request: Request, peg: str, session: PortalSession) -> Response:
    _operadora(session)
    try:
        await _post_message(request, peg, session)
    except ApiError as exc:
        return await _back_with_error(request, peg, session, exc)
    return RedirectResponse(
        f"/operadora/protocolos/{seg(peg)}?ok=mensagem#mensagens", status_code=303
    )
