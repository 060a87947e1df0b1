"""Cost independent of stored data: the same measures on an empty and on a seeded database.

One set of services, in one run: first on an empty database (the demo's seed only), then
after 100,000 files and their lotes, protocols and statements were stored in bulk
(`insert_many` straight into each service's own database: clones of the documents the
pipeline itself wrote, spread over 50 clinics and a year). For both columns:

- upload → `file.validated`, unloaded (one upload at a time), p50 and p95, and where that
  time goes (the upload's HTTP answer, the relay's publication of `file.uploaded`, the
  validation consumer up to `file.validated`), next to the machine's floors measured in
  the same run (a bare Kafka round trip, the engine in process on the same file, the
  claim-check fetch of the file's bytes, a bare FerretDB insert and `_id` read);
- the portal's lists as a clinic pages them (Histórico, Pesquisa de Lotes,
  Demonstrativos), p50 and p95;
- CPU of every process (services, FerretDB, Kafka) while nothing happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from tissflow_runtime.outbox import PENDING_FIELD
from tissflow_validation.engine import OperatorContext, validate

from bench.floors import db_floors, kafka_round_trip
from bench.pipeline import LISTS, Probe
from bench.procs import idle_cpu, server_pids
from bench.report import median, ms, percentile, table, timed
from bench.stack import BenchStack

CLINIC = "07906129000102"  # odontoarte, the clinic whose lists are paged
CLINICS = [CLINIC] + [f"{10_000_000_000_000 + i * 7919:014d}" for i in range(49)]
# Per service database: the collections that grow with every file and that an upload or
# a list reads, and how many documents per file.
GROWS = {
    "ingest": {"files": 1.0},
    "validation": {"results": 1.0, "guias": 1.0},
    "batching": {"lotes": 1.0},
    "protocol": {"protocolos": 1.0},
    "statements": {"demonstrativos": 1.0},
}


def _demonstrativo(now: datetime) -> dict[str, Any]:
    """A stored statement as `MongoStatements.save` writes it (the pipeline makes one only
    after the operator's analysis, which the unloaded probe does not reach)."""
    return {
        "_id": "analise-seed",
        "tipo": "analise",
        "peg": "2026000001",
        "lote_id": "seed",
        "provider_id": CLINIC,
        "registro_ans": "331988",
        "numero_lote": "1",
        "data_pagamento": None,
        "valor_informado": "150.00",
        "valor_liberado": "120.00",
        "valor_glosado": "30.00",
        "situacao": "Liberado para faturamento",
        "created_at": now,
        "updated_at": now,
        "aberto_em": None,
        "formatos": ["pdf", "xml"],
        "outbox": [],
    }


def _protocolo(now: datetime) -> dict[str, Any]:
    """A protocol as `receive_lote` stores it, analysed and paid (the unloaded probe's
    lotes are not sent to the operator, so there is none to clone)."""
    guia = {
        "numero_guia_prestador": "1",
        "valor_informado": "150.00",
        "itens": [{"codigo": "10101012", "quantidade": "1", "valor": "150.00"}],
    }
    return {
        "_id": "2026000001",
        "lote_id": "seed",
        "provider_id": CLINIC,
        "registro_ans": "331988",
        "numero_lote": "1",
        "numero_lote_prestador": "1",
        "file_id": "seed",
        "canal": "upload",
        "tipo_guia": "consulta",
        "versao_tiss": "4.03.00",
        "quantidade_guias": 1,
        "valor_informado": "150.00",
        "guias_lote": [guia],
        "sent_at": now,
        "status": 6,
        "created_at": now,
        "updated_at": now,
        "data_pagamento": "2026-11-30",
        "valor_processado": "150.00",
        "valor_liberado": "120.00",
        "valor_glosado": "30.00",
        "guias": [],
        "glosas_protocolo": [],
        "historico": [{"status": 1, "at": now, "by": "operadora"}],
        "log": [{"tipo": "envio", "at": now, "by": "odontoarte", "texto": "Lote 1 enviado."}],
        "mensagens": [],
        "situacoes": [],
        "handled": [],
        "outbox": [],
    }


SYNTHETIC = {
    ("statements", "demonstrativos"): _demonstrativo,
    ("protocol", "protocolos"): _protocolo,
}


def _unique_fields(indexes: dict[str, Any]) -> list[str]:
    fields: list[str] = []
    for spec in indexes.values():
        if spec.get("unique") and spec["key"][0][0] != "_id":
            fields += [k for k, _ in spec["key"]]
    return fields


# Documents per `insert_many`; each collection is filled by its own task (one SQLite file
# per service database on the local FerretDB: they fill side by side).
BATCH = 1_000


def _clone(template: dict[str, Any], i: int, unique: list[str], now: datetime) -> dict[str, Any]:
    """The template with its own `_id`, clinic, dates and unique fields: a shallow copy
    (nested values are shared; the driver only encodes them), so that building 100,000
    documents costs little next to storing them."""
    doc = dict(template)
    tid = template["_id"]
    doc["_id"] = 10**12 + i if isinstance(tid, int) else f"seed{i:07d}-{uuid.uuid4().hex[:6]}"
    if "provider_id" in doc:
        doc["provider_id"] = CLINICS[i % len(CLINICS)]
    for field in ("created_at", "updated_at"):
        if isinstance(doc.get(field), datetime):
            doc[field] = now - timedelta(seconds=random.randrange(365 * 86400))
    for field in unique:
        value = doc.get(field)
        if isinstance(value, int):
            doc[field] = 10**12 + i
        elif field in doc:
            doc[field] = f"seed{i:07d}"
    if "outbox" in doc:
        doc["outbox"] = []  # published long ago: nothing pending, no mark
    doc.pop(PENDING_FIELD, None)
    return doc


async def _seed_collection(
    collection: AsyncCollection, target: int, now: datetime, synthetic: Any
) -> list[str]:
    templates = [d async for d in collection.find({}).limit(20)]
    if not templates and synthetic is not None:
        templates = [synthetic(now)]
    name = f"{collection.database.name}.{collection.name}"
    if not templates:
        return [name, "sem modelo", "—"]
    unique = _unique_fields(await collection.index_information())
    t0 = time.perf_counter()
    for start in range(0, target, BATCH):
        batch = [
            _clone(templates[i % len(templates)], i, unique, now)
            for i in range(start, min(target, start + BATCH))
        ]
        await collection.insert_many(batch, ordered=False)
    seconds = time.perf_counter() - t0
    return [name, f"{target:,}", f"{seconds:.0f} s ({target / max(seconds, 1e-9):,.0f}/s)"]


async def seed_bulk(mongo: str, prefix: str, files: int) -> list[list[str]]:
    """Store `files` files and what follows from them, cloned from the pipeline's own
    documents, every collection at once; returns rows (database.collection, documents,
    time)."""
    client: AsyncMongoClient = AsyncMongoClient(mongo)
    now = datetime.now(UTC)
    try:
        return list(
            await asyncio.gather(
                *(
                    _seed_collection(
                        client[f"{prefix}_{service}"][name],
                        int(files * per_file),
                        now,
                        SYNTHETIC.get((service, name)),
                    )
                    for service, collections in GROWS.items()
                    for name, per_file in collections.items()
                )
            )
        )
    finally:
        await client.close()


def _pids(stack: BenchStack) -> dict[str, int]:
    return {**stack.pids(), **server_pids()}


def _measure(probe: Probe, stack: BenchStack, singles: int, repeat: int) -> dict[str, Any]:
    samples = probe.singles(singles)
    lists = probe.lists(repeat)
    time.sleep(3)  # let the last events settle before measuring idleness
    return {"singles": samples, "lists": lists, "idle": idle_cpu(_pids(stack))}


def _brief(measured: dict[str, Any]) -> str:
    totals = [s["total"] for s in measured["singles"]]
    lists = {k: round(percentile(v, 95) * 1000) for k, v in measured["lists"].items()}
    return json.dumps(
        {"p50_ms": round(median(totals) * 1000), "lists_p95_ms": lists}, ensure_ascii=False
    )


def _claim_check(probe: Probe, file_id: str, repeat: int = 10) -> float:
    ingest = probe.stack.services.url("ingest")
    url = f"{ingest}/internal/files/{file_id}/revisions/1/content"
    from tissflow_runtime.settings import ServiceSettings

    token = ServiceSettings().internal_token
    with httpx.Client(timeout=60, headers={"X-Internal-Token": token}) as client:
        return median(timed(lambda: client.get(url).raise_for_status(), repeat))


def run(files: int = 100_000, singles: int = 15, repeat: int = 20) -> str:
    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    mongo = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
    stack = BenchStack("seeded")
    stack.start()
    probe = Probe(stack, kafka)
    try:
        empty = _measure(probe, stack, singles, repeat)
        print(f"# vazio: {_brief(empty)}", flush=True)
        t0 = time.perf_counter()
        seeded_rows = asyncio.run(seed_bulk(mongo, stack.prefix, files))
        seed_s = time.perf_counter() - t0
        full = _measure(probe, stack, singles, repeat)
        print(f"# {files:,} arquivos: {_brief(full)}", flush=True)
        # Floors, same run.
        round_trip = median(asyncio.run(kafka_round_trip(kafka, 30)))
        sample = probe.file()
        engine_s = median(
            timed(lambda: validate(sample, OperatorContext(registro_ans="331988")), 20)
        )
        claim_s = _claim_check(probe, str(full["singles"][-1]["file_id"]))
        db = asyncio.run(db_floors(mongo))
        insert_s, read_s = db.insert, db.by_id
    finally:
        probe.close()
        stack.stop()

    def p(samples: list[dict[str, float]], key: str, pct: float = 50) -> float:
        return percentile([s[key] for s in samples], pct)

    e, f = empty["singles"], full["singles"]
    rows = [
        [
            "upload → file.validated, sem carga, p50",
            ms(p(e, "total")),
            ms(p(f, "total")),
            f"{p(f, 'total') / p(e, 'total'):.2f}× (meta ≤ 1.2×)",
        ],
        [
            "upload → file.validated, sem carga, p95",
            ms(p(e, "total", 95)),
            ms(p(f, "total", 95)),
            f"{p(f, 'total', 95) / p(e, 'total', 95):.2f}×",
        ],
        [
            "  1. HTTP: gateway + ingest (conteúdo, documento, outbox), p50",
            ms(p(e, "http")),
            ms(p(f, "http")),
            f"piso: inserir {ms(insert_s)}",
        ],
        [
            "  2. relay publica file.uploaded até chegar ao Kafka, p50",
            ms(p(e, "relay")),
            ms(p(f, "relay")),
            f"piso: Kafka ida e volta {ms(round_trip)}",
        ],
        [
            "  3. validação: consumo, claim check, motor, resultado, relay, p50",
            ms(p(e, "validation")),
            ms(p(f, "validation")),
            f"pisos: claim check {ms(claim_s)}, motor {ms(engine_s)}, "
            f"Kafka {ms(round_trip)}, leitura por _id {ms(read_s)}",
        ],
    ]
    for label, _ in LISTS:
        a, b = empty["lists"][label], full["lists"][label]
        rows.append(
            [
                f"portal: {label}, p50 / p95",
                f"{ms(median(a))} / {ms(percentile(a, 95))}",
                f"{ms(median(b))} / {ms(percentile(b, 95))}",
                "meta p95 < 300 ms",
            ]
        )
    for name in empty["idle"]:
        rows.append(
            [
                f"CPU parado: {name}",
                f"{empty['idle'][name] * 100:.1f}%",
                f"{full['idle'].get(name, 0) * 100:.1f}%",
                "de um núcleo, 10 s sem tráfego",
            ]
        )
    out = table(
        f"Custo com dados guardados: banco vazio × {files:,} arquivos (mesmos serviços, "
        "mesma execução)",
        ["medida", "vazio", f"{files:,} arquivos", "razão / piso"],
        rows,
    )
    out += "\n" + table(
        f"Semeadura em massa ({seed_s:.0f} s)", ["coleção", "documentos", "tempo"], seeded_rows
    )
    figures = {
        "empty_p50_ms": round(p(e, "total") * 1000, 1),
        "seeded_p50_ms": round(p(f, "total") * 1000, 1),
        "ratio": round(p(f, "total") / p(e, "total"), 2),
        "lists_p95_ms_seeded": {
            label: round(percentile(full["lists"][label], 95) * 1000, 1) for label, _ in LISTS
        },
        "kafka_round_trip_ms": round(round_trip * 1000, 1),
        "engine_ms": round(engine_s * 1000, 1),
    }
    return out + "\n" + json.dumps(figures, ensure_ascii=False)
