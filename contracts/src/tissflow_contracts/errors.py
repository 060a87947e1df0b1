"""Domain errors every service raises below its entry points, with no HTTP in them.

A use case says *what kind* of refusal happened (not found, conflict, invalid input, too
large, a dependency unavailable) with a stable `code` and a pt-BR `message` for the user.
The entry points translate the kind: internal routes into an HTTP status
(`tissflow_runtime.errors`), consumers into retry or dead-letter.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A refusal the user can read: `code` (stable, snake_case) and a pt-BR `message`."""

    kind: ClassVar[str] = "invalid"

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the caller's)."""

    kind = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state (edited by someone else, wrong status)."""

    kind = "conflict"


class Invalid(DomainError):
    """The input itself is wrong: fixing it is the caller's job."""

    kind = "invalid"


class TooLarge(DomainError):
    """The input is over a size limit (`tissflow_contracts.limites`)."""

    kind = "too_large"


class Unavailable(DomainError):
    """A dependency did not answer: trying again later may succeed."""

    kind = "unavailable"


class UpstreamFailed(DomainError):
    """A dependency answered with a failure of its own."""

    kind = "upstream_failed"
