"""Who may call a route: one `Annotated` dependency per role, for the API and its routers.

The role × action table (least privilege; docs/CONTRIBUTING.md keeps it in words):

| action                                         | prestador | operadora | ops  |
|------------------------------------------------|-----------|-----------|------|
| upload, correct, ignore, reprocess its files   | own       | —         | —    |
| list files, lotes, protocols, demonstrativos   | own       | all       | all  |
| read critiques, download XML/PDF               | own       | all       | —    |
| make, close, reopen, send, delete lotes        | own       | —         | —    |
| report analysis, change a protocol's status    | —         | yes       | —    |
| rules, registry, web-service credentials       | —         | yes       | —    |
| health, dead letters, replay                   | —         | —         | yes  |

A route takes exactly one of these; the use case below it still checks ownership of the
records it touches (`User.can_see_provider`), so a provider never reaches another's, and
the content reads (`files.may_read_content`) and status changes (`routes.protocolos.change_status`)
check the role themselves, so the portal and the API agree whichever route calls them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tissflow_gateway.auth import CurrentUser, User
from tissflow_gateway.core import ApiError

__all__ = [
    "CurrentUser",
    "OperadoraStaff",
    "OpsUser",
    "ProviderUser",
    "StaffReader",
    "require_role",
]

DENIED = {
    "prestador": "Acesso restrito aos prestadores.",
    "operadora": "Acesso restrito à equipe da operadora.",
    "ops": "Acesso restrito à equipe de operações.",
}


def require_role(user: User, *roles: str, message: str | None = None) -> User:
    """403 `acesso_negado` unless the user has one of `roles`; the same rule for the API's
    dependencies below and for portal pages, whose user comes from the session."""
    if user.role not in roles:
        raise ApiError(403, "acesso_negado", message or DENIED[roles[0]])
    return user


async def _provider(user: CurrentUser) -> User:
    return require_role(user, "prestador")


async def _operadora(user: CurrentUser) -> User:
    return require_role(user, "operadora")


async def _ops(user: CurrentUser) -> User:
    return require_role(user, "ops")


async def _staff(user: CurrentUser) -> User:
    return require_role(user, "operadora", "ops")


ProviderUser = Annotated[User, Depends(_provider)]
"""A clinic's clerk: acts on its own files, lotes, protocols and recursos."""
OperadoraStaff = Annotated[User, Depends(_operadora)]
"""The operator's staff: analysis, status, messages, rules, registry, credentials."""
OpsUser = Annotated[User, Depends(_ops)]
"""The operations team: health and dead letters; never changes billing data."""
StaffReader = Annotated[User, Depends(_staff)]
"""Operator staff or ops, for read-only listings across providers."""
