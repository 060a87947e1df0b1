"""`python -m tissflow_gateway.users`: portal logins from the command line.

The first operator login of a new installation is made here (there is no one yet to make
it in the portal), and so can any other:

    python -m tissflow_gateway.users create --login ana --nome "Ana Souza" --papel operadora
    python -m tissflow_gateway.users create --login clinica --nome "Faturamento" \\
        --papel prestador --prestador 07906129000102 --prestador-nome "ODONTO ARTE LTDA"

The password is read from TISSFLOW_NEW_PASSWORD or asked on the terminal (never an
argument: it would stay in the shell history and the process list). Outside development a
password must have at least 12 characters and differ from the login.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from tissflow_gateway.auth import normalise_username, upsert_user
from tissflow_gateway.core import runtime, settings

ROLES = ("prestador", "operadora", "ops")
MIN_PASSWORD = 12


def _password(login: str) -> str:
    password = os.environ.get("TISSFLOW_NEW_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Senha de {login}: ")
        if getpass.getpass("Repita a senha: ") != password:
            raise SystemExit("erro: as senhas não conferem")
    if settings.env not in ("development", "test"):
        if len(password) < MIN_PASSWORD or normalise_username(password) == login:
            raise SystemExit(
                f"erro: em {settings.env} a senha deve ter pelo menos {MIN_PASSWORD} "
                "caracteres e ser diferente do login"
            )
    elif not password:
        raise SystemExit("erro: informe uma senha")
    return password


async def _create(args: argparse.Namespace) -> None:
    login = normalise_username(args.login)
    try:
        await upsert_user(
            login,
            _password(login),
            args.nome,
            args.papel,
            provider_id=args.prestador,
            provider_nome=args.prestador_nome,
        )
    finally:
        await runtime.mongo.close()
    print(f"login {login} ({args.papel}) pronto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tissflow_gateway.users")
    sub = parser.add_subparsers(dest="comando", required=True)
    create = sub.add_parser("create", help="cria ou atualiza um login do portal e da API")
    create.add_argument("--login", required=True)
    create.add_argument("--nome", required=True)
    create.add_argument("--papel", required=True, choices=ROLES)
    create.add_argument("--prestador", help="CNPJ ou CPF (papel prestador)")
    create.add_argument("--prestador-nome")
    args = parser.parse_args(argv)
    if (args.papel == "prestador") != bool(args.prestador):
        parser.error("--prestador é obrigatório para o papel prestador, e só para ele")
    asyncio.run(_create(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
