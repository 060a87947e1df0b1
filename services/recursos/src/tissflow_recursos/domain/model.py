"""Recurso de glosa rules: glossed lines, deadlines, the checks before sending and answering.

Pure: no Kafka, MongoDB or HTTP. A glossed line is one item of a guide the operator
glossed (or the guide's own glosa, when the analysis has no items); a recurso appeals
lines of ONE guide (Componente Organizacional), so an appeal over several guides becomes
several recursos of one group. Every refusal is a `RecursoError` with a pt-BR message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tissflow_contracts.errors import DomainError

CENTAVO = Decimal("0.01")
JUSTIFICATIVA_MAX = 500  # st_texto500 of the ANS XSD
# Situations of a recurso as the clinic sees them, in order.
RASCUNHO, ENVIADO, EM_ANALISE, RESPONDIDO = "rascunho", "enviado", "em_analise", "respondido"
SITUACOES = {
    RASCUNHO: "Rascunho",
    ENVIADO: "Enviado",
    EM_ANALISE: "Em análise",
    RESPONDIDO: "Respondido",
}


class RecursoError(DomainError):
    """A rule refused the action: `code`, a pt-BR `message`, `details`; the kind
    (`tissflow_contracts.errors`) gives its HTTP status at the entry points."""

    kind = "invalid"


class NaoEncontrado(RecursoError):
    kind = "not_found"


class Conflito(RecursoError):
    kind = "conflict"


def money(value: Any) -> Decimal:
    """A value in reais with two decimals; anything unreadable is a clear error."""
    if value in (None, ""):
        return Decimal("0.00")
    text = str(value).strip()
    if isinstance(value, str) and "," in text:
        text = text.replace(".", "").replace(",", ".")  # pt-BR: 1.234,56
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RecursoError("valor_invalido", f"Valor inválido: {value!r}.") from None
    if not amount.is_finite():
        raise RecursoError("valor_invalido", f"Valor inválido: {value!r}.")
    return amount.quantize(CENTAVO)


# -- deadlines ---------------------------------------------------------------------------
def prazo_recurso(emissao: date, dias: int) -> date:
    """The last day to appeal: `dias` days after the statement's emission (that day counts)."""
    return emissao + timedelta(days=dias)


def checar_prazo(hoje: date, prazo: date | None, linha: str = "") -> None:
    if prazo is not None and hoje > prazo:
        onde = f" ({linha})" if linha else ""
        raise RecursoError(
            "prazo_esgotado",
            f"Prazo de recurso esgotado{onde}: o último dia era {prazo:%d/%m/%Y}.",
            {"prazo": prazo.isoformat(), "linha": linha or None},
        )


def dias_restantes(hoje: date, prazo: date) -> int:
    return (prazo - hoje).days


# -- glossed lines -----------------------------------------------------------------------
@dataclass(frozen=True)
class LinhaGlosada:
    """One line a clinic may appeal, pre-filled from the lote and the operator's analysis."""

    linha_id: str
    numero_guia: str
    sequencial_item: int | None
    data_inicio: date | None
    codigo_tabela: str | None
    codigo_procedimento: str | None
    descricao: str | None
    codigo_glosa: str
    valor_glosado: Decimal
    valor_informado: Decimal | None
    codigos: tuple[str, ...]

    @property
    def nivel(self) -> str:
        if not self.numero_guia:
            return "protocolo"
        return "guia" if self.sequencial_item is None else "item"


