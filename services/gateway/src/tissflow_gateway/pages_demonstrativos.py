"""Portal page Demonstrativos: the per-protocol statements (with a "novo" badge until
opened), "Gerar Demonstrativo" of several analysed protocols, and the Demonstrativo de
Pagamento by payment date or competência ("Baixar Demonstrativo" / "Baixar XML")."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tissflow_gateway.core import ApiError, settings
from tissflow_gateway.portal import PortalSession, parse_data, render
from tissflow_gateway.routes import demonstrativos as uc

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


async def _page(
    request: Request,
    session: PortalSession,
    *,
    tipo: str | None = None,
    peg: str | None = None,
    pagina: int = 1,
    erro: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    listing = await uc.listing(session.user, tipo=tipo, peg=peg, page=pagina, page_size=PAGE_SIZE)
    try:
        datas = await uc.datas_de_pagamento(session.user)
    except ApiError:
        datas = {"datas": [], "competencias": []}
    return render(
        request,
        "demonstrativos.html",
        session,
        status_code=status_code,
        active="demonstrativos",
        crumbs=[("Demonstrativos", None)],
        demonstrativos=listing["items"],
        total=listing["total"],
        pagina=pagina,
        paginas=max(1, math.ceil(listing["total"] / PAGE_SIZE)),
        filtros={"tipo": tipo or "", "peg": peg or ""},
        operadoras=[
            (
                settings.operadora_registro_ans,
                f"{settings.operadora_nome} - ANS nº {settings.operadora_registro_ans}",
            )
        ],
        datas=datas,
        erro=erro,
        form=form or {"periodo": "data"},
        staff=session.user.role != "prestador",
    )


@router.get("/demonstrativos")
async def demonstrativos(
    request: Request,
    session: PortalSession,
    tipo: Literal["analise", "pagamento"] | None = None,
    peg: Annotated[str | None, Query(max_length=20)] = None,
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The list (of one protocol when `peg`: the lote page's "Gerar Demonstrativo")."""
    return await _page(request, session, tipo=tipo, peg=peg, pagina=pagina)


@router.get("/demonstrativos/pagamento")
async def baixar_pagamento(
    request: Request,
    session: PortalSession,
    operadora: Annotated[str, Query(max_length=10)] = "",
    periodo: Literal["data", "competencia"] = "data",
    data: Annotated[str, Query(max_length=10)] = "",
    competencia: Annotated[str, Query(max_length=7)] = "",
    prestador: Annotated[str, Query(max_length=14)] = "",
    formato: Literal["pdf", "xml"] = "pdf",
) -> Response:
    """Baixar Demonstrativo (PDF) / Baixar XML; a problem is said on the page, with the
    form as it was filled."""
    form = {
        "operadora": operadora,
        "periodo": periodo,
        "data": data,
        "competencia": competencia,
        "prestador": prestador,
    }
    try:
        if not operadora:
            raise ApiError(422, "dados_invalidos", "Selecione a operadora.")
        dia = None
        if periodo == "data":
            try:
                dia = parse_data(data)
            except ValueError:
                raise ApiError(
                    422,
                    "dados_invalidos",
                    f"Data de pagamento inválida: {data!r} (use dd/mm/aaaa).",
                ) from None
            if dia is None:
                raise ApiError(422, "dados_invalidos", "Informe a data de pagamento (dd/mm/aaaa).")
        elif not competencia.strip():
            raise ApiError(422, "dados_invalidos", "Informe a competência (mm/aaaa).")
        return await uc.pagamento_document(
            session.user,
            operadora,
            formato,
            data=dia,
            competencia=competencia.strip() if periodo == "competencia" else None,
            prestador=prestador.strip() or None,
        )
    except ApiError as exc:
        if exc.status_code >= 500:
            raise
        return await _page(
            request, session, erro=exc.detail["message"], form=form, status_code=exc.status_code
        )


@router.get("/demonstrativos/analise")
async def gerar_analise(
    request: Request,
    session: PortalSession,
    protocolo: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
    formato: Literal["pdf", "xml"] = "pdf",
) -> Response:
    """Gerar Demonstrativo: the Análise de Conta of the protocols ticked (up to 30)."""
    try:
        return await uc.analise_document(session.user, protocolo, formato)
    except ApiError as exc:
        if exc.status_code >= 500:
            raise
        return await _page(
            request, session, erro=exc.detail["message"], status_code=exc.status_code
        )


@router.get("/demonstrativos/{statement_id}/{formato}")
async def demonstrativo_arquivo(
    statement_id: str, formato: Literal["xml", "pdf"], session: PortalSession
) -> Response:
    return await uc.statement_document(session.user, statement_id, formato)
