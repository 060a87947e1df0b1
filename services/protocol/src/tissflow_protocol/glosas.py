"""TISS table 38 (glosas, negativas e outras mensagens) from the installed `tiss` package.

The operator's analysis names glosas by code; a code the table does not have is refused.
Loaded once per process (a few hundred rows).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def tabela_38() -> dict[str, str]:
    """Description of every table-38 code, by code."""
    raw = resources.files("tiss").joinpath("_data/glosas.json").read_bytes()
    return {r["codigo"]: r["descricao"].strip() for r in json.loads(raw)["records"]}


def descricao(codigo: str) -> str:
    """The table-38 description of `codigo`; KeyError for a code the table does not have."""
    return tabela_38()[codigo]
