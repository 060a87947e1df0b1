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
the content reads (`files.may_read_content`) and status changes (`lotes.change_status`)
check the role themselves, so the portal and the API agree whichever route calls them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tissflow_gateway.auth import CurrentUser, User
from tissflow_gateway.core import ApiError

__all__ = ["CurrentUser", "OperadoraStaff", "OpsUser", "ProviderUser", "StaffReader"]


async def _provider(user: CurrentUser) -> User:
    if user.role != "prestador":
        raise ApiError(403, "acesso_negado", "Acesso restrito aos prestadores.")
    return user


async def _operadora(user: CurrentUser) -> User:
    if user.role != "operadora":
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe da operadora.")
    return user


async def _ops(user: CurrentUser) -> User:
    if user.role != "ops":
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe de operações.")
    return user


async def _staff(user: CurrentUser) -> User:
    if user.role not in ("operadora", "ops"):
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe da operadora.")
    return user


ProviderUser = Annotated[User, Depends(_provider)]
"""A clinic's clerk: acts on its own files, lotes, protocols and recursos."""
OperadoraStaff = Annotated[User, Depends(_operadora)]
"""The operator's staff: analysis, status, messages, rules, registry, credentials."""
OpsUser = Annotated[User, Depends(_ops)]
"""The operations team: health and dead letters; never changes billing data."""
StaffReader = Annotated[User, Depends(_staff)]
"""Operator staff or ops, for read-only listings across providers."""
