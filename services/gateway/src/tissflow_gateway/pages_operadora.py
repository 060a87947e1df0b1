"""Portal pages of the operator's staff: Regras de Crítica (each table-38 code's setting,
edited in place) and Cadastro (prestadores and beneficiários imported from CSV)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from tissflow_gateway import operadora
from tissflow_gateway.core import ApiError, seg
from tissflow_gateway.operadora import COLUNAS, MAX_CSV_BYTES, TipoCadastro
from tissflow_gateway.portal import PortalSession, render, require_csrf

router = APIRouter(include_in_schema=False)
REGRAS = [("Operadora", None), ("Regras de Crítica", None)]
CADASTRO = [("Operadora", None), ("Cadastro", None)]
TITULOS: dict[str, str] = {"prestadores": "Prestadores", "beneficiarios": "Beneficiários"}


def _resumo(regra: dict[str, Any]) -> str:
    """'ativa, não ignorável, erro' — what the flash after saving says."""
    return ", ".join(
        (
            "ativa" if regra["enabled"] else "desligada",
            "ignorável" if regra["ignoravel"] else "não ignorável",
            "alerta" if regra["severidade"] == "alerta" else "erro",
        )
    )


async def _regras_page(
    request: Request,
    session: PortalSession,
    salva: str | None = None,
    erro: str | None = None,
    status_code: int = 200,
) -> Response:
    regras = (await operadora.list_rules())["items"]
    # The flash names the saved rule as it is now, never text taken from the URL.
    regra = next((r for r in regras if r["codigo"] == salva), None) if salva else None
    return render(
        request,
        "operadora_regras.html",
        session,
        status_code=status_code,
        active="regras",
        crumbs=REGRAS,
        regras=regras,
        configuraveis=sum(1 for r in regras if r["configuravel"]),
        salva=salva if regra else None,
        flash=f"Regra {salva} salva: {_resumo(regra)}." if regra else None,
        erro=erro,
    )


@router.get("/operadora/regras")
async def regras_page(
    request: Request,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    operadora.only_operadora(session.user)
    return await _regras_page(request, session, salva=ok)


@router.post("/operadora/regras/{codigo}")
async def regras_salvar(
    request: Request,
    codigo: Annotated[str, Path(max_length=10)],
    session: PortalSession,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    enabled: Annotated[str, Form(max_length=5)] = "",
    ignoravel: Annotated[str, Form(max_length=5)] = "",
    severidade: Annotated[str, Form(max_length=10)] = "erro",
) -> Response:
    require_csrf(session, csrf_token)
    operadora.only_operadora(session.user)
    if severidade not in ("erro", "alerta"):
        raise ApiError(422, "dados_invalidos", "Severidade deve ser erro ou alerta.")
    try:
        await operadora.configure_rule(
            session.user, codigo, bool(enabled), bool(ignoravel), severidade
        )
    except ApiError as exc:
        if exc.status_code >= 500:
            raise
        return await _regras_page(
            request, session, erro=exc.detail["message"], status_code=exc.status_code
        )
    return RedirectResponse(
        f"/operadora/regras?ok={seg(codigo)}#regra-{seg(codigo)}", status_code=303
    )


def _cadastro_page(
    request: Request, session: PortalSession, status_code: int = 200, **context: Any
) -> Response:
    return render(
        request,
        "operadora_cadastro.html",
        session,
        status_code=status_code,
        active="cadastro",
        crumbs=CADASTRO,
        colunas=COLUNAS,
        titulos=TITULOS,
        limite_mb=MAX_CSV_BYTES // (1024 * 1024),
        **context,
    )


@router.get("/operadora/cadastro")
async def cadastro_page(request: Request, session: PortalSession) -> Response:
    operadora.only_operadora(session.user)
    return _cadastro_page(request, session)


@router.post("/operadora/cadastro/{tipo}")
async def cadastro_importar(
    request: Request, tipo: TipoCadastro, session: PortalSession
) -> Response:
    operadora.only_operadora(session.user)
    try:
        received = await operadora.receive_csv(request)
        require_csrf(session, received.fields.get("csrf_token", ""))
        result = await operadora.import_csv(tipo, received.content)
    except ApiError as exc:
        if exc.status_code >= 500 or exc.detail["code"] == "csrf_invalido":
            raise
        return _cadastro_page(
            request,
            session,
            status_code=exc.status_code,
            tipo=tipo,
            erro=exc.detail["message"],
        )
    return _cadastro_page(
        request,
        session,
        tipo=tipo,
        arquivo=received.filename,
        resultado=result,
    )
