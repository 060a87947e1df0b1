"""Random TISS messages generated from the ANS XSDs themselves, for property tests.

Our other fixtures are written by our own templates, so they share our reading of the
standard. This generator knows nothing of the engine: it walks the installed schemas
(`tiss/_data/schemas/<versao>/tissV*.xsd` and what they include, read with lxml at test
time, never copied into the repository) and writes what any other software could write
within the schema: each optional element present or not, repeats (capped at 1–3),
any branch of a choice, any enumeration value, pattern, length, digits or date.

`gerar(esquema, tipo_guia, seed, hoje)` does it in three steps:

1. `Gerador(esquema, hoje, rng).mensagem(tipo_guia)`: a schema-valid ENVIO_LOTE_GUIAS
   message with 1–3 guides of one type, driven only by the XSD (a few choices are
   forced so that it is a lote of guides from a provider to the operator: `FORCADOS`).
2. `consistente(root, rng, hoje, bases)`: the edits the operator rules need (see
   `regras.py`) and nothing else: registroANS 331988, valid CNPJ/CPF, dates in the 30
   days before the sending date with periods and item times in order, TUSS-independent
   tables (00/98), item totals = quantity × unit × factor, guide totals = sum of items,
   unique guide numbers and sequencialItem, faces of `dm_face`; numbers written in the
   other forms their XSD type allows (`variar_lexico`); then `com_hash` writes the
   epilogue hash (MD5 of the leaf texts over ISO-8859-1, computed here from the
   standard's definition, not with the engine's code).
3. `serializar`: the bytes as different writers save them (prefix, encoding and its
   spelling, BOM, indentation, CRLF, xsi:schemaLocation, comments, upper-case hash).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
ANS = "http://www.ans.gov.br/padroes/tiss/schemas"
A = "{" + ANS + "}"
REGISTRO_ANS = "331988"
VERSOES = ("4.02.00", "4.03.00")
TIPOS_GUIA = (
    "guiaConsulta",
    "guiaSP-SADT",
    "guiaResumoInternacao",
    "guiaHonorarios",
    "guiaOdonto",
)
REPETICOES_MAX = 3
# (parent, child) elements a lote of guides from a provider must have, whatever the
# schema allows: its body, a provider as origin and the operator as destination.
FORCADOS = frozenset(
    {
        ("mensagemTISS", "prestadorParaOperadora"),
        ("prestadorParaOperadora", "loteGuias"),
        ("origem", "identificacaoPrestador"),
        ("destino", "registroANS"),
    }
)
# Texts: letters, digits, inner spaces and ISO-8859-1 characters clinics type (accents,
# º, &, <), never leading/trailing blanks (see `_texto`).
_LETRAS = string.ascii_letters + string.digits + "ÁÉÍÓÚÂÊÔÃÕÇáéíóúâêôãõçºª&<>'\"-./"


def pasta_schemas(versao: str) -> Path:
    return Path(str(resources.files("tiss").joinpath(f"_data/schemas/{versao}")))


def _local(nome: str) -> str:
    return nome.rpartition(":")[2]


def nome_local(el: etree._Element) -> str:
    return el.tag.rpartition("}")[2]


@dataclass
class Esquema:
    """Named types and global elements of one TISS version (the ANS namespace only)."""

    versao: str
    complexos: dict[str, etree._Element] = field(default_factory=dict)
    simples: dict[str, etree._Element] = field(default_factory=dict)
    elementos: dict[str, etree._Element] = field(default_factory=dict)

    @classmethod
    def ler(cls, versao: str) -> Esquema:
        esquema = cls(versao)
        pasta = pasta_schemas(versao)
        pendentes = ["tissV" + versao.replace(".", "_") + ".xsd"]
        lidos: set[str] = set()
        while pendentes:
            nome = pendentes.pop()
            if nome in lidos:
                continue
            lidos.add(nome)
            doc = etree.parse(str(pasta / nome)).getroot()
            for filho in doc:
                if filho.tag == XS + "include":
                    pendentes.append(filho.get("schemaLocation"))
                elif filho.tag == XS + "complexType":
                    esquema.complexos[filho.get("name")] = filho
                elif filho.tag == XS + "simpleType":
                    esquema.simples[filho.get("name")] = filho
                elif filho.tag == XS + "element":
                    esquema.elementos[filho.get("name")] = filho
        return esquema

    def compilado(self) -> etree.XMLSchema:
        principal = pasta_schemas(self.versao) / ("tissV" + self.versao.replace(".", "_") + ".xsd")
        return etree.XMLSchema(etree.parse(str(principal)))


# --- simple values ---------------------------------------------------------------------


@dataclass
class Restricao:
    """The facets of a simple type, flattened along its restriction chain."""

    base: str = "string"
    enumeracao: list[str] = field(default_factory=list)
    padroes: list[str] = field(default_factory=list)
    min_len: int | None = None
    max_len: int | None = None
    digitos: int | None = None
    fracao: int | None = None
    minimo: str | None = None


def restricao(esquema: Esquema, tipo: str | etree._Element) -> Restricao:
    """Facets of a named (ans:...) or built-in type, or of an inline simpleType."""
    if isinstance(tipo, str):
        if not tipo.startswith("ans:"):
            return Restricao(base=_local(tipo))
        tipo = esquema.simples[_local(tipo)]
    r = tipo.find(XS + "restriction")
    assert r is not None, f"simpleType sem restriction: {tipo.get('name')}"
    res = restricao(esquema, r.get("base"))
    # The derived type's facets narrow the base's: the innermost one wins.
    enums = [f.get("value") for f in r.iterfind(XS + "enumeration")]
    if enums:
        res.enumeracao = enums
    res.padroes = res.padroes + [f.get("value") for f in r.iterfind(XS + "pattern")]
    for faceta, attr in (
        ("length", "len"),
        ("minLength", "min_len"),
        ("maxLength", "max_len"),
        ("totalDigits", "digitos"),
        ("fractionDigits", "fracao"),
        ("minInclusive", "minimo"),
    ):
        f = r.find(XS + faceta)
        if f is None:
            continue
        v = f.get("value")
        if attr == "len":
            res.min_len = res.max_len = int(v)
        elif attr == "minimo":
            res.minimo = v
        else:
            setattr(res, attr, int(v))
    return res


_ATOMO = re.compile(r"(\[[^\]]+\]|\\.|[^\[\]{}+*?|\\])(\{(\d+)(?:,(\d*))?\}|[+*?])?")


def _classe(expr: str) -> str:
    """Characters of a pattern atom: `[A-Z0-9]`, `[OLMVDIP]` or a literal."""
    if not expr.startswith("["):
        return expr[-1]
    corpo, chars, i = expr[1:-1], [], 0
    while i < len(corpo):
        if i + 2 < len(corpo) and corpo[i + 1] == "-":
            chars.extend(chr(c) for c in range(ord(corpo[i]), ord(corpo[i + 2]) + 1))
            i += 3
        else:
            chars.append(corpo[i])
            i += 1
    return "".join(chars)


def valor_do_padrao(rng: random.Random, padrao: str, max_len: int | None = None) -> str:
    """A random string matching one of the simple XSD patterns the TISS schemas use:
    alternatives of character classes or literals with {n}, {m,n}, +, * or ?."""
    alternativa = rng.choice(padrao.split("|"))
    partes = []
    for m in _ATOMO.finditer(alternativa):
        chars = _classe(m[1])
        quant = m[2]
        if quant is None:
            n = 1
        elif quant in "+*?":
            lo = 1 if quant == "+" else 0
            n = rng.randint(lo, 1 if quant == "?" else min(max_len or 8, 8))
        else:
            lo = int(m[3])
            hi = lo if m[4] is None else (int(m[4]) if m[4] else lo + 8)
            n = rng.randint(lo, hi)
        partes.append("".join(rng.choice(chars) for _ in range(n)))
    return "".join(partes)


def _texto(rng: random.Random, lo: int, hi: int) -> str:
    n = rng.randint(lo, hi)
    s = [rng.choice(_LETRAS) for _ in range(n)]
    # inner blanks only: a leading or trailing blank is schema-valid, but no clinic
    # software keeps one and the rules (rightly) read values trimmed
    for i in range(1, n - 1):
        if rng.random() < 0.1:
            s[i] = " "
    return "".join(s)


def _decimal(rng: random.Random, r: Restricao) -> str:
    fracao = r.fracao if r.fracao is not None else 2
    digitos = r.digitos or 10
    inteiros = max(digitos - fracao, 0)
    # mostly small amounts, sometimes the largest the type allows
    teto = min(inteiros, rng.choice((1, 2, 3, inteiros)))
    parte = str(rng.randint(0, 10**teto - 1)) if teto else "0"
    if fracao:
        parte += "." + "".join(rng.choice(string.digits) for _ in range(fracao))
    return parte


def valor_simples(rng: random.Random, r: Restricao, hoje: date) -> str:
    """A random literal of the simple type `r` (schema-valid, not yet rule-consistent)."""
    if r.enumeracao:
        return rng.choice(r.enumeracao)
    if r.padroes:
        for _ in range(50):
            v = valor_do_padrao(rng, r.padroes[0], r.max_len)
            if (r.max_len is None or len(v) <= r.max_len) and len(v) >= (r.min_len or 0):
                if all(re.fullmatch(p, v) for p in r.padroes):
                    return v
        raise AssertionError(f"padrão sem valor gerado: {r.padroes}")
    base = r.base
    if base == "string":
        lo = r.min_len if r.min_len is not None else 1
        hi = r.max_len if r.max_len is not None else lo + 20
        return _texto(rng, max(lo, 1), min(hi, max(lo, 1) + 40))
    if base == "decimal":
        return _decimal(rng, r)
    if base == "integer":
        return str(rng.randint(0, 10 ** min(r.digitos or 4, 4) - 1))
    if base == "date":
        return (hoje - timedelta(days=rng.randint(0, 30))).isoformat()
    if base == "time":
        t = time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)).isoformat()
        return t + rng.choice(("", "", "", "Z", "-03:00"))  # a time zone, sometimes
    if base == "dateTime":
        d = hoje - timedelta(days=rng.randint(0, 30))
        return datetime(d.year, d.month, d.day, rng.randint(0, 23), rng.randint(0, 59)).isoformat()
    if base == "boolean":
        return rng.choice(("true", "false"))
    if base == "base64Binary":
        return base64.b64encode(rng.randbytes(rng.randint(1, 24))).decode()
    raise AssertionError(f"tipo base não tratado: {base}")


# --- complex content -------------------------------------------------------------------


def _ocorrencias(rng: random.Random, node: etree._Element, forcado: bool = False) -> int:
    lo = int(node.get("minOccurs", "1"))
    maximo = node.get("maxOccurs", "1")
    hi = REPETICOES_MAX if maximo == "unbounded" else int(maximo)
    if lo == 0 and not forcado and rng.random() < 0.45:
        return 0
    return rng.randint(max(lo, 1), max(lo, min(hi, REPETICOES_MAX)))


@dataclass
class Gerador:
    """Walks one version's XSD to build random instances (see the module docstring)."""

    esquema: Esquema
    hoje: date = field(default_factory=date.today)
    rng: random.Random = field(default_factory=random.Random)
    # base type of every leaf written whose lexical space is not a string's (decimal,
    # integer, date...): where `variar_lexico` may write the value another way
    bases: dict[etree._Element, str] = field(default_factory=dict)
    forcados: frozenset[tuple[str, str]] = FORCADOS

    def elemento(self, decl: etree._Element, pai: etree._Element | None) -> etree._Element:
        nome = decl.get("name")
        if pai is None:
            # the prefix other software uses: ans:, the default namespace, or lxml's ns0
            prefixo = self.rng.choice(("ans", None, "ns0"))
            el = etree.Element(A + nome, nsmap={prefixo: ANS})
        else:
            el = etree.SubElement(pai, A + nome)
        tipo = decl.get("type")
        if tipo is not None:
            if tipo.startswith("ans:") and _local(tipo) in self.esquema.complexos:
                self.conteudo(self.esquema.complexos[_local(tipo)], el)
            else:
                self._valor(el, restricao(self.esquema, tipo))
            return el
        ct = decl.find(XS + "complexType")
        if ct is not None:
            self.conteudo(ct, el)
            return el
        st = decl.find(XS + "simpleType")
        assert st is not None, f"elemento sem tipo: {nome}"
        self._valor(el, restricao(self.esquema, st))
        return el

    def _valor(self, el: etree._Element, r: Restricao) -> None:
        el.text = valor_simples(self.rng, r, self.hoje)
        if r.base not in ("string", "base64Binary"):
            self.bases[el] = r.base

    def conteudo(self, ct: etree._Element, el: etree._Element) -> None:
        for filho in ct:
            if filho.tag in (XS + "sequence", XS + "choice"):
                self.particula(filho, el)
            elif filho.tag == XS + "complexContent":
                ext = filho.find(XS + "extension")
                assert ext is not None, "complexContent sem extension"
                self.conteudo(self.esquema.complexos[_local(ext.get("base"))], el)
                self.conteudo(ext, el)
            elif not isinstance(filho.tag, str) or filho.tag == XS + "annotation":
                continue  # comments and documentation
            else:
                raise AssertionError(f"conteúdo não tratado: {filho.tag}")

    def _forcado(self, node: etree._Element, pai: etree._Element) -> bool:
        nome = node.get("name")
        return node.tag == XS + "element" and (nome_local(pai), nome) in self.forcados

    def particula(self, node: etree._Element, el: etree._Element) -> None:
        if node.tag == XS + "element":
            if node.get("ref") is not None or self._assinatura(node):
                assert node.get("minOccurs") == "0", "assinatura obrigatória"
                return  # XML signatures: optional, and not ours to forge
            for _ in range(_ocorrencias(self.rng, node, self._forcado(node, el))):
                self.elemento(node, el)
            return
        ramos = [c for c in node if c.tag in (XS + "element", XS + "sequence", XS + "choice")]
        forcado = any(self._forcado(c, el) for c in ramos)
        for _ in range(_ocorrencias(self.rng, node, forcado)):
            if node.tag == XS + "sequence":
                for ramo in ramos:
                    self.particula(ramo, el)
            else:
                escolhidos = [c for c in ramos if self._forcado(c, el)]
                ramo = escolhidos[0] if escolhidos else self.rng.choice(ramos)
                if ramo.tag == XS + "element" and int(ramo.get("minOccurs", "1")) == 0:
                    # an optional branch of a choice: write it, the choice was for it
                    for _ in range(max(1, _ocorrencias(self.rng, ramo, True))):
                        self.elemento(ramo, el)
                else:
                    self.particula(ramo, el)

    def _assinatura(self, decl: etree._Element) -> bool:
        tipo = decl.get("type") or ""
        return tipo == "ans:Signature" or tipo.startswith("ds:")

    def mensagem(self, tipo_guia: str) -> etree._Element:
        """A schema-valid ENVIO_LOTE_GUIAS message whose guides are all `tipo_guia`."""
        self.forcados = FORCADOS | {("guiasTISS", tipo_guia)}
        root = self.elemento(self.esquema.elementos["mensagemTISS"], None)
        _fixar(root, "cabecalho/identificacaoTransacao/tipoTransacao", "ENVIO_LOTE_GUIAS")
        _fixar(root, "cabecalho/Padrao", self.esquema.versao)
        return root


