"""Outbox benchmark: what finding one pending event costs as stored documents pile up.

On the real FerretDB (MongoDB protocol), with N stored documents that have nothing
pending, one document is written with an outbox entry, and the relay publishes it (to a
no-op publisher): by scanning the collection (the relay before: every write and every
second), and by reading the document the writer named (the relay now). Floors measured in
the same run: a bare insert and a bare `_id` read on the same server.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

from pymongo import AsyncMongoClient
from tissflow_contracts import OperadoraReport
from tissflow_runtime.outbox import OutboxRelay, outbox_entry

from bench.report import median, ms, table

SIZES = (1_000, 10_000)


async def _noop(topic: str, key: str, data: bytes, headers: dict[str, str]) -> None:
    return None


def _doc(i: int) -> dict[str, object]:
    # Shaped like a stored file: some fields, an empty outbox (everything published).
    return {
        "_id": f"f{i:08d}",
        "provider_id": "07906129000102",
        "filename": f"lote-{i}.xml",
        "status": "importado",
        "revisions": [{"revision": 1, "sha256": "0" * 64, "size": 4096}],
        "outbox": [],
    }


async def _measure(mongo: str, repeat: int) -> tuple[list[list[str]], dict[str, float]]:
    client: AsyncMongoClient = AsyncMongoClient(mongo)
    db = client[f"bench{uuid.uuid4().hex[:6]}_outbox"]
    rows: list[list[str]] = []
    figures: dict[str, float] = {}
    try:
        things = db["files"]
        insert, read = [], []
        for i in range(repeat):
            t0 = time.perf_counter()
            await things.insert_one({"_id": f"floor{i}", "outbox": []})
            insert.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await things.find_one({"_id": f"floor{i}"})
            read.append(time.perf_counter() - t0)
        await things.delete_many({})
        floor = median(insert) + median(read)
        rows.append(["FerretDB insert + leitura por _id (linha de base)", "—", ms(floor), "1.0×"])
        relay = OutboxRelay(db, ["files"], _noop)
        stored = 0
        for size in SIZES:
            while stored < size:
                batch = [_doc(i) for i in range(stored, min(size, stored + 1000))]
                await things.insert_many(batch)
                stored += len(batch)
            scan, hinted = [], []
            for i in range(repeat):
                entry = outbox_entry(
                    OperadoraReport(peg=str(i), status=2), key="k", correlation_id="c", producer="b"
                )
                doc_id = f"new{size}-{i}"
                await things.insert_one({"_id": doc_id, "outbox": [entry]})
                t0 = time.perf_counter()
                assert await relay.drain() == 1
                scan.append(time.perf_counter() - t0)
                await things.update_one({"_id": doc_id}, {"$push": {"outbox": entry}})
                t0 = time.perf_counter()
                relay.notify("files", doc_id)
                assert await relay.drain_hinted() == 1
                hinted.append(time.perf_counter() - t0)
            s, h = median(scan), median(hinted)
            rows.append(["varredura da coleção (antes)", f"{size:,}", ms(s), f"{s / floor:.1f}×"])
            rows.append(
                [
                    "documento nomeado pelo escritor (agora)",
                    f"{size:,}",
                    ms(h),
                    f"{h / floor:.1f}×",
                ]
            )
            figures[f"scan_ms_{size}"] = round(s * 1000, 1)
            figures[f"hinted_ms_{size}"] = round(h * 1000, 1)
    finally:
        await client.drop_database(db.name)
        await client.close()
    return rows, figures


def run(repeat: int = 5) -> str:
    mongo = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
    rows, figures = asyncio.run(_measure(mongo, repeat))
    return (
        table(
            "Outbox: publicar um evento pendente com N documentos guardados (FerretDB real)",
            ["medida", "documentos", "mediana", "razão à linha de base"],
            rows,
        )
        + "\n"
        + json.dumps(figures)
    )
