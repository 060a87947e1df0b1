"""Online correction: edit values at human xpaths, recalculate totals, rewrite the hash.

`apply_correction(content, [(xpath, novo_valor), ...], recalcular_totais)` returns the
new file in the same declared encoding. With `recalcular_totais`, each item's
valorTotal becomes quantidade × valorUnitario × reducaoAcrescimo (rounded half-up to
cents), and each guide's totals the sums of its items (valorProcedimentos, the other
ct_guiaValorTotal parts from outrasDespesas, valorTotalGeral, valorTotalProc,
valorTotalHonorarios). The epilogue hash is always recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from lxml import etree

from .documento import NSMAP, hash_para, local_name, q, resolve_human_xpath
from .leitura import _DECL_RE, encoding_canonico, parser
from .regras import CATEGORIAS, DESPESA_CATEGORIA, SPECS, Spec, dec, dinheiro, iter_guias


class CorrecaoInvalida(ValueError):
    """A correction that cannot be applied; the message is pt-BR for the user."""


def _encoding(content: bytes) -> str:
    corpo = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    m = _DECL_RE.match(corpo)
    if m and m[1]:
        return encoding_canonico(m[1].decode("ascii")) or "UTF-8"
    return "UTF-8"


def apply_correction(
    content: bytes,
    corrections: Iterable[tuple[str, str]],
    recalcular_totais: bool = False,
) -> bytes:
    """Apply `corrections` and return the corrected file (see the module docstring).

    Raises CorrecaoInvalida when the file cannot be read or a path does not name a
    simple field of the file.
    """
    if b"<!DOCTYPE" in content:
        raise CorrecaoInvalida("arquivo com DOCTYPE não pode ser corrigido")
    encoding = _encoding(content)
    try:
        root = etree.fromstring(content, parser(remove_blank_text=False))
    except etree.XMLSyntaxError as exc:
        raise CorrecaoInvalida(f"o arquivo não é um XML legível: {exc.msg}") from exc
    for xpath, valor in corrections:
        el = resolve_human_xpath(root, xpath)
        if el is None:
            raise CorrecaoInvalida(f"campo não encontrado no arquivo: {xpath}")
        if len(el):
            raise CorrecaoInvalida(f"{xpath} não é um campo simples (contém outros elementos)")
        el.text = "" if valor is None else str(valor)
    if recalcular_totais:
        recalcular(root)
    escrever_hash(root, encoding)
    return etree.tostring(root.getroottree(), encoding=encoding, xml_declaration=True)


def escrever_hash(root: etree._Element, encoding: str) -> None:
    epilogo = root.find(q("epilogo"))
    if epilogo is None:
        epilogo = etree.SubElement(root, q("epilogo"))
    el = epilogo.find(q("hash"))
    if el is None:
        el = etree.SubElement(epilogo, q("hash"))
    el.text = ""
    latin = encoding.upper() == "ISO-8859-1"
    # A value outside Latin-1 in an ISO-8859-1 file is written as a character reference;
    # its hash can only be the UTF-8 one, which validate also accepts.
    el.text = (hash_para(root, "iso-8859-1") if latin else None) or hash_para(root, "utf-8")


def _set(el: etree._Element | None, valor: Decimal) -> None:
    if el is not None:
        el.text = str(dinheiro(valor))


def recalcular(root: etree._Element) -> None:
    """Recompute item and guide totals in place."""
    for tipo, guia in iter_guias(root):
        spec = SPECS[tipo]
        soma = Decimal(0)
        for item in spec.elementos(guia):
            total_el = _campo(item, spec, "total")
            if "unitario" in spec.papeis:
                qtd = dec(_texto(item, spec, "quantidade"))
                unit = dec(_texto(item, spec, "unitario"))
                red = dec(_texto(item, spec, "reducao")) or Decimal(1)
                if qtd is not None and unit is not None and total_el is not None:
                    _set(total_el, qtd * unit * red)
            valor = dec(total_el.text if total_el is not None else None)
            soma += valor or Decimal(0)
        if spec.total is not None:
            found = guia.xpath(spec.total, namespaces=NSMAP)
            _set(found[0] if found else None, soma)
        if spec.total_geral is None:
            continue
        bloco = guia.find(q("valorTotal"))
        if bloco is None:
            continue
        categorias: dict[str, Decimal] = {}
        for despesa in guia.iterfind(f"{q('outrasDespesas')}/{q('despesa')}"):
            serv = despesa.find(q("servicosExecutados"))
            if serv is None:
                continue
            qtd = dec(serv.findtext(q("quantidadeExecutada")))
            unit = dec(serv.findtext(q("valorUnitario")))
            red = dec(serv.findtext(q("reducaoAcrescimo"))) or Decimal(1)
            tot = serv.find(q("valorTotal"))
            if qtd is not None and unit is not None and tot is not None:
                _set(tot, qtd * unit * red)
            cat = DESPESA_CATEGORIA.get((despesa.findtext(q("codigoDespesa")) or "").strip())
            if cat and tot is not None:
                categorias[cat] = categorias.get(cat, Decimal(0)) + (dec(tot.text) or Decimal(0))
        for cat, valor in categorias.items():
            el = bloco.find(q(cat))
            if el is not None:
                _set(el, valor)
        partes = [
            dec(ch.text) or Decimal(0)
            for ch in bloco
            if isinstance(ch.tag, str) and local_name(ch) in CATEGORIAS
        ]
        if partes:
            _set(bloco.find(q("valorTotalGeral")), sum(partes, Decimal(0)))


def _campo(item: etree._Element, spec: Spec, papel: str) -> etree._Element | None:
    path = dict(spec.campos).get(papel)
    if path is None:
        return None
    found = item.xpath(path, namespaces=NSMAP)
    return found[0] if found else None


def _texto(item: etree._Element, spec: Spec, papel: str) -> str | None:
    el = _campo(item, spec, papel)
    return el.text if el is not None else None
