"""What `file.validated` carries of a lote: the provider and each guide with its items.

Downstream services (batching, protocol, statements, recursos) build their state from the
event, never by calling validation back, so the verdict carries each guide as billed:
numbers, authorization, beneficiary, dates, billed period, value and items (procedures
and outras despesas). Read from the tree `validate` already parsed, for every guide type
of TISS 4.02.00/4.03.00 (guiaConsulta, guiaSP-SADT, guiaResumoInternacao, guiaHonorarios,
guiaOdonto; element names from the ANS XSDs), valid file or not: of a refused file, as
much as could be read.

Cheap by construction: on a file the rules ran on, items come from the rows the rules
already read (one XPath call per guide) and only the few guide-level fields are looked up
here; item values become dicts only when the event is built (`Extrato.guias()`), outside
the engine's timed path. Values are what the file says; a text that is no number or no
date becomes None, so the event always fits its contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from lxml import etree

from .documento import local_name, texto_de
from .model import GuiaResumo, OperatorContext
from .regras import (
    SPEC_POR_ELEMENTO,
    Lida,
    X,
    _data,
    _nome_de,
    dec_cache,
)

_MAX_NUMERO_GUIA = 20  # st_texto20, and the contract's limit

# Guide-level fields per guide element (paths relative to the guide, from the XSDs).
_OPERADORA = {
    "guiaConsulta": "ans:numeroGuiaOperadora",
    "guiaSP-SADT": "ans:dadosAutorizacao/ans:numeroGuiaOperadora",
    "guiaResumoInternacao": "ans:dadosAutorizacao/ans:numeroGuiaOperadora",
    "guiaHonorarios": "ans:numeroGuiaOperadora",
    "guiaOdonto": "ans:numeroGuiaOperadora",
}
_SENHA = {
    "guiaSP-SADT": "ans:dadosAutorizacao/ans:senha",
    "guiaResumoInternacao": "ans:dadosAutorizacao/ans:senha",
    "guiaHonorarios": "ans:senha",
    "guiaOdonto": "ans:senhaAutorizacao",
}
_CNES = {
    "guiaConsulta": "ans:contratadoExecutante/ans:CNES",
    "guiaSP-SADT": "ans:dadosExecutante/ans:CNES",
    "guiaResumoInternacao": "ans:dadosExecutante/ans:CNES",
    "guiaHonorarios": "ans:dadosContratadoExecutante/ans:cnesContratadoExecutante",
    "guiaOdonto": "ans:dadosProfissionaisResponsaveis/ans:cnesExec",
}
# the executing contratado's code at the operator, where the guide gives one
_CODIGO_OPERADORA = {
    "guiaConsulta": "ans:contratadoExecutante/ans:codigoPrestadorNaOperadora",
    "guiaSP-SADT": "ans:dadosExecutante/ans:contratadoExecutante/ans:codigoPrestadorNaOperadora",
    "guiaResumoInternacao": (
        "ans:dadosExecutante/ans:contratadoExecutante/ans:codigoPrestadorNaOperadora"
    ),
    "guiaHonorarios": "ans:dadosContratadoExecutante/ans:codigonaOperadora",
}


def _compilar(paths: dict[str, str]) -> dict[str, etree.XPath]:
    return {k: X(v) for k, v in paths.items()}


_XP_OPERADORA = _compilar(_OPERADORA)
_XP_SENHA = _compilar(_SENHA)
_XP_CNES = _compilar(_CNES)
_XP_CODIGO = _compilar(_CODIGO_OPERADORA)
_XP_PERIODO: dict[str, tuple[etree.XPath | None, ...]] = {
    spec.elemento: tuple(X(p) if p else None for p in spec.periodo)
    for _, spec in SPEC_POR_ELEMENTO.values()
    if spec.periodo is not None
}
_XP_DESPESAS = X("ans:outrasDespesas/ans:despesa")

# Leaf name -> item field, for items read element by element (the first one wins: the
# first professional's grau de participação).
_PAPEL_DA_FOLHA = {
    "sequencialItem": "seq",
    "dataExecucao": "data",
    "dataRealizacao": "data",
    "dataAtendimento": "data",
    "horaInicial": "hora_ini",
    "horaFinal": "hora_fim",
    "codigoTabela": "tabela",
    "codigoProcedimento": "codigo",
    "descricaoProcedimento": "descricao",
    "quantidadeExecutada": "quantidade",
    "qtdProc": "quantidade",
    "valorUnitario": "unitario",
    "valorTotal": "total",
    "valorProc": "total",
    "valorProcedimento": "total",
    "grauParticipacao": "grau",
    "grauPart": "grau",
    "codigoDespesa": "despesa",
}
_HORAS = frozenset({"horaInicial", "horaFinal"})


def _texto(xp: etree.XPath | None, guia: etree._Element) -> str | None:
    if xp is None:
        return None
    found = xp(guia)
    if not found:
        return None
    return texto_de(found[0]).strip() or None


def _decimal(texto: str | None) -> Decimal | None:
    v = dec_cache(texto)
    return v if v is not None and v.is_finite() else None


def _quando(dia: str | None, hora: str | None) -> datetime | None:
    d = _data(dia)
    if d is None:
        return None
    t = time()
    if hora:
        try:
            t = time.fromisoformat(hora.strip().replace("Z", "+00:00"))
        except ValueError:
            t = time()
    return datetime.combine(d, t)


def _item_por_elemento(item: etree._Element) -> dict[str, str | None]:
    """One item's fields, walking its leaves (any guide type, valid or not)."""
    campos: dict[str, str | None] = {}
    for el in item.iter():
        if not isinstance(el.tag, str) or len(el):
            continue
        papel = _PAPEL_DA_FOLHA.get(local_name(el))
        if papel is not None and papel not in campos:
            campos[papel] = texto_de(el).strip() or None
    return campos


