"""The operator's analysis of a protocol, checked: guides of the lote, table-38 codes, sums.

An analysis says, per guide and per item, what was processed, released (liberado) and
glosed (glosado), with the table-38 code of every glosa; glosas may also fall on a guide
as a whole or on the protocol as a whole. Money is Decimal to the cent. What must hold:

- item and guide: processado = liberado + glosado, and processado = the value the
  provider informed when the lote carried it (informado = liberado + glosado);
- a guide's glosado = its items' glosado + its own glosas; a glosed value has a code;
- the protocol: glosado = Σ guides' glosado + protocol glosas, liberado = Σ guides'
  liberado − protocol glosas; totals given by the operator must equal these.

A report that does not add up is refused with a pt-BR message naming the guide (and item)
and the difference. The table-38 lookup is passed in: this module does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tissflow_contracts import AnaliseGuia, GlosaAnalise, GuiaLote
from tissflow_contracts.formato import numero_br

from tissflow_protocol.domain.errors import AnaliseInvalida

CENTAVO = Decimal("0.01")
ZERO = Decimal("0.00")
DescreveGlosa = Callable[[str], str | None]


def brl(value: Decimal) -> str:
    """R$ 1.234,56."""
    return f"R$ {numero_br(value)}"


@dataclass
class Analise:
    """A checked analysis, ready to record: each glosa with its table-38 description."""

    guias: list[dict[str, Any]]
    glosas_protocolo: list[dict[str, Any]]
    valor_processado: Decimal
    valor_liberado: Decimal
    valor_glosado: Decimal
    avisos: list[str] = field(default_factory=list)


def _cents(value: Decimal, where: str) -> Decimal:
    if value != value.quantize(CENTAVO):
        raise AnaliseInvalida(
            f"{where}: o valor {value} tem mais de duas casas decimais (centavos).",
            {"onde": where, "valor": str(value)},
        )
    return value.quantize(CENTAVO)


def _describe(
    glosas: Sequence[GlosaAnalise], where: str, descreve: DescreveGlosa
) -> list[dict[str, Any]]:
    out = []
    for glosa in glosas:
        texto = descreve(glosa.codigo)
        if texto is None:
            raise AnaliseInvalida(
                f"Código de glosa {glosa.codigo} ({where}) não existe na tabela 38 da TISS.",
                {"codigo": glosa.codigo, "onde": where},
            )
        _cents(glosa.valor, f"{where}, glosa {glosa.codigo}")
        raw = glosa.model_dump(mode="json")
        raw["descricao"] = texto
        out.append(raw)
    return out


def _soma(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def _confere(
    where: str,
    processado: Decimal,
    liberado: Decimal,
    glosado: Decimal,
    details: dict[str, Any],
) -> None:
    for nome, valor in (("processado", processado), ("liberado", liberado), ("glosado", glosado)):
        _cents(valor, f"{where}, valor {nome}")
    if liberado + glosado != processado:
        diferenca = processado - (liberado + glosado)
        raise AnaliseInvalida(
            f"{where}: liberado {brl(liberado)} + glosado {brl(glosado)} = "
            f"{brl(liberado + glosado)}, mas o processado é {brl(processado)} "
            f"(diferença de {brl(abs(diferenca))}).",
            {**details, "diferenca": str(diferenca)},
        )


def _confere_informado(
    where: str, informado: Decimal | None, processado: Decimal, det: Any
) -> None:
    if informado is None:
        return
    informado = informado.quantize(CENTAVO)
    if processado != informado:
        diferenca = informado - processado
        raise AnaliseInvalida(
            f"{where}: liberado + glosado = {brl(processado)}, mas o valor informado pelo "
            f"prestador é {brl(informado)} (diferença de {brl(abs(diferenca))}).",
            {**det, "valor_informado": str(informado), "diferenca": str(diferenca)},
        )


def _glosado_tem_codigo(where: str, glosado: Decimal, glosas: Sequence[Any], det: Any) -> None:
    if glosado > 0 and not glosas:
        raise AnaliseInvalida(
            f"{where}: informe o código (tabela 38) da glosa de {brl(glosado)}.", det
        )


def conferir_guia(
    guia: AnaliseGuia, lote: GuiaLote | None, descreve: DescreveGlosa
) -> dict[str, Any]:
    numero = guia.numero_guia_prestador
    where = f"Guia {numero}"
    det: dict[str, Any] = {"numero_guia_prestador": numero}
    # Codes first: a code table 38 does not have is the clearest thing to say.
    _describe(guia.glosas, where.lower(), descreve)
    for item in guia.itens:
        _describe(item.glosas, f"{where}, item {item.sequencial_item}".lower(), descreve)
    _confere(where, guia.valor_processado, guia.valor_liberado, guia.valor_glosado, det)
    itens_lote = {i.sequencial_item: i for i in (lote.itens if lote else [])}
    vistos: set[int] = set()
    itens = []
    for item in guia.itens:
        w = f"{where}, item {item.sequencial_item}"
        d = {**det, "sequencial_item": item.sequencial_item}
        if item.sequencial_item in vistos:
            raise AnaliseInvalida(f"{w} foi informado mais de uma vez.", d)
        vistos.add(item.sequencial_item)
        billed = itens_lote.get(item.sequencial_item)
        if itens_lote and billed is None:
            raise AnaliseInvalida(f"{w} não existe na guia enviada pelo prestador.", d)
        _confere(w, item.valor_processado, item.valor_liberado, item.valor_glosado, d)
        _confere_informado(w, billed.valor_total if billed else None, item.valor_processado, d)
        _glosado_tem_codigo(w, item.valor_glosado, item.glosas, d)
        if item.glosas and _soma(g.valor for g in item.glosas) != item.valor_glosado:
            raise AnaliseInvalida(
                f"{w}: a soma das glosas ({brl(_soma(g.valor for g in item.glosas))}) difere "
                f"do valor glosado do item ({brl(item.valor_glosado)}).",
                d,
            )
        raw = item.model_dump(mode="json")
        raw["glosas"] = _describe(item.glosas, w.lower(), descreve)
        if billed is not None and not raw.get("codigo_procedimento"):
            raw["codigo_procedimento"] = billed.codigo_procedimento
        itens.append(raw)
    informado = lote.valor_informado if lote else None
    if informado is None and lote and lote.itens and all(i.valor_total for i in lote.itens):
        informado = _soma(i.valor_total or ZERO for i in lote.itens)
    _confere_informado(where, informado, guia.valor_processado, det)
    glosas_guia = _soma(g.valor for g in guia.glosas)
    glosas_itens = _soma(i.valor_glosado for i in guia.itens)
    if guia.itens and _soma(i.valor_processado for i in guia.itens) != guia.valor_processado:
        soma = _soma(i.valor_processado for i in guia.itens)
        raise AnaliseInvalida(
            f"{where}: a soma do processado dos itens ({brl(soma)}) difere do processado "
            f"da guia ({brl(guia.valor_processado)}) em {brl(abs(soma - guia.valor_processado))}.",
            det,
        )
    if guia.itens or guia.glosas:
        if glosas_guia + glosas_itens != guia.valor_glosado:
            diferenca = guia.valor_glosado - (glosas_guia + glosas_itens)
            raise AnaliseInvalida(
                f"{where}: o glosado da guia ({brl(guia.valor_glosado)}) difere das glosas "
                f"dos itens ({brl(glosas_itens)}) e da guia ({brl(glosas_guia)}) em "
                f"{brl(abs(diferenca))}.",
                {**det, "diferenca": str(diferenca)},
            )
    _glosado_tem_codigo(where, guia.valor_glosado, [*guia.glosas, *guia.itens], det)
    raw = guia.model_dump(mode="json")
    raw["glosas"] = _describe(guia.glosas, where.lower(), descreve)
    raw["itens"] = itens
    return raw


def conferir(
    guias: Sequence[AnaliseGuia],
    glosas_protocolo: Sequence[GlosaAnalise],
    lote: Sequence[GuiaLote],
    descreve: DescreveGlosa,
    *,
    numero_lote: str,
    valor_informado: Decimal | None = None,
    valor_liberado: Decimal | None = None,
    valor_glosado: Decimal | None = None,
) -> Analise:
    """Check an analysis against the lote as sent; AnaliseInvalida (pt-BR) when it fails."""
    por_numero = {g.numero_guia_prestador: g for g in lote}
    vistos: set[str] = set()
    out = []
    for guia in guias:
        numero = guia.numero_guia_prestador
        if por_numero and numero not in por_numero:
            raise AnaliseInvalida(
                f"A guia {numero} não faz parte do lote {numero_lote}.",
                {"numero_guia_prestador": numero},
            )
        if numero in vistos:
            raise AnaliseInvalida(
                f"A guia {numero} foi informada mais de uma vez.", {"numero_guia_prestador": numero}
            )
        vistos.add(numero)
        out.append(conferir_guia(guia, por_numero.get(numero), descreve))
    if guias and por_numero:
        faltam = [n for n in por_numero if n not in vistos]
        if faltam:
            raise AnaliseInvalida(
                f"A análise não traz a(s) guia(s) {', '.join(faltam)} do lote {numero_lote}: "
                "informe o resultado de todas as guias.",
                {"faltam": faltam},
            )
    protocolo = _describe(glosas_protocolo, "protocolo", descreve)
    glosa_protocolo = _soma(g.valor for g in glosas_protocolo)
    if guias:
        processado = _soma(g.valor_processado for g in guias)
        glosado = _soma(g.valor_glosado for g in guias) + glosa_protocolo
        liberado = _soma(g.valor_liberado for g in guias) - glosa_protocolo
    else:
        informado = valor_informado.quantize(CENTAVO) if valor_informado is not None else None
        liberado = valor_liberado if valor_liberado is not None else None  # type: ignore[assignment]
        glosado = valor_glosado if valor_glosado is not None else ZERO
        if liberado is None:
            liberado = (informado or ZERO) - glosado
        processado = liberado + glosado
        if informado is not None and processado != informado:
            raise AnaliseInvalida(
                f"Protocolo: liberado {brl(liberado)} + glosado {brl(glosado)} = "
                f"{brl(processado)}, mas o valor informado do lote é {brl(informado)} "
                f"(diferença de {brl(abs(informado - processado))}).",
                {"diferenca": str(informado - processado)},
            )
        if glosado > 0 and not glosas_protocolo:
            # Totals only, no codes: what older reports carried; recorded as given.
            pass
        return Analise([], protocolo, processado, liberado, glosado)
    if liberado < 0:
        raise AnaliseInvalida(
            f"Protocolo: as glosas do protocolo ({brl(glosa_protocolo)}) passam do valor "
            f"liberado das guias ({brl(liberado + glosa_protocolo)}).",
            {"diferenca": str(liberado)},
        )
    for nome, given, total in (
        ("liberado", valor_liberado, liberado),
        ("glosado", valor_glosado, glosado),
    ):
        if given is not None and given != total:
            raise AnaliseInvalida(
                f"Protocolo: o valor {nome} informado ({brl(given)}) difere da soma das guias "
                f"({brl(total)}) em {brl(abs(given - total))}.",
                {"campo": f"valor_{nome}", "diferenca": str(given - total)},
            )
    return Analise(out, protocolo, processado, liberado, glosado)


def analise_integral(lote: Sequence[GuiaLote]) -> list[AnaliseGuia]:
    """Every guide and item paid in full: where an operator's clerk starts glosing from."""
    out = []
    for guia in lote:
        itens: list[dict[str, Any]] = []
        for item in guia.itens:
            valor = (item.valor_total or ZERO).quantize(CENTAVO)
            itens.append(
                {
                    "sequencial_item": item.sequencial_item,
                    "codigo_procedimento": item.codigo_procedimento,
                    "valor_processado": valor,
                    "valor_liberado": valor,
                }
            )
        total = (
            guia.valor_informado.quantize(CENTAVO)
            if guia.valor_informado is not None
            else _soma(i["valor_processado"] for i in itens)
        )
        if itens and _soma(i["valor_processado"] for i in itens) != total:
            itens = []  # items that do not add up to the guide: analyse the guide alone
        out.append(
            AnaliseGuia(
                numero_guia_prestador=guia.numero_guia_prestador,
                valor_processado=total,
                valor_liberado=total,
                itens=itens,  # type: ignore[arg-type]
            )
        )
    return out


