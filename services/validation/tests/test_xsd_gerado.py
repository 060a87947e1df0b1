"""Properties of the engine on messages generated from the ANS XSDs (`xsd_gerador`).

P0 the generator's output is schema-valid (else the generator is wrong, not the engine);
P1 never an internal error (5002) nor an exception: on raw XSD output (random CNPJs,
   dates, totals), on rule-consistent files and on schema-invalid mutations of them
   (a required element dropped, a leaf duplicated, text in a numeric field, two siblings
   swapped), which the engine must reject;
P2 a schema-valid, rule-consistent file is valid, without a single critique;
P3 the positional fast item reader (`Spec.linhas(rapido=True)`) reads what the slow one
   reads, on every generated guide;
P4 one targeted mutation gives exactly the expected code at the expected path: hash
   (5014), item total ± 1.00 (1705/1706), guide total (5042), unknown carteira (1001).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import cache

import pytest
from lxml import etree
from tissflow_validation.engine import OperatorContext, ValidationResult, validate
from tissflow_validation.engine.criticas import Criticas
from tissflow_validation.engine.leitura import ler
from tissflow_validation.engine.regras import SPEC_POR_ELEMENTO

from .xsd_gerador import (
    TETO_ITEM,
    TIPOS_GUIA,
    VERSOES,
    A,
    Caso,
    Esquema,
    Gerador,
    Item,
    caminho,
    com_hash,
    despesas,
    dinheiro,
    gerar,
    itens_medicos,
    nome_local,
    recalcular_totais,
    serializar,
)

SEEDS = 40
HOJE = date.today()
CTX = OperatorContext(registro_ans="331988", hoje=HOJE)
CASOS = [(v, t, s) for v in VERSOES for t in TIPOS_GUIA for s in range(SEEDS)]
IDS = [f"{v}-{t}-{s}" for v, t, s in CASOS]


@cache
def esquema(versao: str) -> Esquema:
    return Esquema.ler(versao)


@cache
def compilado(versao: str) -> etree.XMLSchema:
    return esquema(versao).compilado()


@cache
def caso(versao: str, tipo: str, seed: int) -> Caso:
    return gerar(esquema(versao), tipo, seed, HOJE)


def copia(c: Caso) -> etree._Element:
    return copy.deepcopy(c.root)


def bytes_de(root: etree._Element, seed: int) -> bytes:
    return serializar(root, random.Random(seed))


def schema_valido(versao: str, root: etree._Element) -> bool:
    return compilado(versao).validate(root)


def sem_erro_interno(r: ValidationResult) -> None:
    assert "5002" not in [c.codigo for c in r.critiques], [c.to_dict() for c in r.critiques]


def critiques(r: ValidationResult) -> list[tuple[str, str | None]]:
    return [(c.codigo, c.xpath) for c in r.critiques]


def guias(root: etree._Element) -> list[etree._Element]:
    return root.findall(f".//{A}guiasTISS/*")


# --- P0, P2, P3: the generated file -------------------------------------------------------


@pytest.mark.parametrize(("versao", "tipo", "seed"), CASOS, ids=IDS)
def test_gerado_valido_e_leitor_rapido_igual_ao_lento(versao: str, tipo: str, seed: int) -> None:
    c = caso(versao, tipo, seed)
    doc = etree.fromstring(c.conteudo)
    assert schema_valido(versao, doc), compilado(versao).error_log.last_error  # P0
    r = validate(c.conteudo, CTX)
    assert r.critiques == [], [x.to_dict() for x in r.critiques]  # P2
    assert r.valido
    assert r.quantidade_guias == len(guias(doc))
    # P3. The fast path's documented precondition is a lote without comments or PIs (the
    # engine passes rapido=False otherwise): on a lote with comments between elements
    # the slow reading must equal the fast reading of the same lote without them.
    leitura = ler(c.conteudo, Criticas(CTX))  # the tree as the engine reads it
    assert leitura.root is not None
    limpo = copy.deepcopy(leitura.root)
    for el in limpo.xpath("//comment() | //processing-instruction()"):
        el.getparent().remove(el)
    for guia, guia_limpa in zip(guias(leitura.root), guias(limpo), strict=True):
        _, spec = SPEC_POR_ELEMENTO[nome_local(guia)]
        lenta = spec.linhas(guia, rapido=False)
        assert spec.linhas(guia_limpa, rapido=True) == lenta
        assert spec.linhas(guia_limpa, rapido=False) == lenta
        assert len(lenta) == len(spec.elementos(guia))


# --- P1: raw XSD output and schema-invalid mutations ---------------------------------------


def _folhas(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str) and len(el) == 0]


def _remover_obrigatorio(root: etree._Element, rng: random.Random, versao: str) -> bool:
    """Drop an element the schema requires (tries candidates until the file is invalid)."""
    candidatos = [el for el in root.iter() if el is not root]
    rng.shuffle(candidatos)
    for el in candidatos[:20]:
        pai = el.getparent()
        i = pai.index(el)
        pai.remove(el)
        if not schema_valido(versao, root):
            return True
        pai.insert(i, el)
    return False


def _duplicar_folha(root: etree._Element, rng: random.Random, versao: str) -> bool:
    candidatos = _folhas(root)
    rng.shuffle(candidatos)
    for el in candidatos[:20]:
        dup = copy.deepcopy(el)
        el.addnext(dup)
        if not schema_valido(versao, root):
            return True
        dup.getparent().remove(dup)
    return False


def _texto_em_numero(root: etree._Element, rng: random.Random, versao: str) -> bool:
    numericos = [el for el in _folhas(root) if (el.text or "").replace(".", "", 1).isdigit()]
    rng.shuffle(numericos)
    for el in numericos[:20]:
        antigo = el.text
        # what spreadsheets write: a decimal comma, a currency, a word
        el.text = rng.choice(("1,50", "R$ 10.00", "abc", "1e3", "12.5.0", ""))
        if not schema_valido(versao, root):
            return True
        el.text = antigo
    return False


def _trocar_irmaos(root: etree._Element, rng: random.Random, versao: str) -> bool:
    pares = [
        (el, el.getnext())
        for el in root.iter()
        if el.getnext() is not None and el.getnext().tag != el.tag
    ]
    rng.shuffle(pares)
    for a, b in pares[:20]:
        a.addprevious(b)
        if not schema_valido(versao, root):
            return True
        a.addnext(b)
    return False


MUTACOES = {
    "remove_obrigatorio": _remover_obrigatorio,
    "duplica_folha": _duplicar_folha,
    "texto_em_numero": _texto_em_numero,
    "troca_irmaos": _trocar_irmaos,
}


@pytest.mark.parametrize(("versao", "tipo", "seed"), CASOS, ids=IDS)
def test_sem_erro_interno_na_saida_bruta_e_nas_mutacoes_invalidas(
    versao: str, tipo: str, seed: int
) -> None:
    # raw XSD output: every rule sees random values (bad CNPJs, totals, dates)
    rng = random.Random(seed)
    bruto = Gerador(esquema(versao), HOJE, rng).mensagem(tipo)
    com_hash(bruto)
    assert schema_valido(versao, bruto)
    sem_erro_interno(validate(serializar(bruto, rng), CTX))
    # schema-invalid mutations of the rule-consistent file: rejected, never a 5002
    c = caso(versao, tipo, seed)
    for nome, mutar in MUTACOES.items():
        rng = random.Random(f"{nome}/{seed}")
        root = copia(c)
        assert mutar(root, rng, versao), f"{nome}: nenhuma mutação invalidou o arquivo"
        if seed % 2:  # a hash that fits the mutation, or (even seeds) the stale one
            com_hash(root)
        r = validate(bytes_de(root, seed), CTX)
        sem_erro_interno(r)
        assert not r.valido and r.critiques, nome


# --- P4: one targeted mutation, one critique -----------------------------------------------

Esperado = list[tuple[str, str | None]]


def _hash_errado(root: etree._Element, rng: random.Random) -> Esperado | None:
    el = root.find(f"{A}epilogo/{A}hash")
    el.text = "0" * 32 if el.text != "0" * 32 else "f" * 32
    return [("5014", "/mensagemTISS/epilogo/hash")]


def _exato(it: Item) -> Decimal:
    q = Decimal(it.quantidade.text) if it.quantidade is not None else Decimal(1)
    r = Decimal(it.reducao.text) if it.reducao is not None else Decimal(1)
    return dinheiro(q * Decimal(it.unitario.text) * r)


def _tolerancia(it: Item) -> Decimal:
    """The engine's documented tolerance: a cent, plus half a cent per unit when a
    reduction/increase factor other than 1 is applied (units × factor rounded first)."""
    q = Decimal(it.quantidade.text) if it.quantidade is not None else Decimal(1)
    r = Decimal(it.reducao.text) if it.reducao is not None else Decimal(1)
    return Decimal("0.01") + (q * Decimal("0.005") if r != 1 else 0)


def _item_errado(d: Decimal) -> Callable[[etree._Element, random.Random], Esperado | None]:
    def mutar(root: etree._Element, rng: random.Random) -> Esperado | None:
        alvos = [
            it
            for g in guias(root)
            for it in [*itens_medicos(g), *(it for _, it in despesas(g))]
            if _tolerancia(it) < 1 and 0 <= _exato(it) + d < TETO_ITEM
        ]
        if not alvos:
            return None  # consulta, odonto (no unit value), or every item too tolerant
        it = rng.choice(alvos)
        # 1.00 off quantity × unit × factor (the generator may have rounded unit × factor)
        it.total.text = f"{_exato(it) + d:.2f}"
        guia = next(g for g in it.total.iterancestors() if g.getparent().tag == A + "guiasTISS")
        recalcular_totais(guia, rng, itens=False)  # only the item is wrong
        return [("1705" if d > 0 else "1706", caminho(it.total))]

    return mutar


def _total_da_guia(guia: etree._Element) -> etree._Element | None:
    tipo = nome_local(guia)
    if tipo in ("guiaSP-SADT", "guiaResumoInternacao"):
        bloco = guia.find(f"{A}valorTotal")
        partes = [el for el in bloco if nome_local(el) != "valorTotalGeral"]
        return bloco.find(f"{A}valorTotalGeral") if partes else None
    if tipo == "guiaHonorarios":
        tem_itens = guia.find(f"{A}procedimentosRealizados") is not None
        return guia.find(f"{A}valorTotalHonorarios") if tem_itens else None
    if tipo == "guiaOdonto":
        return guia.find(f"{A}valorTotalProc")
    return None


def _total_errado(root: etree._Element, rng: random.Random) -> Esperado | None:
    alvos = [t for g in guias(root) if (t := _total_da_guia(g)) is not None]
    if not alvos:
        return None  # consulta: no guide total
    el = rng.choice(alvos)
    el.text = f"{Decimal(el.text) + 1:.2f}"
    return [("5042", caminho(el))]


def _procedimentos_errados(root: etree._Element, rng: random.Random) -> Esperado | None:
    """valorProcedimentos off the sum of the items, valorTotalGeral still its parts' sum."""
    alvos = [
        g
        for g in guias(root)
        if g.find(f"{A}valorTotal/{A}valorProcedimentos") is not None and itens_medicos(g)
    ]
    if not alvos:
        return None
    bloco = rng.choice(alvos).find(f"{A}valorTotal")
    for nome in ("valorProcedimentos", "valorTotalGeral"):
        el = bloco.find(A + nome)
        el.text = f"{Decimal(el.text) + 1:.2f}"
    return [("5042", caminho(bloco.find(f"{A}valorProcedimentos")))]


