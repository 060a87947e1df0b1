"""Ingest's `file.validated` consumer, written once: on FastStream's in-memory broker with
in-memory adapters, and (marked integration) on the real Kafka with the same body."""

from __future__ import annotations

import asyncio
import os

import pytest
from faststream.kafka import TestKafkaBroker
from tissflow_contracts import FileValidated, Topic, new_envelope
from tissflow_ingest import service_layer
from tissflow_ingest.bootstrap import build
from tissflow_runtime.settings import ServiceSettings

from .fakes import FakeFiles, FakeStore

REAL = pytest.param(True, marks=pytest.mark.integration, id="real-kafka")


@pytest.mark.parametrize("with_real", [False, REAL])
async def test_a_verdict_event_marks_the_file_and_a_redelivery_changes_nothing(
    with_real: bool,
) -> None:
    settings = ServiceSettings(
        kafka_bootstrap=os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        db_prefix=f"ingestunit{os.getpid()}",
    )
    files = FakeFiles()
    service = build(settings, files=files, store=FakeStore())
    stored = await service_layer.store_upload(
        files,
        service.store,
        service.publisher,
        provider_id="07906129000102",
        filename="lote.xml",
        uploaded_by="odontoarte",
        content=b"<a/>",
    )
    file_id = stored.file["file_id"]
    verdict = FileValidated(
        file_id=file_id,
        revision=1,
        provider_id="07906129000102",
        sha256="0" * 64,
        status="importado",
        critiques=0,
    )
    first = new_envelope(verdict, correlation_id=file_id, producer="validation", key=file_id)
    # Another verdict after the redelivery: once it is handled, so is everything before it.
    last = new_envelope(verdict, correlation_id=file_id, producer="validation", key=file_id)
    async with TestKafkaBroker(service.runtime.broker, with_real=with_real) as broker:
        for envelope in (first, first, last):  # the second is a redelivery
            await broker.publish(
                envelope.model_dump_json().encode(),
                topic=Topic.FILE_VALIDATED,
                key=file_id.encode(),
            )
        for _ in range(600):
            if str(last.event_id) in files.docs[file_id]["handled"]:
                break
            await asyncio.sleep(0.05)
    doc = files.docs[file_id]
    assert doc["status"] == "importado"
    assert doc["handled"] == [str(first.event_id), str(last.event_id)]
