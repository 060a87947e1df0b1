"""Internal routes of the operator's rule settings (`/regras`), read at each validation."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tissflow_validation.service_layer import rules
from tissflow_validation.service_layer.ports import Adapters


class RuleRequest(BaseModel):
    enabled: bool
    ignoravel: bool
    # "alerta": the critique is shown but does not make the file invalid.
    severidade: Literal["erro", "alerta"] = "erro"
    by: str | None = Field(default=None, max_length=200)


def build_router(a: Adapters) -> APIRouter:
    router = APIRouter(prefix="/internal")

    @router.get("/regras")
    async def list_rules() -> dict[str, Any]:
        """Every table-38 code the engine can raise, with the operator's setting."""
        return await rules.list_rules(a.rules)

    @router.put("/regras/{codigo}")
    async def configure_rule(codigo: str, body: RuleRequest) -> dict[str, Any]:
        """Switch a rule on/off, make it ignorable or a mere alert; applies to the next files."""
        return await rules.configure_rule(
            a.rules,
            codigo,
            enabled=body.enabled,
            ignoravel=body.ignoravel,
            severidade=body.severidade,
            by=body.by,
        )

    return router
