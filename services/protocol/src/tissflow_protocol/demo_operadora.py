"""A demo of the operator's core system, for `make run`: it analyses and pays every protocol.

It plays the operator's side exactly as a real core would: it reads protocols through the
protocol service's internal API and publishes `operadora.report` events on the operator's
inbound topic, moving each protocol 1 Recebido → 2 Em análise → 5 Liberado para Faturamento
→ 3 Faturado (payment date: the next 10th), a stage every `TISSFLOW_DEMO_STAGE_SECONDS`.
At 5 it reports its analysis per guide (from validation's result for the lote's file): every
guide is paid in full but the first, which takes a small glosa under table-38 code 1705
(valor apresentado a maior), so the demonstrativo shows a glosa code.
Run it with `python -m tissflow_protocol.demo_operadora`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

import httpx
from aiokafka import AIOKafkaProducer
from tissflow_contracts import OperadoraReport, Topic, new_envelope
from tissflow_contracts.events import AnaliseGuia, GlosaAnalise
from tissflow_runtime.logs import setup_logging
from tissflow_runtime.settings import ServiceSettings

log = logging.getLogger("demo_operadora")
NEXT = {1: 2, 2: 5, 5: 3}
CENTAVO = Decimal("0.01")
# Table 38, 1705: VALOR APRESENTADO A MAIOR.
GLOSA_DEMO = "1705"


class DemoSettings(ServiceSettings):
    demo_stage_seconds: float = 20.0


def next_payment_date(today: date) -> date:
    """The operator pays on the 10th: this month's if still ahead, else next month's."""
    if today.day < 10:
        return today.replace(day=10)
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next.replace(day=10)


def analise(guias: list[dict[str, Any]]) -> list[AnaliseGuia]:
    """Every guide paid in full but the first: 5% of it (at most R$ 10,00) glosed as 1705."""
    out = []
    for i, g in enumerate(g for g in guias if g.get("numero_guia_prestador")):
        valor = Decimal(str(g.get("valor_total") or "0")).quantize(CENTAVO, ROUND_HALF_UP)
        glosa = Decimal("0.00")
        if i == 0 and valor > 0:
            glosa = max(CENTAVO, min(Decimal("10.00"), valor * Decimal("0.05")))
            glosa = glosa.quantize(CENTAVO, ROUND_HALF_UP)
        out.append(
            AnaliseGuia(
                numero_guia_prestador=str(g["numero_guia_prestador"]),
                valor_processado=valor,
                valor_liberado=valor - glosa,
                valor_glosado=glosa,
                glosas=[GlosaAnalise(codigo=GLOSA_DEMO, valor=glosa)] if glosa else [],
            )
        )
    return out


def report_for(
    protocolo: dict, status: int, today: date, guias: list[dict[str, Any]] | None = None
) -> OperadoraReport:
    informado = Decimal(protocolo["valor_informado"] or "0")
    por_guia = analise(guias or []) if status == 5 else []
    if por_guia:
        glosado = sum((g.valor_glosado for g in por_guia), Decimal("0.00"))
        liberado = sum((g.valor_liberado for g in por_guia), Decimal("0.00"))
    else:
        glosado, liberado = Decimal("0.00"), informado
    return OperadoraReport(
        peg=protocolo["peg"],
        status=status,
        data_pagamento=next_payment_date(today) if status == 3 else None,
        valor_liberado=liberado if status == 5 else None,
        valor_glosado=glosado if status == 5 else None,
        guias=por_guia,
        reported_by="demo-operadora",
    )


async def guias_do_lote(
    client: httpx.AsyncClient, settings: DemoSettings, protocolo: dict
) -> list[dict[str, Any]]:
    """The lote's guides with their values, from validation's result for its file."""
    if not protocolo.get("file_id"):
        return []
    response = await client.get(
        f"{settings.validation_url}/internal/results/{quote(protocolo['file_id'], safe='')}"
    )
    if response.status_code != 200:
        return []
    return list((response.json().get("result") or {}).get("guias") or [])


async def tick(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: DemoSettings
) -> int:
    now = datetime.now(UTC)
    moved = 0
    for status, target in NEXT.items():
        page = await client.get(
            f"{settings.protocol_url}/internal/protocolos",
            params={"status": status, "page_size": 200},
        )
        page.raise_for_status()
        for protocolo in page.json()["items"]:
            since = datetime.fromisoformat(protocolo["updated_at"])
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            if (now - since).total_seconds() < settings.demo_stage_seconds:
                continue
            guias = await guias_do_lote(client, settings, protocolo) if target == 5 else []
            report = report_for(protocolo, target, now.date(), guias)
            envelope = new_envelope(
                report,
                correlation_id=protocolo.get("correlation_id") or protocolo["peg"],
                producer="demo-operadora",
                key=protocolo["peg"],
            )
            await producer.send_and_wait(
                Topic.OPERADORA_INBOUND,
                envelope.model_dump_json().encode(),
                key=protocolo["peg"].encode(),
            )
            log.info("protocolo %s: %s -> %s", protocolo["peg"], status, target)
            moved += 1
    return moved


async def main() -> None:
    settings = DemoSettings()
    setup_logging("demo-operadora", settings.log_level)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    headers = {"X-Internal-Token": settings.internal_token}
    try:
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            while True:
                try:
                    await tick(client, producer, settings)
                except httpx.HTTPError as exc:
                    log.warning("protocol service unavailable: %s", exc)
                await asyncio.sleep(min(5.0, settings.demo_stage_seconds / 2))
    finally:
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(main())
