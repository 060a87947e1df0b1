"""Seeds the operator's demo registry (providers and beneficiaries) into validation's database.

`python -m tissflow_validation.seed` is idempotent. The demo files of
`tissflow_validation.samples` use exactly these providers and carteiras.
"""

from __future__ import annotations

import asyncio

from pymongo import UpdateOne

from tissflow_validation.samples import sample_beneficiarios, sample_prestadores

SECOND_PROVIDER = {
    "cnpj_cpf": "11222333000181",
    "codigo_prestador": "100300",
    "nome": "CLINICA SORRISO LTDA",
}


async def seed() -> None:
    from tissflow_validation.app import beneficiarios, prestadores, runtime

    registros = {
        rec["cnpj"]: {
            "cnpj_cpf": rec["cnpj"],
            "codigo_prestador": rec["codigo"],
            "nome": rec["nome"],
        }
        for rec in sample_prestadores().values()
    }
    registros[SECOND_PROVIDER["cnpj_cpf"]] = SECOND_PROVIDER
    await prestadores.bulk_write(
        [UpdateOne({"_id": k}, {"$set": v}, upsert=True) for k, v in registros.items()]
    )
    await beneficiarios.bulk_write(
        [
            UpdateOne(
                {"_id": carteira},
                {"$set": {"numero_carteira": carteira, "nome": r["nome"], "ativo": r["ativo"]}},
                upsert=True,
            )
            for carteira, r in sample_beneficiarios().items()
        ]
    )
    await runtime.mongo.close()


def main() -> None:
    asyncio.run(seed())
    print("cadastro de demonstração da operadora pronto")


if __name__ == "__main__":
    main()
