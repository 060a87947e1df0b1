"""The protocol service's internal API, for Sincronizar (protocol is downstream of
batching: asking it for a PEG's situation is not a call back upstream)."""

from __future__ import annotations

from typing import Any

import httpx

from tissflow_batching.service_layer.ports import Unavailable


class HttpProtocolClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    async def protocolo_do_lote(self, lote_id: str) -> dict[str, Any] | None:
        try:
            response = await self.http.get(
                f"{self.base_url}/internal/protocolos",
                params={"lote_id": lote_id, "page_size": 1},
                timeout=10.0,
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise Unavailable(f"protocolos: {type(exc).__name__}") from exc
        items: list[dict[str, Any]] = response.json().get("items") or []
        return items[0] if items else None
