"""Seeds the demo: operator PASA (ANS 331988), provider ODONTO ARTE LTDA and their logins.

`python -m tissflow_gateway.seed` is idempotent: it sets the demo users' passwords and
imports the demo registry of providers and beneficiaries into the validation service.
"""

from __future__ import annotations

import asyncio

from tissflow_gateway.auth import upsert_user
from tissflow_gateway.core import call, runtime

DEMO_PROVIDER = {"cnpj": "07906129000102", "nome": "ODONTO ARTE LTDA", "codigo": "100200"}
DEMO_USERS = [
    # (login, password, name, role, provider)
    ("odontoarte", "odontoarte123", "Faturamento Odonto Arte", "prestador", DEMO_PROVIDER),
    ("operadora", "operadora123", "Analista PASA", "operadora", None),
    ("ops", "ops123", "Operações tissflow", "ops", None),
]
DEMO_BENEFICIARIOS = [
    {"numero_carteira": "0001000000000019", "nome": "MARIA DA SILVA", "ativo": True},
    {"numero_carteira": "0001000000000027", "nome": "JOSE DOS SANTOS", "ativo": True},
    {"numero_carteira": "0001000000000035", "nome": "ANA PEREIRA", "ativo": True},
    {"numero_carteira": "0001000000000043", "nome": "CARLOS SOUZA (inativo)", "ativo": False},
]


async def seed(with_registry: bool = True) -> None:
    for login, password, nome, role, provider in DEMO_USERS:
        await upsert_user(
            login,
            password,
            nome,
            role,
            provider_id=provider["cnpj"] if provider else None,
            provider_nome=provider["nome"] if provider else None,
        )
    if with_registry:
        await call(
            "PUT",
            "validation",
            "/internal/cadastro/prestadores",
            json=[
                {
                    "cnpj_cpf": DEMO_PROVIDER["cnpj"],
                    "codigo_prestador": DEMO_PROVIDER["codigo"],
                    "nome": DEMO_PROVIDER["nome"],
                }
            ],
        )
        await call("PUT", "validation", "/internal/cadastro/beneficiarios", json=DEMO_BENEFICIARIOS)
    await runtime.mongo.close()
    if runtime._http is not None:
        await runtime._http.aclose()


def main() -> None:
    asyncio.run(seed())
    print("dados de demonstração prontos")


if __name__ == "__main__":
    main()
