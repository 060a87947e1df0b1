"""Validation's consumers written once: on FastStream's in-memory broker with fake
adapters, and (marked integration) on the real Kafka with the same body."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import pytest
from faststream.kafka import TestKafkaBroker
from tissflow_contracts import LoteDeleted, Topic, new_envelope
from tissflow_demo.samples import build_lote
from tissflow_runtime.consumer import PermanentError
from tissflow_runtime.settings import ServiceSettings
from tissflow_validation.bootstrap import build
from tissflow_validation.entrypoints.consumers import build_consumers

from .fakes import FakeIngest, FakeResults, fake_adapters
from .test_use_cases import PROVIDER, NoIngest, inline, uploaded

REAL = pytest.param(True, marks=pytest.mark.integration, id="real-kafka")


@pytest.mark.parametrize("with_real", [False, REAL])
async def test_an_upload_is_judged_once_and_a_deleted_lote_frees_its_guides(
    with_real: bool,
) -> None:
    settings = ServiceSettings(
        kafka_bootstrap=os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        db_prefix=f"validationunit{os.getpid()}",
    )
    file_id = f"f{os.getpid()}{int(with_real)}"
    a = fake_adapters()
    a.results = FakeResults(only_file=file_id)
    service = build(settings, **vars(a))
    assert isinstance(a.ingest, FakeIngest) and isinstance(a.results, FakeResults)
    event = uploaded(a.ingest, file_id, build_lote("consulta", numero_guia_inicial=321))
    first = new_envelope(event, correlation_id=file_id, producer="ingest", key=file_id)
    deleted = LoteDeleted(
        lote_id="l1",
        provider_id=PROVIDER,
        file_id=file_id,
        deleted_by="odontoarte",
        deleted_at=datetime.now(UTC),
    )
    last = new_envelope(deleted, correlation_id=file_id, producer="batching", key=file_id)
    async with TestKafkaBroker(service.runtime.broker, with_real=with_real) as broker:
        for envelope, topic in ((first, Topic.FILE_UPLOADED), (first, Topic.FILE_UPLOADED)):
            await broker.publish(
                envelope.model_dump_json().encode(), topic=topic, key=file_id.encode()
            )
        for _ in range(600):
            if f"{file_id}:1" in a.results.docs:
                break
            await asyncio.sleep(0.05)
        assert a.results.docs[f"{file_id}:1"]["status"] == "importado"
        assert await a.guides.holder(f"{PROVIDER}:321") == file_id
        await broker.publish(
            last.model_dump_json().encode(), topic=Topic.LOTE_DELETED, key=file_id.encode()
        )
        for _ in range(600):
            if await a.guides.holder(f"{PROVIDER}:321") is None:
                break
            await asyncio.sleep(0.05)
    assert await a.guides.holder(f"{PROVIDER}:321") is None
    assert len([k for k in a.results.docs if k.startswith(file_id)]) == 1
    assert a.publisher.notified == 1  # type: ignore[attr-defined]


async def test_an_event_whose_carried_bytes_are_not_its_own_is_parked_like_a_bad_claim_check() -> (
    None
):
    a = fake_adapters()
    a.ingest = NoIngest()
    content = build_lote("consulta", numero_guia_inicial=654)
    event = inline(uploaded(FakeIngest(), "f1", content), content.replace(b"654", b"655"))
    envelope = new_envelope(event, correlation_id="f1", producer="ingest", key="f1")
    with pytest.raises(PermanentError, match="sha256"):  # the DLQ at once, no retries
        await build_consumers(a)[Topic.FILE_UPLOADED](envelope)
