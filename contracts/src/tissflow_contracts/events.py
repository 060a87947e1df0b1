"""Payload models of every event, and the registry tying each to its topic and type name."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tissflow_contracts.topics import Topic

Canal = Literal["upload_xml", "digitacao", "webservice"]
"""How a lote reached tissflow: an uploaded XML, guides typed in the portal, a web service."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileUploaded(_Payload):
    """A TISS XML (or a corrected revision of one) was stored by ingest."""

    file_id: str
    revision: int = Field(ge=1, description="1 for the original upload, +1 per correction")
    provider_id: str = Field(description="CNPJ or CPF of the provider that uploaded it")
    filename: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    uploaded_by: str
    content_url: str = Field(description="Ingest internal URL path of the bytes (claim check)")
    canal: Canal = Field(
        default="upload_xml",
        description="How the lote came: XML upload, "
        "guides typed in the portal (digitacao) or the ANS web services",
    )
    content_base64: str | None = Field(
        default=None,
        description="The bytes themselves, in base64, when the file is small (at most "
        "INLINE_CONTENT_MAX_BYTES): the consumer then needs no claim check. Absent for a "
        "larger file (and in events from before it existed): fetch `content_url`. Either "
        "way the bytes must match `sha256`.",
    )
    content_seal: str | None = Field(
        default=None,
        description="With `content_base64`: HMAC-SHA256 (hex) of `<file_id>:<revision>:"
        "<sha256>` under the deployment's internal key, so the bytes are known to come "
        "from this deployment's ingest; without a valid seal the consumer ignores the "
        "carried bytes and fetches `content_url`.",
    )


INLINE_CONTENT_MAX_BYTES = 128 * 1024
"""Files up to this size travel inside `file.uploaded` (ADR 0021): ~175 KB of base64,
well under Kafka's default 1 MB message limit even before gzip."""


class Prestador(_Payload):
    """The provider (contratado) as the file or the operator's registry names it."""

    provider_id: str = Field(description="CNPJ or CPF of the provider")
    nome: str | None = None
    codigo_na_operadora: str | None = None
    cnes: str | None = None


class ItemGuia(_Payload):
    """One item (procedure, fee, material) of a guide as the provider billed it."""

    sequencial_item: int = Field(ge=1)
    data_execucao: date | None = None
    hora_inicial: str | None = None
    hora_final: str | None = None
    codigo_tabela: str | None = Field(default=None, description="TISS table 87 code, e.g. 22")
    codigo_procedimento: str | None = None
    descricao: str | None = None
    grau_participacao: str | None = None
    quantidade: Decimal | None = None
    valor_unitario: Decimal | None = None
    valor_total: Decimal | None = None
    codigo_despesa: str | None = Field(
        default=None,
        description="TISS dm_outrasDespesas code when the item is an outras despesas line "
        "(its sequencial_item numbers the guide's despesas, apart from its procedures)",
    )


class GuiaLote(_Payload):
    """One guide of a lote as billed: what protocol, statements and recursos need of it,
    so none of them calls back upstream to build its own state."""

    numero_guia_prestador: str = Field(min_length=1, max_length=20)
    numero_guia_operadora: str | None = None
    senha: str | None = None
    numero_carteira: str | None = None
    nome_beneficiario: str | None = None
    data_atendimento: date | None = None
    inicio_faturamento: datetime | None = None
    fim_faturamento: datetime | None = None
    valor_informado: Decimal | None = None
    itens: list[ItemGuia] = Field(default_factory=list)


class FileValidated(_Payload):
    """Validation's verdict on one revision of a file, with the lote summary it read."""

    file_id: str
    revision: int = Field(ge=1)
    provider_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    status: Literal["importado", "invalido"]
    critiques: int = Field(ge=0, description="Critiques that are not ignored")
    versao_tiss: str | None = None
    registro_ans: str | None = None
    numero_lote: str | None = None
    tipo_guia: str | None = None
    quantidade_guias: int = 0
    valor_total: Decimal | None = None
    numeros_guias: list[str] = Field(default_factory=list)
    prestador: Prestador | None = Field(
        default=None, description="The contratado the file names (identity, name, CNES)"
    )
    guias: list[GuiaLote] = Field(
        default_factory=list, description="Each guide with beneficiary, items and values"
    )
    canal: Canal = Field(default="upload_xml", description="The canal of the file.uploaded")