def _fixar(root: etree._Element, caminho: str, valor: str) -> None:
    el = root.find("/".join(A + p for p in caminho.split("/")))
    assert el is not None, caminho
    el.text = valor


# --- rule consistency ------------------------------------------------------------------

_CENT = Decimal("0.01")
_DATA_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
TABELAS_LIVRES = ("00", "98")  # own / negotiated tables: no TUSS lookup


def dinheiro(v: Decimal) -> Decimal:
    return v.quantize(_CENT, rounding=ROUND_HALF_UP)


def _dv_cnpj(base: str) -> str:
    valores = [ord(c) - 48 for c in base]
    pesos = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for p in (pesos, [6, *pesos]):
        resto = sum(v * w for v, w in zip(valores, p, strict=True)) % 11
        valores.append(0 if resto < 2 else 11 - resto)
    return base + "".join(str(v) for v in valores[12:])


def cnpj(rng: random.Random, alfanumerico: bool = False) -> str:
    """A CNPJ with valid check digits; with `alfanumerico` (where the version's pattern
    allows letters), the 2026 alphanumeric CNPJ."""
    chars = string.digits + (string.ascii_uppercase if alfanumerico else "")
    while True:
        base = "".join(rng.choice(chars) for _ in range(12))
        if len(set(base)) > 1:
            return _dv_cnpj(base)


