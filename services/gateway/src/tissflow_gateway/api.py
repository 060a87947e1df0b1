"""The public REST API `/api/v1`: every resource has its router in `routes/` (auth,
arquivos, lotes, protocolos, demonstrativos, recursos, digitação, operadora, ops,
auditoria); this module keeps the shared error descriptions under their old name."""

from __future__ import annotations

from tissflow_gateway.routes.common import COMMON, errors

__all__ = ["COMMON", "errors"]