MUTACOES_ALVO = {
    "hash": _hash_errado,
    "item +1.00": _item_errado(Decimal("1.00")),
    "item -1.00": _item_errado(Decimal("-1.00")),
    "total da guia": _total_errado,
    "valorProcedimentos": _procedimentos_errados,
}


@pytest.mark.parametrize(("versao", "tipo", "seed"), CASOS, ids=IDS)
def test_mutacao_alvo_da_exatamente_a_critica_esperada(versao: str, tipo: str, seed: int) -> None:
    c = caso(versao, tipo, seed)
    for nome, mutar in MUTACOES_ALVO.items():
        root = copia(c)
        esperado = mutar(root, random.Random(f"{nome}/{seed}"))
        if esperado is None:
            continue
        if nome != "hash":
            com_hash(root)
        r = validate(bytes_de(root, seed), CTX)
        assert critiques(r) == esperado, nome
    # carteira not in the operator's registry (1001), the others active
    carteiras = [el for g in guias(c.root) for el in g.iter(f"{A}numeroCarteira")]
    assert len(carteiras) == len(guias(c.root))
    cadastro = {(el.text or "").strip(): True for el in carteiras}
    assert validate(c.conteudo, replace(CTX, beneficiarios=cadastro)).critiques == []
    fora = random.Random(seed).choice(carteiras)
    del cadastro[(fora.text or "").strip()]
    r = validate(c.conteudo, replace(CTX, beneficiarios=cadastro))
    esperados = [
        ("1001", caminho(el)) for el in carteiras if (el.text or "").strip() not in cadastro
    ]
    assert critiques(r) == esperados
