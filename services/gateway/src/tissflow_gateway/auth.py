"""Users, password hashing (Argon2), API tokens and portal sessions with CSRF tokens."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from tissflow_gateway.core import ApiError, db, settings

Role = Literal["prestador", "operadora", "ops"]
SESSION_COOKIE = "tissflow_sessao"
_hasher = PasswordHasher()
users = db["users"]
tokens = db["api_tokens"]
sessions = db["sessions"]
login_attempts = db["login_attempts"]

MAX_FAILED_LOGINS = 5  # password checks per login, from one address, per window
MAX_LOGIN_ATTEMPTS = 50  # password checks of one login from all addresses, per window
LOCK_MINUTES = 5  # the window, from its first attempt
IDLE_MINUTES = 30  # a portal session unused this long ends (ANS: idle session ≤ 30 min)

# The request's client address (set by the gateway's middleware; uvicorn takes it from
# X-Forwarded-For only when the proxy is trusted) and, for the access log, who the
# request turned out to be: a holder the middleware reads after the route ran.
client_address: contextvars.ContextVar[str] = contextvars.ContextVar("client_address", default="-")
request_user: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "request_user", default=None
)


def _remember(user: User) -> User:
    holder = request_user.get()
    if holder is not None:
        holder.update(username=user.username, role=user.role, provider_id=user.provider_id)
    return user


@dataclass(frozen=True)
class User:
    username: str
    nome: str
    role: Role
    provider_id: str | None  # CNPJ/CPF for provider users
    provider_nome: str | None

    def can_see_provider(self, provider_id: str | None) -> bool:
        return self.role in ("operadora", "ops") or provider_id == self.provider_id

    def provider_filter(self) -> str | None:
        """The provider a listing is restricted to (None: operator staff see all)."""
        return self.provider_id if self.role == "prestador" else None


def _user(doc: dict) -> User:
    return User(
        username=doc["_id"],
        nome=doc["nome"],
        role=doc["role"],
        provider_id=doc.get("provider_id"),
        provider_nome=doc.get("provider_nome"),
    )


@dataclass(frozen=True)
class _Trusted:
    user: User
    token_expires_at: datetime
    until: float  # monotonic clock


class TokenCache:
    """API tokens this process has just read, with their user, for `seconds` (ADR 0020).

    An upload used to read its token and then its user: two database round trips before
    the route ran. A token read here is trusted for `seconds` without either read, and
    never past its own `expires_at`. `forget` (the token revoked through this process)
    and `clear` (a user created or changed here) take effect at once; a revocation or
    a user change made elsewhere (another gateway process, the users command) reaches
    this process within `seconds`. Only tokens that were valid are kept, at most
    `max_entries` of them (then the cache starts over). A read that began before a
    `forget` or `clear` is not kept (`generation`), so a request racing a revocation in
    this process cannot put the revoked token back.
    """

    def __init__(
        self,
        seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, _Trusted] = {}
        self.generation = 0

    def get(self, digest: str) -> User | None:
        trusted = self._entries.get(digest)
        if trusted is None:
            return None
        if self._clock() >= trusted.until or trusted.token_expires_at <= datetime.now(UTC):
            del self._entries[digest]
            return None
        return trusted.user

    def put(self, digest: str, user: User, token_expires_at: datetime, generation: int) -> None:
        """Keep what a read begun at `generation` found (nothing if the cache changed)."""
        if self.seconds <= 0 or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[digest] = _Trusted(user, token_expires_at, self._clock() + self.seconds)

    def forget(self, digest: str) -> None:
        self.generation += 1
        self._entries.pop(digest, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


token_cache = TokenCache(settings.auth_cache_seconds)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_username(username: str) -> str:
    """Logins are compared without surrounding spaces and case: one user, one lockout."""
    return username.strip().casefold()


async def upsert_user(
    username: str,
    password: str,
    nome: str,
    role: Role,
    provider_id: str | None = None,
    provider_nome: str | None = None,
) -> None:
    await users.update_one(
        {"_id": normalise_username(username)},
        {
            "$set": {
                "nome": nome,
                "role": role,
                "provider_id": provider_id,
                "provider_nome": provider_nome,
                "password_hash": hash_password(password),
            }
        },
        upsert=True,
    )
    token_cache.clear()  # a changed role or clinic counts from now on, in this process


def _too_many(window_start: datetime, now: datetime) -> ApiError:
    remaining = window_start + timedelta(minutes=LOCK_MINUTES) - now
    minutes = max(1, int(remaining.total_seconds() // 60) + 1)
    return ApiError(
        429,
        "muitas_tentativas",
        f"Muitas tentativas de acesso sem sucesso. Tente novamente em {minutes} minuto(s).",
    )


async def _count_attempt(key: str, limit: int = MAX_FAILED_LOGINS) -> str:
    """Count this attempt BEFORE the password is checked; 429 past the limit. Returns
    the slot taken (given back after a successful login).

    Each attempt must take one of `limit` numbered slots by inserting a document whose
    `_id` names the slot; a slot is held for LOCK_MINUTES (a sliding window). A unique
    `_id` is the one thing the database guarantees under any concurrency (FerretDB has
    no transactions, and its `$inc` read-modify-write let 7 of 40 simultaneous guesses
    through), so at most `limit` passwords are checked per window.
    """
    now = datetime.now(UTC)
    for freed in (False, True):
        for slot in range(1, limit + 1):
            slot_id = f"{key}#{slot}"
            try:
                await login_attempts.insert_one({"_id": slot_id, "key": key, "at": now})
                return slot_id
            except DuplicateKeyError:
                continue
        if freed:
            break
        # All slots held: free the ones whose window is over, then try once more.
        await login_attempts.delete_many(
            {"key": key, "at": {"$lte": now - timedelta(minutes=LOCK_MINUTES)}}
        )
    oldest = await login_attempts.find_one({"key": key}, sort=[("at", 1)])
    raise _too_many(oldest["at"] if oldest else now, now)


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> bool:
    """Argon2 verification, slow on purpose: callers run it in a worker thread. An
    unknown login is checked against a dummy hash, so it takes as long and fails."""
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
    return password_hash is not None


async def authenticate(username: str, password: str) -> User:
    """The user, or ApiError 401/429 with a pt-BR message; failed attempts are limited.

    Counted per login AND client address (5 per LOCK_MINUTES window), so someone who
    knows a clinic's login locks out only their own address, not the clinic; a second,
    wider limit per login from all addresses (50) catches a guess spread over many."""
    key = normalise_username(username)
    address = client_address.get()
    taken = [
        await _count_attempt(f"{key}@{address}"),
        await _count_attempt(key, MAX_LOGIN_ATTEMPTS),
    ]
    doc = await users.find_one({"_id": key}) if key else None
    ok = await asyncio.to_thread(_verify, doc["password_hash"] if doc else None, password)
    if doc is None or not ok:
        holder = request_user.get()
        if holder is not None:  # the access log records the failed attempt too
            holder.update(
                username=key[:100], role=None, provider_id=doc.get("provider_id") if doc else None
            )
        raise ApiError(401, "credenciais_invalidas", "Usuário ou senha inválidos.")
    # The right password: this address's failures of the login are forgotten and the
    # slots this attempt took are given back.
    await login_attempts.delete_many({"key": f"{key}@{address}"})
    await login_attempts.delete_one({"_id": taken[1]})
    return _remember(_user(doc))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_token(user: User) -> str:
    token = "tf_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await tokens.insert_one(
        {
            "_id": _digest(token),
            "username": user.username,
            "created_at": now,
            "expires_at": now + timedelta(days=settings.token_days),
        }
    )
    return token


async def revoke_token(token: str) -> None:
    digest = _digest(token)
    token_cache.forget(digest)
    await tokens.delete_one({"_id": digest})
    token_cache.forget(digest)  # and what a request read before the delete is not kept


async def create_session(user: User) -> tuple[str, str]:
    """A new session id and its CSRF token."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    await sessions.insert_one(
        {
            "_id": _digest(session_id),
            "username": user.username,
            "csrf": csrf,
            "expires_at": datetime.now(UTC) + timedelta(hours=settings.session_hours),
            "last_seen": datetime.now(UTC),
        }
    )
    return session_id, csrf


