"""`/api/v1` routes of lotes de pagamento: Pesquisa de Lotes, a lote and its log, the
actions, the invoice (NF), pending payments, Sincronizar and the operator's settings."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tissflow_gateway import lotes
from tissflow_gateway.deps import CurrentUser, OperadoraStaff, ProviderUser
from tissflow_gateway.portal import TZ
from tissflow_gateway.routes.common import errors
from tissflow_gateway.schemas import FileOut, Open

router = APIRouter(prefix="/api/v1", responses=errors(401, 422, 503))

StatusLote = Literal["aberto", "fechado", "enviado", "excluido"]
SituacaoProtocolo = Literal[
    "nao_enviado",
    "enviado",
    "em_analise",
    "liberado",
    "faturado",
    "pago",
    "encerrado",
    "pendente",
    "cancelado",
    "outra",
]
TipoGuia = Literal["consulta", "sp_sadt", "odontologia", "honorarios", "resumo_internacao"]
Ordem = Literal[
    "data_inclusao", "numero", "situacao", "protocolo", "situacao_protocolo", "tipo_guia"
]


class ProtocoloRef(Open):
    peg: str
    status: int = Field(description="ANS dm_statusProtocolo")
    status_label: str | None = None
    data_pagamento: date | None = None


class GuiaDoLote(Open):
    numero_guia_prestador: str
    numero_carteira: str | None = None
    nome_beneficiario: str | None = None
    data_digitacao: datetime | None = None
    valor_informado: str | None = None
    valor_processado: str | None = None
    valor_glosado: str | None = None
    valor_liberado: str | None = None


class NotaFiscalOut(BaseModel):
    numero: str
    emissao: date
    valor: str
    arquivo: str
    media_type: str
    anexada_por: str
    anexada_em: datetime


class LoteOut(Open):
    lote_id: str
    numero_lote: str = Field(description="Nº Lote: the portal's number (per operator)")
    numero_lote_prestador: str | None = Field(
        default=None, description="Nº do lote no prestador (the XML's numeroLote)"
    )
    provider_id: str
    registro_ans: str | None = None
    operadora: str | None = Field(default=None, description='"PASA | 331988"')
    canal: str
    canal_label: str | None = None
    status: StatusLote
    status_label: str
    situacao_protocolo: str | None = None
    situacao_protocolo_label: str | None = None
    file_id: str | None = None
    tipo_guia: str | None = None
    quantidade_guias: int = 0
    valor_total: str | None = None
    valor_informado: str | None = None
    valor_processado: str | None = None
    valor_glosado: str | None = None
    valor_liberado: str | None = None
    created_at: datetime = Field(description="Data Inclusão")
    fechado_em: datetime | None = Field(default=None, description="Data Fechamento")
    enviado_em: datetime | None = Field(default=None, description="Data Envio")
    enviar_ate: date | None = Field(default=None, description="Enviar Até (calendário)")
    enviar_ate_texto: str | None = Field(default=None, description='"faltam N dias"')
    data_pagamento: date | None = None
    excluido_em: datetime | None = None
    excluido_por: str | None = None
    acoes: list[str] = Field(default_factory=list, description="Actions allowed now, in order")
    aviso_limite: str | None = None
    gera_demonstrativo: bool = False
    protocolo: ProtocoloRef | None = None
    guias: list[GuiaDoLote] = Field(default_factory=list)
    nf: NotaFiscalOut | None = None
    recursos_respondidos: int = Field(0, description="Recursos de glosa answered on this lote")
    valor_recursado: str | None = Field(default=None, description="Appealed in those recursos")
    valor_recuperado: str | None = Field(
        default=None, description="Vlr. Recuperado (recurso): accepted by the operator"
    )
    valor_glosado_final: str | None = Field(
        default=None, description="Glosa final: valor_glosado minus valor_recuperado"
    )
    valor_liberado_final: str | None = Field(
        default=None, description="Liberado após recurso: valor_liberado plus valor_recuperado"
    )


class LotePage(BaseModel):
    items: list[LoteOut]
    total: int
    page: int
    page_size: int


class LogEntry(BaseModel):
    at: datetime
    by: str
    acao: str = Field(description="criado, fechar, reabrir, enviar, tentativa_envio, ...")
    resultado: str | None = Field(default=None, description="ok, recusado or ignorado")
    detalhe: str | None = None
    de: str | None = None
    para: str | None = None


class LoteLog(BaseModel):
    lote_id: str
    numero_lote: str | None
    items: list[LogEntry]


class PagamentoPendente(LoteOut):
    data_prevista: date | None = None
    valor_previsto: str | None = None


class Pagamentos(BaseModel):
    items: list[PagamentoPendente]
    total: int


class SyncOut(BaseModel):
    verificados: int
    atualizados: int


class ConfigLotes(BaseModel):
    dia_limite_envio: int = Field(ge=1, le=31, description="Billing calendar cut-off day")
    nf_obrigatoria: bool = Field(description="Whether sent lotes need the clinic's NF")
    nf_prazo_dias: int = Field(ge=0, le=365, description="Days after sending to attach it")
    pagamento_dias_apos_faturado: int = Field(default=15, ge=0, le=365)


class ConfigLotesOut(ConfigLotes):
    atualizado_por: str | None = None
    atualizado_em: datetime | None = None


def _inicio(d: date | None) -> datetime | None:
    return datetime.combine(d, time.min, TZ) if d else None


def _fim(d: date | None) -> datetime | None:
    return datetime.combine(d, time.max, TZ) if d else None


@router.get("/lotes", tags=["lotes"])
async def list_lotes(
    user: CurrentUser,
    registro_ans: Annotated[str | None, Query(max_length=10, description="Operadora")] = None,
    numero_lote: Annotated[str | None, Query(max_length=20)] = None,
    protocolo: Annotated[str | None, Query(max_length=20, description="PEG")] = None,
    tipo_guia: TipoGuia | Literal[""] | None = None,
    situacao_protocolo: SituacaoProtocolo | Literal[""] | None = None,
    status: StatusLote | Literal[""] | None = None,
    file_id: Annotated[str | None, Query(max_length=64)] = None,
    de: Annotated[date | None, Query(description="Período de Registros: from (inclusive)")] = None,
    ate: Annotated[
        date | None, Query(description="Período de Registros: until (inclusive)")
    ] = None,
    ordem: Ordem = "data_inclusao",
    direcao: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> LotePage:
    """Pesquisa de Lotes: every filter optional (blank means any), sorted and paginated.

    `numero_lote` matches the portal's Nº Lote or the provider's own number; deleted
    lotes are listed only with `status=excluido`."""
    filtros = lotes.Filtros(
        registro_ans=registro_ans,
        numero_lote=numero_lote,
        protocolo=protocolo,
        tipo_guia=tipo_guia or None,
        situacao_protocolo=situacao_protocolo or None,
        status=status or None,
        file_id=file_id,
        de=_inicio(de),
        ate=_fim(ate),
        ordem=ordem,
        direcao=direcao,
    )
    return LotePage(**await lotes.search(user, filtros, page, page_size))


@router.get("/lotes/pendencias/nota-fiscal", tags=["lotes"])
async def nf_pendentes(
    user: CurrentUser,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> LotePage:
    """Nota Fiscal Pendente: sent lotes still without the clinic's invoice."""
    return LotePage(**await lotes.nf_pendentes(user, page, page_size))


