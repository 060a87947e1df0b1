"""One protocol's account as a demonstrativo states it, from the statements projection.

`conta_de` joins the lote as the provider sent it (`lote.sent`: guides, beneficiaries,
items, informed values) with the protocol as the operator analysed it
(`protocolo.status_changed`: situation, dates, values and glosas per guide and item).
Every figure reconciles: items add up to their guide, guides to the protocol. Where the
operator reported less detail than the lote has, its glosa is spread over the guides (and
a guide's over its items) in proportion to their values, to the centavo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENTAVO = Decimal("0.01")
ZERO = Decimal("0.00")
# ANS: the CNES field of a provider without one carries 9999999.
CNES_NAO_INFORMADO = "9999999"
# dm_statusProtocolo of a protocol whose analysis is done (Análise de Conta available).
ANALISADO = frozenset({3, 4, 5, 6})
# Liberado para pagamento and Pagamento efetuado: what a Demonstrativo de Pagamento lists.
PAGO = frozenset({3, 6})


def money(value: Any) -> Decimal:
    """A value in reais with two decimals; None and "" are zero."""
    if value in (None, ""):
        return ZERO
    return Decimal(str(value)).quantize(CENTAVO, ROUND_HALF_UP)


def ratear(pesos: list[Decimal], total: Decimal) -> list[Decimal]:
    """Split `total` in proportion to `pesos`, to the centavo, the rounding remainder on
    the heaviest share, so the parts add up to the total exactly."""
    soma = sum(pesos, Decimal("0"))
    if not pesos or total == 0:
        return [ZERO] * len(pesos)
    if soma == 0:
        partes = [ZERO] * len(pesos)
        partes[0] = total
        return partes
    partes = [(p * total / soma).quantize(CENTAVO, ROUND_HALF_UP) for p in pesos]
    maior = max(range(len(pesos)), key=lambda i: pesos[i])
    partes[maior] += total - sum(partes, Decimal("0"))
    return partes


@dataclass(frozen=True, slots=True)
class Glosa:
    """A glosa: table-38 code, the value it took and its description."""

    codigo: str
    valor: Decimal
    descricao: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a guide (fields 25–35 of the Análise de Conta)."""

    sequencial: int
    data_realizacao: date | None
    tabela: str | None
    codigo: str | None
    descricao: str | None
    grau_participacao: str | None
    quantidade: Decimal
    valor_informado: Decimal
    valor_processado: Decimal
    valor_liberado: Decimal
    valor_glosado: Decimal
    glosas: tuple[Glosa, ...] = ()


@dataclass(frozen=True, slots=True)
class Guia:
    """One guide of the protocol (fields 14–24 and its totals 36–39)."""

    numero_guia_prestador: str
    numero_guia_operadora: str | None
    senha: str | None
    nome_beneficiario: str | None
    numero_carteira: str | None
    inicio_faturamento: datetime | None
    fim_faturamento: datetime | None
    data_atendimento: date | None
    situacao: int
    valor_informado: Decimal
    valor_processado: Decimal
    valor_liberado: Decimal
    valor_glosado: Decimal
    glosas: tuple[Glosa, ...] = ()
    itens: tuple[Item, ...] = ()

    @property
    def data_inicio(self) -> date | None:
        if self.inicio_faturamento is not None:
            return self.inicio_faturamento.date()
        return self.data_atendimento


@dataclass(frozen=True, slots=True)
class DebitoCredito:
    """A debit or credit on a protocol's payment (TISS ct_descontos)."""

    debito: bool
    tipo: str
    descricao: str
    valor: Decimal

    @property
    def assinado(self) -> Decimal:
        """What it does to the net value: a debit subtracts."""
        return -self.valor if self.debito else self.valor


@dataclass(frozen=True, slots=True)
class DadosBancarios:
    banco: str | None = None
    agencia: str | None = None
    conta: str | None = None


@dataclass(frozen=True, slots=True)
class Prestador:
    """The contratado (fields 7–9): identity, name, CNES, code at the operator."""

    provider_id: str
    nome: str | None
    cnes: str
    codigo_na_operadora: str


