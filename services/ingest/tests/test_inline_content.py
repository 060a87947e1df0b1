"""A small file's bytes travel in its `file.uploaded`, a large one's are fetched by URL
(ADR 0021): what the outbox entry carries, on upload and on a corrected revision."""

from __future__ import annotations

import base64
import hashlib

from tissflow_contracts import INLINE_CONTENT_MAX_BYTES
from tissflow_ingest import service_layer
from tissflow_runtime.publisher import RecordingPublisher, content_seal_text

from .fakes import FakeFiles, FakeStore


def xml_of(size: int) -> bytes:
    head, tail = b"<mensagemTISS>", b"</mensagemTISS>"
    return head + b" " * (size - len(head) - len(tail)) + tail


async def test_a_small_file_travels_in_its_event_and_a_large_one_by_url() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    for size, carried in ((INLINE_CONTENT_MAX_BYTES, True), (INLINE_CONTENT_MAX_BYTES + 1, False)):
        content = xml_of(size)
        stored = await service_layer.store_upload(
            files,
            store,
            pub,
            provider_id="07906129000102",
            filename="lote.xml",
            uploaded_by="odontoarte",
            content=content,
        )
        [entry] = files.docs[stored.file["file_id"]]["outbox"]
        event = entry["payload"]
        assert event.sha256 == hashlib.sha256(content).hexdigest()
        assert event.content_url.endswith("/revisions/1/content")  # old consumers keep it
        if carried:
            assert base64.b64decode(event.content_base64) == content
            text = content_seal_text(event.file_id, 1, event.sha256)
            assert event.content_seal == pub.seal(text)  # this deployment's ingest sent it
        else:
            assert event.content_base64 is None and event.content_seal is None


async def test_a_corrected_revision_carries_its_own_bytes() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    stored = await service_layer.store_upload(
        files,
        store,
        pub,
        provider_id="07906129000102",
        filename="lote.xml",
        uploaded_by="odontoarte",
        content=b"<mensagemTISS/>",
    )
    corrected = b"<mensagemTISS><corrigido/></mensagemTISS>"
    await service_layer.store_revision(
        files,
        store,
        pub,
        file_id=stored.file["file_id"],
        base_revision=1,
        created_by="odontoarte",
        reason="correcao",
        content=corrected,
    )
    event = pub.entries[-1]["payload"]
    assert event.revision == 2
    assert base64.b64decode(event.content_base64) == corrected
