"""What an operation of the TISS web services is, and the table of them.

An operation module in `operations/` declares itself with `@operation(...)`: its WSDL
operation name (`tissLoteGuias`), the request element of `tissWebServicesVx_yy_zz.xsd`
(`loteGuiasWS`) and the answer element (`protocoloRecebimentoWS`). The SOAP door
authenticates the caller, checks schema and hash of the request, builds a `Call`, runs
the handler and wraps its `Reply` (answer `cabecalho`, body, `hash`), so a handler only
knows TISS content and the use cases it calls. A handler raises `WsFault` for the
standard's `tissFaultWS` (st_tissFault) and returns business refusals inside its answer
(e.g. `mensagemErro` with a table-38 code), as the standard's answer types allow.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from lxml import etree

from tissflow_gateway.auth import User

FaultCode = Literal[
    "DestinatarioInvalido",
    "RemetenteInvalido",
    "LoginInvalido",
    "VersaoInvalida",
    "HashInvalido",
    "SchemaInvalido",
    "ErroInesperadoServidor",
]


class WsFault(Exception):
    """A `tissFaultWS` answer: the standard's fault code and a pt-BR explanation."""

    def __init__(self, code: FaultCode, message: str) -> None:
        super().__init__(message)
        self.code: FaultCode = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated, schema- and hash-checked web-service request."""

    operation: str
    """WSDL operation name, e.g. `tissSolicitacaoStatusProtocolo`."""
    versao: str
    """The request's `cabecalho/Padrao` (TISS version, e.g. 4.03.00)."""
    cabecalho: etree._Element
    """The request's `ans:cabecalho` (cabecalhoTransacao)."""
    body: etree._Element
    """The request's content element after the cabecalho, e.g. `ans:loteGuias`."""
    raw: bytes
    """The request WS element as received (e.g. the whole `loteGuiasWS`), serialized."""
    user: User
    """The provider the credentials belong to (role `prestador`), as the portal's use
    cases take it: ownership checks work exactly as for a portal clerk."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers: the content element of the answer WS element (e.g.
    `ans:recebimentoLote` for `protocoloRecebimentoWS`) and the answer's
    `cabecalho/identificacaoTransacao/tipoTransacao` (dm_tipoTransacao)."""

    tipo_transacao: str
    body: etree._Element
    falha_negocio: str | None = None
    """The answer header's `falhaNegocio` (table-38 code) when the whole transaction is
    refused, e.g. a lote whose file the engine refused."""


Handler = Callable[[Call], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    request: str
    response: str
    handler: Handler
    doc: str


OPERATIONS: dict[str, Operation] = {}
"""Registered operations, by request element name (what the SOAP body carries)."""


def operation(name: str, *, request: str, response: str) -> Callable[[Handler], Handler]:
    """Register `handler` as the web-service operation `name` (request → response)."""

    def register(handler: Handler) -> Handler:
        OPERATIONS[request] = Operation(
            name, request, response, handler, (handler.__doc__ or "").strip()
        )
        return handler

    return register


def load() -> dict[str, Operation]:
    """The table, after every module of `operations/` has registered itself (imported
    once per process: the door calls this on every request)."""
    _import_operations()
    return OPERATIONS


@cache
def _import_operations() -> None:
    from tissflow_gateway.ws import operations

    for info in pkgutil.iter_modules(operations.__path__):
        importlib.import_module(f"{operations.__name__}.{info.name}")
