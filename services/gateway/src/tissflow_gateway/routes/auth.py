"""API auth: tokens for API clients (issue, revoke) and who the caller is (`/me`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tissflow_gateway.auth import BearerCredentials, authenticate, issue_token, revoke_token
from tissflow_gateway.core import ApiError
from tissflow_gateway.deps import CurrentUser
from tissflow_gateway.routes.common import COMMON, errors
from tissflow_gateway.schemas import Me

router = APIRouter(prefix="/api/v1", responses=COMMON)


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    provider_id: str | None


@router.post("/auth/token", tags=["auth"], responses=errors(429))
async def create_token(body: TokenRequest) -> TokenResponse:
    """Exchange a login and password for an API token (send as `Authorization: Bearer`).

    The token expires after `token_days` (30 by default); `DELETE /auth/token` revokes it.
    After 5 wrong passwords for a login, further attempts get 429 for a few minutes.
    """
    user = await authenticate(body.username, body.password)
    token = await issue_token(user)
    return TokenResponse(access_token=token, role=user.role, provider_id=user.provider_id)


@router.delete("/auth/token", status_code=204, tags=["auth"], response_class=Response)
async def delete_token(user: CurrentUser, credentials: BearerCredentials) -> None:
    """Revoke the API token this request is sent with (logout of an API client).

    Answers 204 with no body; the token is refused (401) from then on. Other tokens of
    the same user stay valid. Tokens also expire by themselves `token_days` after issue.
    """
    if credentials is None:
        raise ApiError(
            401, "nao_autenticado", "Envie o token de API a revogar (Authorization: Bearer)."
        )
    await revoke_token(credentials.credentials)


@router.get("/me", tags=["auth"])
async def me(user: CurrentUser) -> Me:
    """Who the token or session belongs to."""
    return Me(
        username=user.username,
        nome=user.nome,
        role=user.role,
        provider_id=user.provider_id,
        provider_nome=user.provider_nome,
    )
