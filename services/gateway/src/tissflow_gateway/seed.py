"""Seeds the demo: operator PASA (ANS 331988), provider ODONTO ARTE LTDA and their logins.

`python -m tissflow_gateway.seed` is idempotent: it (re)sets the demo users and passwords.
The operator's registry of providers and beneficiaries is the validation service's
(`python -m tissflow_demo.validation_seed`).
"""

from __future__ import annotations

import asyncio

from tissflow_gateway.auth import upsert_user
from tissflow_gateway.core import runtime, settings
from tissflow_gateway.ws import credentials

DEMO_PROVIDER = {"cnpj": "07906129000102", "nome": "ODONTO ARTE LTDA", "codigo": "100234"}
SECOND_PROVIDER = {"cnpj": "11222333000181", "nome": "CLINICA SORRISO LTDA", "codigo": "100300"}
DEMO_USERS = [
    # (login, password, name, role, provider)
    ("odontoarte", "odontoarte123", "Faturamento Odonto Arte", "prestador", DEMO_PROVIDER),
    ("sorriso", "sorriso123", "Faturamento Clínica Sorriso", "prestador", SECOND_PROVIDER),
    ("operadora", "operadora123", "Analista PASA", "operadora", None),
    ("ops", "ops123", "Operações tissflow", "ops", None),
]
# The TISS web services' loginSenhaPrestador of the demo provider (issued by the
# operator's staff in production: Operadora → Web Services).
DEMO_WS_CREDENTIAL = ("odontoarte-ws", "odontoarte-ws123", DEMO_PROVIDER)


async def seed() -> None:
    for login, password, nome, role, provider in DEMO_USERS:
        await upsert_user(
            login,
            password,
            nome,
            role,
            provider_id=provider["cnpj"] if provider else None,
            provider_nome=provider["nome"] if provider else None,
        )
    login, password, provider = DEMO_WS_CREDENTIAL
    await credentials.seed(login, password, provider["cnpj"], provider["nome"], provider["codigo"])
    await runtime.mongo.close()
    if runtime._http is not None:
        await runtime._http.aclose()


def main() -> None:
    if settings.env not in ("development", "test"):
        raise SystemExit(
            f"erro: os dados de demonstração não são criados em {settings.env}; crie o "
            "primeiro login com `python -m tissflow_gateway.users create`"
        )
    asyncio.run(seed())
    print("dados de demonstração prontos")


if __name__ == "__main__":
    main()
