"""The operator's registry (prestadores, beneficiários): JSON and CSV imports."""

from __future__ import annotations

from typing import Any

from tissflow_validation.domain import errors
from tissflow_validation.domain.cadastro import CsvInvalido, TipoCadastro, decodificar, ler_csv
from tissflow_validation.service_layer.ports import Registry


async def import_records(
    registry: Registry, tipo: TipoCadastro, records: list[dict[str, Any]]
) -> int:
    """Add or update records given as JSON (key: CNPJ/CPF or carteira)."""
    if records:
        await registry.upsert(tipo, records, ordered=False)
    return len(records)


async def import_csv(registry: Registry, tipo: TipoCadastro, data: bytes) -> dict[str, Any]:
    """A registry CSV: good lines imported in file order (a later line wins), bad ones
    reported with their number; a file that cannot be read as a whole is invalid."""
    try:
        importacao = ler_csv(tipo, decodificar(data))
    except CsvInvalido as exc:
        raise errors.csv_invalid(exc) from exc
    if importacao.registros:
        await registry.upsert(tipo, importacao.registros, ordered=True)
    return {"importados": len(importacao.registros), "erros": importacao.erros}
