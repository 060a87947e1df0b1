"""Two clerks appeal the same glossed item at the same time, on the real FerretDB: two
recursos-service instances (two clients, each with its own write lock, as two processes
would have) open drafts over overlapping items at once; exactly one recurso holds each
item, every other request is refused with 409 and leaves nothing behind (ADR 0012's unique
claims, applied to glossed lines)."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient
from tissflow_contracts import LoteSent, ProtocoloStatusChanged
from tissflow_recursos.adapters.mongo import Repos
from tissflow_recursos.config import RecursosSettings
from tissflow_recursos.domain.model import Conflito
from tissflow_recursos.service_layer import use_cases as uc

pytestmark = pytest.mark.integration
MONGO = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
CNPJ = "07906129000102"
CFG = RecursosSettings()


def _events(lote_id: str, peg: str) -> tuple[LoteSent, ProtocoloStatusChanged]:
    now = datetime.now(UTC)
    lote = LoteSent.model_validate(
        {
            "lote_id": lote_id,
            "provider_id": CNPJ,
            "registro_ans": "331988",
            "numero_lote": "7001",
            "canal": "upload_xml",
            "file_id": None,
            "tipo_guia": "odontologia",
            "quantidade_guias": 1,
            "valor_total": "300.00",
            "sent_by": "clinica",
            "sent_at": now,
            "guias": [
                {
                    "numero_guia_prestador": "9001",
                    "itens": [
                        {"sequencial_item": 1, "valor_total": "100.00"},
                        {"sequencial_item": 2, "valor_total": "200.00"},
                    ],
                }
            ],
        }
    )
    item = {"valor_processado": "100.00", "valor_liberado": "70.00", "valor_glosado": "30.00"}
    status = ProtocoloStatusChanged.model_validate(
        {
            "peg": peg,
            "lote_id": lote_id,
            "provider_id": CNPJ,
            "registro_ans": "331988",
            "numero_lote": "7001",
            "status": 5,
            "changed_at": now - timedelta(days=1),
            "guias": [
                {
                    "numero_guia_prestador": "9001",
                    "valor_processado": "300.00",
                    "valor_liberado": "240.00",
                    "valor_glosado": "60.00",
                    "itens": [
                        {
                            **item,
                            "sequencial_item": 1,
                            "glosas": [{"codigo": "1705", "valor": "30"}],
                        },
                        {
                            **item,
                            "sequencial_item": 2,
                            "valor_processado": "200.00",
                            "valor_liberado": "170.00",
                            "glosas": [{"codigo": "1801", "valor": "30"}],
                        },
                    ],
                }
            ],
        }
    )
    return lote, status


async def _run(db_name: str) -> None:
    clients = [AsyncMongoClient(MONGO, tz_aware=True) for _ in range(2)]
    try:
        instances = [Repos(client[db_name], asyncio.Lock()) for client in clients]
        await instances[0].create_indexes()
        peg = "2026" + uuid.uuid4().hex[:6]
        lote, status = _events(f"L-{uuid.uuid4().hex[:8]}", peg)
        await uc.project_lote_sent(instances[0], "e1", lote)
        await uc.project_status_changed(instances[0], "e2", status)

        # Eight clerks at once, on both instances: four appeal item 1, four appeal both
        # items; each item must end up in exactly one recurso.
        pedidos = [["9001:1"], ["9001:1", "9001:2"]] * 4

        async def recorrer(i: int, linhas: list[str]) -> list[dict] | Conflito:
            try:
                return await uc.abrir(
                    instances[i % 2],
                    CFG,
                    datetime.now(UTC),
                    provider_id=CNPJ,
                    peg=peg,
                    linha_ids=linhas,
                    by=f"clerk{i}",
                )
            except Conflito as exc:
                return exc

        results = await asyncio.gather(*(recorrer(i, x) for i, x in enumerate(pedidos)))
        won = [r for r in results if not isinstance(r, Conflito)]
        lost = [r for r in results if isinstance(r, Conflito)]
        assert won, "no clerk got the item"
        assert len(won) + len(lost) == len(pedidos)
        assert all(e.kind == "conflict" and e.code.startswith("item_ja") for e in lost)
        assert all("recurso" in e.message for e in lost)

        stored = await instances[1].recursos_of({"peg": peg})
        holders: dict[str, list[str]] = {}
        for recurso in stored:
            for linha in recurso["linhas"]:
                holders.setdefault(linha["linha_id"], []).append(recurso["_id"])
        assert holders["9001:1"] and len(holders["9001:1"]) == 1
        assert len(holders.get("9001:2", [])) <= 1
        # Every draft written is one that a request was told it won.
        assert sorted(r["_id"] for r in stored) == sorted(d["recurso_id"] for w in won for d in w)
        # The claims left are exactly those of the recursos written.
        claims = await instances[0].claims.find({"_id": {"$regex": f"^{peg}\\|"}}).to_list()
        assert sorted((c["_id"], c["recurso_id"]) for c in claims) == sorted(
            (f"{peg}|{linha}|0", ids[0]) for linha, ids in holders.items()
        )
    finally:
        for client in clients:
            await client.close()


def test_two_clerks_appealing_one_item_at_once_one_recurso_wins() -> None:
    asyncio.run(_run(f"tissflow_test_recursos_{uuid.uuid4().hex[:8]}"))
