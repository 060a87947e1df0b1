"""Typed shapes of the public API's answers (extra fields from the services pass through)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code")
    message: str = Field(description="pt-BR message for people")
    details: Any = None


class Open(BaseModel):
    """A service record: the documented fields, plus any others the service adds."""

    model_config = ConfigDict(extra="allow")


class Revision(Open):
    revision: int
    size: int
    sha256: str
    created_at: datetime
    created_by: str
    reason: str = Field(description="upload | correcao")


class FileOut(Open):
    file_id: str
    provider_id: str
    filename: str
    status: Literal["em_processamento", "importado", "invalido"]
    created_at: datetime
    updated_at: datetime | None = None
    current_revision: int
    corrigido_online: bool = False
    revisions: list[Revision] = []
    validacao: dict[str, Any] | None = Field(
        default=None, description="Summary of the current revision's verdict"
    )


class Critique(Open):
    sequencial: int
    codigo: str = Field(description="ANS table 38 code")
    descricao: str
    mensagem: str = Field(description="pt-BR message with details")
    xpath: str | None = None
    linha: int | None = None
    numero_guia: str | None = None
    ignoravel: bool = False
    ignorada: bool = False


class ValidationDetail(Open):
    valido: bool
    numero_lote: str | None = None
    tipo_guia: str | None = None
    quantidade_guias: int = 0
    valor_total: str | None = None
    critiques: list[Critique] = []


class FieldValue(BaseModel):
    xpath: str = Field(min_length=2, max_length=500, description="Human xpath of the field")
    valor: str = Field(max_length=1000)


class ValidationOut(Open):
    file_id: str
    revision: int
    provider_id: str | None = None
    status: Literal["importado", "invalido"]
    validated_at: datetime | None = None
    result: ValidationDetail
    pendentes: list[dict[str, Any]] = Field(
        default=[], description="Corrections saved but not yet reprocessed: {xpath, valor, ...}"
    )
    ignoradas: list[dict[str, Any]] = []


class IgnoreRequest(BaseModel):
    codigo: str = Field(min_length=1, max_length=10)
    xpath: str | None = Field(default=None, max_length=500)


class CorrectionsRequest(BaseModel):
    correcoes: list[FieldValue] = Field(min_length=1, max_length=500)


class ReprocessRequest(BaseModel):
    recalcular_totais: bool = Field(
        default=False,
        description="Recalcular automaticamente totais de procedimentos, guias e lote",
    )
    correcoes: list[FieldValue] | None = None


class ReprocessOut(Open):
    file_id: str
    revision: int
    status: Literal["em_processamento", "importado", "invalido"]


class ActionOut(Open):
    """What the validation service answered to an ignore or a saved correction."""


class FilePage(BaseModel):
    items: list[FileOut]
    total: int
    page: int
    page_size: int


class ProtocoloOut(Open):
    peg: str
    lote_id: str
    provider_id: str
    status: int = Field(description="ANS dm_statusProtocolo")
    status_label: str
    etapa: str = Field(description="Portal stage (Enviado para a Operadora, Faturado, ...)")
    valor_recuperado: str | None = Field(
        default=None, description="Vlr. Recuperado (recurso): accepted in answered recursos"
    )
    valor_glosado_final: str | None = Field(
        default=None, description="Glosa final: valor_glosado minus valor_recuperado"
    )


class ProtocoloPage(BaseModel):
    items: list[ProtocoloOut]
    total: int
    page: int
    page_size: int


class DemonstrativoOut(Open):
    statement_id: str
    tipo: Literal["analise", "pagamento"]
    titulo: str
    peg: str
    provider_id: str
    novo: bool = Field(default=False, description="Not yet opened by the clinic")


class DemonstrativoPage(BaseModel):
    items: list[DemonstrativoOut]
    total: int
    page: int
    page_size: int


class Me(BaseModel):
    username: str
    nome: str
    role: str
    provider_id: str | None
    provider_nome: str | None


class RegraPadrao(BaseModel):
    enabled: bool
    ignoravel: bool
    severidade: Literal["erro", "alerta"]


class RegraOut(Open):
    codigo: str = Field(description="ANS table 38 code")
    descricao: str = Field(description="Its description in table 38")
    etapa: str = Field(description="The check that raises it (pt-BR)")
    configuravel: bool = Field(
        description="False for structural checks (reading, XSD...): always on, never ignorable"
    )
    enabled: bool = Field(description="Ativa: the check runs on the next files")
    ignoravel: bool = Field(description="The clinic may ignore the critique")
    severidade: Literal["erro", "alerta"] = Field(
        description="erro makes the file invalid; alerta is shown but the file is imported"
    )
    padrao: RegraPadrao = Field(description="The engine's setting without the operator's")
    atualizado_por: str | None = Field(default=None, description="Login of who last changed it")
    atualizado_em: datetime | None = None


class RegraPage(BaseModel):
    items: list[RegraOut]
    total: int


class RegraIn(BaseModel):
    enabled: bool = Field(description="Ativa")
    ignoravel: bool = Field(description="Ignorável pela clínica")
    severidade: Literal["erro", "alerta"] = Field(
        default="erro", description="alerta: shown, but the file is still imported"
    )


class LinhaRecusada(BaseModel):
    linha: int = Field(description="Line number in the CSV (the header is line 1)")
    mensagem: str = Field(description="Why it was refused (pt-BR)")


class CadastroImportOut(BaseModel):
    tipo: Literal["prestadores", "beneficiarios"]
    importados: int = Field(description="Lines imported (new or updated records)")
    recusados: int = Field(description="Lines refused; see `erros`")
    erros: list[LinhaRecusada]