def cpf(rng: random.Random) -> str:
    while True:
        d = [rng.randint(0, 9) for _ in range(9)]
        if len(set(d)) > 1:
            break
    for pos in (9, 10):
        d.append(sum(d[i] * (pos + 1 - i) for i in range(pos)) * 10 % 11 % 10)
    return "".join(map(str, d))


def _filhos(el: etree._Element, *nomes: str) -> list[etree._Element]:
    caminho = "/".join(A + n for n in nomes)
    return el.findall(caminho)


def _filho(el: etree._Element, *nomes: str) -> etree._Element | None:
    achados = _filhos(el, *nomes)
    return achados[0] if achados else None


def _segundos_utc(texto: str) -> float:
    t = time.fromisoformat(texto.replace("Z", "+00:00"))
    s = t.hour * 3600 + t.minute * 60 + t.second
    off = t.utcoffset()
    return s - off.total_seconds() if off is not None else s


def _ordenar(ini: etree._Element | None, fim: etree._Element | None) -> None:
    """Swap the texts of a start/end pair written in the wrong order."""
    if ini is None or fim is None:
        return
    a, b = ini.text or "", fim.text or ""
    chave = _segundos_utc if ":" in a else date.fromisoformat
    if chave(b) < chave(a):  # type: ignore[operator]
        ini.text, fim.text = b, a