@router.get("/lotes/pendencias/pagamentos", tags=["lotes"])
async def pagamentos_pendentes(user: CurrentUser) -> Pagamentos:
    """Pagamentos Pendentes: billed (Liberado para Faturamento or Faturado) and not yet
    paid, with the expected payment date and value, soonest first."""
    return Pagamentos(**await lotes.pagamentos_pendentes(user))


@router.post("/lotes/sincronizar", tags=["lotes"], responses=errors(403))
async def sincronizar(user: CurrentUser) -> SyncOut:
    """Sincronizar: refresh every open protocol's situation from the protocol service now."""
    return SyncOut(**await lotes.sincronizar(user))


@router.get("/lotes/{lote_id}", tags=["lotes"], responses=errors(404))
async def get_lote(lote_id: str, user: CurrentUser) -> LoteOut:
    """Detalhes do Lote: every field of the operator's manual, the guides with their four
    values, and the protocol (PEG) once sent."""
    return LoteOut(**await lotes.get_lote(user, lote_id))


@router.get("/lotes/{lote_id}/log", tags=["lotes"], responses=errors(404))
async def get_log(lote_id: str, user: CurrentUser) -> LoteLog:
    """Exibir Log de Envio: every state change and send attempt, with who, when, result."""
    return LoteLog(**await lotes.get_log(user, lote_id))