class LoteSent(_Payload):
    """The provider sent a lote de pagamento to the operator."""

    lote_id: str
    provider_id: str
    registro_ans: str | None
    numero_lote: str
    canal: Canal
    file_id: str | None
    file_revision: int | None = Field(
        default=None, ge=1, description="The file revision the lote was made from"
    )
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="sha256 of that revision's bytes"
    )
    tipo_guia: str | None
    quantidade_guias: int
    valor_total: Decimal | None
    sent_by: str
    sent_at: datetime
    numero_lote_prestador: str | None = Field(
        default=None, description="The lote number in the provider's own system (XML numeroLote)"
    )
    versao_tiss: str | None = None
    prestador: Prestador | None = None
    guias: list[GuiaLote] = Field(
        default_factory=list, description="The lote's guides, items and values as billed"
    )


class LoteDeleted(_Payload):
    """The provider deleted a lote before sending it: its guides may be presented again."""

    lote_id: str
    provider_id: str
    file_id: str | None
    file_revision: int | None = None
    numeros_guias: list[str] = Field(default_factory=list)
    deleted_by: str
    deleted_at: datetime


class GlosaAnalise(_Payload):
    """One glosa the operator applied: a TISS table-38 code and the value it took."""

    codigo: str = Field(pattern=r"^\d{4}$", description="TISS table 38 (glosas) code")
    valor: Decimal = Field(ge=0, description="Value glosed under this code")
    descricao: str | None = Field(default=None, description="Table 38 description")
    observacao: str | None = Field(
        default=None, max_length=500, description="The operator's reason, in its own words"
    )


class AnaliseItem(_Payload):
    """The operator's analysis of one item (procedure) of a guide."""

    sequencial_item: int = Field(ge=1)
    codigo_procedimento: str | None = None
    valor_processado: Decimal = Field(ge=0)
    valor_liberado: Decimal = Field(ge=0)
    valor_glosado: Decimal = Field(default=Decimal("0"), ge=0)
    glosas: list[GlosaAnalise] = Field(default_factory=list)


class AnaliseGuia(_Payload):
    """The operator's analysis of one guide of the lote, by the provider's guide number."""

    numero_guia_prestador: str = Field(min_length=1, max_length=20)
    valor_processado: Decimal = Field(ge=0)
    valor_liberado: Decimal = Field(ge=0)
    valor_glosado: Decimal = Field(default=Decimal("0"), ge=0)
    glosas: list[GlosaAnalise] = Field(default_factory=list)
    itens: list[AnaliseItem] = Field(default_factory=list)


class DebitoCredito(_Payload):
    """A debit (tax withheld, discount) or credit (adjustment, recovered glosa) the operator
    applies to a protocol's payment, with its description (TISS ct_descontos)."""

    indicador: Literal["debito", "credito"]
    tipo: str = Field(
        default="08",
        pattern=r"^0[1-9]$",
        description="dm_debitoCreditoTipo: 01 IRRF, 02 ISS, 03 INSS, 04 PIS, 05 COFINS, "
        "06 CSLL, 07 descontos financeiros, 08 ajuste de pagamento anterior, 09 outros",
    )
    descricao: str = Field(min_length=1, max_length=40)
    valor: Decimal = Field(ge=0)


class DadosBancarios(_Payload):
    """Where the operator paid (or will pay) the provider, when it reports it."""

    banco: str | None = Field(default=None, max_length=4)
    agencia: str | None = Field(default=None, max_length=7)
    conta: str | None = Field(default=None, max_length=20)