@dataclass
class Item:
    """The value fields of one item, wherever the guide type keeps them."""

    quantidade: etree._Element | None
    reducao: etree._Element | None
    unitario: etree._Element | None
    total: etree._Element


def _positivo(el: etree._Element | None, padrao: str) -> Decimal:
    """The element's amount, made > 0 (1806/1716 otherwise), keeping its digits."""
    if el is None:
        return Decimal(padrao)
    v = Decimal(el.text or "0")
    if v <= 0:
        el.text = padrao
        v = Decimal(padrao)
    return v


def _valor_item(rng: random.Random, it: Item, teto: Decimal) -> Decimal:
    """Item total = quantity × unit × factor (to the cent), fitting `teto`."""
    q = _positivo(it.quantidade, "1")
    if it.unitario is None:
        return Decimal(it.total.text or "0")
    r = _positivo(it.reducao, "1.00")
    u = Decimal(it.unitario.text or "0")
    while dinheiro(q * u * r) >= teto:
        u = dinheiro(u / 10)
    it.unitario.text = f"{u:.2f}"
    if r != 1 and rng.random() < 0.3:
        # generators that round unit × factor to cents first (within the engine's
        # documented tolerance of half a cent per unit)
        total = dinheiro(q * dinheiro(u * r))
    else:
        total = dinheiro(q * u * r)
    it.total.text = f"{total:.2f}"
    return total