@dataclass(slots=True)
class _GuiaLida:
    """One guide's texts, turned into the contract's shape by `Extrato.guias()`."""

    cabecalho: dict[str, Any]
    # items as field dicts (read element by element), or the rules' rows
    itens: list[dict[str, str | None]] | None = None
    rows: list[tuple[str | None, ...]] | None = None
    papeis: tuple[str, ...] = ()
    sequenciais: list[str] | None = None
    despesas: list[dict[str, str | None]] = field(default_factory=list)
    consulta: bool = False


@dataclass(slots=True)
class Extrato:
    """The provider and the guides of a lote, as `file.validated` carries them.

    `prestador`: `provider_id` (the sender's CNPJ/CPF; None when the file names it by its
    operator code), `nome` (registry), `codigo_na_operadora`, `cnes`. `guias()`: one dict
    per guide with the fields of the contract's GuiaLote (items as ItemGuia dicts).
    """

    prestador: dict[str, str | None] | None = None
    _lidas: list[_GuiaLida] = field(default_factory=list)

    def guias(self) -> list[dict[str, Any]]:
        return [_guia(g) for g in self._lidas]


def _guia(g: _GuiaLida) -> dict[str, Any]:
    itens: list[dict[str, Any]] = []
    if g.rows is not None:
        idx = {p: i for i, p in enumerate(g.papeis)}
        seqs = g.sequenciais or []
        for n, row in enumerate(g.rows):
            campos = {p: row[i] for p, i in idx.items()}
            campos["seq"] = seqs[n] if n < len(seqs) else None
            itens.append(_item(campos, n, g.consulta))
    else:
        for n, campos in enumerate(g.itens or ()):
            itens.append(_item(campos, n, g.consulta))
    for n, campos in enumerate(g.despesas):
        itens.append(_item(campos, n, False))
    return {**g.cabecalho, "itens": itens}


_DATAS: dict[str, date | None] = {}


def _data_cache(texto: str | None) -> date | None:
    if texto is None:
        return None
    d = _DATAS.get(texto, False)
    if d is False:
        d = _data(texto)
        if len(_DATAS) < 10_000:
            _DATAS[texto] = d
    return d  # type: ignore[return-value]


def _item(campos: Mapping[str, str | None], n: int, consulta: bool) -> dict[str, Any]:
    seq = (campos.get("seq") or "").strip()
    sequencial = int(seq) if seq.isdigit() and 0 < int(seq) <= 9999 else n + 1
    quantidade = _decimal(campos.get("quantidade"))
    total = _decimal(campos.get("total"))
    unitario = _decimal(campos.get("unitario"))
    if consulta:
        # a consultation is one procedure, its value the unit and the total
        quantidade, unitario = Decimal(1), total
    elif unitario is None and "unitario" not in campos and quantidade == 1:
        unitario = total  # odontologia's valorProc of a single procedure
    item: dict[str, Any] = {
        "sequencial_item": sequencial,
        "data_execucao": _data_cache(campos.get("data")),
        "hora_inicial": campos.get("hora_ini"),
        "hora_final": campos.get("hora_fim"),
        "codigo_tabela": campos.get("tabela"),
        "codigo_procedimento": campos.get("codigo"),
        "descricao": campos.get("descricao"),
        "grau_participacao": campos.get("grau"),
        "quantidade": quantidade,
        "valor_unitario": unitario,
        "valor_total": total,
    }
    if campos.get("despesa"):
        item["codigo_despesa"] = campos["despesa"]
    return item


