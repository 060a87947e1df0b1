"""A demo of the operator's core system, for `make run`: it analyses and pays every protocol.

It plays the operator's side exactly as a real core would: it reads protocols through the
protocol service's internal API and publishes `operadora.report` events on the operator's
inbound topic, moving each protocol 1 Recebido → 2 Em análise → 5 Liberado para Faturamento
→ 3 Faturado (payment date: the next 10th), a stage every `TISSFLOW_DEMO_STAGE_SECONDS`.
Run it with `python -m tissflow_protocol.demo_operadora`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from aiokafka import AIOKafkaProducer
from tissflow_contracts import OperadoraReport, Topic, new_envelope
from tissflow_runtime.logs import setup_logging
from tissflow_runtime.settings import ServiceSettings

log = logging.getLogger("demo_operadora")
NEXT = {1: 2, 2: 5, 5: 3}


class DemoSettings(ServiceSettings):
    demo_stage_seconds: float = 20.0


def next_payment_date(today: date) -> date:
    """The operator pays on the 10th: this month's if still ahead, else next month's."""
    if today.day < 10:
        return today.replace(day=10)
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next.replace(day=10)


def report_for(protocolo: dict, status: int, today: date) -> OperadoraReport:
    informado = Decimal(protocolo["valor_informado"] or "0")
    return OperadoraReport(
        peg=protocolo["peg"],
        status=status,
        data_pagamento=next_payment_date(today) if status == 3 else None,
        valor_liberado=informado if status in (5, 3) else None,
        valor_glosado=Decimal("0.00") if status in (5, 3) else None,
        reported_by="demo-operadora",
    )


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
            report = report_for(protocolo, target, now.date())
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