def _data(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _principal(glosas: list[dict[str, Any]]) -> str | None:
    """The code that took most of the value: the one the XML names for the line."""
    if not glosas:
        return None
    return max(glosas, key=lambda g: money(g.get("valor")))["codigo"]


def linhas_glosadas(
    lote_guias: list[dict[str, Any]], analise: list[dict[str, Any]]
) -> list[LinhaGlosada]:
    """Every glossed line of a protocol: the operator's analysis per guide and item (codes,
    values) joined with the lote as billed (dates, procedure, description)."""
    billed = {str(g.get("numero_guia_prestador")): g for g in lote_guias}
    out: list[LinhaGlosada] = []
    for guia in analise:
        numero = str(guia["numero_guia_prestador"])
        lote_guia = billed.get(numero, {})
        itens_lote = {int(i["sequencial_item"]): i for i in lote_guia.get("itens") or []}
        itens = [i for i in guia.get("itens") or [] if money(i.get("valor_glosado")) > 0]
        for item in itens:
            seq = int(item["sequencial_item"])
            billed_item = itens_lote.get(seq, {})
            glosas = item.get("glosas") or []
            out.append(
                LinhaGlosada(
                    linha_id=f"{numero}:{seq}",
                    numero_guia=numero,
                    sequencial_item=seq,
                    data_inicio=_data(billed_item.get("data_execucao"))
                    or _data(lote_guia.get("data_atendimento")),
                    codigo_tabela=billed_item.get("codigo_tabela"),
                    codigo_procedimento=item.get("codigo_procedimento")
                    or billed_item.get("codigo_procedimento"),
                    descricao=billed_item.get("descricao"),
                    codigo_glosa=_principal(glosas) or "1705",
                    valor_glosado=money(item.get("valor_glosado")),
                    valor_informado=money(billed_item.get("valor_total"))
                    if billed_item.get("valor_total") is not None
                    else money(item.get("valor_processado")),
                    codigos=tuple(g["codigo"] for g in glosas),
                )
            )
        if itens or money(guia.get("valor_glosado")) <= 0:
            continue
        # The guide's own glosa (no item detail): one line per table-38 code.
        glosas = guia.get("glosas") or [{"codigo": "1705", "valor": guia.get("valor_glosado")}]
        for g in glosas:
            if money(g.get("valor")) <= 0:
                continue
            out.append(
                LinhaGlosada(
                    linha_id=f"{numero}:G{g['codigo']}",
                    numero_guia=numero,
                    sequencial_item=None,
                    data_inicio=_data(lote_guia.get("data_atendimento")),
                    codigo_tabela=None,
                    codigo_procedimento=None,
                    descricao=None,
                    codigo_glosa=str(g["codigo"]),
                    valor_glosado=money(g.get("valor")),
                    valor_informado=money(guia.get("valor_processado")),
                    codigos=(str(g["codigo"]),),
                )
            )
    return out


PROTOCOLO = "P"  # linha_id prefix of the protocol's own glosa: "P:<codigo>"


def linhas_do_protocolo(glosas_protocolo: list[dict[str, Any]]) -> list[LinhaGlosada]:
    """The protocol's own glosa (ct_guiaRecursoGlosa's `recursoProtocolo`): one line per
    table-38 code, appealed as a whole protocol."""
    return [
        LinhaGlosada(
            linha_id=f"{PROTOCOLO}:{g['codigo']}",
            numero_guia="",
            sequencial_item=None,
            data_inicio=None,
            codigo_tabela=None,
            codigo_procedimento=None,
            descricao=None,
            codigo_glosa=str(g["codigo"]),
            valor_glosado=money(g.get("valor")),
            valor_informado=None,
            codigos=(str(g["codigo"]),),
        )
        for g in glosas_protocolo
        if money(g.get("valor")) > 0
    ]


def agrupar_por_guia(linhas: Iterable[LinhaGlosada]) -> dict[str, list[LinhaGlosada]]:
    """One guide per recurso message: the lines of each guide, guides in first-seen order.
    The protocol's glosa goes alone, one code per message (`recursoProtocolo` has one)."""
    grupos: dict[str, list[LinhaGlosada]] = {}
    for linha in linhas:
        grupos.setdefault(linha.numero_guia or linha.linha_id, []).append(linha)
    return grupos


# -- checks before creating and sending ---------------------------------------------------
def checar_duplicidade(
    linha_ids: Iterable[str],
    existentes: Iterable[dict[str, Any]],
    permite_reapresentacao: bool,
) -> None:
    """An item already under appeal (a draft or an open recurso) cannot be appealed again;
    an answered one only when the operator's rule allows a new recurso."""
    wanted = set(linha_ids)
    for recurso in existentes:
        for linha in recurso.get("linhas", []):
            if linha["linha_id"] not in wanted:
                continue
            if recurso["situacao"] != RESPONDIDO:
                raise Conflito(
                    "item_ja_em_recurso",
                    f"O item {linha['linha_id']} já está em recurso"
                    f" ({SITUACOES[recurso['situacao']].lower()}).",
                    {"linha_id": linha["linha_id"], "recurso_id": recurso["_id"]},
                )
            if not permite_reapresentacao:
                raise Conflito(
                    "item_ja_recorrido",
                    f"O item {linha['linha_id']} já teve recurso respondido e a operadora "
                    "não aceita novo recurso do mesmo item.",
                    {"linha_id": linha["linha_id"], "recurso_id": recurso["_id"]},
                )


def checar_linha(linha: dict[str, Any]) -> None:
    """Valor recursado > 0 and ≤ valor glosado; a justificativa of up to 500 characters."""
    ident = linha["linha_id"]
    recursado = money(linha.get("valor_recursado"))
    glosado = money(linha.get("valor_glosado"))
    if recursado <= 0:
        raise RecursoError(
            "valor_recursado_invalido",
            f"Informe o valor recursado do item {ident}: deve ser maior que zero.",
            {"linha_id": ident},
        )
    if recursado > glosado:
        raise RecursoError(
            "valor_recursado_maior_que_glosado",
            f"O valor recursado do item {ident} (R$ {recursado}) é maior que o valor "
            f"glosado (R$ {glosado}).",
            {"linha_id": ident, "valor_glosado": str(glosado), "valor_recursado": str(recursado)},
        )
    justificativa = (linha.get("justificativa") or "").strip()
    if not justificativa:
        raise RecursoError(
            "justificativa_obrigatoria",
            f"Escreva a justificativa do recurso do item {ident}.",
            {"linha_id": ident},
        )
    checar_tamanho(justificativa, ident)


def checar_tamanho(justificativa: str | None, ident: str) -> None:
    if justificativa and len(justificativa) > JUSTIFICATIVA_MAX:
        raise RecursoError(
            "justificativa_longa",
            f"A justificativa do item {ident} tem {len(justificativa)} caracteres; "
            f"o padrão TISS admite até {JUSTIFICATIVA_MAX}.",
            {"linha_id": ident, "tamanho": len(justificativa)},
        )


def checar_envio(recurso: dict[str, Any], hoje: date) -> Decimal:
    """Every check before a recurso leaves; returns its total valor recursado."""
    if recurso["situacao"] != RASCUNHO:
        raise Conflito("recurso_ja_enviado", "Este recurso já foi enviado à operadora.")
    linhas = recurso.get("linhas") or []
    if not linhas:
        raise RecursoError("recurso_vazio", "O recurso não tem itens.")
    guias = {linha["numero_guia"] for linha in linhas}
    if len(guias) != 1:
        raise RecursoError(
            "uma_guia_por_recurso",
            "Um recurso de glosa trata de uma única guia (Componente Organizacional TISS).",
            {"guias": sorted(guias)},
        )
    checar_prazo(hoje, _data(recurso.get("prazo")))
    for linha in linhas:
        checar_linha(linha)
    return sum((money(linha["valor_recursado"]) for linha in linhas), Decimal("0.00"))


# -- the operator's answer ----------------------------------------------------------------
def checar_resposta(linha: dict[str, Any], resposta: dict[str, Any]) -> dict[str, Any]:
    """acatado S/N, valor acatado ≤ recursado; a justificativa when refused or partly
    accepted. Returns the normalised answer of the line."""
    ident = linha["linha_id"]
    recursado = money(linha["valor_recursado"])
    acatado = bool(resposta.get("acatado"))
    valor = money(resposta.get("valor_acatado")) if acatado else Decimal("0.00")
    if acatado and resposta.get("valor_acatado") in (None, ""):
        valor = recursado
    justificativa = (resposta.get("justificativa") or "").strip() or None
    if valor < 0 or valor > recursado:
        raise RecursoError(
            "valor_acatado_invalido",
            f"O valor acatado do item {ident} deve ficar entre R$ 0,00 e o valor "
            f"recursado (R$ {recursado}).",
            {"linha_id": ident},
        )
    if acatado and valor == 0:
        raise RecursoError(
            "valor_acatado_invalido",
            f"Recurso acatado no item {ident}: informe o valor acatado (maior que zero).",
            {"linha_id": ident},
        )
    if (not acatado or valor < recursado) and not justificativa:
        raise RecursoError(
            "justificativa_obrigatoria",
            f"Justifique a decisão no item {ident}: recurso não acatado ou acatado em parte.",
            {"linha_id": ident},
        )
    checar_tamanho(justificativa, ident)
    return {
        "linha_id": ident,
        "acatado": acatado,
        "valor_acatado": str(valor),
        "justificativa": justificativa,
    }