class ProtocoloStatusChanged(_Payload):
    """A protocol (PEG) moved to an ANS dm_statusProtocolo status."""

    peg: str
    lote_id: str
    provider_id: str
    registro_ans: str | None
    numero_lote: str
    status: int = Field(ge=1, le=10, description="ANS dm_statusProtocolo code")
    status_anterior: int | None = Field(default=None, ge=1, le=10)
    data_pagamento: date | None = None
    valor_informado: Decimal | None = None
    valor_liberado: Decimal | None = None
    valor_glosado: Decimal | None = None
    guias: list[AnaliseGuia] = Field(
        default_factory=list, description="The operator's analysis per guide, when reported"
    )
    data_protocolo: date | None = Field(default=None, description="When the PEG was issued")
    changed_at: datetime
    valor_processado: Decimal | None = Field(
        default=None, description="Protocol total the operator processed (its analysis)"
    )
    glosas_protocolo: list[GlosaAnalise] = Field(
        default_factory=list, description="Glosas on the protocol as a whole (table 38)"
    )
    tipo_guia: str | None = None
    numero_lote_prestador: str | None = None
    prestador: Prestador | None = None
    changed_by: str | None = Field(default=None, description="Who reported the change")
    debitos_creditos: list[DebitoCredito] = Field(
        default_factory=list, description="Debits and credits on the payment, when reported"
    )
    dados_bancarios: DadosBancarios | None = Field(
        default=None, description="The bank account paid, when reported"
    )


class StatementReady(_Payload):
    """A demonstrativo (análise de conta or pagamento) is ready to download."""

    statement_id: str
    tipo: Literal["analise", "pagamento"]
    peg: str
    lote_id: str
    provider_id: str
    registro_ans: str | None
    numero_lote: str
    data_pagamento: date | None = None
    valor_informado: Decimal | None = None
    valor_liberado: Decimal | None = None
    valor_glosado: Decimal | None = None


class OperadoraReport(_Payload):
    """Published by the operator's core: a protocol's new status (and payment date), and
    optionally its analysis per guide."""

    peg: str
    status: int = Field(ge=1, le=10, description="ANS dm_statusProtocolo code")
    data_pagamento: date | None = None
    valor_liberado: Decimal | None = None
    valor_glosado: Decimal | None = None
    guias: list[AnaliseGuia] = Field(
        default_factory=list,
        description="Analysis per guide (values and table-38 glosa codes); optional",
    )
    reported_by: str = "operadora"
    glosas_protocolo: list[GlosaAnalise] = Field(
        default_factory=list, description="Glosas on the protocol as a whole; optional"
    )
    debitos_creditos: list[DebitoCredito] = Field(
        default_factory=list, description="Debits and credits on the payment; optional"
    )
    dados_bancarios: DadosBancarios | None = Field(
        default=None, description="The bank account paid; optional"
    )


class ItemRecurso(_Payload):
    """One glossed line a recurso appeals: an item of the guide, or the guide's own glosa
    (`sequencial_item` None: `recursoGuiaCompleta`)."""

    linha_id: str = Field(
        description="Stable id of the glossed line: '<guia>:<item>' or '<guia>:G<codigo>'"
    )
    sequencial_item: int | None = Field(default=None, ge=1)
    data_inicio: date | None = None
    codigo_tabela: str | None = None
    codigo_procedimento: str | None = None
    descricao: str | None = None
    codigo_glosa: str = Field(pattern=r"^\d{4}$", description="TISS table 38 code appealed")
    valor_glosado: Decimal = Field(ge=0)
    valor_recursado: Decimal = Field(gt=0)
    justificativa: str = Field(min_length=1, max_length=500)


class AnexoRecurso(_Payload):
    """A document attached to a recurso (bytes stay in the recursos service)."""

    anexo_id: str
    nome: str
    media_type: str
    size: int = Field(ge=0)


class RecursoSent(_Payload):
    """A clinic sent a recurso de glosa (one guide: Componente Organizacional) to the
    operator, as a RECURSO_GLOSA message that validated against the ANS XSD."""

    recurso_id: str
    grupo_id: str = Field(description="Recursos made from one appeal over several guides")
    provider_id: str
    registro_ans: str | None = None
    peg: str
    lote_id: str
    numero_lote: str
    numero_guia_prestador: str
    numero_guia_operadora: str | None = None
    senha: str | None = None
    numero_guia_recurso: str = Field(description="numeroGuiaRecGlosaPrestador")
    objeto: Literal["guia", "itens", "protocolo"] = Field(
        description="itens or guia (recursoGuia), or protocolo (recursoProtocolo: the glosa of "
        "the protocol as a whole)"
    )
    itens: list[ItemRecurso] = Field(min_length=1)
    anexos: list[AnexoRecurso] = Field(default_factory=list)
    valor_total_recursado: Decimal = Field(gt=0)
    prazo_recurso: date | None = Field(default=None, description="Last day to appeal")
    sent_by: str
    sent_at: datetime
    xml_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class RecursoReceived(_Payload):
    """The operator's receipt of a recurso (recebimentoRecursoGlosa): its protocol number."""

    recurso_id: str
    provider_id: str
    numero_protocolo_recurso: str = Field(max_length=12)
    data_recebimento: date
    prazo_resposta: date | None = Field(default=None, description="Operator's answer deadline")


