"""Contract tests: envelopes round-trip, every topic is registered, AsyncAPI stays current."""

import uuid

import pytest
from pydantic import ValidationError
from tissflow_contracts import (
    ALL_TOPICS,
    EVENTS,
    Envelope,
    FileUploaded,
    Topic,
    dlq,
    new_envelope,
)
from tissflow_contracts.asyncapi import DOCUMENT_PATH, render


def _uploaded() -> FileUploaded:
    return FileUploaded(
        file_id="f1",
        revision=1,
        provider_id="07906129000102",
        filename="lote.xml",
        size=10,
        sha256="a" * 64,
        uploaded_by="clinica",
        content_url="/internal/files/f1/revisions/1/content",
    )


def test_envelope_round_trips_through_json():
    env = new_envelope(_uploaded(), correlation_id="c-1", producer="ingest", key="f1")
    again = Envelope.model_validate_json(env.model_dump_json())
    assert again == env
    assert again.type == "file.uploaded"
    assert again.payload_as(FileUploaded).filename == "lote.xml"
    assert isinstance(again.event_id, uuid.UUID)
    assert again.occurred_at.tzinfo is not None


def test_payload_rejects_unknown_fields_and_bad_hash():
    with pytest.raises(ValidationError):
        FileUploaded.model_validate({**_uploaded().model_dump(), "bytes": "AAAA"})
    with pytest.raises(ValidationError):
        FileUploaded.model_validate({**_uploaded().model_dump(), "sha256": "xyz"})


def test_every_topic_has_a_dlq_and_an_event():
    topics = {spec.topic for spec in EVENTS}
    assert topics == set(Topic)
    for topic in Topic:
        assert dlq(topic) in ALL_TOPICS
        assert ALL_TOPICS[topic] >= 1


def test_committed_asyncapi_matches_code():
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(), (
        "contracts/asyncapi.yaml drifted from the models: run `make asyncapi`"
    )
