"""Users, password hashing (Argon2), API tokens and portal sessions with CSRF tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tissflow_gateway.core import ApiError, db, settings

Role = Literal["prestador", "operadora", "ops"]
SESSION_COOKIE = "tissflow_sessao"
_hasher = PasswordHasher()
users = db["users"]
tokens = db["api_tokens"]
sessions = db["sessions"]
login_attempts = db["login_attempts"]

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 5


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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def upsert_user(
    username: str,
    password: str,
    nome: str,
    role: Role,
    provider_id: str | None = None,
    provider_nome: str | None = None,
) -> None:
    await users.update_one(
        {"_id": username},
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


async def authenticate(username: str, password: str) -> User:
    """The user, or ApiError 401/429 with a pt-BR message; failed attempts are limited."""
    now = datetime.now(UTC)
    attempt = await login_attempts.find_one({"_id": username})
    if attempt and attempt.get("locked_until") and attempt["locked_until"] > now:
        minutes = max(1, int((attempt["locked_until"] - now).total_seconds() // 60) + 1)
        raise ApiError(
            429,
            "muitas_tentativas",
            f"Muitas tentativas de acesso sem sucesso. Tente novamente em {minutes} minuto(s).",
        )
    doc = await users.find_one({"_id": username})
    try:
        if doc is None:
            raise VerifyMismatchError
        _hasher.verify(doc["password_hash"], password)
    except (VerifyMismatchError, InvalidHashError):
        failures = (attempt or {}).get("failures", 0) + 1
        update: dict = {"failures": failures}
        if failures >= MAX_FAILED_LOGINS:
            update = {"failures": 0, "locked_until": now + timedelta(minutes=LOCK_MINUTES)}
        await login_attempts.update_one({"_id": username}, {"$set": update}, upsert=True)
        raise ApiError(401, "credenciais_invalidas", "Usuário ou senha inválidos.") from None
    await login_attempts.delete_one({"_id": username})
    return _user(doc)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_token(user: User) -> str:
    token = "tf_" + secrets.token_urlsafe(32)
    await tokens.insert_one(
        {"_id": _digest(token), "username": user.username, "created_at": datetime.now(UTC)}
    )
    return token


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
    if doc is None or doc["expires_at"] < datetime.now(UTC):
        return None
    user_doc = await users.find_one({"_id": doc["username"]})
    return (_user(user_doc), doc["csrf"]) if user_doc else None


_bearer = HTTPBearer(auto_error=False, description="Token de API (POST /api/v1/auth/token)")


async def api_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """API clients send `Authorization: Bearer <token>`; the portal's session also works."""
    if credentials is not None:
        doc = await tokens.find_one({"_id": _digest(credentials.credentials)})
        if doc is not None:
            user_doc = await users.find_one({"_id": doc["username"]})
            if user_doc is not None:
                return _user(user_doc)
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


CurrentUser = Annotated[User, Depends(api_user)]


async def operator_user(user: CurrentUser) -> User:
    if user.role not in ("operadora", "ops"):
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe da operadora.")
    return user


OperatorUser = Annotated[User, Depends(operator_user)]