class RespostaItemRecurso(_Payload):
    """The operator's answer to one appealed line."""

    linha_id: str
    sequencial_item: int | None = None
    codigo_glosa: str
    valor_recursado: Decimal = Field(ge=0)
    acatado: bool
    valor_acatado: Decimal = Field(ge=0)
    justificativa: str | None = Field(default=None, max_length=500)


class RecursoAnswered(_Payload):
    """The operator answered a recurso (respostaRecursoGlosa): the value recovered flows
    to the next payment statement."""

    recurso_id: str
    provider_id: str
    peg: str
    lote_id: str
    numero_guia_prestador: str
    numero_protocolo_recurso: str
    itens: list[RespostaItemRecurso] = Field(min_length=1)
    valor_total_recursado: Decimal = Field(ge=0)
    valor_total_acatado: Decimal = Field(ge=0)
    answered_by: str
    answered_at: datetime


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    model: builtins.type[BaseModel]
    version: int
    producer: str
    consumers: tuple[str, ...]
    summary: str


EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "file.uploaded",
        Topic.FILE_UPLOADED,
        FileUploaded,
        1,
        "ingest",
        ("validation",),
        "A TISS XML revision was stored and awaits validation.",
    ),
    EventSpec(
        "file.validated",
        Topic.FILE_VALIDATED,
        FileValidated,
        2,
        "validation",
        ("ingest", "batching"),
        "A file revision was judged importado or invalido.",
    ),
    EventSpec(
        "lote.sent",
        Topic.LOTE_SENT,
        LoteSent,
        2,
        "batching",
        ("protocol", "statements"),
        "A lote de pagamento was sent to the operator.",
    ),
    EventSpec(
        "lote.deleted",
        Topic.LOTE_DELETED,
        LoteDeleted,
        1,
        "batching",
        ("validation",),
        "A lote was deleted before being sent; its guide numbers are free again.",
    ),
    EventSpec(
        "protocolo.status_changed",
        Topic.PROTOCOLO_STATUS_CHANGED,
        ProtocoloStatusChanged,
        2,
        "protocol",
        ("batching", "statements"),
        "A protocol (PEG) changed status.",
    ),
    EventSpec(
        "statement.ready",
        Topic.STATEMENT_READY,
        StatementReady,
        1,
        "statements",
        ("gateway",),
        "A demonstrativo is ready.",
    ),
    EventSpec(
        "operadora.report",
        Topic.OPERADORA_INBOUND,
        OperadoraReport,
        1,
        "operadora",
        ("protocol",),
        "The operator's core reports a protocol's status.",
    ),
    EventSpec(
        "recurso.sent",
        Topic.RECURSO_SENT,
        RecursoSent,
        1,
        "recursos",
        ("recursos",),
        "A clinic sent a recurso de glosa (one guide) to the operator.",
    ),
    EventSpec(
        "recurso.received",
        Topic.RECURSO_RECEIVED,
        RecursoReceived,
        1,
        "recursos",
        ("recursos",),
        "The operator received a recurso and gave it a protocol number.",
    ),
    EventSpec(
        "recurso.answered",
        Topic.RECURSO_ANSWERED,
        RecursoAnswered,
        1,
        "recursos",
        ("recursos", "statements", "batching", "protocol"),
        "The operator answered a recurso: value accepted per item.",
    ),
)


def spec_for_type(type_name: str) -> EventSpec:
    for spec in EVENTS:
        if spec.type == type_name:
            return spec
    raise KeyError(type_name)


def spec_for_topic(topic: str) -> EventSpec:
    for spec in EVENTS:
        if spec.topic == topic:
            return spec
    raise KeyError(topic)


def spec_for_model(model: type[BaseModel]) -> EventSpec:
    for spec in EVENTS:
        if spec.model is model:
            return spec
    raise KeyError(model.__name__)
