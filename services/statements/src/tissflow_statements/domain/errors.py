"""Domain errors: what a clinic asked that no demonstrativo can answer, said in pt-BR."""

from __future__ import annotations

from typing import Any


class DemonstrativoError(Exception):
    """A request the rules refuse; `code` and `message` are what the API answers."""

    status = 422
    code = "demonstrativo_invalido"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NaoEncontrado(DemonstrativoError):
    status = 404
    code = "demonstrativo_nao_encontrado"


class ProtocoloNaoAnalisado(DemonstrativoError):
    """The operator has not analysed the protocol yet: no Análise de Conta to give."""

    status = 409
    code = "protocolo_nao_analisado"


class NadaPago(DemonstrativoError):
    """No protocol of the provider is paid on that date or in that competência."""

    status = 404
    code = "nenhum_pagamento_no_periodo"


class PedidoInvalido(DemonstrativoError):
    status = 422
    code = "dados_invalidos"
