"""Table 38 and the ANS XSDs, read from the installed `tiss` package and cached per process."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

import tiss
from lxml import etree

VERSAO_VIGENTE = "4.03.00"
"""The TISS version tissflow writes its own messages in."""

_XS = "{http://www.w3.org/2001/XMLSchema}"
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True)
# libxml2 keeps the error log on the schema object: one validation at a time per schema.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class Glosa:
    """One row of TISS table 38 (glosas, negativas e outras mensagens)."""

    codigo: str
    descricao: str
    grupo: str


@cache
def tabela_38() -> dict[str, Glosa]:
    """Every table-38 code of the installed `tiss` package, by code."""
    raw = json.loads(resources.files("tiss").joinpath("_data/glosas.json").read_bytes())
    return {
        r["codigo"]: Glosa(r["codigo"], r["descricao"].strip(), r.get("grupo", ""))
        for r in raw["records"]
    }


def glosa(codigo: str) -> Glosa | None:
    """The table-38 row for `codigo` (through the package's public `tiss.glosa`), or None."""
    row = tiss.glosa(codigo)
    if row is None:
        return None
    return Glosa(row["codigo"], row["descricao"].strip(), row.get("grupo", ""))


def _pasta(versao: str) -> resources.abc.Traversable:
    return resources.files("tiss") / "_data" / "schemas" / versao


def _compilar(versao: str, arquivo: str) -> etree.XMLSchema:
    with resources.as_file(_pasta(versao)) as path:
        return etree.XMLSchema(etree.parse(str(path / arquivo), _SAFE))


@cache
def schema(versao: str = VERSAO_VIGENTE) -> etree.XMLSchema:
    """`tissVx_yy_zz.xsd` of `versao`, compiled once per process."""
    return _compilar(versao, f"tissV{versao.replace('.', '_')}.xsd")


@cache
def schema_webservices(versao: str = VERSAO_VIGENTE) -> etree.XMLSchema:
    """`tissWebServicesVx_yy_zz.xsd` of `versao` (the SOAP message elements)."""
    return _compilar(versao, f"tissWebServicesV{versao.replace('.', '_')}.xsd")


@cache
def codigos_glosa_xsd(versao: str = VERSAO_VIGENTE) -> frozenset[str]:
    """The table-38 codes the version's `dm_tipoGlosa` enumerates (what an XML may carry)."""
    arquivo = f"tissSimpleTypesV{versao.replace('.', '_')}.xsd"
    doc = etree.fromstring(_pasta(versao).joinpath(arquivo).read_bytes(), _SAFE)
    tipo = doc.find(f"{_XS}simpleType[@name='dm_tipoGlosa']")
    if tipo is None:
        return frozenset()
    return frozenset(e.get("value") for e in tipo.iter(f"{_XS}enumeration"))


def erros_de_schema(
    xml: bytes, versao: str = VERSAO_VIGENTE, *, webservice: bool = False
) -> list[str]:
    """The XSD's complaints about a message ("line: message"); empty when it is valid."""
    doc = etree.fromstring(xml, _SAFE)
    xsd = schema_webservices(versao) if webservice else schema(versao)
    chave = f"{versao}:{webservice}"
    with _locks_guard:
        lock = _locks.setdefault(chave, threading.Lock())
    with lock:
        if xsd.validate(doc):
            return []
        return [f"{e.line}: {e.message}" for e in xsd.error_log]
