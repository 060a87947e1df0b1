"""Portal pages for files: Uploads > Novo, Histórico de Arquivos Enviados, a file's
verdict, Corrigir Críticas and revision downloads."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from tissflow_gateway import files, lotes
from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.portal import (
    TZ,
    PortalSession,
    data_br,
    parse_data,
    render,
    require_csrf,
)
from tissflow_gateway.uploads import MAX_FILE_BYTES
from tissflow_gateway.xmlvalues import field_label, values_at

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
TABS = {
    "em_processamento": "Em Processamento",
    "invalidos": "Inválidos",
    "importados": "Importados",
}
TAB_STATUS = {
    "em_processamento": "em_processamento",
    "invalidos": "invalido",
    "importados": "importado",
}
STATUS_TAB = {v: k for k, v in TAB_STATUS.items()}
FLASH = {
    "salvo": "Correções salvas. Use “Salvar e Reprocessar” para validar de novo.",
    "ignorada": "Crítica ignorada. Reprocesse o arquivo para obter o novo resultado.",
    "reprocessando": "Arquivo corrigido enviado para reprocessamento.",
    "sem_alteracao": "Nenhum campo foi alterado.",
    "lote_excluido": "Lote excluído. As guias do arquivo ficaram livres.",
    "lote_recriado": "Criando o lote novamente: o arquivo é validado de novo.",
}
HISTORICO = ("Histórico de Arquivos Enviados", "/arquivos")
LOTE_ESPERA_MAXIMA = 15  # reloads 2 s apart: then the page says what to do
MAX_CAMPOS = 500
ACOES = ("salvar", "reprocessar")
CODIGO = r"^[0-9A-Za-z]{1,10}$"  # a table-38 code, as the validation service takes it


@router.get("/uploads/novo")
async def upload_page(request: Request, session: PortalSession) -> Response:
    return render(
        request,
        "upload.html",
        session,
        active="novo",
        crumbs=[("Uploads", None), ("Novo", None)],
        max_bytes=MAX_FILE_BYTES,
    )


def periodo(de: str, ate: str) -> tuple[date | None, date | None, str | None]:
    """The Período filter's days and, when a date is not one, the message to show."""
    erros = []
    dias: list[date | None] = []
    for rotulo, texto in (("inicial", de), ("final", ate)):
        try:
            dias.append(parse_data(texto))
        except ValueError:
            dias.append(None)
            erros.append(f"Data {rotulo} inválida: “{texto.strip()}”. Use o formato dd/mm/aaaa.")
    desde, until = dias
    if desde and until and desde > until:
        erros.append("A data inicial do período é posterior à data final.")
        desde = until = None
    return desde, until, " ".join(erros) or None


def periodo_params(de: date | None, ate: date | None) -> dict[str, str]:
    """The Período filter as São Paulo days, sent as UTC-aware instants."""
    params: dict[str, str] = {}
    if de:
        params["de"] = datetime.combine(de, time.min, TZ).isoformat()
    if ate:
        params["ate"] = datetime.combine(ate, time.max, TZ).isoformat()
    return params