def itens_medicos(guia: etree._Element) -> list[Item]:
    """Procedure items of SP-SADT, internação and honorários guides."""
    if nome_local(guia) == "guiaHonorarios":
        els = _filhos(guia, "procedimentosRealizados", "procedimentoRealizado")
    else:
        els = _filhos(guia, "procedimentosExecutados", "procedimentoExecutado")
    return [
        Item(
            _filho(e, "quantidadeExecutada"),
            _filho(e, "reducaoAcrescimo"),
            _filho(e, "valorUnitario"),
            _filho(e, "valorTotal"),  # type: ignore[arg-type]
        )
        for e in els
    ]


def despesas(guia: etree._Element) -> list[tuple[str, Item]]:
    """(codigoDespesa, values) of each outras despesas item."""
    res = []
    for d in _filhos(guia, "outrasDespesas", "despesa"):
        s = _filho(d, "servicosExecutados")
        assert s is not None
        item = Item(
            _filho(s, "quantidadeExecutada"),
            _filho(s, "reducaoAcrescimo"),
            _filho(s, "valorUnitario"),
            _filho(s, "valorTotal"),  # type: ignore[arg-type]
        )
        res.append(((_filho(d, "codigoDespesa").text or ""), item))  # type: ignore[union-attr]
    return res