async def end_session(session_id: str) -> None:
    await sessions.delete_one({"_id": _digest(session_id)})


async def session_user(request: Request) -> tuple[User, str] | None:
    """The portal user and CSRF token of the request's session cookie, if valid."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    doc = await sessions.find_one({"_id": _digest(session_id)})
    if doc is None:
        return None
    now = datetime.now(UTC)
    last_seen = doc.get("last_seen") or now - timedelta(minutes=IDLE_MINUTES)
    if _expired(doc) or now - last_seen >= timedelta(minutes=IDLE_MINUTES):
        await sessions.delete_one({"_id": doc["_id"]})
        return None
    if now - last_seen > timedelta(minutes=1):  # one write a minute, not one a request
        await sessions.update_one({"_id": doc["_id"]}, {"$set": {"last_seen": now}})
    user_doc = await users.find_one({"_id": doc["username"]})
    return (_remember(_user(user_doc)), doc["csrf"]) if user_doc else None


def _expired(doc: dict) -> bool:
    """Past its `expires_at` (a token or session without one is from before they
    expired: expired too)."""
    expires_at = doc.get("expires_at")
    return expires_at is None or expires_at <= datetime.now(UTC)


_bearer = HTTPBearer(auto_error=False, description="Token de API (POST /api/v1/auth/token)")


async def api_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """API clients send `Authorization: Bearer <token>`; the portal's session also works."""
    if credentials is not None:
        digest = _digest(credentials.credentials)
        trusted = token_cache.get(digest)
        if trusted is not None:
            return _remember(trusted)
        generation = token_cache.generation
        doc = await tokens.find_one({"_id": digest})
        if doc is not None and _expired(doc):
            await tokens.delete_one({"_id": doc["_id"]})
            doc = None
        if doc is not None:
            user_doc = await users.find_one({"_id": doc["username"]})
            if user_doc is not None:
                user = _user(user_doc)
                token_cache.put(digest, user, doc["expires_at"], generation)
                return _remember(user)
        raise ApiError(401, "nao_autenticado", "Token inválido ou expirado.")
    found = await session_user(request)
    if found is None:
        raise ApiError(401, "nao_autenticado", "Faça login ou envie um token de API.")
    user, csrf = found
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and request.headers.get("X-CSRF-Token") != csrf
    ):
        raise ApiError(403, "csrf_invalido", "Sessão expirada ou formulário inválido; recarregue.")
    return user


async def purge_expired(
    sessions_: AsyncCollection, tokens_: AsyncCollection, attempts_: AsyncCollection
) -> dict[str, int]:
    """Delete what has expired: sessions past their end or idle, tokens past
    `expires_at`, login attempts whose window is over (FerretDB has no TTL index, so the
    gateway runs this every few minutes). Returns how many of each went."""
    now = datetime.now(UTC)
    gone_sessions = await sessions_.delete_many(
        {
            "$or": [
                {"expires_at": {"$lte": now}},
                {"last_seen": {"$lte": now - timedelta(minutes=IDLE_MINUTES)}},
                {"expires_at": {"$exists": False}},
            ]
        }
    )
    gone_tokens = await tokens_.delete_many(
        {"$or": [{"expires_at": {"$lte": now}}, {"expires_at": {"$exists": False}}]}
    )
    gone_attempts = await attempts_.delete_many(
        {"at": {"$lte": now - timedelta(minutes=LOCK_MINUTES)}}
    )
    return {
        "sessoes": gone_sessions.deleted_count,
        "tokens": gone_tokens.deleted_count,
        "tentativas": gone_attempts.deleted_count,
    }


CurrentUser = Annotated[User, Depends(api_user)]
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
