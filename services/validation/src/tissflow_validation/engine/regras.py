"""Step 5: the operator's business rules on a schema-valid lote, and the guide summary.

Runs on the tree `validate` already parsed and schema-checked. Items are read with one
precompiled XPath union per guide (C-speed, text only; a schema-valid item has each
required field exactly once, so the flat list splits evenly) and repeated values
(prices, dates, codes) are judged once per distinct item, so a 10 MB lote costs a few
tens of milliseconds here. Elements are only looked up again to locate a critique.

Codes (table 38, descriptions from the installed glosas.json):
5027 registro ANS · 1206 CNPJ/CPF (check digits, provider not registered) · 1001 carteira
unknown/inactive · 1801 code not in TUSS or outside its vigência · 1308 guide
repeated/already presented · 5039 tooth face outside dm_face · 1806 quantity zero · 1716
redução/acréscimo zero · 1705/1706 item total above/below quantidade × valor unitário ×
redução/acréscimo · 5042 guide total differs from the sum of its items · 3223 date after
the sending date (the header's dataRegistroTransacao, or today) · 1323 implausibly old
date, billed period ending before it starts, item horaFinal before horaInicial · 5025
transaction date in the future · 5040 negative item value or odontologia valorFranquia
(0.00 is allowed) · 5049 negative guide total · 3167 sequencialItem repeated within a
guide's items (or its outras despesas).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from lxml import etree

from .criticas import Criticas
from .documento import NSMAP, q, texto_de
from .model import GuiaResumo, OperatorContext
from .reference import tuss_codigos, tuss_vigencias

_CENT = Decimal("0.01")
_TOLERANCIA = Decimal("0.01")
_MEIO_CENTAVO = Decimal("0.005")
TABELAS_TUSS = frozenset({"18", "19", "20", "22"})

# ct_guiaValorTotal fields and the outrasDespesas codigoDespesa that feeds each.
CATEGORIAS = (
    "valorProcedimentos",
    "valorDiarias",
    "valorTaxasAlugueis",
    "valorMateriais",
    "valorMedicamentos",
    "valorOPME",
    "valorGasesMedicinais",
)
DESPESA_CATEGORIA = {
    "01": "valorGasesMedicinais",
    "02": "valorMedicamentos",
    "03": "valorMateriais",
    "05": "valorDiarias",
    "07": "valorTaxasAlugueis",
    "08": "valorOPME",
}


def X(path: str) -> etree.XPath:
    return etree.XPath(path, namespaces=NSMAP, smart_strings=False)


_TEXTOS = X(".//text()")


class Linhas(NamedTuple):
    """What `Spec.ler` reads of a guide's items."""

    rows: list[tuple[str | None, ...]]
    opcionais: tuple[str, ...] | None  # optional leaves every item has; None: unknown
    sequenciais: list[str] | None  # sequencialItem texts, if read on the way


