"""Domain errors: each carries a stable code and a pt-BR message (and details)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the protocol refused the request; nothing changed."""

    code = "erro"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    code = "protocolo_nao_encontrado"


class TransitionRefused(DomainError):
    code = "transicao_invalida"


class Conflict(DomainError):
    """The request contradicts what is recorded (e.g. a repeated status with other data)."""

    code = "situacao_ja_informada"


class ConcurrentChange(DomainError):
    code = "protocolo_alterado"


class AnaliseInvalida(DomainError):
    """The operator's analysis does not hold (unknown guide or code, sums that differ)."""

    code = "analise_invalida"


class MensagemInvalida(DomainError):
    code = "mensagem_invalida"
