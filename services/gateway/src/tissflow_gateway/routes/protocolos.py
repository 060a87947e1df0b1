"""The public API of protocols (PEG): the clinic follows its protocol (situation, Capa do
Lote, PROTOCOLO_RECEBIMENTO, Atualizar Situação, messages, log), the operator's staff and
core report status and analysis, glose items and answer messages.

Every route checks its role (`deps.py`) and then ownership: a provider reaches only its
own protocols (another's answers 404, as if it did not exist). The portal's pages use the
same functions (`get_protocolo`, `post_message`...).
"""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from tissflow_contracts import AnaliseGuia, DadosBancarios, DebitoCredito, GlosaAnalise

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, not_found, seg
from tissflow_gateway.deps import CurrentUser, OperadoraStaff, StaffReader
from tissflow_gateway.files import own
from tissflow_gateway.schemas import ErrorBody, Open, ProtocoloOut, ProtocoloPage
from tissflow_gateway.uploads import parse_form, refuse_declared

MAX_ANEXO = 5 * 1024 * 1024
MAX_MENSAGEM_BYTES = 5 * MAX_ANEXO + 256 * 1024


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "Não autenticado",
        403: "Sem permissão",
        404: "Não encontrado (ou de outro prestador)",
        409: "Situação não permite a mudança",
        413: "Anexo maior que 5 MB",
        415: "Formato não suportado",
        422: "Dados inválidos ou análise que não fecha",
        503: "Serviço indisponível",
    }
    return {c: {"model": ErrorBody, "description": text[c]} for c in codes}


router = APIRouter(prefix="/api/v1", responses=errors(401, 422, 503))
XML = {200: {"content": {"application/xml": {}}, "description": "TISS XML (ISO-8859-1)"}}
PDF = {200: {"content": {"application/pdf": {}}, "description": "PDF"}}
BYTES = {
    200: {
        "content": {"application/xml": {}, "application/pdf": {}, "image/png": {}},
        "description": "The file as stored (TISS XML, PDF or image)",
    }
}


# -- use cases shared with the portal -------------------------------------------------
async def get_protocolo(user: User, peg: str) -> dict[str, Any]:
    try:
        doc = await call("GET", "protocol", f"/internal/protocolos/{seg(peg)}")
    except ApiError as exc:
        if exc.status_code == 404:
            raise not_found("Protocolo") from None
        raise
    return own(user, doc, "Protocolo")


def papel(user: User) -> Literal["prestador", "operadora"]:
    """The side of the thread a user writes on; ops only read."""
    if user.role == "prestador":
        return "prestador"
    if user.role == "operadora":
        return "operadora"
    raise ApiError(403, "acesso_negado", "A equipe de operações só lê as mensagens.")


async def list_protocolos(user: User, **filters: Any) -> dict[str, Any]:
    params = {k: v for k, v in filters.items() if v not in (None, "")}
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    return await call("GET", "protocol", "/internal/protocolos", params=params)


async def read_messages(user: User, peg: str) -> dict[str, Any]:
    doc = await get_protocolo(user, peg)
    if user.role == "ops":
        return {"peg": peg, "mensagens": doc.get("mensagens") or [], "nao_lidas": {}}
    return await call(
        "GET",
        "protocol",
        f"/internal/protocolos/{seg(peg)}/mensagens",
        params={"papel": papel(user)},
    )


async def post_message(
    user: User, peg: str, texto: str, anexos: list[tuple[str, str, bytes]]
) -> dict[str, Any]:
    await get_protocolo(user, peg)
    body = {
        "papel": papel(user),
        "autor": user.nome or user.username,
        "texto": texto,
        "anexos": [
            {"nome": nome, "content_type": tipo, "base64": base64.b64encode(dados).decode()}
            for nome, tipo, dados in anexos
        ],
    }
    return await call("POST", "protocol", f"/internal/protocolos/{seg(peg)}/mensagens", json=body)


async def nao_lidas(user: User) -> int:
    if user.role not in ("prestador", "operadora"):
        return 0
    params = {"papel": papel(user)}
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    return (await call("GET", "protocol", "/internal/mensagens/nao-lidas", params=params))[
        "nao_lidas"
    ]


