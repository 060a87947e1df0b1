"""Domain errors: what a clinic asked that no demonstrativo can answer, said in pt-BR."""

from __future__ import annotations

from typing import Any

from tissflow_contracts.errors import DomainError


class DemonstrativoError(DomainError):
    """A request the rules refuse; `code` and `message` are what the API answers, the
    kind (`tissflow_contracts.errors`) its HTTP status."""

    kind = "invalid"
    code = "demonstrativo_invalido"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(type(self).code, message, details)


class NaoEncontrado(DemonstrativoError):
    kind = "not_found"
    code = "demonstrativo_nao_encontrado"


class ProtocoloNaoAnalisado(DemonstrativoError):
    """The operator has not analysed the protocol yet: no Análise de Conta to give."""

    kind = "conflict"
    code = "protocolo_nao_analisado"


class NadaPago(DemonstrativoError):
    """No protocol of the provider is paid on that date or in that competência."""

    kind = "not_found"
    code = "nenhum_pagamento_no_periodo"


class PedidoInvalido(DemonstrativoError):
    kind = "invalid"
    code = "dados_invalidos"


class GeradorPdfIndisponivel(DemonstrativoError):
    """The PDF engine (headless Chromium) cannot print now: the XML still can be had."""

    kind = "unavailable"
    code = "gerador_pdf_indisponivel"
