"""Shared helpers for the validation engine tests: contexts and XML editing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from lxml import etree
from tissflow_demo.samples import recalcular_hash, sample_beneficiarios, sample_prestadores
from tissflow_validation.engine import OperatorContext, ValidationResult
from tissflow_validation.engine.documento import NS

A = "{" + NS + "}"
GUIAS = "/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS"


@pytest.fixture
def ctx() -> OperatorContext:
    return OperatorContext(registro_ans="331988")


@pytest.fixture
def ctx_completo() -> OperatorContext:
    return OperatorContext(
        registro_ans="331988",
        prestadores=sample_prestadores(),
        beneficiarios=sample_beneficiarios(),
        guia_ja_apresentada=lambda prestador, numero: False,
    )


def editar(content: bytes, fn: Callable[[etree._Element], None], *, hash_ok: bool = True) -> bytes:
    """Apply `fn` to the parsed lote and serialize it back (same encoding, fixed hash)."""
    root = etree.fromstring(content)
    fn(root)
    enc = root.getroottree().docinfo.encoding
    out = etree.tostring(root.getroottree(), encoding=enc, xml_declaration=True)
    return recalcular_hash(out) if hash_ok else out


def linha_de(content: bytes, trecho: str, ocorrencia: int = 1) -> int:
    """1-based line of the n-th occurrence of `trecho` in `content`."""
    pos = -1
    for _ in range(ocorrencia):
        pos = content.index(trecho.encode(), pos + 1)
    return content.count(b"\n", 0, pos) + 1


def codigos(r: ValidationResult) -> list[str]:
    return [c.codigo for c in r.critiques]


def unica(r: ValidationResult, codigo: str):
    """The only critique of the result, which must carry `codigo`."""
    assert codigos(r) == [codigo], [c.to_dict() for c in r.critiques]
    assert not r.valido
    return r.critiques[0]


HOJE = date.today()