@router.get("/arquivos")
async def historico(
    request: Request,
    session: PortalSession,
    aba: Literal["em_processamento", "invalidos", "importados"] | None = None,
    nome: Annotated[str, Query(max_length=255)] = "",
    de: Annotated[str, Query(max_length=10)] = "",
    ate: Annotated[str, Query(max_length=10)] = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
    arquivo: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    user = session.user
    desde, until, erro_periodo = periodo(de, ate)
    destaque = None
    if arquivo:
        try:
            destaque = await files.get_file(user, arquivo)
        except ApiError:
            destaque = None
    if aba is None:
        aba = STATUS_TAB[destaque["status"]] if destaque else "importados"
    base: dict[str, Any] = {**periodo_params(desde, until)}
    if nome.strip():
        base["nome"] = nome.strip()
    if user.provider_filter():
        base["provider_id"] = user.provider_filter()
    counts: dict[str, int] = {}
    for tab, status in TAB_STATUS.items():
        if tab != aba:
            page = await call(
                "GET",
                "ingest",
                "/internal/files",
                params={**base, "status": status, "page_size": 1},
            )
            counts[tab] = page["total"]
    listing = await call(
        "GET",
        "ingest",
        "/internal/files",
        params={**base, "status": TAB_STATUS[aba], "page": pagina, "page_size": PAGE_SIZE},
    )
    counts[aba] = listing["total"]
    # A date that is not one stays in its field as typed, next to the message.
    filtros = {
        "nome": nome,
        "de": data_br(desde) if desde else de.strip(),
        "ate": data_br(until) if until else ate.strip(),
    }
    return render(
        request,
        "historico.html",
        session,
        active="arquivos",
        crumbs=[("Histórico de Arquivos Enviados", None)],
        aba=aba,
        abas=TABS,
        counts=counts,
        arquivos=listing["items"],
        total=listing["total"],
        pagina=pagina,
        paginas=max(1, math.ceil(listing["total"] / PAGE_SIZE)),
        filtros=filtros,
        destaque=destaque,
        erro_periodo=erro_periodo,
    )


async def _result_or_none(session: PortalSession, file_id: str) -> dict[str, Any] | None:
    try:
        return await files.get_result(session.user, file_id)
    except ApiError as exc:
        if exc.status_code == 404 and exc.detail["code"] == "resultado_nao_encontrado":
            return None
        raise


@router.get("/arquivos/{file_id}")
async def arquivo(
    request: Request,
    file_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    doc = await files.get_file(session.user, file_id)
    resultado = None
    lote = None
    if doc["status"] != "em_processamento":
        resultado = await _result_or_none(session, file_id)
    if doc["status"] == "importado":
        lote = await lotes.lote_of_file(session.user, file_id, incluir_excluidos=True)
    return render(
        request,
        "arquivo.html",
        session,
        active="arquivos",
        crumbs=[HISTORICO, (doc["filename"], None)],
        arquivo=doc,
        resultado=resultado,
        lote=lote,
        flash=FLASH.get(ok or ""),
    )


@router.get("/arquivos/{file_id}/revisoes/{revision}")
async def download(file_id: str, revision: int, session: PortalSession) -> StreamingResponse:
    return await files.stream_revision(session.user, file_id, revision)


@router.get("/arquivos/{file_id}/lote")
async def lote_do_arquivo(
    request: Request,
    file_id: str,
    session: PortalSession,
    tentativa: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    """ "Detalhes do Lote" of an imported file (batching opens it a moment after import)."""
    doc = await files.get_file(session.user, file_id)
    importado = doc["status"] == "importado"
    lote = await lotes.lote_of_file(session.user, file_id, True) if importado else None
    if lote is not None and lote["status"] != "excluido":
        return RedirectResponse(f"/lotes/{seg(lote['lote_id'])}", status_code=303)
    return render(
        request,
        "lote_aguarde.html",
        session,
        active="lotes",
        crumbs=[HISTORICO, (doc["filename"], f"/arquivos/{file_id}"), ("Lote", None)],
        arquivo=doc,
        lote_excluido=lote,
        tentativa=min(tentativa, LOTE_ESPERA_MAXIMA),
        maximo=LOTE_ESPERA_MAXIMA,
    )


def editor_fields(
    critiques: list[dict[str, Any]], current: dict[str, str | None], pendentes: dict[str, str]
) -> list[dict[str, Any]]:
    """One editable field per distinct xpath of the open critiques, in critique order."""
    fields: dict[str, dict[str, Any]] = {}
    for c in critiques:
        xpath = c.get("xpath")
        if not xpath or c.get("ignorada") or current.get(xpath) is None:
            continue
        field = fields.setdefault(
            xpath,
            {
                "xpath": xpath,
                "nome": field_label(xpath),
                "original": current[xpath],
                "valor": pendentes.get(xpath, current[xpath]),
                "pendente": xpath in pendentes,
                "criticas": [],
                "numero_guia": c.get("numero_guia"),
            },
        )
        field["criticas"].append(c["sequencial"])
    for i, field in enumerate(fields.values()):
        field["i"] = i
    return list(fields.values())


def editor_groups(campos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields as the clerk corrects them: the same field with the same value in many
    guides (a wrong CNPJ in 60 guides) is ONE input standing for all of them, with the
    individual fields still there underneath; a field alone stays alone."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for campo in campos:
        group = groups.setdefault(
            (campo["nome"], campo["valor"]),
            {"nome": campo["nome"], "valor": campo["valor"], "campos": [], "criticas": []},
        )
        group["campos"].append(campo)
        group["criticas"] += campo["criticas"]
    multiple = [group for group in groups.values() if len(group["campos"]) > 1]
    for g, group in enumerate(multiple):
        group["g"] = g
    for group in groups.values():
        group["guias"] = len({c["numero_guia"] for c in group["campos"] if c["numero_guia"]})
        group["pendente"] = all(c["pendente"] for c in group["campos"])
    return list(groups.values())


async def _correction_page(
    request: Request,
    session: PortalSession,
    file_id: str,
    erro: str | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> Response:
    doc = await files.get_file(session.user, file_id)
    if doc["status"] == "em_processamento":
        return RedirectResponse(f"/arquivos/{seg(file_id)}", status_code=303)
    resultado = await _result_or_none(session, file_id)
    critiques = resultado["result"].get("critiques", []) if resultado else []
    # Ignored since the last validation: shown as such until the next revision is judged.
    ignoradas = {
        (i.get("codigo"), i.get("xpath") or None) for i in (resultado or {}).get("ignoradas", [])
    }
    critiques = [
        {**c, "ignorada": c.get("ignorada") or (c["codigo"], c.get("xpath")) in ignoradas}
        for c in critiques
    ]
    pendentes = {p["xpath"]: p["valor"] for p in (resultado or {}).get("pendentes", [])}
    xpaths = [c["xpath"] for c in critiques if c.get("xpath")]
    current: dict[str, str | None] = {}
    if xpaths:
        content = await files.revision_content(session.user, file_id, doc["current_revision"])
        # Up to 15 MB of XML: parsed in a worker thread, never on the event loop.
        current = await run_in_threadpool(values_at, content, xpaths)
    return render(
        request,
        "corrigir.html",
        session,
        status_code=status_code,
        active="arquivos",
        crumbs=[HISTORICO, (doc["filename"], f"/arquivos/{file_id}"), ("Corrigir Críticas", None)],
        arquivo=doc,
        editavel=files.correctable(doc) and session.user.role == "prestador",
        resultado=resultado,
        critiques=critiques,
        grupos=editor_groups(editor_fields(critiques, current, pendentes)),
        erro=erro,
        flash=flash,
    )


def ignoradas_flash(quantas: int, codigo: str) -> str:
    """The confirmation after "Ignorar todas", with how many critiques it ignored."""
    depois = "Reprocesse o arquivo para obter o novo resultado."
    if quantas == 0:
        return f"Nenhuma crítica {codigo} a ignorar: todas já estavam ignoradas."
    if quantas == 1:
        return f"1 crítica {codigo} ignorada. {depois}"
    return f"{quantas} críticas {codigo} ignoradas. {depois}"


@router.get("/arquivos/{file_id}/corrigir")
async def corrigir_page(
    request: Request,
    file_id: str,
    session: PortalSession,
    ok: Annotated[str | None, Query(max_length=30)] = None,
    quantas: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    codigo: Annotated[str | None, Query(pattern=CODIGO)] = None,
) -> Response:
    if ok == "ignoradas" and quantas is not None and codigo:
        flash = ignoradas_flash(quantas, codigo)
    else:
        flash = FLASH.get(ok or "")
    return await _correction_page(request, session, file_id, flash=flash)


def _bad_form(campo: str, erro: str) -> ApiError:
    return ApiError(
        422,
        "dados_invalidos",
        "Dados inválidos no formulário; recarregue a página e tente novamente.",
        [{"campo": campo, "erro": erro}],
    )


async def _form(request: Request) -> FormData:
    """The posted form; one the parser cannot read is a 422, never a 500 (or a 400)."""
    try:
        return await request.form()
    except StarletteHTTPException as exc:
        raise _bad_form("formulario", str(exc.detail)) from None


def _text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name, default)
    if not isinstance(value, str):  # a file where a text field belongs
        raise _bad_form(name, "esperado um texto")
    return value


def corrections(form: FormData) -> list[dict[str, str]]:
    """The editor's fields that changed (or were saved before), as corrections."""
    raw = _text(form, "campos").strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_CAMPOS:
        raise _bad_form("campos", f"esperado um número de 0 a {MAX_CAMPOS}")
    valores = {i: _text(form, f"valor-{i}").strip() for i in range(int(raw))}
    _apply_groups(form, valores)
    correcoes: list[dict[str, str]] = []
    for i, valor in valores.items():
        xpath = _text(form, f"xpath-{i}")
        original = _text(form, f"original-{i}")
        pendente = _text(form, f"pendente-{i}") == "1"
        if xpath and (valor != original or pendente):
            correcoes.append({"xpath": xpath, "valor": valor})
    return correcoes


def _apply_groups(form: FormData, valores: dict[int, str]) -> None:
    """A group's new value goes to each of its fields the clerk did not edit one by one."""
    raw = _text(form, "grupos", "0").strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_CAMPOS:
        raise _bad_form("grupos", f"esperado um número de 0 a {MAX_CAMPOS}")
    for g in range(int(raw)):
        novo = _text(form, f"grupo-valor-{g}").strip()
        exibido = _text(form, f"grupo-exibido-{g}").strip()
        membros = _text(form, f"grupo-membros-{g}").split(",")
        if novo == exibido:
            continue
        for membro in membros:
            i = int(membro) if membro.isascii() and membro.isdigit() else -1
            if i not in valores:
                raise _bad_form(f"grupo-membros-{g}", "campo inexistente")
            if valores[i] == exibido:
                valores[i] = novo


@router.post("/arquivos/{file_id}/corrigir")
async def corrigir(request: Request, file_id: str, session: PortalSession) -> Response:
    form = await _form(request)
    require_csrf(session, _text(form, "csrf_token"))
    acao = _text(form, "acao")
    if acao not in ACOES:
        raise _bad_form("acao", "esperado salvar ou reprocessar")
    correcoes = corrections(form)
    recalcular = _text(form, "recalcular_totais") == "1"
    here = f"/arquivos/{seg(file_id)}"
    try:
        if acao == "reprocessar":
            await files.reprocess(session.user, file_id, recalcular, correcoes or None)
            return RedirectResponse(f"{here}?ok=reprocessando", status_code=303)
        if not correcoes:
            # Still only for files that may be corrected: say so rather than "nothing changed".
            await files.editable_file(session.user, file_id)
            return RedirectResponse(f"{here}/corrigir?ok=sem_alteracao", 303)
        await files.save_corrections(session.user, file_id, correcoes)
    except ApiError as exc:
        if exc.status_code in (404, 403):
            raise
        return await _correction_page(
            request, session, file_id, erro=exc.detail["message"], status_code=exc.status_code
        )
    return RedirectResponse(f"{here}/corrigir?ok=salvo", status_code=303)


@router.post("/arquivos/{file_id}/ignorar")
async def ignorar(request: Request, file_id: str, session: PortalSession) -> Response:
    form = await _form(request)
    require_csrf(session, _text(form, "csrf_token"))
    codigo, _, xpath = _text(form, "ignorar").partition("|")
    if not codigo.strip():
        raise _bad_form("ignorar", "informe a crítica a ignorar")
    try:
        await files.ignore(session.user, file_id, codigo.strip(), xpath or None)
    except ApiError as exc:
        if exc.status_code in (404, 403):
            raise
        return await _correction_page(
            request, session, file_id, erro=exc.detail["message"], status_code=exc.status_code
        )
    return RedirectResponse(f"/arquivos/{seg(file_id)}/corrigir?ok=ignorada", status_code=303)


@router.post("/arquivos/{file_id}/ignorar-todas")
async def ignorar_todas(request: Request, file_id: str, session: PortalSession) -> Response:
    """ "Ignorar todas" of a group of critiques: every ignorable one of its code."""
    form = await _form(request)
    require_csrf(session, _text(form, "csrf_token"))
    codigo = _text(form, "codigo").strip()
    if not re.fullmatch(CODIGO, codigo):
        raise _bad_form("codigo", "informe o código das críticas a ignorar")
    try:
        quantas = await files.ignore_all(session.user, file_id, codigo)
    except ApiError as exc:
        if exc.status_code in (404, 403):
            raise
        return await _correction_page(
            request, session, file_id, erro=exc.detail["message"], status_code=exc.status_code
        )
    query = urlencode({"ok": "ignoradas", "quantas": quantas, "codigo": codigo})
    return RedirectResponse(f"/arquivos/{seg(file_id)}/corrigir?{query}", status_code=303)