@router.post(
    "/lotes/{lote_id}/nota-fiscal",
    tags=["lotes"],
    responses=errors(403, 404, 409, 413, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["numero", "emissao", "valor", "arquivo"],
                        "properties": {
                            "numero": {"type": "string"},
                            "emissao": {"type": "string", "description": "dd/mm/aaaa"},
                            "valor": {"type": "string", "description": "1234,56"},
                            "arquivo": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def attach_nf(lote_id: str, request: Request, user: ProviderUser) -> LoteOut:
    """Attach the invoice of a sent lote: número, emissão, valor and the PDF or the
    NFS-e XML (≤ 5 MB). A new one replaces the previous."""
    nf = await lotes.receive_nf(request)
    return LoteOut(**await lotes.attach_nf(user, lote_id, nf))


@router.get(
    "/lotes/{lote_id}/nota-fiscal/arquivo",
    tags=["lotes"],
    responses={
        200: {
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/xml": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The invoice file as attached",
        },
        **errors(404),
    },
    response_class=Response,
)
async def download_nf(lote_id: str, user: CurrentUser) -> Response:
    """The lote's invoice file (PDF or NFS-e XML)."""
    return await nf_response(user, lote_id)


async def nf_response(user: Any, lote_id: str) -> Response:
    content, media_type, filename = await lotes.nf_file(user, lote_id)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename) or "nota-fiscal"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.post("/lotes/{lote_id}/{acao}", tags=["lotes"], responses=errors(403, 404, 409))
async def lote_action(
    lote_id: str, acao: Literal["fechar", "reabrir", "enviar", "excluir"], user: CurrentUser
) -> LoteOut:
    """Fechar (Aberto → Fechado), Reabrir (Fechado → Aberto), Enviar (only from Fechado;
    sending twice sends once) or Excluir (before sending). A sent lote never changes:
    409 `lote_enviado`."""
    return LoteOut(**await lotes.act(user, lote_id, acao))


@router.post(
    "/files/{file_id}/lote", status_code=202, tags=["lotes"], responses=errors(403, 404, 409)
)
async def recreate_lote(
    file_id: Annotated[str, Path(max_length=64)], user: ProviderUser
) -> FileOut:
    """Criar lote novamente: for an imported file whose lote was deleted. The file is
    validated again (its guides may have been presented by another file meanwhile) and,
    imported, gets a new lote with a new number: follow `GET /files/{id}`."""
    return FileOut(**await lotes.recreate_lote(user, file_id))


@router.get("/operadora/lotes/configuracao", tags=["operadora"], responses=errors(403))
async def get_config(user: OperadoraStaff) -> ConfigLotesOut:
    """The billing calendar (cut-off day for Enviar Até) and the NF rules."""
    return ConfigLotesOut(**await lotes.get_config())


@router.put("/operadora/lotes/configuracao", tags=["operadora"], responses=errors(403))
async def put_config(body: ConfigLotes, user: OperadoraStaff) -> ConfigLotesOut:
    """Set the billing calendar's cut-off day and whether (and by when) an NF is required."""
    return ConfigLotesOut(**await lotes.save_config(user, body.model_dump()))