@dataclass(frozen=True)
class Spec:
    """Where one guide type keeps what the rules need (paths relative to the guide)."""

    elemento: str
    numero: str
    registro: str
    carteira: str
    itens: str  # path to the item elements
    campos: tuple[tuple[str, str], ...]  # (role, path from the item), in document order
    total: str | None  # the guide's declared total of its items
    total_geral: str | None  # the guide's grand total (ct_guiaValorTotal), if any
    datas: tuple[str, ...] = ()  # guide-level dates
    data_guia: str | None = None  # the date shown in the summary (else first item date)
    outras_despesas: bool = False
    # (start date, end date, start time, end time) of the billed period, if any
    periodo: tuple[str, str, str | None, str | None] | None = None
    # guide totals outside a ct_guiaValorTotal block (each must not be negative)
    totais: tuple[str, ...] = ()
    sequencial: bool = True  # the items carry sequencialItem
    # Fast path (see `linhas`): the item's leaves in schema order, "?" marking an
    # optional leaf (at most one per item).
    layout: tuple[str, ...] = ()
    _mapa: dict[str, Any] = field(init=False, repr=False, compare=False)
    _passos: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _textos: etree.XPath | None = field(init=False, repr=False, compare=False)
    _container: str | None = field(init=False, repr=False, compare=False)
    _opcionais: dict[str, etree.XPath] = field(init=False, repr=False, compare=False)
    _posicoes: dict[tuple[str, ...], tuple[int, tuple[int, ...]]] = field(
        init=False, repr=False, compare=False
    )
    _sequenciais: etree.XPath | None = field(init=False, repr=False, compare=False)
    _horas: etree.XPath | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # child tag -> column, or child tag -> {grandchild tag -> column}
        mapa: dict[str, Any] = {}
        for i, (_, path) in enumerate(self.campos):
            partes = [q(p.split(":")[-1]) for p in path.split("/")]
            if len(partes) == 1:
                mapa[partes[0]] = i
            else:
                mapa.setdefault(partes[0], {})[partes[1]] = i
        object.__setattr__(self, "_mapa", mapa)
        container = self.itens.rsplit("/", 1)[0] if "/" in self.itens else None
        object.__setattr__(self, "_textos", _TEXTOS if container and self.layout else None)
        opcionais = {
            nome[1:]: X(f"count(*/ans:{nome[1:]})") for nome in self.layout if nome[0] == "?"
        }
        object.__setattr__(self, "_opcionais", opcionais)
        object.__setattr__(self, "_posicoes", {})
        object.__setattr__(self, "_container", q(container.split(":")[-1]) if container else None)
        passos = tuple(q(p.split(":")[-1]) for p in self.itens.split("/"))
        object.__setattr__(self, "_passos", passos)
        object.__setattr__(
            self, "_sequenciais", X(f"{self.itens}/ans:sequencialItem") if self.sequencial else None
        )
        # Only the items that give both times (few files do): the pairs, in document order.
        horas = None
        if "?horaInicial" in self.layout and "?horaFinal" in self.layout:
            horas = X(
                f"{self.itens}[ans:horaInicial and ans:horaFinal]"
                "/*[self::ans:horaInicial or self::ans:horaFinal]"
            )
        object.__setattr__(self, "_horas", horas)

    @property
    def papeis(self) -> tuple[str, ...]:
        return tuple(r for r, _ in self.campos)

    def elementos(self, guia: etree._Element) -> list[etree._Element]:
        """The guide's item elements, in document order."""
        nivel = [guia]
        for tag in self._passos:
            nivel = [c for el in nivel for c in el.iterchildren(tag)]
        return nivel

    def linhas(self, guia: etree._Element, rapido: bool = True) -> list[tuple[str | None, ...]]:
        return self.ler(guia, rapido).rows

    def ler(self, guia: etree._Element, rapido: bool = True) -> Linhas:
        """One row per item with the texts of `campos`, in order (None when absent).

        Fast path: one XPath call returns the item texts of the guide (blank text is gone
        after `leitura`). Each optional leaf of `layout` is counted; when every kind is in
        all items or in none, the items share one layout of k leaves, and if there are
        exactly n × k texts then every leaf has exactly one text node (each leaf of a
        schema-valid item has at least one; any leaf not in `layout` would add more), so
        positions are fixed. Otherwise, or when `rapido` is False (a comment or PI in the
        lote can split a leaf's text in two), plain child iteration by tag.

        The fast path also tells which optional leaves the items have (`opcionais`; None
        when unknown) and gives the items' sequencialItem texts (`sequenciais`).
        """
        if rapido and self._textos is not None and self._container is not None:
            container = guia.find(self._container)
            if container is None:
                return Linhas([], (), [])
            n = len(container)
            textos = self._textos(container)
            presentes: tuple[str, ...] = ()
            if n and len(textos) != n * self._layout(())[0]:
                # Optional leaves somewhere: take the first item's kinds, and require each
                # of them in every item; the total count below rules out anything else.
                opcionais = self._opcionais
                presentes = tuple(
                    nome for ch in container[0] if (nome := ch.tag.rpartition("}")[2]) in opcionais
                )
                if any(int(opcionais[nome](container)) != n for nome in presentes):
                    presentes = ("-",)
            if presentes != ("-",):
                k, pos = self._layout(presentes)
                if len(textos) == n * k:
                    # column p of every item is textos[p::k]; zip makes the rows in C
                    rows = list(zip(*[textos[p::k] for p in pos], strict=True))
                    seqs = textos[0::k] if self.layout[0] == "sequencialItem" else None
                    return Linhas(rows, presentes, seqs)
        mapa = self._mapa
        k = len(self.campos)
        rows = []
        for item in self.elementos(guia):
            row: list[str | None] = [None] * k
            for ch in item:
                m = mapa.get(ch.tag)
                if m is None:
                    continue
                if m.__class__ is int:
                    row[m] = texto_de(ch)
                else:
                    for gc in ch:
                        j = m.get(gc.tag)
                        if j is not None:
                            row[j] = texto_de(gc)
            rows.append(tuple(row))
        return Linhas(rows, None, None)

    def _layout(self, presentes: tuple[str, ...]) -> tuple[int, tuple[int, ...]]:
        cached = self._posicoes.get(presentes)
        if cached is None:
            folhas = [n.lstrip("?") for n in self.layout if n[0] != "?" or n[1:] in presentes]
            pos = tuple(folhas.index(path.split(":")[-1]) for _, path in self.campos)
            cached = (len(folhas), pos)
            self._posicoes[presentes] = cached
        return cached

    def item(self, guia: etree._Element, i: int) -> etree._Element:
        return self.elementos(guia)[i]


def _texto(el: etree._Element, path: str) -> str | None:
    found = el.xpath(f"string({path})", namespaces=NSMAP)
    return str(found) if found != "" else None


_ITEM_MEDICO = (
    ("data", "ans:dataExecucao"),
    ("tabela", "ans:procedimento/ans:codigoTabela"),
    ("codigo", "ans:procedimento/ans:codigoProcedimento"),
    ("descricao", "ans:procedimento/ans:descricaoProcedimento"),
    ("quantidade", "ans:quantidadeExecutada"),
    ("reducao", "ans:reducaoAcrescimo"),
    ("unitario", "ans:valorUnitario"),
    ("total", "ans:valorTotal"),
)

# Leaves of ct_procedimentoExecutadoSadt/Int/HonorIndiv in schema order. Repeatable
# groups (equipeSadt, identEquipe) are left out: when present, the count check fails
# and the general path runs.
_LAYOUT_MEDICO = (
    "sequencialItem",
    "dataExecucao",
    "?horaInicial",
    "?horaFinal",
    "codigoTabela",
    "codigoProcedimento",
    "descricaoProcedimento",
    "quantidadeExecutada",
    "?viaAcesso",
    "?tecnicaUtilizada",
    "reducaoAcrescimo",
    "valorUnitario",
    "valorTotal",
)
# the one required profissionais of an honorários item (codProfissional is a choice)
_LAYOUT_PROFISSIONAL = (
    "grauParticipacao",
    "codProfissional",
    "nomeProfissional",
    "conselhoProfissional",
    "numeroConselhoProfissional",
    "UF",
    "CBO",
)