@dataclass(frozen=True, slots=True)
class Conta:
    """One protocol (PEG) with its guides, situation, dates and values."""

    peg: str
    lote_id: str
    numero_lote: str
    numero_lote_prestador: str
    prestador: Prestador
    data_protocolo: date
    situacao: int
    atualizado_em: datetime
    valor_informado: Decimal
    valor_processado: Decimal
    valor_liberado: Decimal
    valor_glosado: Decimal
    data_pagamento: date | None = None
    glosas: tuple[Glosa, ...] = ()
    guias: tuple[Guia, ...] = ()
    debitos_creditos: tuple[DebitoCredito, ...] = ()
    dados_bancarios: DadosBancarios | None = None

    @property
    def total_debitos(self) -> Decimal:
        return sum((d.valor for d in self.debitos_creditos if d.debito), ZERO)

    @property
    def total_creditos(self) -> Decimal:
        return sum((d.valor for d in self.debitos_creditos if not d.debito), ZERO)

    @property
    def liquido(self) -> Decimal:
        """Net to pay: released value, less debits, plus credits."""
        return self.valor_liberado - self.total_debitos + self.total_creditos


# --- from the projection ------------------------------------------------------------


def _data(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _momento(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _glosas(raw: list[dict[str, Any]] | None) -> tuple[Glosa, ...]:
    return tuple(
        Glosa(str(g["codigo"]), money(g.get("valor")), g.get("descricao")) for g in raw or []
    )


def _informado_item(item: dict[str, Any]) -> Decimal:
    if item.get("valor_total") not in (None, ""):
        return money(item["valor_total"])
    if item.get("valor_unitario") not in (None, "") and item.get("quantidade") not in (None, ""):
        return money(Decimal(str(item["valor_unitario"])) * Decimal(str(item["quantidade"])))
    return ZERO


def _itens(
    itens: list[dict[str, Any]], analise: dict[str, Any] | None, glosa_guia: Decimal
) -> tuple[Item, ...]:
    """The guide's items with the operator's analysis per item where reported; the rest
    of the guide's glosa spread over the items it did not detail."""
    por_seq = {int(a["sequencial_item"]): a for a in (analise or {}).get("itens") or []}
    sem_analise = [i for i in itens if int(i["sequencial_item"]) not in por_seq]
    ja_glosado = sum((money(a.get("valor_glosado")) for a in por_seq.values()), ZERO)
    resto = max(glosa_guia - ja_glosado, ZERO)
    partes = dict(
        zip(
            (int(i["sequencial_item"]) for i in sem_analise),
            ratear([_informado_item(i) for i in sem_analise], resto),
            strict=True,
        )
    )
    out = []
    for raw in itens:
        seq = int(raw["sequencial_item"])
        informado = _informado_item(raw)
        a = por_seq.get(seq)
        if a is not None:
            processado = money(a.get("valor_processado"))
            liberado = money(a.get("valor_liberado"))
            glosado = money(a.get("valor_glosado"))
            glosas = _glosas(a.get("glosas"))
        else:
            glosado = partes[seq]
            processado, liberado, glosas = informado, informado - glosado, ()
        out.append(
            Item(
                sequencial=seq,
                data_realizacao=_data(raw.get("data_execucao")),
                tabela=raw.get("codigo_tabela"),
                codigo=raw.get("codigo_procedimento"),
                descricao=raw.get("descricao"),
                grau_participacao=raw.get("grau_participacao"),
                quantidade=Decimal(str(raw.get("quantidade") or "1")),
                valor_informado=informado,
                valor_processado=processado,
                valor_liberado=liberado,
                valor_glosado=glosado,
                glosas=glosas,
            )
        )
    return tuple(out)


def _guias(
    lote_guias: list[dict[str, Any]], analise: list[dict[str, Any]], protocolo: dict[str, Any]
) -> tuple[Guia, ...]:
    situacao = int(protocolo["status"])
    do_lote = {str(g["numero_guia_prestador"]): g for g in lote_guias}
    analisadas = {str(a["numero_guia_prestador"]): a for a in analise}
    numeros = list(do_lote) + [n for n in analisadas if n not in do_lote]

    def informado_guia(g: dict[str, Any]) -> Decimal:
        if g.get("valor_informado") not in (None, ""):
            return money(g["valor_informado"])
        return sum((_informado_item(i) for i in g.get("itens") or []), ZERO)

    # No analysis per guide: the protocol's glosa spread over its guides.
    rateio: dict[str, Decimal] = {}
    if not analisadas:
        rateio = dict(
            zip(
                numeros,
                ratear(
                    [informado_guia(do_lote[n]) for n in numeros],
                    money(protocolo.get("valor_glosado")),
                ),
                strict=True,
            )
        )
    out = []
    for numero in numeros:
        g = do_lote.get(numero, {})
        a = analisadas.get(numero)
        if a is not None:
            processado = money(a.get("valor_processado"))
            informado = informado_guia(g) if g else processado
            liberado = money(a.get("valor_liberado"))
            glosado = money(a.get("valor_glosado"))
            glosas = _glosas(a.get("glosas"))
        else:
            informado = informado_guia(g)
            glosado = rateio.get(numero, ZERO)
            processado, liberado, glosas = informado, informado - glosado, ()
        out.append(
            Guia(
                numero_guia_prestador=numero,
                numero_guia_operadora=g.get("numero_guia_operadora"),
                senha=g.get("senha"),
                nome_beneficiario=g.get("nome_beneficiario"),
                numero_carteira=g.get("numero_carteira"),
                inicio_faturamento=_momento(g.get("inicio_faturamento")),
                fim_faturamento=_momento(g.get("fim_faturamento")),
                data_atendimento=_data(g.get("data_atendimento")),
                situacao=situacao,
                valor_informado=informado,
                valor_processado=processado,
                valor_liberado=liberado,
                valor_glosado=glosado,
                glosas=glosas,
                itens=_itens(g.get("itens") or [], a, glosado),
            )
        )
    return tuple(out)


def conta_de(lote: dict[str, Any] | None, protocolo: dict[str, Any]) -> Conta:
    """A protocol's account from its projection documents: `lote` is the `lote.sent`
    payload (None while it has not arrived), `protocolo` the protocol's latest state as
    `protocolo.status_changed` reported it."""
    lote = lote or {}
    prestador = lote.get("prestador") or protocolo.get("prestador") or {}
    provider_id = str(protocolo["provider_id"])
    guias = _guias(lote.get("guias") or [], protocolo.get("guias") or [], protocolo)
    if guias:
        informado = sum((g.valor_informado for g in guias), ZERO)
        processado = sum((g.valor_processado for g in guias), ZERO)
        liberado = sum((g.valor_liberado for g in guias), ZERO)
        glosado = sum((g.valor_glosado for g in guias), ZERO)
    else:
        # Only the protocol's totals are known.
        informado = money(
            protocolo.get("valor_informado")
            if protocolo.get("valor_informado") is not None
            else lote.get("valor_total")
        )
        glosado = money(protocolo.get("valor_glosado"))
        processado = (
            money(protocolo["valor_processado"])
            if protocolo.get("valor_processado") is not None
            else informado
        )
        liberado = (
            money(protocolo["valor_liberado"])
            if protocolo.get("valor_liberado") is not None
            else processado - glosado
        )
    atualizado = _momento(protocolo.get("changed_at"))
    if atualizado is None:
        raise ValueError(f"protocolo {protocolo.get('peg')} sem data de mudança de situação")
    banco = protocolo.get("dados_bancarios")
    return Conta(
        peg=str(protocolo["peg"]),
        lote_id=str(protocolo["lote_id"]),
        numero_lote=str(protocolo.get("numero_lote") or lote.get("numero_lote") or "0"),
        numero_lote_prestador=str(
            lote.get("numero_lote_prestador")
            or protocolo.get("numero_lote_prestador")
            or protocolo.get("numero_lote")
            or lote.get("numero_lote")
            or "0"
        ),
        prestador=Prestador(
            provider_id=provider_id,
            nome=prestador.get("nome"),
            cnes=prestador.get("cnes") or CNES_NAO_INFORMADO,
            codigo_na_operadora=prestador.get("codigo_na_operadora") or provider_id,
        ),
        data_protocolo=(
            _data(protocolo.get("data_protocolo"))
            or _data(protocolo.get("primeira_mudanca"))
            or atualizado.date()
        ),
        situacao=int(protocolo["status"]),
        atualizado_em=atualizado,
        valor_informado=informado,
        valor_processado=processado,
        valor_liberado=liberado,
        valor_glosado=glosado,
        data_pagamento=_data(protocolo.get("data_pagamento")),
        glosas=_glosas(protocolo.get("glosas_protocolo")),
        guias=guias,
        debitos_creditos=tuple(
            DebitoCredito(
                debito=d["indicador"] == "debito",
                tipo=str(d.get("tipo") or "08"),
                descricao=str(d["descricao"]),
                valor=money(d["valor"]),
            )
            for d in protocolo.get("debitos_creditos") or []
        ),
        dados_bancarios=DadosBancarios(**banco) if banco else None,
    )
