"""Internal routes of the operator's registry (JSON and CSV imports)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator
from tissflow_contracts.limites import MAX_CSV_BYTES
from tissflow_runtime.limits import BodyTooLarge, read_limited

from tissflow_validation.domain import errors
from tissflow_validation.domain.cadastro import TipoCadastro, documento_valido
from tissflow_validation.service_layer import registry
from tissflow_validation.service_layer.ports import Adapters


class Prestador(BaseModel):
    cnpj_cpf: str = Field(min_length=11, max_length=14, pattern=r"^(?:\d{11}|[A-Z0-9]{12}\d{2})$")
    codigo_prestador: str | None = None
    nome: str
    vinculados: list[str] | None = None

    @field_validator("cnpj_cpf")
    @classmethod
    def _digitos(cls, valor: str) -> str:
        return documento_valido(valor)


class Beneficiario(BaseModel):
    numero_carteira: str = Field(min_length=1, max_length=20)
    nome: str
    ativo: bool = True


CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def build_router(a: Adapters) -> APIRouter:
    router = APIRouter(prefix="/internal")

    @router.put("/cadastro/prestadores")
    async def import_prestadores(items: list[Prestador]) -> dict[str, int]:
        # A record sent without `vinculados` keeps the links it had.
        records = [
            {
                "_id": p.cnpj_cpf,
                **p.model_dump(exclude=None if p.vinculados is not None else {"vinculados"}),
            }
            for p in items
        ]
        return {"importados": await registry.import_records(a.registry, "prestadores", records)}

    @router.put("/cadastro/beneficiarios")
    async def import_beneficiarios(items: list[Beneficiario]) -> dict[str, int]:
        records = [{"_id": b.numero_carteira, **b.model_dump()} for b in items]
        count = await registry.import_records(a.registry, "beneficiarios", records)
        return {"importados": count}

    async def import_csv(tipo: TipoCadastro, request: Request) -> dict[str, Any]:
        try:
            data = await read_limited(request.stream(), MAX_CSV_BYTES)
        except BodyTooLarge:
            raise errors.csv_too_large() from None
        return await registry.import_csv(a.registry, tipo, data)

    @router.post("/cadastro/prestadores/csv", openapi_extra=CSV_BODY)
    async def import_prestadores_csv(request: Request) -> dict[str, Any]:
        """`cnpj_cpf;codigo_prestador;nome` (UTF-8, `;`); bad lines are reported, not imported."""
        return await import_csv("prestadores", request)

    @router.post("/cadastro/beneficiarios/csv", openapi_extra=CSV_BODY)
    async def import_beneficiarios_csv(request: Request) -> dict[str, Any]:
        """`numero_carteira;nome;ativo` (ativo S/N; UTF-8, `;`); bad lines are reported."""
        return await import_csv("beneficiarios", request)

    return router