async def document(
    user: User, peg: str, path: str, filename: str, inline: bool = False
) -> Response:
    await get_protocolo(user, peg)
    upstream = await call("GET", "protocol", f"/internal/protocolos/{seg(peg)}/{path}")
    name = upstream.headers.get("x-filename") or filename
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    disposition = "inline" if inline else "attachment"
    return Response(
        upstream.content,
        media_type=upstream.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def capa(user: User, peg: str) -> Response:
    """Capa do Lote: the protocol's cover, with the lote's Nota Fiscal when one is attached
    (batching keeps the NF; it may come after the lote was sent)."""
    doc = await get_protocolo(user, peg)
    params: dict[str, Any] = {}
    try:
        lote = await call("GET", "batching", f"/internal/lotes/{seg(doc['lote_id'])}")
        nf = lote.get("nf") if isinstance(lote, dict) else None
    except ApiError:
        nf = None  # no lote (or batching down): the cover still prints, without the NF
    if nf and nf.get("numero"):
        params = {
            "nf_numero": nf["numero"],
            "nf_emissao": nf.get("emissao"),
            "nf_valor": nf.get("valor"),
        }
    upstream = await call(
        "GET", "protocol", f"/internal/protocolos/{seg(peg)}/capa.pdf", params=params
    )
    return Response(
        upstream.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="capa-lote-{seg(peg)}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def situacao(user: User, peg: str) -> dict[str, Any]:
    await get_protocolo(user, peg)
    return await call(
        "POST", "protocol", f"/internal/protocolos/{seg(peg)}/situacao", json={"by": user.username}
    )


async def change_status(user: User, peg: str, change: dict[str, Any]) -> dict[str, Any]:
    """The operator's staff move a protocol (never ops: deps.py's role table), whichever
    door calls it, portal page or API route."""
    if user.role != "operadora":
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe da operadora.")
    return await call(
        "POST",
        "protocol",
        f"/internal/protocolos/{seg(peg)}/status",
        json={**change, "by": user.username},
    )


async def glosar(user: User, peg: str, glosa: dict[str, Any]) -> dict[str, Any]:
    return await call(
        "POST",
        "protocol",
        f"/internal/protocolos/{seg(peg)}/glosas",
        json={**glosa, "by": user.username},
    )


async def receive_message_form(request: Request) -> tuple[str, list[tuple[str, str, bytes]], dict]:
    """A message from a multipart form (`texto`, files in `anexos`), at most 5 MB each."""

    def too_big(size: int | None = None) -> ApiError:
        return ApiError(413, "anexo_muito_grande", "Cada anexo pode ter no máximo 5 MB.")

    refuse_declared(request, MAX_MENSAGEM_BYTES, too_big)
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        form = await request.form(max_files=0, max_fields=10)
    elif kind.startswith("multipart/form-data"):
        form = await parse_form(request, MAX_MENSAGEM_BYTES, too_big, max_files=5, max_fields=10)
    else:
        raise ApiError(
            415, "formato_invalido", "Envie a mensagem como formulário (campo 'texto', 'anexos')."
        )
    try:
        texto = str(form.get("texto") or "")
        anexos = []
        for _, value in form.multi_items():
            if isinstance(value, UploadFile) and value.filename:
                dados = await value.read()
                if len(dados) > MAX_ANEXO:
                    raise ApiError(
                        413,
                        "anexo_muito_grande",
                        f"O anexo {value.filename} passa de 5 MB.",
                        {"limite_bytes": MAX_ANEXO},
                    )
                anexos.append((value.filename[-120:], value.content_type or "", dados))
        fields = {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}
        return texto, anexos, fields
    finally:
        await form.close()


# -- the clinic (and staff, reading) ---------------------------------------------------
class MensagemOut(Open):
    id: str
    papel: Literal["prestador", "operadora"]
    autor: str
    texto: str


class MensagensOut(BaseModel):
    peg: str
    mensagens: list[MensagemOut]
    nao_lidas: dict[str, int] | None = None


class LogEntry(Open):
    tipo: str = Field(description="envio | recebimento | situacao | consulta | mensagem")
    by: str
    texto: str


class LogOut(BaseModel):
    peg: str
    items: list[LogEntry]


class NaoLidasOut(BaseModel):
    nao_lidas: int


class GlosaRow(BaseModel):
    codigo: str
    descricao: str
    grupo: str = ""


class GlosasOut(BaseModel):
    items: list[GlosaRow]
    total: int


class SituacaoOut(Open):
    peg: str
    status: int = Field(description="ANS dm_statusProtocolo, as SITUACAO_PROTOCOLO says")
    etapa: str
    solicitacao_id: str = Field(description="SOLIC_STATUS_PROTOCOLO kept (arquivos/{id})")
    situacao_id: str = Field(description="SITUACAO_PROTOCOLO kept (arquivos/{id})")


@router.get("/protocolos", tags=["protocolos"])
async def list_route(
    user: CurrentUser,
    lote_id: str | None = None,
    peg: Annotated[str | None, Query(max_length=20)] = None,
    numero_lote: Annotated[str | None, Query(max_length=20)] = None,
    tipo_guia: Annotated[str | None, Query(max_length=30)] = None,
    status: Annotated[int | None, Query(ge=1, le=10)] = None,
    de: date | None = None,
    ate: date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ProtocoloPage:
    """Protocols (PEG) and their stages; a provider sees only its own."""
    return ProtocoloPage(
        **await list_protocolos(
            user,
            lote_id=lote_id,
            peg=peg,
            numero_lote=numero_lote,
            tipo_guia=tipo_guia,
            status=status,
            de=de,
            ate=ate,
            page=page,
            page_size=page_size,
        )
    )


@router.get("/protocolos/{peg}", tags=["protocolos"], responses=errors(404))
async def get_route(peg: str, user: CurrentUser) -> ProtocoloOut:
    """One protocol: status history, the analysis per guide and item (processado, liberado,
    glosado, table-38 glosas), payment date, messages and the log."""
    return ProtocoloOut(**await get_protocolo(user, peg))


@router.get(
    "/protocolos/{peg}/recebimento.xml",
    tags=["protocolos"],
    response_class=Response,
    responses={**errors(404), **XML},
)
async def recebimento_xml(peg: str, user: CurrentUser) -> Response:
    """The operator's PROTOCOLO_RECEBIMENTO (TISS XML, ISO-8859-1, with its hash)."""
    return await document(user, peg, "recebimento.xml", f"protocolo-recebimento-{peg}.xml")


@router.get(
    "/protocolos/{peg}/capa.pdf",
    tags=["protocolos"],
    response_class=Response,
    responses={**errors(404), **PDF},
)
async def capa_pdf(peg: str, user: CurrentUser) -> Response:
    """Capa do Lote (PDF), as the operator's portal prints it, with the lote's NF."""
    return await capa(user, peg)


@router.post("/protocolos/{peg}/situacao", tags=["protocolos"], responses=errors(403, 404))
async def atualizar_situacao(peg: str, user: CurrentUser) -> SituacaoOut:
    """Atualizar Situação Protocolo: a SOLIC_STATUS_PROTOCOLO to the operator and its
    SITUACAO_PROTOCOLO answer, both kept as TISS XML (download from `arquivos/{id}`)."""
    return SituacaoOut(**await situacao(user, peg))


@router.get(
    "/protocolos/{peg}/arquivos/{file_id}",
    tags=["protocolos"],
    response_class=Response,
    responses={**errors(404), **BYTES},
)
async def arquivo(peg: str, file_id: str, user: CurrentUser) -> Response:
    """A message attachment or a kept TISS XML of the protocol."""
    return await document(user, peg, f"arquivos/{seg(file_id)}", "arquivo")


@router.get("/protocolos/{peg}/log", tags=["protocolos"], responses=errors(404))
async def log_envio(peg: str, user: CurrentUser) -> LogOut:
    """Exibir Log de Envio: the send, the receipt, each situation change, consultation and
    message, with who and when."""
    doc = await get_protocolo(user, peg)
    return LogOut(peg=peg, items=doc.get("log") or [])


@router.get("/protocolos/{peg}/mensagens", tags=["protocolos"], responses=errors(404))
async def mensagens(peg: str, user: CurrentUser) -> MensagensOut:
    """Troca de Mensagens: the thread; reading it clears the reader's unread count."""
    return MensagensOut(**await read_messages(user, peg))


@router.post(
    "/protocolos/{peg}/mensagens",
    tags=["protocolos"],
    responses=errors(403, 404, 413, 415),
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "texto": {"type": "string"},
                            "anexos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "PDF, PNG/JPEG or XML, up to 5 MB each",
                            },
                        },
                    }
                }
            }
        }
    },
)
async def nova_mensagem(peg: str, request: Request, user: CurrentUser) -> MensagemOut:
    """A message to the other side (clinic ↔ operator staff), with attachments."""
    papel(user)
    await get_protocolo(user, peg)
    texto, anexos, _ = await receive_message_form(request)
    return MensagemOut(**await post_message(user, peg, texto, anexos))


