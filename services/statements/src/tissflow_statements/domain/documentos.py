"""The two statements of the TISS layout, made from protocols' accounts (`conta.Conta`).

Demonstrativo de Análise de Conta: one to 30 analysed protocols of one provider (the
standard's limit per request), fields 1–47. Demonstrativo de Pagamento: every protocol of
one provider paid on a date, or in a competência (the month/year of the payment date),
grouped by payment date as the XML's `pagamentosPorData`. Each takes its number and its
emission instant from its facts, never from the clock: replaying the events that built the
projection rebuilds the same document, byte for byte.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Literal

from tissflow_statements.domain.conta import (
    ANALISADO,
    PAGO,
    ZERO,
    Conta,
    DadosBancarios,
    DebitoCredito,
    Prestador,
)
from tissflow_statements.domain.errors import (
    NadaPago,
    PedidoInvalido,
    ProtocoloNaoAnalisado,
)
from tissflow_statements.domain.operadora import Operadora

# Componente Organizacional: a demonstrativo request covers at most 30 protocols.
MAX_PROTOCOLOS = 30
TITULOS = {
    "analise": "Demonstrativo de Análise de Conta",
    "pagamento": "Demonstrativo de Pagamento",
}
SITUACAO = {
    1: "Recebido",
    2: "Em análise",
    3: "Liberado para pagamento",
    4: "Encerrado sem pagamento",
    5: "Analisado e aguardando liberação para pagamento",
    6: "Pagamento efetuado",
    7: "Não localizado",
    8: "Aguardando informação complementar",
    9: "Cancelado",
    10: "Bloqueio judicial",
}


def _totais(contas: tuple[Conta, ...]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return (
        sum((c.valor_informado for c in contas), ZERO),
        sum((c.valor_processado for c in contas), ZERO),
        sum((c.valor_liberado for c in contas), ZERO),
        sum((c.valor_glosado for c in contas), ZERO),
    )


def _um_prestador(contas: tuple[Conta, ...]) -> Prestador:
    ids = {c.prestador.provider_id for c in contas}
    if len(ids) != 1:
        raise PedidoInvalido("Um demonstrativo é de um só prestador.", sorted(ids))
    # The name and CNES as the latest lote stated them.
    return max(contas, key=lambda c: (c.prestador.nome is not None, c.atualizado_em)).prestador


@dataclass(frozen=True, slots=True)
class Analise:
    """Demonstrativo de Análise de Conta of one or more protocols (fields 1–47)."""

    operadora: Operadora
    prestador: Prestador
    contas: tuple[Conta, ...]
    numero: str
    emitido_em: datetime

    tipo = "analise"
    titulo = TITULOS["analise"]

    @property
    def totais(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """44–47: informado, processado, liberado, glosa of every protocol."""
        return _totais(self.contas)


def analise(operadora: Operadora, contas: list[Conta]) -> Analise:
    """The Análise de Conta of `contas` (1 to 30, analysed, one provider), in PEG order."""
    if not contas:
        raise PedidoInvalido("Informe ao menos um protocolo.")
    if len(contas) > MAX_PROTOCOLOS:
        raise PedidoInvalido(
            f"Um demonstrativo cobre no máximo {MAX_PROTOCOLOS} protocolos "
            f"({len(contas)} pedidos).",
            {"maximo": MAX_PROTOCOLOS, "pedidos": len(contas)},
        )
    pendentes = [c for c in contas if c.situacao not in ANALISADO]
    if pendentes:
        c = pendentes[0]
        raise ProtocoloNaoAnalisado(
            f"O protocolo {c.peg} ainda não foi analisado pela operadora "
            f"(situação {c.situacao} - {SITUACAO.get(c.situacao, '')}): o Demonstrativo de "
            "Análise de Conta fica disponível a partir de Liberado para Faturamento.",
            [p.peg for p in pendentes],
        )
    ordenadas = tuple(sorted({c.peg: c for c in contas}.values(), key=lambda c: c.peg))
    pegs = [c.peg for c in ordenadas]
    numero = (
        pegs[0]
        if len(pegs) == 1
        else "DA" + hashlib.sha1(",".join(pegs).encode(), usedforsecurity=False).hexdigest()[:16]
    )
    return Analise(
        operadora=operadora,
        prestador=_um_prestador(ordenadas),
        contas=ordenadas,
        numero=numero,
        emitido_em=max(c.atualizado_em for c in ordenadas),
    )


@dataclass(frozen=True, slots=True)
class Periodo:
    """A payment date, or a competência (every payment date of a month)."""

    tipo: Literal["data", "competencia"]
    inicio: date
    fim: date

    @classmethod
    def por_data(cls, dia: date) -> Periodo:
        return cls("data", dia, dia)

    @classmethod
    def por_competencia(cls, ano: int, mes: int) -> Periodo:
        if not (1 <= mes <= 12 and 2000 <= ano <= 2100):
            raise PedidoInvalido("Competência inválida: informe mês (1 a 12) e ano (aaaa).")
        return cls(
            "competencia", date(ano, mes, 1), date(ano, mes, calendar.monthrange(ano, mes)[1])
        )

    def contem(self, dia: date) -> bool:
        return self.inicio <= dia <= self.fim

    @property
    def rotulo(self) -> str:
        if self.tipo == "data":
            return f"Data de pagamento {self.inicio:%d/%m/%Y}"
        return f"Competência {self.inicio:%m/%Y}"

    @property
    def numero(self) -> str:
        return f"DP{self.inicio:%Y%m%d}" if self.tipo == "data" else f"DPC{self.inicio:%Y%m}"


@dataclass(frozen=True, slots=True)
class CreditoRecurso:
    """Value the operator accepted (acatado) in its answer to a recurso de glosa."""

    recurso_id: str
    peg: str
    numero_guia_prestador: str
    numero_protocolo_recurso: str
    valor: Decimal
    respondido_em: date

    @property
    def objeto(self) -> str:
        """What the recurso appealed: a guide, or the protocol's own glosa (no guide)."""
        if self.numero_guia_prestador:
            return f"guia {self.numero_guia_prestador}"
        return "glosa do protocolo"

    @property
    def credito(self) -> DebitoCredito:
        return DebitoCredito(
            debito=False,
            tipo="08",
            descricao=f"Recurso {self.numero_protocolo_recurso} {self.objeto}"[:40],
            valor=self.valor,
        )


