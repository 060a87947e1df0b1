"""The protocol's refusals: the shared kinds of `tissflow_contracts.errors`, each with the
protocol's stable code; raised with a pt-BR message (and details).

The kind (not found, conflict, invalid) gives the HTTP status at the entry points
(`tissflow_runtime.errors.http_status`), as for every service.
"""

from __future__ import annotations

from typing import Any

from tissflow_contracts import errors
from tissflow_contracts.errors import DomainError

__all__ = [
    "AnaliseInvalida",
    "ConcurrentChange",
    "Conflict",
    "DomainError",
    "MensagemInvalida",
    "NotFound",
    "ProtocolError",
    "TransitionRefused",
]


class ProtocolError(DomainError):
    """A rule of the protocol refused the request; nothing changed. `code` is the class's."""

    code = "erro"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(type(self).code, message, details or {})


class NotFound(ProtocolError, errors.NotFound):
    code = "protocolo_nao_encontrado"


class TransitionRefused(ProtocolError, errors.Conflict):
    code = "transicao_invalida"


class Conflict(ProtocolError, errors.Conflict):
    """The request contradicts what is recorded (e.g. a repeated status with other data)."""

    code = "situacao_ja_informada"


class ConcurrentChange(ProtocolError, errors.Conflict):
    code = "protocolo_alterado"


class AnaliseInvalida(ProtocolError, errors.Invalid):
    """The operator's analysis does not hold (unknown guide or code, sums that differ)."""

    code = "analise_invalida"


class MensagemInvalida(ProtocolError, errors.Invalid):
    code = "mensagem_invalida"