@router.get("/mensagens/nao-lidas", tags=["protocolos"])
async def mensagens_nao_lidas(user: CurrentUser) -> NaoLidasOut:
    """Unread messages of the caller's side, over all its protocols (the menu badge)."""
    return NaoLidasOut(nao_lidas=await nao_lidas(user))


@router.get("/glosas", tags=["protocolos"])
async def tabela_38(user: CurrentUser, q: Annotated[str, Query(max_length=60)] = "") -> GlosasOut:
    """TISS table 38 (glosas) searched by code or words: the glosa picker."""
    return GlosasOut(
        **await call("GET", "protocol", "/internal/glosas", params={"q": q, "limit": 30})
    )


# -- the operator --------------------------------------------------------------------
class StatusChange(BaseModel):
    status: int = Field(ge=1, le=10, description="ANS dm_statusProtocolo (3 = Faturado)")
    data_pagamento: date | None = Field(default=None, description="Required for status 3")
    valor_liberado: Decimal | None = Field(
        default=None, description="Protocol total released; the guides' sum when omitted"
    )
    valor_glosado: Decimal | None = Field(
        default=None, description="Protocol total glosed; the guides' sum when omitted"
    )
    guias: list[AnaliseGuia] = Field(
        default_factory=list,
        description="The analysis of every guide of the lote: valor processado, liberado and "
        "glosado (liberado + glosado = the value informed), each glosa's TISS table-38 code "
        "and value, optionally per item.",
    )
    glosas_protocolo: list[GlosaAnalise] = Field(
        default_factory=list, description="Glosas on the protocol as a whole (table 38)"
    )
    debitos_creditos: list[DebitoCredito] = Field(
        default_factory=list,
        description="With the payment (3 or 6) only: débitos (taxes withheld, discounts) and "
        "créditos (adjustments), each with its dm_debitoCreditoTipo and description; the "
        "Demonstrativo de Pagamento shows them and the net value",
    )
    dados_bancarios: DadosBancarios | None = Field(
        default=None, description="With the payment (3 or 6) only: the bank account paid"
    )