CATEGORIA_DESPESA = {
    "01": "valorGasesMedicinais",
    "02": "valorMedicamentos",
    "03": "valorMateriais",
    "05": "valorDiarias",
    "07": "valorTaxasAlugueis",
    "08": "valorOPME",
}
PARCELAS = (
    "valorProcedimentos",
    "valorDiarias",
    "valorTaxasAlugueis",
    "valorMateriais",
    "valorMedicamentos",
    "valorOPME",
    "valorGasesMedicinais",
)
TETO_ITEM = Decimal("100000")


def recalcular_totais(guia: etree._Element, rng: random.Random, itens: bool = True) -> None:
    """Guide totals from its items (and, with `itens`, item totals from their values)."""
    tipo = nome_local(guia)
    valor: Callable[[Item], Decimal]
    if itens:
        valor = lambda it: _valor_item(rng, it, TETO_ITEM)  # noqa: E731
    else:
        valor = lambda it: Decimal(it.total.text or "0")  # noqa: E731
    if tipo in ("guiaSP-SADT", "guiaResumoInternacao"):
        soma = sum((valor(it) for it in itens_medicos(guia)), Decimal(0))
        por_categoria: dict[str, Decimal] = {}
        for codigo, it in despesas(guia):
            cat = CATEGORIA_DESPESA[codigo]
            por_categoria[cat] = por_categoria.get(cat, Decimal(0)) + valor(it)
        bloco = _filho(guia, "valorTotal")
        assert bloco is not None
        geral = Decimal(0)
        partes = 0
        for el in bloco:
            nome = nome_local(el)
            if nome == "valorProcedimentos":
                el.text = f"{soma:.2f}"
            elif nome in por_categoria:
                el.text = f"{por_categoria[nome]:.2f}"
            elif nome in PARCELAS and Decimal(el.text or "0") >= TETO_ITEM:
                el.text = f"{Decimal(rng.randint(0, 10**7)) / 100:.2f}"
            if nome in PARCELAS:
                geral += Decimal(el.text or "0")
                partes += 1
            elif nome == "valorTotalGeral" and partes:
                el.text = f"{geral:.2f}"
    elif tipo == "guiaHonorarios":
        soma = sum((valor(it) for it in itens_medicos(guia)), Decimal(0))
        total = _filho(guia, "valorTotalHonorarios")
        assert total is not None
        total.text = f"{soma:.2f}"
    elif tipo == "guiaOdonto":
        soma = Decimal(0)
        por_quantidade = Decimal(0)
        for proc in _filhos(guia, "procedimentosExecutados"):
            q = _positivo(_filho(proc, "qtdProc"), "1")
            el_valor = _filho(proc, "valorProc")
            assert el_valor is not None
            v = Decimal(el_valor.text or "0")
            if v >= TETO_ITEM:
                v = Decimal(rng.randint(0, 10**6)) / 100
                el_valor.text = f"{v:.2f}"
            soma += v
            por_quantidade += q * v
        total = _filho(guia, "valorTotalProc")
        assert total is not None
        # valorProc read as the line total or as the unit value: both are written
        total.text = f"{soma if rng.random() < 0.7 else por_quantidade:.2f}"
    elif tipo == "guiaConsulta":
        pass  # one procedure, no guide total
    else:
        raise AssertionError(tipo)


