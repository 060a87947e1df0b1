"""The typed lote: its states, the 100-guide limit and the Geração Automática grouping."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from tissflow_contracts.errors import DomainError

from tissflow_batching.digitacao.domain.formularios import MAX_GUIAS_LOTE, NOMES_TIPO

T = TypeVar("T")


class SituacaoLoteDigitado(StrEnum):
    # Guides may be added and removed; nothing has been submitted yet.
    ABERTO = "aberto"
    # The XML went to ingest: the file's validation (and then batching's lote) follow it.
    ENVIADO_VALIDACAO = "enviado_validacao"


class DigitacaoRecusada(DomainError):
    """A request the typed guides or lote cannot take in their state; `message` is pt-BR."""

    kind = "conflict"


class DigitacaoInvalida(DigitacaoRecusada):
    """What was sent cannot make a guide or a lote (type, empty lote, incomplete guides)."""

    kind = "invalid"


class DigitacaoNaoEncontrada(DigitacaoRecusada):
    """No such typed guide or lote of this provider."""

    kind = "not_found"


def cabe_no_lote(tipo_lote: str, ja_no_lote: int, tipos_novos: Sequence[str]) -> None:
    """Refuse guides of another type or past the 100-guide limit (manual's wording)."""
    outros = sorted({t for t in tipos_novos if t != tipo_lote})
    if outros:
        raise DigitacaoRecusada(
            "tipo_de_guia_diferente",
            f"O lote é de guias de {NOMES_TIPO.get(tipo_lote, tipo_lote)}; "
            f"guias de {', '.join(NOMES_TIPO.get(t, t) for t in outros)} vão em outro lote.",
        )
    if ja_no_lote + len(tipos_novos) > MAX_GUIAS_LOTE:
        raise DigitacaoRecusada(
            "limite_de_guias",
            f"Este lote já possui {ja_no_lote} guia(s). Limite máximo permitido por lote é "
            f"de {MAX_GUIAS_LOTE} guias.",
        )


def agrupar(guias: Iterable[T], tipo_de: Any, limite: int = MAX_GUIAS_LOTE) -> list[list[T]]:
    """Geração Automática: the guides by type, in their order, in lotes of at most `limite`."""
    por_tipo: dict[str, list[T]] = {}
    for g in guias:
        por_tipo.setdefault(tipo_de(g), []).append(g)
    lotes: list[list[T]] = []
    for tipo in sorted(por_tipo):
        todas = por_tipo[tipo]
        lotes.extend(todas[i : i + limite] for i in range(0, len(todas), limite))
    return lotes
