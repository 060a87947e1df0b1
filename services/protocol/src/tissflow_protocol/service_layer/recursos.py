"""The operator's answer to a recurso de glosa reaches the protocol: what it accepted is the
value recovered, shown beside the protocol's Vlr. Glosado / Liberado.

Idempotent: the answer is stored under its recurso id in the same write that records the
event id, so a redelivery changes nothing and two answers of one protocol never collide.
"""

from __future__ import annotations

from typing import Any

from tissflow_contracts import RecursoAnswered
from tissflow_contracts.recuperacao import resposta_de_recurso

from tissflow_protocol.service_layer.ports import Deps


async def apply_recurso_answered(
    deps: Deps, event: RecursoAnswered, event_id: str
) -> dict[str, Any] | None:
    """Record the recovered value of one answered recurso on its protocol (once); None
    when the protocol is unknown or the event was already applied."""
    resposta = resposta_de_recurso(
        numero_guia=event.numero_guia_prestador,
        numero_protocolo_recurso=event.numero_protocolo_recurso,
        valor_recursado=event.valor_total_recursado,
        valor_acatado=event.valor_total_acatado,
        respondido_em=event.answered_at.isoformat(),
    )
    return await deps.repo.update(
        event.peg,
        expected_status=None,
        sets={f"recursos_glosa.{event.recurso_id}": resposta},
        pushes={},
        event_id=event_id,
    )