def consistente(
    root: etree._Element, rng: random.Random, hoje: date, bases: dict[etree._Element, str]
) -> None:
    """Make a generated message satisfy the operator rules (module docstring, step 2)."""
    ns = {"a": ANS}
    envio = hoje - timedelta(days=rng.choice((0, 0, 1, 3)))
    # dates: the sending date first, every other date in the 30 days before it
    for el in root.iter():
        if not isinstance(el.tag, str) or len(el) or not el.text:
            continue
        nome = nome_local(el)
        if nome == "dataRegistroTransacao":
            el.text = envio.isoformat()
        elif _DATA_RE.fullmatch(el.text):
            el.text = (envio - timedelta(days=rng.randint(0, 30))).isoformat()
        if nome == "registroANS":
            el.text = REGISTRO_ANS
        elif nome in ("CNPJ", "cnpjContratado", "cnpjLocalExecutante"):
            # letters only where the schema's own pattern let the generator write some
            el.text = cnpj(rng, alfanumerico=not el.text.isdigit())
        elif nome in ("CPF", "cpfContratado"):
            el.text = cpf(rng)
        elif nome == "codigoTabela" and el.text not in ("00", "90", "98"):
            el.text = rng.choice(TABELAS_LIVRES)
        elif nome == "denteFace":
            el.text = valor_do_padrao(rng, "[OLMVDIP]{1,5}")
    numeros: set[str] = set()
    for guia in root.iterfind(".//a:guiasTISS/*", ns):
        numero = guia.find(".//a:numeroGuiaPrestador", ns)
        assert numero is not None
        while (numero.text or "").strip() in numeros:
            numero.text = valor_do_padrao(rng, "[0-9]{12}")
        numeros.add((numero.text or "").strip())
        # item numbers: distinct within each list, sometimes with leading zeros
        for lista in ("procedimentoExecutado", "procedimentoRealizado", "despesa"):
            seqs = guia.findall(f".//a:{lista}/a:sequencialItem", ns)
            if nome_local(guia) == "guiaOdonto" and lista == "procedimentoExecutado":
                seqs = guia.findall("a:procedimentosExecutados/a:sequencialItem", ns)
            zeros = rng.random() < 0.2
            for el, n in zip(seqs, sorted(rng.sample(range(1, 999), len(seqs))), strict=True):
                el.text = f"{n:04d}" if zeros else str(n)
        # billed periods and item times end after they start
        for ini, fim in (
            ("dataInicioFaturamento", "dataFinalFaturamento"),
            ("dataInicioFaturamento", "dataFimFaturamento"),
        ):
            _ordenar(guia.find(f"a:dadosInternacao/a:{ini}", ns), guia.find(f".//a:{fim}", ns))
        di = guia.find("a:dadosInternacao", ns)
        if di is not None:
            # items (and outras despesas) executed within the billed period (3225/3227)
            inicio = _filho(di, "dataInicioFaturamento")
            final = _filho(di, "dataFinalFaturamento")
            if final is None:
                final = _filho(di, "dataFimFaturamento")
            if inicio is not None and final is not None and inicio.text and final.text:
                for d in guia.iterfind(".//a:dataExecucao", ns):
                    if not inicio.text <= (d.text or "") <= final.text:
                        d.text = rng.choice((inicio.text, final.text))
        if di is not None and _filho(di, "dataFinalFaturamento") is not None:
            inicio, final = _filho(di, "dataInicioFaturamento"), _filho(di, "dataFinalFaturamento")
            if inicio is not None and final is not None and inicio.text == final.text:
                _ordenar(_filho(di, "horaInicioFaturamento"), _filho(di, "horaFinalFaturamento"))
        for item in guia.iterfind(".//a:horaInicial/..", ns):
            _ordenar(_filho(item, "horaInicial"), _filho(item, "horaFinal"))
        recalcular_totais(guia, rng)
    variar_lexico(bases, rng)
    com_hash(root)


def variar_lexico(bases: dict[etree._Element, str], rng: random.Random) -> None:
    """Write some numbers as other software does, all in the lexical space of their XSD
    type: blanks around them (whitespace collapses for these types), a '+' sign,
    leading zeros, fewer fraction digits ('10.5', '10'). Dates and times keep their
    canonical form: libxml2 rejects blanks around them, though XSD collapses them too."""
    for el, base in bases.items():
        if el.getparent() is None or rng.random() > 0.15:
            continue
        v = el.text or ""
        if base == "decimal":
            forma = rng.choice(("mais", "zeros", "fracao"))
            if forma == "mais":
                v = "+" + v
            elif forma == "zeros":
                v = "00" + v
            elif "." in v:
                v = v.rstrip("0").rstrip(".")
        elif base == "integer":
            v = rng.choice(("+", "0", "")) + v
        else:
            continue
        if rng.random() < 0.4:
            v = rng.choice((" ", "\n", "\n\t\t", "  ")) + v + rng.choice((" ", "\n", ""))
        el.text = v


