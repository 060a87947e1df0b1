"""Seeds the operator's demo registry (providers and beneficiaries) into validation's database.

`python -m tissflow_demo.validation_seed` is idempotent. The demo files of
`tissflow_demo.samples` use exactly these providers and carteiras.
"""

from __future__ import annotations

import asyncio

from tissflow_runtime.service import ServiceRuntime
from tissflow_runtime.settings import ServiceSettings
from tissflow_validation.adapters.mongo import MongoRegistry

from tissflow_demo.samples import sample_beneficiarios, sample_prestadores

SECOND_PROVIDER = {
    "cnpj_cpf": "11222333000181",
    "codigo_prestador": "100300",
    "nome": "CLINICA SORRISO LTDA",
}


async def seed() -> None:
    runtime = ServiceRuntime("validation", ServiceSettings())
    registry = MongoRegistry(runtime.db)
    registros = {
        rec["cnpj"]: {
            "cnpj_cpf": rec["cnpj"],
            "codigo_prestador": rec["codigo"],
            "nome": rec["nome"],
        }
        for rec in sample_prestadores().values()
    }
    registros[SECOND_PROVIDER["cnpj_cpf"]] = SECOND_PROVIDER
    await registry.upsert(
        "prestadores", [{"_id": k, **v} for k, v in registros.items()], ordered=False
    )
    await registry.upsert(
        "beneficiarios",
        [
            {"_id": carteira, "numero_carteira": carteira, "nome": r["nome"], "ativo": r["ativo"]}
            for carteira, r in sample_beneficiarios().items()
        ],
        ordered=False,
    )
    await runtime.mongo.close()


def main() -> None:
    asyncio.run(seed())
    print("cadastro de demonstração da operadora pronto")


if __name__ == "__main__":
    main()
