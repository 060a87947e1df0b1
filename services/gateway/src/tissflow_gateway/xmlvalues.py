"""Reads the current values of a TISS file's fields at the critiques' human xpaths.

The correction editor shows each field's value as the file has it. Files are the
provider's own uploads (≤ 15 MB), but still untrusted: the parser (expat, driven here)
refuses any DOCTYPE, entity declaration or external reference as it meets them, in
whatever encoding the file is written, so no entity can be declared, expanded or
fetched. Parsing is CPU work: callers in a request handler run it in a worker thread.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any
from xml.parsers import expat

_STEP = re.compile(r"^(?:[\w.-]+:)?([\w.-]+)(?:\[(\d+)\])?$")


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _resolve(root: ET.Element, path: str) -> ET.Element | None:
    steps = [s for s in path.strip().split("/") if s]
    first = _STEP.match(steps[0]) if steps else None
    if first is None or first[1] != _local(root.tag):
        return None
    node = root
    for step in steps[1:]:
        m = _STEP.match(step)
        if m is None:
            return None
        matches = [c for c in node if _local(c.tag) == m[1]]
        index = int(m[2] or 1)
        if not 1 <= index <= len(matches):
            return None
        node = matches[index - 1]
    return node


class Refused(ValueError):
    """The document declares a DTD or entities: not read at all."""


def _refuse(*_: Any) -> None:
    raise Refused


def safe_parse(content: bytes) -> ET.Element:
    """The document's tree (tags as `{namespace}local`), read by expat with every DTD,
    entity and external-reference hook refusing; Refused or ExpatError otherwise."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SkippedEntityHandler = _refuse  # &undeclared; would be silently dropped

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start("{" + tag if "}" in tag else tag, attrs)

    def end(tag: str) -> None:
        builder.end("{" + tag if "}" in tag else tag)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    parser.Parse(content, True)
    return builder.close()


def values_at(content: bytes, xpaths: Iterable[str]) -> dict[str, str | None]:
    """`{xpath: text}` for each path naming a simple field; None where it does not
    (and for every path when the file is not well-formed or declares a DTD)."""
    paths = list(dict.fromkeys(xpaths))
    if not paths:
        return {}
    try:
        root = safe_parse(content)
    except (Refused, expat.ExpatError, AssertionError):
        return dict.fromkeys(paths)
    out: dict[str, str | None] = {}
    for path in paths:
        el = _resolve(root, path)
        out[path] = (el.text or "").strip() if el is not None and len(el) == 0 else None
    return out


# Names a clerk knows, for the fields critiques most often point at.
NOMES = {
    "CNPJ": "CNPJ do prestador",
    "CPF": "CPF do prestador",
    "codigoPrestadorNaOperadora": "Código do prestador na operadora",
    "cnpjContratado": "CNPJ do contratado",
    "cpfContratado": "CPF do contratado",
    "registroANS": "Registro ANS da operadora",
    "numeroCarteira": "Número da carteira",
    "numeroGuiaPrestador": "Número da guia no prestador",
    "codigoProcedimento": "Código do procedimento",
    "codigoTabela": "Tabela",
    "valorUnitario": "Valor unitário",
    "valorTotal": "Valor total",
    "quantidadeExecutada": "Quantidade executada",
    "dataExecucao": "Data de execução",
    "dataAtendimento": "Data do atendimento",
    "numeroLote": "Número do lote",
    "hash": "Código hash",
}
CONTEXTO = {
    "contratadoSolicitante": "solicitante",
    "contratadoExecutante": "executante",
    "dadosSolicitante": "solicitante",
    "dadosExecutante": "executante",
    "cabecalho": "cabeçalho",
}


def _name(step: str) -> str:
    return re.sub(r"\[\d+\]$", "", step)


def field_label(xpath: str) -> str:
    """A field's name for people: `.../contratadoExecutante/cnpjContratado` →
    `CNPJ do contratado (executante)`; unknown fields keep their TISS element name."""
    steps = [_name(s) for s in xpath.strip("/").split("/") if s]
    if not steps:
        return xpath
    nome = NOMES.get(steps[-1], steps[-1])
    contexto = next((CONTEXTO[s] for s in reversed(steps[:-1]) if s in CONTEXTO), None)
    return f"{nome} ({contexto})" if contexto else nome
