"""The operator's rule settings: every table-38 code the engine raises, and how."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tissflow_validation.domain import errors
from tissflow_validation.domain.regras_operadora import CATALOGO, item_regra
from tissflow_validation.service_layer.ports import Rules


async def list_rules(rules: Rules) -> dict[str, Any]:
    """Every table-38 code the engine can raise, with the operator's setting."""
    salvos = {d["_id"]: d for d in await rules.all()}
    items = [item_regra(codigo, salvos.get(codigo)) for codigo in CATALOGO]
    return {"items": items, "total": len(items)}


async def configure_rule(
    rules: Rules,
    codigo: str,
    *,
    enabled: bool,
    ignoravel: bool,
    severidade: str,
    by: str | None,
) -> dict[str, Any]:
    """Switch a rule on/off, make it ignorable or a mere alert; applies to the next files."""
    entrada = CATALOGO.get(codigo)
    if entrada is None:
        raise errors.rule_not_found(codigo)
    if not entrada.configuravel:
        raise errors.rule_not_configurable(codigo, entrada)
    salvo = {
        "enabled": enabled,
        "ignoravel": ignoravel,
        "severidade": severidade,
        "atualizado_por": by,
        "atualizado_em": datetime.now(UTC),
    }
    await rules.save(codigo, salvo)
    return item_regra(codigo, salvo)
