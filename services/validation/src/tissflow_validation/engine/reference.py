"""Reference data read at run time: table 38, TUSS codes and the TISS XSDs.

Nothing here is copied into the repository. Table 38 and the XSDs of the versions the
`tiss` package ships come through `tissflow_tiss` (the one reader every service shares);
TUSS from the installed `tiss` package (`tiss/tuss/_data/tuss.json`); and any version the
operator imported under `$TISSFLOW_REFERENCE_DIR/schemas/<versao>/` (see `tissflow
reference import`) from there. Everything is loaded lazily, once per process, behind
locks, so threads share one copy.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lxml import etree
from tissflow_tiss import reference as tiss_reference
from tissflow_tiss.reference import Glosa, tabela_38

__all__ = ["Glosa", "glosa", "schema", "tabela_38", "tuss_codigos", "versoes_disponiveis"]

ENV_REFERENCE_DIR = "TISSFLOW_REFERENCE_DIR"
_VERSAO_RE = re.compile(r"^\d\.\d\d\.\d\d$")
_XSD_NAME_RE = re.compile(r"^tissV(\d)_(\d\d)_(\d\d)\.xsd$")


def glosa(codigo: str) -> Glosa:
    """The table-38 row for `codigo`; KeyError for a code the table does not have."""
    return tabela_38()[codigo]


@dataclass(frozen=True, slots=True)
class _Tuss:
    codigos: frozenset[tuple[str, str]]
    # (início, fim) of vigência as ISO dates ('' when open) of the codes whose vigência
    # limits a plausible date: begun after 2012-10-10 (the TUSS baseline every original
    # code carries) or ended. A few thousand entries.
    vigencias: dict[tuple[str, str], tuple[str, str]]


_tuss_lock = threading.Lock()
_tuss: _Tuss | None = None


def _carregar_tuss() -> _Tuss:
    """The TUSS terminology, read once (16 MB JSON) into what the rules look up."""
    global _tuss
    if _tuss is None:
        with _tuss_lock:
            if _tuss is None:
                raw = resources.files("tiss.tuss").joinpath("_data/tuss.json").read_bytes()
                codigos: set[tuple[str, str]] = set()
                vigencias: dict[tuple[str, str], tuple[str, str]] = {}
                for r in json.loads(raw)["records"]:
                    chave = (r["tabela"], r["codigo"])
                    codigos.add(chave)
                    ini = r.get("vigencia_inicio") or ""
                    fim = r.get("vigencia_fim") or ""
                    if ini > "2012-10-10" or fim:
                        vigencias[chave] = (ini, fim)
                _tuss = _Tuss(frozenset(codigos), vigencias)
    return _tuss


def tuss_codigos() -> frozenset[tuple[str, str]]:
    """Every (codigoTabela, codigo) pair of the TUSS terminology."""
    return _carregar_tuss().codigos


def tuss_vigencias() -> dict[tuple[str, str], tuple[str, str]]:
    """(início, fim) of the TUSS codes whose vigência is limited (see `_Tuss`)."""
    return _carregar_tuss().vigencias


def tuss_tabelas() -> frozenset[str]:
    """TUSS tables whose codes can be checked (18, 19, 20, 22)."""
    return frozenset(t for t, _ in tuss_codigos())


# --- schemas -------------------------------------------------------------------------


def reference_dir() -> Path | None:
    """The operator's reference folder from `$TISSFLOW_REFERENCE_DIR`, if set."""
    value = os.environ.get(ENV_REFERENCE_DIR)
    return Path(value) if value else None


def versao_de_arquivo(nome: str) -> str | None:
    """'tissV4_03_00.xsd' -> '4.03.00'; None for any other file name."""
    m = _XSD_NAME_RE.match(nome)
    return f"{m[1]}.{m[2]}.{m[3]}" if m else None


def _xsd_principal(versao: str) -> str:
    return "tissV" + versao.replace(".", "_") + ".xsd"


def _pacote_schemas() -> Path:
    return Path(str(resources.files("tiss").joinpath("_data/schemas")))


def versoes_disponiveis() -> dict[str, Path]:
    """Accepted TISS versions -> path of their main XSD (package first, then reference dir)."""
    found: dict[str, Path] = {}
    bases = [_pacote_schemas()]
    ref = reference_dir()
    if ref is not None:
        bases.append(ref / "schemas")
    for base in bases:
        if not base.is_dir():
            continue
        for pasta in sorted(base.iterdir()):
            if not (pasta.is_dir() and _VERSAO_RE.match(pasta.name)):
                continue
            principal = pasta / _xsd_principal(pasta.name)
            if principal.is_file():
                found.setdefault(pasta.name, principal)
    return dict(sorted(found.items()))


_schema_lock = threading.Lock()
_schemas: dict[Path, etree.XMLSchema] = {}


def schema(versao: str) -> etree.XMLSchema | None:
    """The compiled XSD of `versao`, compiled once per process; None if not available."""
    principal = versoes_disponiveis().get(versao)
    if principal is None:
        return None
    compiled = _schemas.get(principal)
    if compiled is None:
        with _schema_lock:
            compiled = _schemas.get(principal)
            if compiled is None and principal.parent.parent == _pacote_schemas():
                compiled = tiss_reference.schema(versao)  # shipped by `tiss`: one copy
                _schemas[principal] = compiled
            if compiled is None:
                # Local files only: the ANS schemas import each other by relative name.
                parser = etree.XMLParser(no_network=True, resolve_entities=False)
                doc = etree.parse(str(principal), parser)
                compiled = etree.XMLSchema(doc)
                _schemas[principal] = compiled
    return compiled