SPECS: dict[str, Spec] = {
    "sp_sadt": Spec(
        elemento="guiaSP-SADT",
        numero="ans:cabecalhoGuia/ans:numeroGuiaPrestador",
        registro="ans:cabecalhoGuia/ans:registroANS",
        carteira="ans:dadosBeneficiario/ans:numeroCarteira",
        itens="ans:procedimentosExecutados/ans:procedimentoExecutado",
        campos=_ITEM_MEDICO,
        layout=_LAYOUT_MEDICO,
        total="ans:valorTotal/ans:valorProcedimentos",
        total_geral="ans:valorTotal",
        datas=("ans:dadosSolicitacao/ans:dataSolicitacao",),
        outras_despesas=True,
    ),
    "resumo_internacao": Spec(
        elemento="guiaResumoInternacao",
        numero="ans:cabecalhoGuia/ans:numeroGuiaPrestador",
        registro="ans:cabecalhoGuia/ans:registroANS",
        carteira="ans:dadosBeneficiario/ans:numeroCarteira",
        itens="ans:procedimentosExecutados/ans:procedimentoExecutado",
        campos=_ITEM_MEDICO,
        layout=(*_LAYOUT_MEDICO, "?centroConsumo"),
        total="ans:valorTotal/ans:valorProcedimentos",
        total_geral="ans:valorTotal",
        datas=(
            "ans:dadosInternacao/ans:dataInicioFaturamento",
            "ans:dadosInternacao/ans:dataFinalFaturamento",
        ),
        data_guia="ans:dadosInternacao/ans:dataInicioFaturamento",
        outras_despesas=True,
        periodo=(
            "ans:dadosInternacao/ans:dataInicioFaturamento",
            "ans:dadosInternacao/ans:dataFinalFaturamento",
            "ans:dadosInternacao/ans:horaInicioFaturamento",
            "ans:dadosInternacao/ans:horaFinalFaturamento",
        ),
    ),
    "honorarios": Spec(
        elemento="guiaHonorarios",
        numero="ans:cabecalhoGuia/ans:numeroGuiaPrestador",
        registro="ans:cabecalhoGuia/ans:registroANS",
        carteira="ans:beneficiario/ans:numeroCarteira",
        itens="ans:procedimentosRealizados/ans:procedimentoRealizado",
        campos=(*_ITEM_MEDICO, ("grau", "ans:profissionais/ans:grauParticipacao")),
        layout=(*_LAYOUT_MEDICO, *_LAYOUT_PROFISSIONAL),
        total="ans:valorTotalHonorarios",
        total_geral=None,
        datas=(
            "ans:dadosInternacao/ans:dataInicioFaturamento",
            "ans:dadosInternacao/ans:dataFimFaturamento",
            "ans:dataEmissaoGuia",
        ),
        periodo=(
            "ans:dadosInternacao/ans:dataInicioFaturamento",
            "ans:dadosInternacao/ans:dataFimFaturamento",
            None,
            None,
        ),
        totais=("ans:valorTotalHonorarios",),
    ),
    "odontologia": Spec(
        elemento="guiaOdonto",
        numero="ans:numeroGuiaPrestador",
        registro="ans:registroANS",
        carteira="ans:dadosBeneficiario/ans:numeroCarteira",
        itens="ans:procedimentosExecutados",
        campos=(
            ("tabela", "ans:procSolic/ans:codigoTabela"),
            ("codigo", "ans:procSolic/ans:codigoProcedimento"),
            ("descricao", "ans:procSolic/ans:descricaoProcedimento"),
            ("quantidade", "ans:qtdProc"),
            ("total", "ans:valorProc"),
            ("data", "ans:dataRealizacao"),
        ),
        total="ans:valorTotalProc",
        total_geral=None,
        totais=("ans:valorTotalProc", "ans:valorTotalFranquia"),
    ),
    "consulta": Spec(
        elemento="guiaConsulta",
        numero="ans:cabecalhoConsulta/ans:numeroGuiaPrestador",
        registro="ans:cabecalhoConsulta/ans:registroANS",
        carteira="ans:dadosBeneficiario/ans:numeroCarteira",
        itens="ans:dadosAtendimento",
        campos=(
            ("data", "ans:dataAtendimento"),
            ("tabela", "ans:procedimento/ans:codigoTabela"),
            ("codigo", "ans:procedimento/ans:codigoProcedimento"),
            ("total", "ans:procedimento/ans:valorProcedimento"),
        ),
        total=None,
        total_geral=None,
        sequencial=False,
    ),
}
SPEC_POR_ELEMENTO = {s.elemento: (tipo, s) for tipo, s in SPECS.items()}

_DESPESAS = X("ans:outrasDespesas/ans:despesa")
_FACES = f"{q('procedimentosExecutados')}/{q('denteFace')}"
_FRANQUIAS = f"{q('procedimentosExecutados')}/{q('valorFranquia')}"
_FACE_RE = re.compile(r"[OLMVDIP]{1,5}")  # dm_face of the ANS schema
_DESPESA_CAMPOS = (
    ("categoria", "ans:codigoDespesa"),
    ("data", "ans:servicosExecutados/ans:dataExecucao"),
    ("tabela", "ans:servicosExecutados/ans:codigoTabela"),
    ("codigo", "ans:servicosExecutados/ans:codigoProcedimento"),
    ("quantidade", "ans:servicosExecutados/ans:quantidadeExecutada"),
    ("reducao", "ans:servicosExecutados/ans:reducaoAcrescimo"),
    ("unitario", "ans:servicosExecutados/ans:valorUnitario"),
    ("total", "ans:servicosExecutados/ans:valorTotal"),
)
_DESPESA_TAG = {
    "quantidade": "quantidadeExecutada",
    "reducao": "reducaoAcrescimo",
    "unitario": "valorUnitario",
    "total": "valorTotal",
}
_SEQ_DESPESAS = X("ans:outrasDespesas/ans:despesa/ans:sequencialItem")


