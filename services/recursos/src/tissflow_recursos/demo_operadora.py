"""A demo of the operator's staff answering recursos de glosa, for `make run` and tests.

Every `TISSFLOW_DEMO_RECURSO_SECONDS` it reads the recursos waiting for an answer (through
the recursos service's internal API, as the operator's back office would) and answers
each one received at least that long ago: per recurso, the 1st, 4th... line accepted in
full, the 2nd, 5th... accepted in half, the 3rd, 6th... refused with a reason.
Run it with `python -m tissflow_recursos.demo_operadora`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from tissflow_runtime.logs import setup_logging

from tissflow_recursos.config import RecursosSettings

log = logging.getLogger("demo_operadora_recursos")
CENTAVO = Decimal("0.01")
MOTIVO = (
    "Procedimento sem cobertura contratual no plano do beneficiário; glosa mantida "
    "conforme análise técnica."
)


def decisao(indice: int, valor_recursado: str) -> dict[str, Any]:
    """The demo's answer to the line at `indice` of a recurso."""
    valor = Decimal(valor_recursado)
    if indice % 3 == 0:
        return {"acatado": True, "valor_acatado": str(valor)}
    if indice % 3 == 1:
        metade = max(CENTAVO, (valor / 2).quantize(CENTAVO, ROUND_HALF_UP))
        return {
            "acatado": True,
            "valor_acatado": str(metade),
            "justificativa": "Acatado em parte: valor conforme tabela contratada.",
        }
    return {"acatado": False, "valor_acatado": "0.00", "justificativa": MOTIVO}


def resposta(recurso: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"linha_id": linha["linha_id"], **decisao(i, linha["valor_recursado"])}
        for i, linha in enumerate(recurso["linhas"])
    ]


async def run_once(client: httpx.AsyncClient, base: str, pace: float) -> int:
    page = (await client.get(f"{base}/internal/operadora/recursos?situacao=em_analise")).json()
    answered = 0
    now = datetime.now(UTC)
    for recurso in page["items"]:
        recebido = datetime.fromisoformat(str(recurso["recebido_em"]).replace("Z", "+00:00"))
        if recebido.tzinfo is None:
            recebido = recebido.replace(tzinfo=UTC)
        if (now - recebido).total_seconds() < pace:
            continue
        r = await client.post(
            f"{base}/internal/operadora/recursos/{recurso['recurso_id']}/resposta",
            json={"itens": resposta(recurso), "by": "operadora-demo"},
        )
        if r.status_code == 200:
            answered += 1
            log.info("recurso %s respondido", recurso["recurso_id"])
        elif r.status_code != 409:
            log.warning(
                "resposta ao recurso %s: %s %s", recurso["recurso_id"], r.status_code, r.text
            )
    return answered


async def main() -> None:
    settings = RecursosSettings()
    setup_logging("demo_operadora_recursos", settings.log_level)
    pace = settings.demo_recurso_seconds
    headers = {"X-Internal-Token": settings.internal_token}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        while True:
            try:
                await run_once(client, settings.recursos_url, pace)
            except httpx.HTTPError as exc:
                log.warning("serviço de recursos indisponível: %s", exc)
            await asyncio.sleep(max(0.2, min(pace, 5.0)))


if __name__ == "__main__":
    asyncio.run(main())
