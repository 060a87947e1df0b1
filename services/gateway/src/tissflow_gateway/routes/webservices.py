"""API of the TISS web-service credentials the operator's staff issue per provider:
list, create (the password is shown once), rotate and revoke (`ws/credentials.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from tissflow_gateway.deps import OperadoraStaff
from tissflow_gateway.routes.common import COMMON, errors
from tissflow_gateway.ws import credentials

router = APIRouter(prefix="/api/v1", responses=COMMON)
Login = Annotated[str, Path(max_length=40)]


class CredencialIn(BaseModel):
    provider_id: str = Field(max_length=20, description="CNPJ (14) ou CPF (11) do prestador")
    provider_nome: str | None = Field(default=None, max_length=120)
    codigo_prestador: str | None = Field(
        default=None,
        max_length=14,
        description="codigoPrestadorNaOperadora, se o prestador se identifica por ele",
    )
    login: str | None = Field(
        default=None, max_length=20, description="3 a 20: a-z, 0-9, '.', '_', '-' (ou gerado)"
    )


class CredencialOut(BaseModel):
    login: str
    provider_id: str
    provider_nome: str | None = None
    codigo_prestador: str | None = None
    ativa: bool
    created_at: datetime
    created_by: str | None = None
    rotated_at: datetime | None = None
    rotated_by: str | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    last_used_at: datetime | None = None


class CredencialEmitida(CredencialOut):
    senha: str = Field(
        description="A senha, mostrada só agora. O cliente envia em senhaPrestador o MD5 "
        "(hex) desta senha."
    )


class CredenciaisOut(BaseModel):
    items: list[CredencialOut]


PATH = "/operadora/webservices/credenciais"


@router.get(PATH, tags=["operadora"], responses=errors(403))
async def list_credentials(
    user: OperadoraStaff,
    provider_id: Annotated[str | None, Query(max_length=20)] = None,
) -> CredenciaisOut:
    """The web-service credentials issued (active and revoked), newest first."""
    return CredenciaisOut(
        items=[CredencialOut(**c) for c in await credentials.list_all(provider_id)]
    )


@router.post(PATH, status_code=201, tags=["operadora"], responses=errors(403, 409))
async def create_credential(body: CredencialIn, user: OperadoraStaff) -> CredencialEmitida:
    """Issue a credential (loginPrestador + password) to a provider. The password is in
    this answer only; the gateway keeps an Argon2 hash of its MD5."""
    issued = await credentials.create(
        user, body.provider_id, body.provider_nome, body.codigo_prestador, body.login
    )
    return CredencialEmitida(**issued.credential, senha=issued.password)


@router.post(f"{PATH}/{{login}}/rotacionar", tags=["operadora"], responses=errors(403, 404, 409))
async def rotate_credential(login: Login, user: OperadoraStaff) -> CredencialEmitida:
    """A new password for the same login; the old one stops working at once."""
    issued = await credentials.rotate(user, login)
    return CredencialEmitida(**issued.credential, senha=issued.password)


@router.post(f"{PATH}/{{login}}/revogar", tags=["operadora"], responses=errors(403, 404))
async def revoke_credential(login: Login, user: OperadoraStaff) -> CredencialOut:
    """The credential stops working at once (calls with it get LoginInvalido)."""
    return CredencialOut(**await credentials.revoke(user, login))
