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
import time
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


async def seed(
    login: str, password: str, provider_id: str, provider_nome: str, codigo: str | None
) -> None:
    """The demo's credential, (re)set to a known password (`python -m
    tissflow_gateway.seed`; development and test only)."""
    secret_hash = await asyncio.to_thread(auth.hash_password, md5_hex(password))
    await ws_credentials.update_one(
        {"_id": login},
        {
            "$set": {
                "provider_id": provider_id,
                "provider_nome": provider_nome,
                "codigo_prestador": codigo,
                "secret_hash": secret_hash,
                "revoked_at": None,
            },
            "$setOnInsert": {"created_at": datetime.now(UTC), "created_by": "seed"},
        },
        upsert=True,
    )


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


VERIFIED_SECONDS = 60.0
_verified: dict[str, float] = {}
_inflight: dict[str, asyncio.Future[str | None]] = {}


def _proof(key: str, senha_md5: str, secret_hash: str) -> str:
    """Names one (login, password, stored hash) triple: a rotation or a wrong password is
    another name, so a remembered success never outlives the credential it was for."""
    return hashlib.sha256(f"{key}\0{senha_md5}\0{secret_hash}".encode()).hexdigest()


async def _check(key: str, senha_md5: str, doc: dict[str, Any] | None) -> str | None:
    """Count the attempt and run Argon2: None when the password is right, else why not."""
    address = auth.client_address.get()
    try:
        taken = [
            await auth._count_attempt(f"{LOGIN_PREFIX}{key}@{address}"),
            await auth._count_attempt(f"{LOGIN_PREFIX}{key}", auth.MAX_LOGIN_ATTEMPTS),
        ]
    except ApiError as exc:  # 429: the same lockout as the portal's
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        return str(detail.get("message") or LOGIN_INVALIDO)
    ok = await asyncio.to_thread(auth._verify, doc["secret_hash"] if doc else None, senha_md5)
    if not ok or doc is None:
        return LOGIN_INVALIDO
    await auth.login_attempts.delete_many({"key": f"{LOGIN_PREFIX}{key}@{address}"})
    await auth.login_attempts.delete_one({"_id": taken[1]})
    return None


async def authenticate(login: str, senha_md5: str, quem: Identificacao) -> User:
    """The provider a call acts for, or `WsFault` (LoginInvalido, RemetenteInvalido).

    Attempts are counted before the password is checked, as the portal does; an unknown
    login costs the same Argon2 check as a known one. A billing system sends many calls,
    often at once, with the same right password: a success is remembered for a minute
    (in process, by a digest of login, password and stored hash, so a rotation or a
    revocation takes effect on the next call), and identical checks running at the same
    time share one Argon2 run and one counted attempt. The credential must belong to the
    provider the header names (else RemetenteInvalido)."""
    key = login.strip().casefold()
    senha = senha_md5.strip().lower()
    doc = await ws_credentials.find_one({"_id": key}) if key else None
    if doc is not None and doc.get("revoked_at") is not None:
        doc = None  # revoked: checked like an unknown login, refused alike
    now = time.monotonic()
    proof = _proof(key, senha, doc["secret_hash"]) if doc else None
    if proof is None or _verified.get(proof, 0.0) <= now:
        running = _inflight.get(proof) if proof else None
        if running is not None:
            refusal = await asyncio.shield(running)
        else:
            future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
            if proof:
                _inflight[proof] = future
            try:
                refusal = await _check(key, senha, doc)
                future.set_result(refusal)
            except BaseException as exc:
                future.set_result(LOGIN_INVALIDO)
                raise exc
            finally:
                if proof:
                    _inflight.pop(proof, None)
        if refusal is not None:
            raise WsFault("LoginInvalido", refusal)
        if proof:
            if len(_verified) > 10_000:
                _verified.clear()
            _verified[proof] = time.monotonic() + VERIFIED_SECONDS
    assert doc is not None
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