class GlosaIn(BaseModel):
    numero_guia_prestador: str = Field(min_length=1, max_length=20)
    sequencial_item: int | None = Field(default=None, ge=1, description="None: the guide")
    codigo: str = Field(pattern=r"^\d{4}$", description="TISS table 38 code")
    valor: Decimal = Field(gt=0, decimal_places=2)
    observacao: str | None = Field(default=None, max_length=500)


@router.get("/operadora/protocolos", tags=["operadora"], responses=errors(403))
async def operadora_list(
    user: StaffReader,
    provider_id: Annotated[str | None, Query(max_length=14)] = None,
    peg: Annotated[str | None, Query(max_length=20)] = None,
    numero_lote: Annotated[str | None, Query(max_length=20)] = None,
    tipo_guia: Annotated[str | None, Query(max_length=30)] = None,
    status: Annotated[int | None, Query(ge=1, le=10)] = None,
    de: date | None = None,
    ate: date | None = None,
    nao_lidas: Literal["operadora"] | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ProtocoloPage:
    """Protocols received from every provider, with the Pesquisa de Lotes filters."""
    return ProtocoloPage(
        **await list_protocolos(
            user,
            provider_id=provider_id,
            peg=peg,
            numero_lote=numero_lote,
            tipo_guia=tipo_guia,
            status=status,
            de=de,
            ate=ate,
            nao_lidas=nao_lidas,
            page=page,
            page_size=page_size,
        )
    )


@router.post(
    "/operadora/protocolos/{peg}/status",
    tags=["operadora"],
    responses=errors(403, 404, 409, 422),
)
async def change_protocol_status(
    peg: str, body: StatusChange, user: OperadoraStaff
) -> ProtocoloOut:
    """Move a protocol (1 → 2 Em análise → 5 Liberado para Faturamento → 3 Faturado, with
    the payment date → 6 Pagamento efetuado; 4, 7, 8, 9, 10 where allowed), optionally with
    the analysis. The same use case as the `operadora.inbound` topic; repeating a report
    changes nothing. A wrong move is 409 (`transicao_invalida`); an analysis that does not
    add up, names a guide not in the lote or a code not in table 38 is 422
    (`analise_invalida`, naming the guide and the difference)."""
    return ProtocoloOut(**await change_status(user, peg, body.model_dump(mode="json")))


@router.post(
    "/operadora/protocolos/{peg}/glosas",
    tags=["operadora"],
    responses=errors(403, 404, 409, 422),
)
async def glosar_item(peg: str, body: GlosaIn, user: OperadoraStaff) -> ProtocoloOut:
    """Glose an item (or a whole guide) under a table-38 code: its value moves from
    liberado to glosado; the protocol must be Em análise or Liberado para Faturamento."""
    return ProtocoloOut(**await glosar(user, peg, body.model_dump(mode="json")))


@router.post(
    "/operadora/protocolos/{peg}/mensagens",
    tags=["operadora"],
    responses=errors(403, 404, 413, 415),
)
async def responder(peg: str, request: Request, user: OperadoraStaff) -> MensagemOut:
    """Answer the clinic on the protocol's thread (multipart: `texto`, `anexos`)."""
    await get_protocolo(user, peg)
    texto, anexos, _ = await receive_message_form(request)
    return MensagemOut(**await post_message(user, peg, texto, anexos))
