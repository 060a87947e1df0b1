"""PEG numbers on the real FerretDB: two protocol instances (two clients, each with its own
write lock, as two processes would have) receiving every lote.sent several times at once
give each lote exactly one PEG, every PEG unique, increasing and never reused."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from tissflow_contracts import LoteSent
from tissflow_protocol.adapters.mongo import MongoProtocolos
from tissflow_protocol.bootstrap import descreve_glosa
from tissflow_protocol.service_layer import use_cases as uc
from tissflow_protocol.service_layer.ports import Deps, Operadora
from tissflow_runtime.outbox import outbox_entry

pytestmark = pytest.mark.integration
MONGO = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
OPERADORA = Operadora("331988", "PASA", "PASA", "39419809000198")


def _event(payload: Any, key: str, cid: str) -> dict[str, Any]:
    return outbox_entry(payload, key=key, correlation_id=cid, producer="protocol")


def _lote(lote_id: str) -> LoteSent:
    return LoteSent(
        lote_id=lote_id,
        provider_id="07906129000102",
        registro_ans="331988",
        numero_lote=lote_id[-6:],
        canal="upload_xml",
        file_id=None,
        tipo_guia="consulta",
        quantidade_guias=1,
        valor_total=Decimal("10.00"),
        sent_by="teste",
        sent_at=datetime.now(UTC),
    )


async def _run(db_name: str) -> None:
    clients = [AsyncMongoClient(MONGO, tz_aware=True) for _ in range(2)]
    try:
        instances = []
        for client in clients:
            repo = MongoProtocolos(client[db_name], asyncio.Lock(), lambda *_: None)
            await repo.create_indexes()
            instances.append(Deps(repo, _event, OPERADORA, descreve_glosa))
        lotes = [f"L-{uuid.uuid4().hex[:8]}" for _ in range(12)]
        deliveries = [
            uc.receive_lote(instances[i % 2], _lote(lote_id), uuid.uuid4().hex, lote_id)
            for lote_id in lotes
            for i in range(3)  # the same event three times, on both instances, at once
        ]
        results = await asyncio.gather(*deliveries)
        by_lote: dict[str, set[str]] = {}
        for doc in results:
            by_lote.setdefault(doc["lote_id"], set()).add(doc["_id"])
        assert all(len(pegs) == 1 for pegs in by_lote.values()), by_lote
        db = clients[0][db_name]
        stored = [d async for d in db["protocolos"].find({}, {"lote_id": 1})]
        assert sorted(d["lote_id"] for d in stored) == sorted(lotes)
        pegs = sorted(d["_id"] for d in stored)
        assert len(set(pegs)) == len(lotes)
        claims = [c async for c in db["pegs"].find({}).sort("_id", 1)]
        assert [c["_id"] for c in claims] == list(range(1, len(lotes) + 1))
        # A redelivery later gets the same PEG; a new lote a higher one than every other.
        again = await uc.receive_lote(instances[1], _lote(lotes[0]), "x", "x")
        assert again["_id"] in by_lote[lotes[0]]
        newer = await uc.receive_lote(instances[0], _lote("L-newer"), "y", "y")
        assert newer["_id"] > max(pegs)
    finally:
        await clients[0].drop_database(db_name)
        for client in clients:
            await client.close()


def test_one_peg_per_lote_under_redelivery_and_two_instances() -> None:
    asyncio.run(_run(f"tpeg_{uuid.uuid4().hex[:8]}"))