def creditos_por_data(
    creditos: list[CreditoRecurso], datas_pagas: list[date]
) -> dict[date, tuple[CreditoRecurso, ...]]:
    """Each accepted recurso is paid with the provider's next payment: the first payment
    date on or after its answer (none yet: it waits for one)."""
    datas = sorted(set(datas_pagas))
    out: dict[date, list[CreditoRecurso]] = {}
    for c in sorted(creditos, key=lambda c: (c.respondido_em, c.recurso_id)):
        if c.valor <= 0:
            continue
        proxima = next((d for d in datas if d >= c.respondido_em), None)
        if proxima is not None:
            out.setdefault(proxima, []).append(c)
    return {d: tuple(v) for d, v in out.items()}


@dataclass(frozen=True, slots=True)
class PagamentoNaData:
    """One payment date of a Demonstrativo de Pagamento (`pagamentosPorData`), with the
    recursos de glosa accepted since the previous payment (credits)."""

    data: date
    contas: tuple[Conta, ...]
    recursos: tuple[CreditoRecurso, ...] = ()

    @property
    def totais(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return _totais(self.contas)

    @property
    def debitos_creditos(self) -> tuple[DebitoCredito, ...]:
        return tuple(d for c in self.contas for d in c.debitos_creditos) + tuple(
            r.credito for r in self.recursos
        )

    @property
    def total_recursos(self) -> Decimal:
        return sum((r.valor for r in self.recursos), ZERO)

    @property
    def total_debitos(self) -> Decimal:
        return sum((c.total_debitos for c in self.contas), ZERO)

    @property
    def total_creditos(self) -> Decimal:
        return sum((c.total_creditos for c in self.contas), ZERO) + self.total_recursos

    @property
    def liquido(self) -> Decimal:
        return sum((c.liquido for c in self.contas), ZERO) + self.total_recursos

    @property
    def dados_bancarios(self) -> DadosBancarios | None:
        return next((c.dados_bancarios for c in self.contas if c.dados_bancarios), None)


@dataclass(frozen=True, slots=True)
class Pagamento:
    """Demonstrativo de Pagamento: every protocol of a provider paid in `periodo`."""

    operadora: Operadora
    prestador: Prestador
    periodo: Periodo
    datas: tuple[PagamentoNaData, ...]
    numero: str
    emitido_em: datetime

    tipo = "pagamento"
    titulo = TITULOS["pagamento"]

    @property
    def contas(self) -> tuple[Conta, ...]:
        return tuple(c for d in self.datas for c in d.contas)

    @property
    def totais(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return _totais(self.contas)

    @property
    def total_debitos(self) -> Decimal:
        return sum((d.total_debitos for d in self.datas), ZERO)

    @property
    def total_creditos(self) -> Decimal:
        return sum((d.total_creditos for d in self.datas), ZERO)

    @property
    def liquido(self) -> Decimal:
        return sum((d.liquido for d in self.datas), ZERO)


def pagos_no_periodo(contas: list[Conta], periodo: Periodo) -> list[Conta]:
    """The protocols released for or paid (3, 6) with a payment date within `periodo`."""
    return [
        c
        for c in contas
        if c.situacao in PAGO and c.data_pagamento is not None and periodo.contem(c.data_pagamento)
    ]


def pagamento(
    operadora: Operadora,
    periodo: Periodo,
    contas: list[Conta],
    numero: str | None = None,
    recursos: dict[date, tuple[CreditoRecurso, ...]] | None = None,
) -> Pagamento:
    """The Demonstrativo de Pagamento of `periodo` from a provider's accounts (the others
    are left out); refused when nothing was paid in it."""
    pagas = sorted(pagos_no_periodo(contas, periodo), key=lambda c: (c.data_pagamento, c.peg))
    if not pagas:
        raise NadaPago(
            f"Nenhum protocolo pago no período ({periodo.rotulo}).",
            {"inicio": periodo.inicio.isoformat(), "fim": periodo.fim.isoformat()},
        )
    datas = tuple(
        PagamentoNaData(dia, tuple(grupo), (recursos or {}).get(dia, ()))
        for dia, grupo in groupby(pagas, key=lambda c: c.data_pagamento)
        if dia is not None
    )
    todas = tuple(pagas)
    return Pagamento(
        operadora=operadora,
        prestador=_um_prestador(todas),
        periodo=periodo,
        datas=datas,
        numero=numero or periodo.numero,
        emitido_em=max(c.atualizado_em for c in todas),
    )
