"""A demo of the operator's core system, for `make run`: it analyses and pays every lote.

It plays the operator's side as a real core would: it reads protocols through the
protocol service's internal API and publishes `operadora.report` events on the operator's
inbound topic, moving each protocol 1 Recebido → 2 Em análise → 5 Liberado para
Faturamento → 3 Faturado (payment date: the next 10th) → 6 Pagamento efetuado, a stage
every `TISSFLOW_DEMO_STAGE_SECONDS`. At 5 it reports its analysis per guide and item,
from the lote as sent (the protocol's projection of `lote.sent`): the first guide, and
every third after it, loses part of one item under a real table-38 code with a reason.
At 3 it reports the payment's débitos (IRRF withheld at 1,5% of the released value) and
the bank account it pays into, as the Demonstrativo de Pagamento shows them.
It answers each clinic message with a canned reply.
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
from tissflow_contracts import (
    DadosBancarios,
    DebitoCredito,
    GuiaLote,
    OperadoraReport,
    Topic,
    new_envelope,
)
from tissflow_contracts.events import AnaliseGuia, GlosaAnalise
from tissflow_runtime.logs import setup_logging
from tissflow_runtime.settings import ServiceSettings

from tissflow_protocol.domain.analise import analise_integral, glosar

log = logging.getLogger("demo_operadora")
NEXT = {1: 2, 2: 5, 5: 3, 3: 6}
CENTAVO = Decimal("0.01")
# Real table-38 codes, each with the reason the demo gives.
GLOSAS_DEMO = (
    ("1705", "Valor cobrado acima da tabela acordada com a operadora."),
    ("1801", "Procedimento sem cobertura no plano do beneficiário."),
    ("1819", "Procedimento não compatível com a hipótese diagnóstica informada."),
)
# The provider's account the demo operator pays into, and the income tax it withholds.
CONTA_DEMO = DadosBancarios(banco="341", agencia="1234", conta="56789-0")
IRRF = Decimal("0.015")
RESPOSTA = (
    "Olá! Recebemos sua mensagem sobre este protocolo e a equipe de contas médicas já está "
    "analisando. Responderemos por aqui em até 2 dias úteis. — Operadora (resposta automática)"
)


class DemoSettings(ServiceSettings):
    demo_stage_seconds: float = 20.0


def next_payment_date(today: date) -> date:
    """The operator pays on the 10th: this month's if still ahead, else next month's."""
    if today.day < 10:
        return today.replace(day=10)
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next.replace(day=10)


def _parte(valor: Decimal) -> Decimal:
    """10% of a value (at least a cent, at most R$ 50,00)."""
    glosa = max(CENTAVO, min(Decimal("50.00"), valor * Decimal("0.10")))
    return glosa.quantize(CENTAVO, ROUND_HALF_UP)


def analise(guias: list[GuiaLote]) -> list[AnaliseGuia]:
    """Every guide paid in full but the first and every third after it: one item (or the
    guide, when it has no items) loses 10% under a real table-38 code, with a reason."""
    out = analise_integral(guias)
    for i, guia in enumerate(list(out)):
        if i % 3 or guia.valor_liberado <= 0:
            continue
        codigo, motivo = GLOSAS_DEMO[(i // 3) % len(GLOSAS_DEMO)]
        item = next((it for it in guia.itens if it.valor_liberado > 0), None)
        valor = _parte(item.valor_liberado if item else guia.valor_liberado)
        out = glosar(
            out,
            guia.numero_guia_prestador,
            item.sequencial_item if item else None,
            GlosaAnalise(codigo=codigo, valor=valor, observacao=motivo),
        )
    return out


def debitos_do_pagamento(protocolo: dict[str, Any]) -> list[DebitoCredito]:
    """IRRF withheld on the released value (1,5%, to the cent), when there is one."""
    liberado = Decimal(protocolo.get("valor_liberado") or protocolo.get("valor_informado") or 0)
    irrf = (liberado * IRRF).quantize(CENTAVO, ROUND_HALF_UP)
    if irrf <= 0:
        return []
    return [DebitoCredito(indicador="debito", tipo="01", descricao="IRRF retido 1,5%", valor=irrf)]


def report_for(protocolo: dict[str, Any], status: int, today: date) -> OperadoraReport:
    guias = [GuiaLote.model_validate(g) for g in protocolo.get("guias_lote") or []]
    por_guia = analise(guias) if status == 5 else []
    informado = Decimal(protocolo.get("valor_informado") or "0")
    return OperadoraReport(
        peg=protocolo["peg"],
        status=status,
        data_pagamento=next_payment_date(today) if status == 3 else None,
        valor_liberado=informado if status == 5 and not por_guia else None,
        valor_glosado=Decimal("0.00") if status == 5 and not por_guia else None,
        guias=por_guia,
        reported_by="demo-operadora",
        debitos_creditos=debitos_do_pagamento(protocolo) if status == 3 else [],
        dados_bancarios=CONTA_DEMO if status == 3 else None,
    )


async def _publish(producer: AIOKafkaProducer, protocolo: dict, report: OperadoraReport) -> None:
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


async def answer_messages(client: httpx.AsyncClient, settings: DemoSettings) -> int:
    """A canned reply on every protocol with clinic messages the operator has not read."""
    base = f"{settings.protocol_url}/internal/protocolos"
    page = await client.get(base, params={"nao_lidas": "operadora", "page_size": 200})
    page.raise_for_status()
    answered = 0
    for protocolo in page.json()["items"]:
        peg = quote(protocolo["peg"], safe="")
        (
            await client.get(f"{base}/{peg}/mensagens", params={"papel": "operadora"})
        ).raise_for_status()
        reply = {"papel": "operadora", "autor": "demo-operadora", "texto": RESPOSTA}
        (await client.post(f"{base}/{peg}/mensagens", json=reply)).raise_for_status()
        answered += 1
    return answered


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
            await _publish(producer, protocolo, report_for(protocolo, target, now.date()))
            log.info("protocolo %s: %s -> %s", protocolo["peg"], status, target)
            moved += 1
    await answer_messages(client, settings)
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
