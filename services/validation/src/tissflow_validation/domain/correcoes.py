"""A file's online-correction state, as plain data: pending corrections and ignored critiques.

One document per file in validation's database holds it (FerretDB has no transactions,
so every change is one guarded single-document write; see `service_layer.corrections`):

- `pendentes`: corrections saved ("Salvar") and not yet turned into a revision, one per
  xpath (saving the same path again replaces the value);
- `ignoradas`: (codigo, xpath) of ignorable critiques the provider chose to ignore; they
  stay ignored in later revisions (`OperatorContext.ignored`);
- `em_andamento`: the revision being created by a reprocess, so a retry or the
  consumer can finish it if the caller died after ingest accepted it.

Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any


def chave_xpath(xpath: str | None) -> str:
    """The engine's key for a critique's location (`None` is the empty string)."""
    return (xpath or "").strip()


def novo_estado(file_id: str) -> dict[str, Any]:
    return {
        "_id": file_id,
        "versao": 0,
        "pendentes": [],
        "ignoradas": [],
        "em_andamento": None,
        "ultimo_reprocessamento": None,
    }


def mesclar_pendentes(
    atuais: Sequence[Mapping[str, Any]],
    novas: Iterable[tuple[str, str]],
    *,
    by: str,
    revision: int,
    agora: datetime,
) -> list[dict[str, Any]]:
    """Pending corrections after saving `novas`: one per xpath, the newest value wins.

    A path saved again with the same value keeps its entry (and id) untouched, so
    saving twice is the same as saving once.
    """
    out = [dict(p) for p in atuais]
    for xpath, valor in novas:
        chave = xpath.strip()
        existente = next((p for p in out if p["xpath"] == chave), None)
        if existente is not None and existente["valor"] == valor:
            continue
        if existente is not None:
            out.remove(existente)
        out.append(
            {
                "id": uuid.uuid4().hex,
                "xpath": chave,
                "valor": valor,
                "by": by,
                "salva_em": agora,
                "revision": revision,
            }
        )
    return out


def sem_aplicadas(
    pendentes: Sequence[Mapping[str, Any]], aplicadas: Iterable[str]
) -> list[dict[str, Any]]:
    """The pending list without the corrections a new revision already carries."""
    ids = set(aplicadas)
    return [dict(p) for p in pendentes if p["id"] not in ids]


def pares(pendentes: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(xpath, valor) pairs for `apply_correction`, in the order they were saved."""
    return [(p["xpath"], p["valor"]) for p in pendentes]


def motivo(pendentes: Sequence[Mapping[str, Any]]) -> str:
    """The revision's reason as ingest records it."""
    return "correcao" if pendentes else "reprocessamento"


def encontrar_critica(
    critiques: Iterable[Mapping[str, Any]], codigo: str, xpath: str | None
) -> dict[str, Any] | None:
    """The first critique with this code at this location, if any."""
    alvo = chave_xpath(xpath)
    for c in critiques:
        if c.get("codigo") == codigo and chave_xpath(c.get("xpath")) == alvo:
            return dict(c)
    return None


def com_ignorada(
    ignoradas: Sequence[Mapping[str, Any]],
    codigo: str,
    xpath: str | None,
    *,
    by: str,
    agora: datetime,
) -> list[dict[str, Any]] | None:
    """The ignored list with this critique added, or None when it is already there."""
    chave = chave_xpath(xpath)
    if any(i["codigo"] == codigo and i["xpath"] == chave for i in ignoradas):
        return None
    return [
        *map(dict, ignoradas),
        {"codigo": codigo, "xpath": chave, "by": by, "ignorada_em": agora},
    ]


def pares_ignorados(ignoradas: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """`OperatorContext.ignored` for the file."""
    return frozenset((i["codigo"], i["xpath"]) for i in ignoradas)


def impressao_pedido(by: str, recalcular_totais: bool, correcoes: Iterable[tuple[str, str]]) -> str:
    """A fingerprint of a reprocess request, to recognise the same request retried."""
    corpo = json.dumps(
        {"by": by, "recalcular": recalcular_totais, "correcoes": [list(c) for c in correcoes]},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(corpo.encode()).hexdigest()


def revisao_aplicada(
    em_andamento: Mapping[str, Any] | None, revisions: Iterable[Mapping[str, Any]]
) -> bool:
    """True when ingest holds the revision the interrupted reprocess was creating."""
    if not em_andamento:
        return False
    return any(
        r.get("revision") == em_andamento["revision"] and r.get("sha256") == em_andamento["sha256"]
        for r in revisions
    )


def publico(estado: Mapping[str, Any]) -> dict[str, Any]:
    """What the portal sees of the state: the pending corrections and the ignored ones."""
    return {
        "pendentes": [
            {k: p.get(k) for k in ("id", "xpath", "valor", "by", "salva_em", "revision")}
            for p in estado.get("pendentes", [])
        ],
        "ignoradas": [
            {
                "codigo": i.get("codigo"),
                "xpath": i.get("xpath") or None,
                "by": i.get("by"),
                "ignorada_em": i.get("ignorada_em"),
            }
            for i in estado.get("ignoradas", [])
        ],
    }
