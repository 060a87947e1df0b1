"""The operator's answer to a recurso de glosa reaches the lote: what it accepted is the
value recovered, shown beside the lote's Vlr. Glosado / Liberado.

Idempotent: the answer is stored under its recurso id in the same write that records the
event id, so a redelivery changes nothing and two answers of one lote never collide.
"""

from __future__ import annotations

from typing import Any

from tissflow_contracts import RecursoAnswered
from tissflow_contracts.recuperacao import resposta_de_recurso

from tissflow_batching.service_layer.lotes import Deps, _log


async def apply_recurso_answered(
    deps: Deps, event: RecursoAnswered, event_id: str
) -> dict[str, Any] | None:
    """Record the recovered value of one answered recurso on its lote (once)."""
    doc = await deps.lotes.get(event.lote_id)
    if doc is None or event_id in doc.get("handled", []):
        return None
    resposta = resposta_de_recurso(
        numero_guia=event.numero_guia_prestador,
        numero_protocolo_recurso=event.numero_protocolo_recurso,
        valor_recursado=event.valor_total_recursado,
        valor_acatado=event.valor_total_acatado,
        respondido_em=event.answered_at.isoformat(),
    )
    texto = (
        f"Recurso de glosa {event.numero_protocolo_recurso} respondido: "
        f"R$ {resposta['valor_acatado']} recuperado de R$ {resposta['valor_recursado']}"
    )
    log = _log(deps.clock(), "operadora", "recurso_glosa", "ok", texto)
    return await deps.lotes.update_fields(
        event.lote_id, {f"recursos_glosa.{event.recurso_id}": resposta}, log=log, event_id=event_id
    )
