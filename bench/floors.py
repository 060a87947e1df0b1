"""The machine's floors, measured in the same run as the figures they are printed beside.

A bare Kafka produce→consume round trip on the same broker, a bare lxml parse + XSD of the
same file the pipeline judges, and a bare FerretDB insert, `_id` read and read through a
secondary index on the same server: what a stage costs is read as a ratio to the floor
it stands on, which stays comparable across noisy, shared machines.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from lxml import etree
from pymongo import AsyncMongoClient
from tissflow_contracts import Topic

from bench.engine import tiss_schema
from bench.report import median, ms, timed


async def at_end(consumer: AIOKafkaConsumer) -> None:
    """Wait for the group assignment, then start reading at the current end."""
    while not consumer.assignment():  # noqa: ASYNC110 - aiokafka offers no assignment event
        await asyncio.sleep(0.05)
    await consumer.seek_to_end()
    for tp in consumer.assignment():
        await consumer.position(tp)


async def kafka_round_trip(kafka: str, n: int = 50) -> list[float]:
    """Produce one record (idempotent producer, acks=all as the services) and read it back
    with a consumer already at the end: `n` samples, seconds."""
    topic = Topic.OPERADORA_INBOUND + ".dlq"  # a quiet topic; bench keys are never replayed
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"bench-{uuid.uuid4().hex}",
        auto_offset_reset="latest",
    )
    await producer.start()
    await consumer.start()
    samples = []
    try:
        await at_end(consumer)
        for _ in range(n):
            key = uuid.uuid4().hex.encode()
            started = time.perf_counter()
            await producer.send_and_wait(topic, b"{}", key=key)
            found = False
            while not found:
                batches = await consumer.getmany(timeout_ms=1000)
                found = any(r.key == key for rs in batches.values() for r in rs)
            samples.append(time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()
    return samples


def xsd_floor(content: bytes, repeat: int = 20) -> float:
    """Median seconds of a bare lxml parse + XSD validation of `content`."""
    schema = tiss_schema()

    def once() -> None:
        if not schema.validate(etree.fromstring(content)):
            raise SystemExit("o arquivo do bench não passou no XSD: piso inválido")

    return median(timed(once, repeat))


@dataclass
class DbFloors:
    insert: float  # insert_one of a small document
    by_id: float  # find_one by _id
    by_index: float  # find_one by a field that leads a secondary index


async def db_floors(mongo: str, repeat: int = 20) -> DbFloors:
    """Medians on the same server, in a throwaway database (dropped after)."""
    client: AsyncMongoClient = AsyncMongoClient(mongo)
    db = client[f"floor{uuid.uuid4().hex[:6]}"]
    try:
        await db.t.create_index("provider_id")
        await db.t.insert_one({"_id": "warm", "provider_id": "warm"})
        await db.t.find_one({"_id": "warm"})
        insert, by_id, by_index = [], [], []
        for i in range(repeat):
            t0 = time.perf_counter()
            await db.t.insert_one({"_id": f"k{i}", "provider_id": f"p{i}", "outbox": []})
            insert.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await db.t.find_one({"_id": f"k{i}"})
            by_id.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await db.t.find_one({"provider_id": f"p{i}"})
            by_index.append(time.perf_counter() - t0)
        return DbFloors(median(insert), median(by_id), median(by_index))
    finally:
        await client.drop_database(db.name)
        await client.close()


def floor_rows(kafka_s: float, xsd_s: float, engine_s: float, db: DbFloors) -> list[list[str]]:
    """The floors as rows of a (medida, valor, nota) table."""
    return [
        ["piso: Kafka produce→consume (mesmo broker)", ms(kafka_s), "ida e volta, acks=all"],
        ["piso: lxml parse + XSD (mesmo arquivo)", ms(xsd_s), "em processo"],
        ["motor em processo (mesmo arquivo)", ms(engine_s), f"{engine_s / xsd_s:.1f}× o XSD"],
        ["piso: FerretDB insert_one", ms(db.insert), "documento pequeno"],
        ["piso: FerretDB find_one por _id", ms(db.by_id), "índice _id"],
        ["piso: FerretDB find_one por campo indexado", ms(db.by_index), "índice secundário"],
    ]