def _nome_beneficiario(ctx: OperatorContext, carteira: str | None) -> str | None:
    if carteira is None or ctx.beneficiarios is None:
        return None
    registro = ctx.beneficiarios.get(carteira)
    if registro is None or isinstance(registro, bool):
        return None
    return _nome_de(registro)


def _codigo_do_registro(registro: Any) -> str | None:
    if isinstance(registro, Mapping):
        codigo = registro.get("codigo_prestador") or registro.get("codigo")
    else:
        codigo = getattr(registro, "codigo_prestador", None) or getattr(registro, "codigo", None)
    return str(codigo) if codigo else None


def extrair(
    prestador: dict[str, str | None] | None, lidas: list[Lida], ctx: OperatorContext
) -> Extrato:
    """The extract of a lote: `prestador` as `identificar_prestador` read the origin,
    `lidas` each guide as the rules (or, on a refused file, the summary) read it."""
    guias: list[_GuiaLida] = []
    for lida in lidas:
        lida_guia = _ler_guia(lida, ctx)
        if lida_guia is not None:
            guias.append(lida_guia)
    return Extrato(_prestador(prestador, lidas, ctx), guias)


def _prestador(
    origem: dict[str, str | None] | None, lidas: list[Lida], ctx: OperatorContext
) -> dict[str, str | None] | None:
    if origem is None or not origem.get("valor"):
        return None
    tipo, valor = origem["tipo"], origem["valor"]
    codigo = valor if tipo == "codigoPrestadorNaOperadora" else None
    if codigo is None and ctx.prestadores is not None:
        registro = ctx.prestadores.get(valor) if valor else None
        if registro is not None:
            codigo = _codigo_do_registro(registro)
    cnes = None
    for lida in lidas[:1]:
        elemento = lida.spec.elemento
        cnes = _texto(_XP_CNES.get(elemento), lida.guia)
        if codigo is None:
            codigo = _texto(_XP_CODIGO.get(elemento), lida.guia)
    return {
        "provider_id": valor if tipo in ("CNPJ", "CPF") else None,
        "nome": origem.get("nome"),
        "codigo_na_operadora": codigo,
        "cnes": cnes,
    }


def _ler_guia(lida: Lida, ctx: OperatorContext) -> _GuiaLida | None:
    spec, guia, resumo = lida.spec, lida.guia, lida.resumo
    numero = resumo.numero_guia_prestador
    if not numero or len(numero) > _MAX_NUMERO_GUIA:
        return None  # a guide without its number cannot be named downstream
    elemento = spec.elemento
    inicio = fim = None
    periodo = _XP_PERIODO.get(elemento)
    if periodo is not None:
        ini_d, fim_d, ini_h, fim_h = (_texto(xp, guia) for xp in periodo)
        inicio, fim = _quando(ini_d, ini_h), _quando(fim_d, fim_h)
    cabecalho = {
        "numero_guia_prestador": numero,
        "numero_guia_operadora": _texto(_XP_OPERADORA.get(elemento), guia),
        "senha": _texto(_XP_SENHA.get(elemento), guia),
        "numero_carteira": resumo.numero_carteira,
        "nome_beneficiario": _nome_beneficiario(ctx, resumo.numero_carteira),
        "data_atendimento": _data(resumo.data),
        "inicio_faturamento": inicio,
        "fim_faturamento": fim,
        "valor_informado": _valor(resumo),
    }
    g = _GuiaLida(cabecalho, consulta=elemento == "guiaConsulta")
    leitura = lida.leitura
    if (
        leitura is not None
        and leitura.sequenciais is not None
        and leitura.opcionais is not None
        and not _HORAS.intersection(leitura.opcionais)
    ):
        # the rules' positional read: every field but the (absent) times, sequencialItem
        # on the side
        g.rows, g.papeis, g.sequenciais = leitura.rows, spec.papeis, leitura.sequenciais
    else:
        g.itens = [_item_por_elemento(item) for item in spec.elementos(guia)]
    if spec.outras_despesas:
        g.despesas = [_item_por_elemento(d) for d in _XP_DESPESAS(guia)]
    return g


def _valor(resumo: GuiaResumo) -> Decimal | None:
    v = resumo.valor_total
    return v if v is not None and v.is_finite() else None


__all__ = ["Extrato", "extrair"]