# --- epilogue hash, serialization, paths -------------------------------------------------


def texto_do_hash(root: etree._Element) -> str:
    """The standard's definition: the text of every leaf element, in document order,
    the epilogue's hash excluded."""
    partes = []
    for el in root.iter():
        if not isinstance(el.tag, str) or any(isinstance(c.tag, str) for c in el):
            continue
        pai = el.getparent()
        if nome_local(el) == "hash" and pai is not None and nome_local(pai) == "epilogo":
            continue
        partes.append(el.text or "")
    return "".join(partes)


def com_hash(root: etree._Element) -> None:
    el = root.find(f"{A}epilogo/{A}hash")
    if el is None:
        return  # a mutation dropped it
    texto = texto_do_hash(root).encode("iso-8859-1")
    el.text = hashlib.md5(texto, usedforsecurity=False).hexdigest()


XSI = "http://www.w3.org/2001/XMLSchema-instance"


def serializar(root: etree._Element, rng: random.Random) -> bytes:
    """The message as one of several writers would save it: encoding (and how it is
    spelled), BOM, indentation, CRLF, an xsi:schemaLocation, comments between elements,
    the hash in upper case. None of it changes the leaf texts, so the hash still holds."""
    root = copy.deepcopy(root)
    if rng.random() < 0.3:
        versao = root.findtext(f"{A}cabecalho/{A}Padrao") or ""
        xsd = "tissV" + versao.replace(".", "_") + ".xsd"
        raiz = etree.Element(root.tag, nsmap={**root.nsmap, "xsi": XSI})
        raiz.set(f"{{{XSI}}}schemaLocation", f"{ANS} {xsd}")
        raiz.extend(list(root))
        root = raiz
    if rng.random() < 0.2:
        pais = [el for el in root.iter() if isinstance(el.tag, str) and len(el)]
        for pai in rng.sample(pais, min(3, len(pais))):
            pai.insert(rng.randint(0, len(pai)), etree.Comment(" gerado por outro sistema "))
    h = root.find(f"{A}epilogo/{A}hash")
    if h is not None and h.text and rng.random() < 0.2:
        h.text = h.text.upper()
    encoding = rng.choice(("ISO-8859-1", "ISO-8859-1", "iso-8859-1", "UTF-8", "utf-8"))
    out = etree.tostring(
        root.getroottree(),
        encoding=encoding,
        xml_declaration=True,
        pretty_print=rng.random() < 0.5,
    )
    if rng.random() < 0.2:
        out = out.replace(b"\n", b"\r\n")
    if encoding.upper() == "UTF-8" and rng.random() < 0.3:
        out = b"\xef\xbb\xbf" + out
    return out


def caminho(el: etree._Element) -> str:
    """The path critiques carry: local names from the root, `[n]` (1-based) only where
    the parent has several children of that name."""
    partes = []
    node: etree._Element | None = el
    while node is not None:
        pai = node.getparent()
        nome = nome_local(node)
        if pai is not None:
            iguais = [c for c in pai if c.tag == node.tag]
            if len(iguais) > 1:
                nome += f"[{iguais.index(node) + 1}]"
        partes.append(nome)
        node = pai
    return "/" + "/".join(reversed(partes))


@dataclass
class Caso:
    """One generated, rule-consistent message."""

    versao: str
    tipo_guia: str
    seed: int
    root: etree._Element
    conteudo: bytes


def gerar(esquema: Esquema, tipo_guia: str, seed: int, hoje: date) -> Caso:
    rng = random.Random(f"{esquema.versao}/{tipo_guia}/{seed}")
    gerador = Gerador(esquema, hoje, rng)
    root = gerador.mensagem(tipo_guia)
    consistente(root, rng, hoje, gerador.bases)
    return Caso(esquema.versao, tipo_guia, seed, root, serializar(root, rng))
