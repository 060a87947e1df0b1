"""Validation's refusals, as domain errors (the entry points give them an HTTP status)."""

from __future__ import annotations

from tissflow_contracts.errors import Conflict, Invalid, NotFound, TooLarge

from tissflow_validation.domain.regras_operadora import EntradaCatalogo


class ContentMismatch(Exception):
    """The bytes fetched from ingest are not the ones the event announced: never retry."""


def result_not_found() -> NotFound:
    return NotFound("resultado_nao_encontrado", "Arquivo ainda não validado.")


def concurrent_edit() -> Conflict:
    return Conflict(
        "edicao_concorrente",
        "O arquivo está sendo corrigido por outra pessoa neste momento; tente novamente.",
    )


def not_editable() -> Conflict:
    """Corrections are for rejected files: an imported (maybe sent) file is not edited."""
    return Conflict(
        "arquivo_nao_editavel",
        "Somente arquivos com situação “Inválido” podem ser corrigidos ou reprocessados.",
    )


def invalid_correction(reason: object) -> Invalid:
    return Invalid("correcao_invalida", f"Não foi possível aplicar a correção: {reason}.")


def critique_not_found(codigo: str, xpath: str | None) -> NotFound:
    return NotFound(
        "critica_nao_encontrada",
        f"O arquivo não tem a crítica {codigo} em {xpath or '(sem localização)'}.",
    )


def critique_not_ignorable(codigo: str, descricao: object) -> Conflict:
    return Conflict(
        "critica_nao_ignoravel",
        f"A crítica {codigo} ({descricao}) não pode ser ignorada; corrija o arquivo.",
    )


def already_reprocessing() -> Conflict:
    return Conflict(
        "reprocessamento_em_andamento",
        "O arquivo já está sendo reprocessado; aguarde alguns segundos e recarregue.",
    )


def csv_too_large() -> TooLarge:
    return TooLarge("csv_muito_grande", "O limite é 20 MB por arquivo CSV.")


def csv_invalid(reason: object) -> Invalid:
    return Invalid("csv_invalido", f"Arquivo CSV inválido: {reason}.")


def rule_not_found(codigo: str) -> NotFound:
    return NotFound("regra_nao_encontrada", f"O validador não usa o código {codigo}.")


def rule_not_configurable(codigo: str, entrada: EntradaCatalogo) -> Conflict:
    return Conflict(
        "regra_nao_configuravel",
        f"A crítica {codigo} ({entrada.etapa}) é estrutural: sempre ativa e não ignorável.",
    )
