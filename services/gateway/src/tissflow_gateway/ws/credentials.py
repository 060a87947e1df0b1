"""Web-service credentials: the `loginSenhaPrestador` a clinic's billing software sends.

TISS authenticates a web-service call by the provider's identity in the header
(`origem/identificacaoPrestador`) plus `cabecalho/loginSenhaPrestador`: a login and the
MD5 (hex) of a password. The operator's staff issue these per provider (never the portal
password): create (the password is shown once), rotate (a new password, same login),
revoke. Only an Argon2 hash of the password's MD5 is stored, so a stolen collection gives
neither the password nor what the client sends. Failed logins are limited exactly like
the portal's (`auth._count_attempt`: 5 per login and address, 50 per login, per window).

The authenticated credential becomes a `User` with role `prestador` and its provider, so
the operations call the same use cases, with the same ownership checks, as the portal.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from tissflow_gateway import auth
from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, db, not_found
from tissflow_gateway.ws.registry import WsFault

ws_credentials = db["ws_credentials"]
LOGIN_PREFIX = "ws:"
"""The username a web-service call acts as (`ws:<login>`): lote logs and the access log
tell a web-service action from a portal clerk's."""
_LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,19}$")


def md5_hex(password: str) -> str:
    """What the client sends as `senhaPrestador`: the MD5 of the password, in hex."""
    return hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class Issued:
    """A credential as its creation or rotation shows it: the only time the password is seen."""

    credential: dict[str, Any]
    password: str


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The credential without its secret."""
    return {
        "login": doc["_id"],
        "provider_id": doc["provider_id"],
        "provider_nome": doc.get("provider_nome"),
        "codigo_prestador": doc.get("codigo_prestador"),
        "ativa": doc.get("revoked_at") is None,
        "created_at": doc["created_at"],
        "created_by": doc.get("created_by"),
        "rotated_at": doc.get("rotated_at"),
        "rotated_by": doc.get("rotated_by"),
        "revoked_at": doc.get("revoked_at"),
        "revoked_by": doc.get("revoked_by"),
        "last_used_at": doc.get("last_used_at"),
    }


def _check_provider(provider_id: str) -> str:
    value = provider_id.strip().replace(".", "").replace("/", "").replace("-", "").upper()
    if not (len(value) == 14 and value.isalnum()) and not (len(value) == 11 and value.isdigit()):
        raise ApiError(
            422,
            "prestador_invalido",
            "Informe o CNPJ (14 caracteres) ou o CPF (11 dígitos) do prestador.",
            {"provider_id": provider_id[:40]},
        )
    return value


def _default_login(provider_id: str) -> str:
    return f"ws{provider_id[-8:].lower()}{secrets.token_hex(2)}"


async def create(
    by: User,
    provider_id: str,
    provider_nome: str | None = None,
    codigo_prestador: str | None = None,
    login: str | None = None,
    password: str | None = None,
) -> Issued:
    """A new credential for a provider; its password is returned here and never again.
    `login` (3–20 of a-z, 0-9, `.`, `_`, `-`) defaults to one made from the provider;
    `password` is for the demo seed only (staff get a random one)."""
    provider = _check_provider(provider_id)
    chosen = (login or _default_login(provider)).strip().casefold()
    if not _LOGIN_RE.match(chosen):
        raise ApiError(
            422,
            "login_invalido",
            "O login do web service tem de 3 a 20 caracteres: letras minúsculas, números, "
            "ponto, hífen ou sublinhado.",
        )
    secret = password or new_password()
    now = datetime.now(UTC)
    doc = {
        "_id": chosen,
        "provider_id": provider,
        "provider_nome": (provider_nome or "").strip()[:120] or None,
        "codigo_prestador": (codigo_prestador or "").strip()[:14] or None,
        "secret_hash": await asyncio.to_thread(auth.hash_password, md5_hex(secret)),
        "created_at": now,
        "created_by": by.username,
        "revoked_at": None,
    }
    try:
        await ws_credentials.insert_one(doc)
    except DuplicateKeyError:
        raise ApiError(
            409, "login_existente", f"Já existe uma credencial com o login {chosen}."
        ) from None
    return Issued(public(doc), secret)


async def _get(login: str) -> dict[str, Any]:
    doc = await ws_credentials.find_one({"_id": login.strip().casefold()})
    if doc is None:
        raise not_found("Credencial")
    return doc


async def rotate(by: User, login: str) -> Issued:
    """A new password for the same login (the old one stops working at once); a revoked
    credential is revived only by creating a new one."""
    doc = await _get(login)
    if doc.get("revoked_at") is not None:
        raise ApiError(409, "credencial_revogada", "Credencial revogada: crie uma nova.")
    secret = new_password()
    now = datetime.now(UTC)
    sets = {
        "secret_hash": await asyncio.to_thread(auth.hash_password, md5_hex(secret)),
        "rotated_at": now,
        "rotated_by": by.username,
    }
    await ws_credentials.update_one({"_id": doc["_id"]}, {"$set": sets})
    return Issued(public({**doc, **sets}), secret)


async def revoke(by: User, login: str) -> dict[str, Any]:
    """The credential stops working at once; it stays listed, revoked, for the record."""
    doc = await _get(login)
    if doc.get("revoked_at") is None:
        sets = {"revoked_at": datetime.now(UTC), "revoked_by": by.username}
        await ws_credentials.update_one({"_id": doc["_id"]}, {"$set": sets})
        doc.update(sets)
    return public(doc)


async def list_all(provider_id: str | None = None) -> list[dict[str, Any]]:
    query = {"provider_id": provider_id} if provider_id else {}
    cursor = ws_credentials.find(query).sort("created_at", -1).limit(500)
    return [public(d) for d in await cursor.to_list()]


@dataclass(frozen=True, slots=True)
class Identificacao:
    """`origem/identificacaoPrestador` of the request: one of CNPJ, CPF or the operator's
    code for the provider."""

    cnpj: str | None = None
    cpf: str | None = None
    codigo: str | None = None

    def matches(self, doc: dict[str, Any]) -> bool:
        if self.cnpj is not None:
            return self.cnpj == doc["provider_id"]
        if self.cpf is not None:
            return self.cpf == doc["provider_id"]
        if self.codigo is not None:
            return doc.get("codigo_prestador") is not None and self.codigo == doc.get(
                "codigo_prestador"
            )
        return False


LOGIN_INVALIDO = "Login ou senha do web service inválidos."


async def authenticate(login: str, senha_md5: str, quem: Identificacao) -> User:
    """The provider a call acts for, or `WsFault` (LoginInvalido, RemetenteInvalido).

    Attempts are counted before the password is checked, as the portal does; an unknown
    login costs the same Argon2 check as a known one. The credential must belong to the
    provider the header names (else RemetenteInvalido: a valid login may not speak for
    another provider)."""
    key = login.strip().casefold()
    address = auth.client_address.get()
    try:
        taken = [
            await auth._count_attempt(f"{LOGIN_PREFIX}{key}@{address}"),
            await auth._count_attempt(f"{LOGIN_PREFIX}{key}", auth.MAX_LOGIN_ATTEMPTS),
        ]
    except ApiError as exc:  # 429: the same lockout as the portal's
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        raise WsFault("LoginInvalido", str(detail.get("message") or LOGIN_INVALIDO)) from None
    doc = await ws_credentials.find_one({"_id": key}) if key else None
    usable = doc is not None and doc.get("revoked_at") is None
    ok = await asyncio.to_thread(
        auth._verify, doc["secret_hash"] if usable and doc else None, senha_md5.strip().lower()
    )
    if not usable or not ok or doc is None:
        raise WsFault("LoginInvalido", LOGIN_INVALIDO)
    await auth.login_attempts.delete_many({"key": f"{LOGIN_PREFIX}{key}@{address}"})
    await auth.login_attempts.delete_one({"_id": taken[1]})
    if not quem.matches(doc):
        raise WsFault(
            "RemetenteInvalido",
            "O prestador identificado no cabeçalho (origem) não é o dono destas credenciais.",
        )
    await ws_credentials.update_one({"_id": key}, {"$set": {"last_used_at": datetime.now(UTC)}})
    user = User(
        username=f"{LOGIN_PREFIX}{key}",
        nome=f"Web service {key}",
        role="prestador",
        provider_id=doc["provider_id"],
        provider_nome=doc.get("provider_nome"),
    )
    return auth._remember(user)