def glosar(
    analise: Sequence[AnaliseGuia],
    numero_guia: str,
    sequencial_item: int | None,
    glosa: GlosaAnalise,
) -> list[AnaliseGuia]:
    """The analysis with one more glosa on a guide or on one of its items (values moved
    from liberado to glosado); AnaliseInvalida when it names nothing or exceeds the value."""
    out = []
    achou = False
    for guia in analise:
        if guia.numero_guia_prestador != numero_guia:
            out.append(guia)
            continue
        achou = True
        data = guia.model_copy(deep=True)
        if sequencial_item is None:
            if glosa.valor > data.valor_liberado:
                raise AnaliseInvalida(
                    f"Guia {numero_guia}: a glosa de {brl(glosa.valor)} passa do valor "
                    f"liberado ({brl(data.valor_liberado)}).",
                    {"numero_guia_prestador": numero_guia},
                )
            data.glosas.append(glosa)
        else:
            item = next((i for i in data.itens if i.sequencial_item == sequencial_item), None)
            if item is None:
                raise AnaliseInvalida(
                    f"Guia {numero_guia}: item {sequencial_item} não existe.",
                    {"numero_guia_prestador": numero_guia, "sequencial_item": sequencial_item},
                )
            if glosa.valor > item.valor_liberado:
                raise AnaliseInvalida(
                    f"Guia {numero_guia}, item {sequencial_item}: a glosa de "
                    f"{brl(glosa.valor)} passa do valor liberado ({brl(item.valor_liberado)}).",
                    {"numero_guia_prestador": numero_guia, "sequencial_item": sequencial_item},
                )
            item.glosas.append(glosa)
            item.valor_glosado += glosa.valor
            item.valor_liberado -= glosa.valor
        data.valor_glosado += glosa.valor
        data.valor_liberado -= glosa.valor
        out.append(data)
    if not achou:
        raise AnaliseInvalida(
            f"A guia {numero_guia} não faz parte do lote.", {"numero_guia_prestador": numero_guia}
        )
    return out
