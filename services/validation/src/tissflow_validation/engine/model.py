"""The engine's public data types: operator context, rule config, critiques, results.

Plain dataclasses, no I/O. `Critique.to_dict()` and `ValidationResult.to_dict()` give
JSON-friendly dicts (Decimal values as strings such as "150.00", dates as ISO strings).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .extrato import Extrato

# Codes a provider may mark as ignored unless the operator's config says otherwise:
# dates outside the plausible window, amounts billed below the computed value, and a
# repeated item number (a numbering slip of the billing software, nothing billed twice).
DEFAULT_IGNORAVEIS: frozenset[str] = frozenset({"1323", "3223", "1706", "3167"})


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Operator setting for one table-38 code.

    `enabled=False` drops the critiques of that code. `ignoravel=True` lets the provider
    mark such a critique as ignored (it then no longer makes the file invalid).
    `severidade="alerta"` shows the critique but does not make the file invalid.
    Applies to the hash check (5014) and the operator rules (step 5); safe reading,
    message/version and XSD critiques are always on and never ignorable, because the
    later steps cannot run on such a file.
    """

    enabled: bool = True
    ignoravel: bool = False
    severidade: Literal["erro", "alerta"] = "erro"


@dataclass(frozen=True, slots=True)
class OperatorContext:
    """What the operator knows when validating a file; None means "skip that check".

    - `registro_ans`: the operator's ANS number ("331988"); checks `destino/registroANS`
      and each guide's `registroANS`.
    - `prestadores`: registered providers keyed by CNPJ, CPF and/or
      codigoPrestadorNaOperadora; the value may be a name (str), a mapping with "nome"
      or any object with a `nome` attribute. None still checks CNPJ/CPF check digits.
    - `beneficiarios`: numeroCarteira -> active flag (bool), or a record: mapping with
      "ativo" (and "nome") or an object with an `ativo` attribute.
    - `prestador_remetente`: the identifiers (CNPJ/CPF, operator code) of the provider
      whose user sent the file; the origin must be one of them (1206). None skips this.
    - `guia_ja_apresentada(prestador_id, numeroGuiaPrestador)`: True if that guide was
      already imported (prestador_id is the value of the origin's CNPJ/CPF/code).
    - `rules`: per table-38 code overrides of `RuleConfig()`; codes in
      `DEFAULT_IGNORAVEIS` default to ignoravel=True.
    - `ignored`: (codigo, xpath) pairs of critiques the provider chose to ignore; only
      ignorable critiques honour it.
    - `hoje`: the date "now" for date plausibility (default: date.today()).
    - `idade_maxima_dias`: dates older than this many days are implausible (1323).
    - `max_guias`: guides allowed per lote (the standard's 100).
    """

    registro_ans: str | None = None
    prestadores: Mapping[str, Any] | None = None
    beneficiarios: Mapping[str, Any] | None = None
    guia_ja_apresentada: Callable[[str, str], bool] | None = None
    prestador_remetente: Collection[str] | None = None
    rules: Mapping[str, RuleConfig] = field(default_factory=dict)
    ignored: Collection[tuple[str, str]] = frozenset()
    hoje: date | None = None
    idade_maxima_dias: int = 5 * 366
    max_guias: int = 100

    def rule(self, codigo: str) -> RuleConfig:
        cfg = self.rules.get(codigo)
        if cfg is not None:
            return cfg
        return RuleConfig(enabled=True, ignoravel=codigo in DEFAULT_IGNORAVEIS)


@dataclass(slots=True)
class Critique:
    """One problem found in a file, as the clinic clerk sees it."""

    sequencial: int
    codigo: str
    descricao: str
    mensagem: str
    xpath: str | None = None
    linha: int | None = None
    numero_guia: str | None = None
    ignoravel: bool = False
    ignorada: bool = False
    # "alerta": shown to the provider, but the file is still imported.
    severidade: str = "erro"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sequencial": self.sequencial,
            "codigo": self.codigo,
            "descricao": self.descricao,
            "mensagem": self.mensagem,
            "xpath": self.xpath,
            "linha": self.linha,
            "numero_guia": self.numero_guia,
            "ignoravel": self.ignoravel,
            "ignorada": self.ignorada,
            "severidade": self.severidade,
        }


@dataclass(slots=True)
class GuiaResumo:
    """The few facts of one guide that other services index."""

    numero_guia_prestador: str | None
    numero_carteira: str | None
    valor_total: Decimal | None
    data: str | None
    xpath: str | None = None
    linha: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "numero_guia_prestador": self.numero_guia_prestador,
            "numero_carteira": self.numero_carteira,
            "valor_total": _dec(self.valor_total),
            "data": self.data,
            "xpath": self.xpath,
            "linha": self.linha,
        }


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


@dataclass(slots=True)
class ValidationResult:
    """Outcome of `validate`: verdict, what the file is, and its critiques.

    `valido` is True when no critique is left un-ignored. `prestador` is
    `{"tipo": "CNPJ"|"CPF"|"codigoPrestadorNaOperadora", "valor": ..., "nome": ...}`.
    `hash_calculado` is the hash for the declared encoding (ISO-8859-1 per the standard,
    UTF-8 for UTF-8 files). Fields the file did not let us read stay None/empty.
    """

    valido: bool = False
    versao_tiss: str | None = None
    tipo_transacao: str | None = None
    registro_ans: str | None = None
    prestador: dict[str, str | None] | None = None
    numero_lote: str | None = None
    tipo_guia: str | None = None
    quantidade_guias: int = 0
    valor_total: Decimal | None = None
    guias: list[GuiaResumo] = field(default_factory=list)
    hash_informado: str | None = None
    hash_calculado: str | None = None
    critiques: list[Critique] = field(default_factory=list)
    encoding: str | None = None
    # the provider and each guide with its items, for file.validated (not in to_dict)
    extrato: Extrato | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "valido": self.valido,
            "versao_tiss": self.versao_tiss,
            "tipo_transacao": self.tipo_transacao,
            "registro_ans": self.registro_ans,
            "prestador": dict(self.prestador) if self.prestador else None,
            "numero_lote": self.numero_lote,
            "tipo_guia": self.tipo_guia,
            "quantidade_guias": self.quantidade_guias,
            "valor_total": _dec(self.valor_total),
            "guias": [g.to_dict() for g in self.guias],
            "hash_informado": self.hash_informado,
            "hash_calculado": self.hash_calculado,
            "critiques": [c.to_dict() for c in self.critiques],
            "encoding": self.encoding,
        }