def dec(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None


_DEC_CACHE: dict[str, Decimal | None] = {}


def dec_cache(text: str | None) -> Decimal | None:
    """`dec` through a bounded cache: item values repeat a lot within a lote."""
    if text is None:
        return None
    v = _DEC_CACHE.get(text, False)
    if v is False:
        v = dec(text)
        if len(_DEC_CACHE) < 50_000:
            _DEC_CACHE[text] = v
    return v  # type: ignore[return-value]


def dinheiro(v: Decimal) -> Decimal:
    return v.quantize(_CENT, rounding=ROUND_HALF_UP)


# --- identity ------------------------------------------------------------------------


def cnpj_valido(cnpj: str) -> bool:
    """CNPJ check digits, numeric or the alphanumeric CNPJ (characters valued ASCII - 48)."""
    if len(cnpj) != 14 or not cnpj[12:].isdigit() or len(set(cnpj)) == 1:
        return False
    valores = [ord(c) - 48 for c in cnpj.upper()]
    if any(v < 0 or v > 42 for v in valores[:12]):
        return False
    pesos = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for pos in (12, 13):
        p = pesos if pos == 12 else [6, *pesos]
        resto = sum(v * w for v, w in zip(valores[:pos], p, strict=True)) % 11
        if valores[pos] != (0 if resto < 2 else 11 - resto):
            return False
    return True


def cpf_valido(cpf: str) -> bool:
    if len(cpf) != 11 or not cpf.isdigit() or len(set(cpf)) == 1:
        return False
    d = [int(c) for c in cpf]
    for pos in (9, 10):
        soma = sum(d[i] * (pos + 1 - i) for i in range(pos))
        dv = soma * 10 % 11 % 10
        if d[pos] != dv:
            return False
    return True


def _nome_de(registro: Any) -> str | None:
    if isinstance(registro, str):
        return registro
    if isinstance(registro, Mapping):
        nome = registro.get("nome")
        return str(nome) if nome else None
    nome = getattr(registro, "nome", None)
    return str(nome) if nome else None


def _ativo(registro: Any) -> bool:
    if isinstance(registro, bool):
        return registro
    if isinstance(registro, Mapping):
        return bool(registro.get("ativo", True))
    if hasattr(registro, "ativo"):
        return bool(registro.ativo)
    return bool(registro)


# --- the rules -----------------------------------------------------------------------

_ORIGEM = X("ans:cabecalho/ans:origem/ans:identificacaoPrestador/*")
_DESTINO = X("ans:cabecalho/ans:destino/ans:registroANS")
_DATA_TRANSACAO = X("ans:cabecalho/ans:identificacaoTransacao/ans:dataRegistroTransacao")
_GUIAS = X("ans:prestadorParaOperadora/ans:loteGuias/ans:guiasTISS/*")
_DOCS = (q("cnpjContratado"), q("cpfContratado"), q("cnpjLocalExecutante"))


@dataclass(slots=True)
class Lote:
    """What the rules learn about the lote, for the ValidationResult."""

    prestador: dict[str, str | None] | None = None
    tipo_guia: str | None = None
    guias: list[GuiaResumo] = field(default_factory=list)
    valor_total: Decimal | None = None
    # each guide as the rules read it, for the extract `file.validated` carries
    lidas: list[Lida] = field(default_factory=list)


class Lida(NamedTuple):
    """One guide as the rules read it: its spec, element, summary and item rows."""

    spec: Spec
    guia: etree._Element
    resumo: GuiaResumo
    leitura: Linhas | None


def identificar_prestador(
    root: etree._Element, ctx: OperatorContext
) -> dict[str, str | None] | None:
    ident = _ORIGEM(root)
    if not ident:
        return None
    el = ident[0]
    tipo = el.tag.rpartition("}")[2]
    valor = texto_de(el).strip()
    nome = None
    if ctx.prestadores is not None and valor in ctx.prestadores:
        nome = _nome_de(ctx.prestadores[valor])
    return {"tipo": tipo, "valor": valor, "nome": nome}


class _Executor:
    """Runs every rule over one lote; one instance per `validate` call."""

    def __init__(self, root: etree._Element, ctx: OperatorContext, criticas: Criticas) -> None:
        self.root = root
        self.ctx = ctx
        self.c = criticas
        self.hoje = ctx.hoje or date.today()
        self.minima = self.hoje - timedelta(days=ctx.idade_maxima_dias)
        # Dates of attendance are compared with the message's own sending date (its
        # dataRegistroTransacao) when it is there and not in the future, else with today.
        self.envio = self.hoje
        self.envio_da_transacao = False
        encontrada = _DATA_TRANSACAO(root)
        self.el_data_transacao = encontrada[0] if encontrada else None
        self.data_transacao = (
            _data(texto_de(self.el_data_transacao)) if self.el_data_transacao is not None else None
        )
        if self.data_transacao is not None and self.data_transacao < self.hoje:
            self.envio, self.envio_da_transacao = self.data_transacao, True
        self._datas: dict[str, str | None] = {}
        self._itens: dict[tuple[str | None, ...], tuple[str, str, str] | None] = {}
        self._tuss: frozenset[tuple[str, str]] | None = None
        self._vigencias: dict[tuple[str, str], tuple[str, str]] = {}
        self._docs: dict[str, bool] = {}
        # A comment or PI inside a leaf splits its text: no positional fast path then.
        lote = root.find(q("prestadorParaOperadora"))
        self.rapido = lote is None or next(lote.iter(etree.Comment, etree.PI), None) is None

    # identity of the sender and the addressee
    def cabecalho(self, lote: Lote) -> None:
        ctx = self.ctx
        destino = _DESTINO(self.root)
        if ctx.registro_ans is not None and destino:
            valor = texto_de(destino[0]).strip()
            if valor != ctx.registro_ans:
                self.c.add(
                    "5027",
                    f"registro ANS de destino {valor} diferente do registro da operadora "
                    f"{ctx.registro_ans}",
                    destino[0],
                )
        d = self.data_transacao
        if d is not None and d > self.hoje + timedelta(days=1):
            self.c.add(
                "5025",
                f"data de registro da transação {d.isoformat()} no futuro",
                self.el_data_transacao,
            )
        ident = _ORIGEM(self.root)
        if not ident or lote.prestador is None:
            return
        el = ident[0]
        tipo, valor = lote.prestador["tipo"], lote.prestador["valor"] or ""
        if tipo == "CNPJ" and not cnpj_valido(valor):
            self.c.add("1206", f"CNPJ {valor} do prestador com dígitos verificadores inválidos", el)
        elif tipo == "CPF" and not cpf_valido(valor):
            self.c.add("1206", f"CPF {valor} do prestador com dígitos verificadores inválidos", el)
        elif ctx.prestadores is not None and valor not in ctx.prestadores:
            self.c.add("1206", "prestador não localizado na operadora", el)
        elif ctx.prestador_remetente is not None and valor not in ctx.prestador_remetente:
            # A clinic bills only in its own name: the file's sender must be its user's.
            self.c.add(
                "1206",
                f"o arquivo identifica o prestador {valor}, mas foi enviado por outro "
                "prestador: envie-o com o usuário desse prestador",
                el,
            )

    def documentos(self, guias: list[tuple[etree._Element, str | None]]) -> None:
        """Check digits of every CNPJ/CPF of contracted parties inside the guides."""
        for guia, numero in guias:
            for el in guia.iter(*_DOCS):
                valor = texto_de(el).strip()
                ok = self._docs.get(valor)
                if ok is None:
                    ok = cpf_valido(valor) if el.tag == _DOCS[1] else cnpj_valido(valor)
                    self._docs[valor] = ok
                if not ok:
                    tipo = "CPF" if el.tag == _DOCS[1] else "CNPJ"
                    self.c.add(
                        "1206",
                        f"{tipo} {valor} com dígitos verificadores inválidos",
                        el,
                        numero_guia=numero,
                    )

    def data(self, texto: str | None) -> str | None:
        """None when plausible, else the code (3223 future, 1323 too old)."""
        if texto is None:
            return None
        if texto in self._datas:
            return self._datas[texto]
        d = _data(texto)
        res = None
        if d is not None:
            if d > self.envio:
                res = "3223"
            elif d < self.minima:
                res = "1323"
        self._datas[texto] = res
        return res

    def critica_data(self, codigo: str, texto: str, el: etree._Element, numero: str | None) -> None:
        if codigo == "3223":
            fonte = ", dataRegistroTransacao do cabeçalho" if self.envio_da_transacao else ""
            msg = (
                f"data {texto} posterior à data de envio do lote ({self.envio.isoformat()}{fonte})"
            )
        else:
            msg = (
                f"data {texto} anterior a {self.minima.isoformat()}: fora do prazo "
                "plausível de apresentação"
            )
        self.c.add(codigo, msg, el, numero_guia=numero)

    def tuss(self, tabela: str | None, codigo: str | None, data: str | None = None) -> str | None:
        """None when the code is in TUSS (and in vigência on `data`), else the detail of
        its 1801 critique. Only the TUSS tables are looked up (not 00, 90, 98: the
        operator's and the provider's own codes)."""
        if tabela not in TABELAS_TUSS or codigo is None:
            return None
        if self._tuss is None:
            self._tuss = tuss_codigos()
            self._vigencias = tuss_vigencias()
        chave = (tabela, codigo.strip())
        if chave not in self._tuss:
            return f"código {codigo} não existe na TUSS tabela {tabela}"
        vigencia = self._vigencias.get(chave)
        dia = (data or "").strip()[:10]
        if vigencia is None or len(dia) != 10:
            return None
        ini, fim = vigencia
        if (ini and dia < ini) or (fim and dia > fim):
            de = _data_br(ini) if ini else "sem início"
            ate = _data_br(fim) if fim else "hoje"
            return (
                f"código {codigo} da TUSS tabela {tabela} não estava vigente em "
                f"{_data_br(dia)} (vigência de {de} a {ate})"
            )
        return None

    def item(
        self, row: tuple[str | None, ...], papeis: tuple[str, ...]
    ) -> tuple[str, str, str] | None:
        """Quantity and values of one item: None, or (code, detail, role of the field)."""
        cached = self._itens.get(row, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        v = dict(zip(papeis, row, strict=True))
        res: tuple[str, str, str] | None = None
        qtd = dec(v.get("quantidade"))
        unit = dec(v.get("unitario"))
        total = dec(v.get("total"))
        if qtd is not None and qtd <= 0:
            res = ("1806", f"quantidade informada {v.get('quantidade')}", "quantidade")
        elif unit is not None and unit < 0:
            res = ("5040", _negativo("valor unitário", v["unitario"]), "unitario")
        elif total is not None and total < 0:
            res = ("5040", _negativo("valor do item", v["total"]), "total")
        elif "unitario" in v:
            red = dec(v.get("reducao"))
            if red is not None and red <= 0:
                res = (
                    "1716",
                    f"fator de redução/acréscimo {v.get('reducao')} deve ser maior que zero",
                    "reducao",
                )
            elif None not in (qtd, red, unit, total):
                esperado = dinheiro(qtd * unit * red)  # type: ignore[operator]
                diff = total - esperado  # type: ignore[operator]
                # Generators round unit × factor to cents before multiplying by the
                # quantity: up to half a cent per unit either way is not an error.
                tolerancia = _TOLERANCIA
                if red != 1:
                    tolerancia += qtd * _MEIO_CENTAVO  # type: ignore[operator]
                if abs(diff) > tolerancia:
                    codigo = "1705" if diff > 0 else "1706"
                    res = (
                        codigo,
                        f"valor total do item {total} difere de quantidade {v['quantidade']} × "
                        f"valor unitário {v['unitario']} × redução/acréscimo {v['reducao']} = "
                        f"{esperado}",
                        "total",
                    )
        self._itens[row] = res
        return res


def _negativo(campo: str, texto: str | None) -> str:
    return (
        f"{campo} {(texto or '').strip()} negativo: valores negativos não são aceitos "
        "(um item sem cobrança é informado com 0.00)"
    )


def _data_br(iso: str) -> str:
    """'2024-03-01' -> '01/03/2024', as the clerk reads dates."""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def _data(texto: str | None) -> date | None:
    if not texto:
        return None
    try:
        return date.fromisoformat(texto.strip()[:10])
    except ValueError:
        return None


def _find_text(guia: etree._Element, path: str) -> tuple[str | None, etree._Element | None]:
    found = guia.xpath(path, namespaces=NSMAP)
    if not found:
        return None, None
    el = found[0]
    texto = texto_de(el).strip()
    return (texto or None), el


def guias_do_lote(root: etree._Element) -> list[etree._Element]:
    return _GUIAS(root)


def aplicar(root: etree._Element, ctx: OperatorContext, criticas: Criticas) -> Lote:
    """Run every operator rule on a schema-valid message; returns the lote summary."""
    lote = Lote(prestador=identificar_prestador(root, ctx))
    ex = _Executor(root, ctx, criticas)
    ex.cabecalho(lote)
    guias = guias_do_lote(root)
    if not guias:
        return lote
    tipo_spec = SPEC_POR_ELEMENTO.get(guias[0].tag.rpartition("}")[2])
    if tipo_spec is None:
        return lote
    lote.tipo_guia, spec = tipo_spec
    prestador_id = (lote.prestador or {}).get("valor") or ""
    vistos: dict[str, str] = {}
    com_numero: list[tuple[etree._Element, str | None]] = []
    soma_lote = Decimal(0)
    base = "/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS/" + spec.elemento
    for i, guia in enumerate(guias, 1):
        numero, el_numero = _find_text(guia, spec.numero)
        com_numero.append((guia, numero))
        xpath_guia = f"{base}[{i}]" if len(guias) > 1 else base
        resumo, leitura = _regras_da_guia(
            ex, spec, guia, numero, el_numero, prestador_id, vistos, xpath_guia
        )
        lote.guias.append(resumo)
        lote.lidas.append(Lida(spec, guia, resumo, leitura))
        if resumo.valor_total is not None:
            soma_lote += resumo.valor_total
    ex.documentos(com_numero)
    lote.valor_total = soma_lote
    return lote


def _regras_da_guia(
    ex: _Executor,
    spec: Spec,
    guia: etree._Element,
    numero: str | None,
    el_numero: etree._Element | None,
    prestador_id: str,
    vistos: dict[str, str],
    xpath_guia: str,
) -> tuple[GuiaResumo, Linhas]:
    ctx, c = ex.ctx, ex.c
    # registro ANS of the guide
    registro, el_reg = _find_text(guia, spec.registro)
    if ctx.registro_ans is not None and registro is not None and registro != ctx.registro_ans:
        c.add(
            "5027",
            f"registro ANS {registro} da guia diferente do registro da operadora "
            f"{ctx.registro_ans}",
            el_reg,
            numero_guia=numero,
        )
    # duplicates
    if numero is not None and el_numero is not None:
        if numero in vistos:
            c.add(
                "1308",
                f"número de guia do prestador {numero} repetido no lote ({vistos[numero]})",
                el_numero,
                numero_guia=numero,
            )
        else:
            vistos[numero] = f"primeira ocorrência na linha {el_numero.sourceline}"
            if ctx.guia_ja_apresentada is not None and c.enabled("1308"):
                if ctx.guia_ja_apresentada(prestador_id, numero):
                    c.add(
                        "1308",
                        f"a guia {numero} já foi apresentada à operadora em outro lote",
                        el_numero,
                        numero_guia=numero,
                    )
    # beneficiary
    carteira, el_cart = _find_text(guia, spec.carteira)
    if ctx.beneficiarios is not None and carteira is not None:
        if carteira not in ctx.beneficiarios:
            c.add(
                "1001",
                f"carteira {carteira} não localizada na operadora",
                el_cart,
                numero_guia=numero,
            )
        elif not _ativo(ctx.beneficiarios[carteira]):
            c.add(
                "1001", f"carteira {carteira} de beneficiário inativo", el_cart, numero_guia=numero
            )
    # guide-level dates
    for path in spec.datas:
        texto, el = _find_text(guia, path)
        codigo = ex.data(texto)
        if codigo and el is not None and texto:
            ex.critica_data(codigo, texto, el, numero)
    if spec.periodo is not None:
        _periodo(ex, spec.periodo, guia, numero)
    # items
    papeis = spec.papeis
    leitura = spec.ler(guia, ex.rapido)
    rows = leitura.rows
    idx = {p: i for i, p in enumerate(papeis)}
    i_tab, i_cod, i_tot, i_data = idx["tabela"], idx["codigo"], idx["total"], idx.get("data")
    soma_itens = Decimal(0)
    somas_validas = True
    # Without a unit value (odontologia's valorProc), generators read the item value
    # either as the line total or as the unit value: the guide total may be either sum.
    i_qtd = idx.get("quantidade") if "unitario" not in idx else None
    soma_por_quantidade: Decimal | None = Decimal(0) if i_qtd is not None else None
    cache_itens: list[list[etree._Element]] = []

    def item_el(n: int, papel_idx: int | None = None) -> etree._Element:
        if not cache_itens:
            cache_itens.append(spec.elementos(guia))
        item = cache_itens[0][n]
        if papel_idx is None:
            return item
        found = item.xpath(spec.campos[papel_idx][1], namespaces=NSMAP)
        return found[0] if found else item

    # Items repeat a lot (same procedure, date and price): each distinct row is judged
    # once, and only the rows that fail are walked again to locate their elements.
    falhas: dict[
        tuple[str | None, ...], tuple[str | None, str | None, tuple[str, str, str] | None]
    ] = {}
    for row in set(rows):
        data_item = row[i_data] if i_data is not None else None
        fora_da_tuss = ex.tuss(row[i_tab], row[i_cod], data_item)
        codigo_data = ex.data(data_item)
        problema = ex.item(row, papeis)
        if fora_da_tuss or codigo_data or problema is not None:
            falhas[row] = (fora_da_tuss, codigo_data, problema)
    if falhas:
        for n, row in enumerate(rows):
            falha = falhas.get(row)
            if falha is None:
                continue
            fora_da_tuss, codigo_data, problema = falha
            if fora_da_tuss:
                c.add("1801", fora_da_tuss, item_el(n, i_cod), numero_guia=numero)
            if codigo_data and i_data is not None:
                ex.critica_data(codigo_data, row[i_data] or "", item_el(n, i_data), numero)
            if problema is not None:
                alvo = item_el(n, idx.get(problema[2]))
                c.add(problema[0], problema[1], alvo, numero_guia=numero)
    # Sums over the distinct values, each times its count: exact in Decimal.
    for texto, vezes in Counter(row[i_tot] for row in rows).items():
        valor = dec_cache(texto)
        if valor is None:
            somas_validas = False
            break
        soma_itens += valor * vezes
    if soma_por_quantidade is not None and i_qtd is not None and somas_validas:
        for (t_qtd, t_tot), vezes in Counter((row[i_qtd], row[i_tot]) for row in rows).items():
            qtd = dec_cache(t_qtd)
            if qtd is None:
                soma_por_quantidade = None
                break
            soma_por_quantidade += qtd * dec_cache(t_tot) * vezes  # type: ignore[operator]
    opcionais = leitura.opcionais
    if spec._horas is not None and (
        opcionais is None or ("horaInicial" in opcionais and "horaFinal" in opcionais)
    ):
        _horas_dos_itens(ex, spec._horas(guia), numero)
    if spec._sequenciais is not None:
        xp = spec._sequenciais
        _sequenciais(ex, leitura.sequenciais, lambda: xp(guia), numero, "item")
    if spec.outras_despesas:
        _sequenciais(ex, None, lambda: _SEQ_DESPESAS(guia), numero, "despesa")
    # tooth faces: st_texto5 in guiaOdonto, but the values are those of dm_face
    if spec.elemento == "guiaOdonto":
        for face in guia.iterfind(_FACES):
            valor = texto_de(face).strip()
            if not _FACE_RE.fullmatch(valor):
                c.add(
                    "5039",
                    f"face do dente '{valor}' inválida: use de 1 a 5 das letras O, L, M, V, D, "
                    "I, P (ex.: OMD)",
                    face,
                    numero_guia=numero,
                )
        # the item's optional co-payment (valorFranquia) is money too
        for franquia in guia.iterfind(_FRANQUIAS):
            texto = texto_de(franquia)
            valor = dec_cache(texto)
            if valor is not None and valor < 0:
                c.add("5040", _negativo("valor da franquia", texto), franquia, numero_guia=numero)
    # other expenses (materials, drugs, fees): fewer, read one by one
    categorias: dict[str, Decimal] = {}
    if spec.outras_despesas:
        for despesa in _DESPESAS(guia):
            row = tuple(_texto(despesa, p) for _, p in _DESPESA_CAMPOS)
            v = dict(zip((r for r, _ in _DESPESA_CAMPOS), row, strict=True))
            servico = despesa.find(q("servicosExecutados"))
            alvo = servico if servico is not None else despesa
            fora_da_tuss = ex.tuss(v["tabela"], v["codigo"], v["data"])
            if fora_da_tuss:
                c.add("1801", fora_da_tuss, alvo.find(q("codigoProcedimento")), numero_guia=numero)
            codigo_data = ex.data(v["data"])
            if codigo_data:
                ex.critica_data(codigo_data, v["data"] or "", alvo.find(q("dataExecucao")), numero)
            papeis_d = ("quantidade", "reducao", "unitario", "total")
            problema = ex.item(tuple(v[p] for p in papeis_d), papeis_d)
            if problema is not None:
                campo = alvo.find(q(_DESPESA_TAG[problema[2]]))
                c.add(
                    problema[0],
                    problema[1],
                    campo if campo is not None else alvo,
                    numero_guia=numero,
                )
            cat = DESPESA_CATEGORIA.get(v["categoria"] or "")
            valor = dec(v["total"])
            if cat and valor is not None:
                categorias[cat] = categorias.get(cat, Decimal(0)) + valor
    # guide totals
    declarado, el_total = (None, None)
    if spec.total is not None:
        declarado, el_total = _find_text(guia, spec.total)
    total_guia = dec(declarado)
    if el_total is not None and total_guia is not None and somas_validas and rows:
        if total_guia != soma_itens and total_guia != soma_por_quantidade:
            c.add(
                "5042",
                f"valor informado {declarado} em '{el_total.tag.rpartition('}')[2]}' difere da "
                f"soma dos itens {soma_itens}",
                el_total,
                numero_guia=numero,
            )
    for path in spec.totais:
        texto, el = _find_text(guia, path)
        valor = dec(texto)
        if valor is not None and valor < 0 and el is not None:
            _total_negativo(ex, el, texto, numero)
    if spec.total_geral is not None:
        bloco = guia.find(q(spec.total_geral.split(":")[-1]))
        if bloco is not None:
            valores = {}
            for ch in bloco:
                if not isinstance(ch.tag, str):
                    continue
                texto = texto_de(ch)
                valor = valores[ch.tag.rpartition("}")[2]] = dec(texto)
                if valor is not None and valor < 0:
                    _total_negativo(ex, ch, texto, numero)
            geral = valores.get("valorTotalGeral")
            partes = [v for k, v in valores.items() if k in CATEGORIAS and v is not None]
            if geral is not None and partes and sum(partes, Decimal(0)) != geral:
                c.add(
                    "5042",
                    f"valor total geral {geral} difere da soma das parcelas da guia "
                    f"{sum(partes, Decimal(0))}",
                    bloco.find(q("valorTotalGeral")),
                    numero_guia=numero,
                )
            for cat, soma in categorias.items():
                informado = valores.get(cat)
                if informado is not None and informado != soma:
                    c.add(
                        "5042",
                        f"valor informado {informado} em '{cat}' difere da soma das despesas "
                        f"{soma}",
                        bloco.find(q(cat)),
                        numero_guia=numero,
                    )
    return _resumo_da_guia(spec, guia, rows, xpath_guia), leitura


def _resumo_da_guia(
    spec: Spec, guia: etree._Element, rows: list[tuple[str | None, ...]], xpath: str
) -> GuiaResumo:
    """The guide's line in the verdict, as the file has it: number, carteira, value (the
    grand total, else the items' total, else the one item's value) and date (the guide's,
    else its first item's). Read only: valid or not, every file is summarized alike."""
    numero, _ = _find_text(guia, spec.numero)
    carteira, _ = _find_text(guia, spec.carteira)
    valor = dec(_find_text(guia, spec.total)[0]) if spec.total is not None else None
    if spec.total_geral is not None:
        geral = dec(_find_text(guia, f"{spec.total_geral}/ans:valorTotalGeral")[0])
        valor = geral if geral is not None else valor
    elif spec.total is None and rows:
        valor = dec(rows[0][spec.papeis.index("total")])
    data = _find_text(guia, spec.data_guia)[0] if spec.data_guia else None
    if data is None and "data" in spec.papeis:
        i_data = spec.papeis.index("data")
        data = next((r[i_data].strip() for r in rows if r[i_data]), None)
    return GuiaResumo(numero, carteira, valor, data, xpath, guia.sourceline)


def _total_negativo(
    ex: _Executor, el: etree._Element, texto: str | None, numero: str | None
) -> None:
    ex.c.add(
        "5049",
        f"'{el.tag.rpartition('}')[2]}' da guia {(texto or '').strip()} negativo: o total da "
        "guia não pode ser menor que zero",
        el,
        numero_guia=numero,
    )


def _periodo(
    ex: _Executor,
    periodo: tuple[str, str, str | None, str | None],
    guia: etree._Element,
    numero: str | None,
) -> None:
    """The billed period must end on or after its start (1323)."""
    t_ini, el_ini = _find_text(guia, periodo[0])
    t_fim, el_fim = _find_text(guia, periodo[1])
    ini, fim = _data(t_ini), _data(t_fim)
    if ini is None or fim is None or el_fim is None:
        return
    nome_ini, nome_fim = (p.rpartition(":")[2] for p in periodo[:2])
    if fim < ini:
        ex.c.add(
            "1323",
            f"{nome_fim} {t_fim} anterior a {nome_ini} {t_ini}: o fim do período faturado não "
            "pode ser antes do início",
            el_fim,
            numero_guia=numero,
        )
        return
    if fim != ini or periodo[2] is None or periodo[3] is None:
        return
    h_ini, _ = _find_text(guia, periodo[2])
    h_fim, el_hfim = _find_text(guia, periodo[3])
    s_ini, s_fim = _segundos(h_ini), _segundos(h_fim)
    if s_ini is not None and s_fim is not None and s_fim < s_ini and el_hfim is not None:
        nome_hini, nome_hfim = (p.rpartition(":")[2] for p in periodo[2:])
        ex.c.add(
            "1323",
            f"{nome_hfim} {h_fim} anterior a {nome_hini} {h_ini} no mesmo dia ({t_ini}): o fim "
            "do período faturado não pode ser antes do início",
            el_hfim,
            numero_guia=numero,
        )


# horaFinal < horaInicial on one item is an error unless it reads as a procedure that
# crossed midnight: the overnight reading (final + 24 h) must last at most this long.
_MAX_PELA_MEIA_NOITE = 12 * 3600


def _horas_dos_itens(ex: _Executor, horas: list[etree._Element], numero: str | None) -> None:
    """horaInicial/horaFinal pairs of the items that give both (1323)."""
    for el_ini, el_fim in zip(horas[0::2], horas[1::2], strict=False):
        t_ini, t_fim = texto_de(el_ini).strip(), texto_de(el_fim).strip()
        if t_fim >= t_ini and len(t_fim) == len(t_ini):
            continue  # same layout (HH:MM:SS...): text order is time order
        s_ini, s_fim = _segundos(t_ini), _segundos(t_fim)
        if s_ini is None or s_fim is None or s_fim >= s_ini:
            continue
        if s_fim + 86400 - s_ini <= _MAX_PELA_MEIA_NOITE:
            continue  # e.g. 23:00 → 01:00: started before midnight, ended after
        ex.c.add(
            "1323",
            f"horaFinal {t_fim} anterior à horaInicial {t_ini} do item: a hora final do "
            "procedimento não pode ser antes da inicial",
            el_fim,
            numero_guia=numero,
        )


def _segundos(texto: str | None) -> float | None:
    """Seconds since midnight of an xs:time (UTC when it carries a time zone)."""
    if not texto:
        return None
    try:
        t = time.fromisoformat(texto.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    s = t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
    offset = t.utcoffset()
    return s - offset.total_seconds() if offset is not None else s


def _sequenciais(
    ex: _Executor,
    textos: list[str] | None,
    elementos_de: Callable[[], list[etree._Element]],
    numero: str | None,
    o_que: str,
) -> None:
    """sequencialItem identifies an item within its list: a repeated one is 3167."""
    elementos = None
    if textos is None:
        elementos = elementos_de()
        textos = [texto_de(el) for el in elementos]
    if len(textos) < 2:
        return
    juntos = "," + ",".join(textos)
    if len(set(textos)) == len(textos) and juntos[1:].replace(",", "").isdigit():
        if ",0" not in juntos:
            return  # distinct integers written without leading zeros: no repeats
    if elementos is None:
        elementos = elementos_de()
    vistos: dict[int, etree._Element] = {}
    for el, texto in zip(elementos, textos, strict=True):
        try:
            n = int(texto)
        except ValueError:
            continue
        primeiro = vistos.setdefault(n, el)
        if primeiro is not el:
            ex.c.add(
                "3167",
                f"sequencialItem {texto.strip()} repetido na guia ({o_que} da linha "
                f"{primeiro.sourceline} tem o mesmo número): cada {o_que} da guia deve ter "
                "o seu",
                el,
                numero_guia=numero,
            )


def iter_guias(root: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    for g in guias_do_lote(root):
        tipo = SPEC_POR_ELEMENTO.get(g.tag.rpartition("}")[2])
        if tipo:
            yield tipo[0], g


def numero_da_guia(el: etree._Element | None) -> str | None:
    """numeroGuiaPrestador of the guide containing `el`, if any."""
    node = el
    while node is not None:
        parent = node.getparent()
        if parent is not None and parent.tag == q("guiasTISS"):
            tipo = SPEC_POR_ELEMENTO.get(node.tag.rpartition("}")[2])
            if tipo is None:
                return None
            texto, _ = _find_text(node, tipo[1].numero)
            return texto
        node = parent
    return None


def resumo_das_guias(root: etree._Element) -> tuple[list[Lida], Decimal | None]:
    """What can be read of each guide of a file the rules do not run on (schema-invalid,
    mixed lote, unsupported version): the same summary `aplicar` gives, read only.

    Elements that are no guide type are skipped; a value that is not a number is None.
    """
    base = "/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS/"
    guias = guias_do_lote(root)
    contagem = Counter(g.tag for g in guias)
    vistos: Counter[str] = Counter()
    lidas: list[Lida] = []
    soma = Decimal(0)
    for guia in guias:
        tipo_spec = SPEC_POR_ELEMENTO.get(guia.tag.rpartition("}")[2])
        vistos[guia.tag] += 1
        if tipo_spec is None:
            continue
        spec = tipo_spec[1]
        xpath = base + spec.elemento
        if contagem[guia.tag] > 1:
            xpath += f"[{vistos[guia.tag]}]"
        resumo = _resumo_da_guia(spec, guia, spec.ler(guia, rapido=False).rows, xpath)
        lidas.append(Lida(spec, guia, resumo, None))
        if resumo.valor_total is not None:
            soma += resumo.valor_total
    return lidas, (soma if lidas else None)
