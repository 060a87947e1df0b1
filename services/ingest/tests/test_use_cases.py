"""Ingest's use cases against in-memory adapters: what a stored upload, a corrected
revision and a verdict leave in the registry and in the outbox (milliseconds, no server)."""

from __future__ import annotations

import pytest
from tissflow_contracts import FileValidated
from tissflow_contracts.errors import Conflict, NotFound
from tissflow_ingest import service_layer
from tissflow_ingest.domain import INLINE_FIELD, INLINE_MAX_BYTES, UploadRejected
from tissflow_runtime.publisher import RecordingPublisher

from .fakes import FakeFiles, FakeStore

XML = b"<mensagemTISS/>"


async def upload(files: FakeFiles, store: FakeStore, pub: RecordingPublisher, **kw: object):  # noqa: ANN201
    args = {
        "provider_id": "07906129000102",
        "filename": "lote.xml",
        "uploaded_by": "odontoarte",
        "content": XML,
        **kw,
    }
    return await service_layer.store_upload(files, store, pub, **args)  # type: ignore[arg-type]


async def test_an_upload_is_revision_1_with_its_file_uploaded_in_the_same_document() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    stored = await upload(files, store, pub)
    doc = files.docs[stored.file["file_id"]]
    assert stored.created and doc["status"] == "em_processamento"
    assert [r["revision"] for r in doc["revisions"]] == [1]
    [entry] = doc["outbox"]
    assert entry["payload"].content_url.endswith(f"/{stored.file['file_id']}/revisions/1/content")
    assert entry["payload"].sha256 == doc["revisions"][0]["sha256"]
    assert pub.notified == 1


async def test_the_same_idempotency_key_returns_the_first_file() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    first = await upload(files, store, pub, idempotency_key="k1")
    again = await upload(files, store, pub, idempotency_key="k1")
    assert not again.created and again.file["file_id"] == first.file["file_id"]
    assert len(files.docs) == 1 and pub.notified == 1
    [doc] = files.docs.values()
    assert len(doc["outbox"]) == 1, "one file.uploaded, not two"


async def test_a_large_upload_sent_again_with_its_key_is_not_stored_twice() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    large = b"<mensagemTISS>" + b"x" * INLINE_MAX_BYTES + b"</mensagemTISS>"
    first = await upload(files, store, pub, idempotency_key="k2", content=large)
    again = await upload(files, store, pub, idempotency_key="k2", content=large)
    assert not again.created and again.file["file_id"] == first.file["file_id"]
    assert len(files.docs) == 1 and len(store.blobs) == 1 and pub.notified == 1


async def test_a_small_upload_is_one_document_and_a_large_one_keeps_its_bytes_apart() -> None:
    """Up to INLINE_MAX_BYTES the bytes travel in the file's own document (one write);
    the claim check reads both kinds back byte for byte, and no listing shows them."""
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    small = b"<mensagemTISS>" + b"s" * (INLINE_MAX_BYTES - 40) + b"</mensagemTISS>"
    large = b"<mensagemTISS>" + b"g" * INLINE_MAX_BYTES + b"</mensagemTISS>"
    small_id = (await upload(files, store, pub, content=small)).file["file_id"]
    large_id = (await upload(files, store, pub, content=large)).file["file_id"]
    assert files.docs[small_id][INLINE_FIELD] == small and INLINE_FIELD not in files.docs[large_id]
    assert list(store.blobs.values()) == [large]
    assert (await service_layer.read_revision(files, store, small_id, 1))[0] == small
    assert (await service_layer.read_revision(files, store, large_id, 1))[0] == large
    both = await service_layer.read_revisions(
        files, store, [(small_id, 1), (large_id, 1), ("nenhum", 1)], 10 * INLINE_MAX_BYTES
    )
    assert {k: v[0] for k, v in both.items()} == {(small_id, 1): small, (large_id, 1): large}
    shown = await service_layer.get_file(files, small_id)
    assert INLINE_FIELD not in shown and "gridfs_id" not in shown["revisions"][0]


async def test_a_refused_upload_stores_nothing() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    with pytest.raises(UploadRejected) as refused:
        await upload(files, store, pub, filename="lote.pdf")
    assert refused.value.code == "extensao_invalida"
    assert files.docs == {} and store.blobs == {} and pub.notified == 0


async def test_a_revision_from_a_stale_base_is_refused_and_its_bytes_dropped() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    file_id = (await upload(files, store, pub)).file["file_id"]
    kw = {"file_id": file_id, "created_by": "odontoarte", "reason": "correcao", "content": XML}
    second = await service_layer.store_revision(files, store, pub, base_revision=1, **kw)  # type: ignore[arg-type]
    assert second.file["current_revision"] == 2 and second.file["corrigido_online"]
    with pytest.raises(Conflict) as stale:
        await service_layer.store_revision(files, store, pub, base_revision=1, **kw)  # type: ignore[arg-type]
    assert stale.value.code == "revisao_desatualizada"
    assert len(store.blobs) == 1, "revision 2's bytes; the stale one's were dropped"
    content, sha = await service_layer.read_revision(files, store, file_id, 2)
    assert content == XML and sha == files.docs[file_id]["revisions"][1]["sha256"]
    assert (await service_layer.read_revision(files, store, file_id, 1))[0] == XML
    with pytest.raises(NotFound):
        await service_layer.read_revision(files, store, file_id, 3)


async def test_a_verdict_for_an_old_revision_changes_nothing() -> None:
    files, store, pub = FakeFiles(), FakeStore(), RecordingPublisher()
    file_id = (await upload(files, store, pub)).file["file_id"]
    await service_layer.store_revision(
        files, store, pub, file_id=file_id, base_revision=1, created_by="x", reason="r", content=XML
    )
    old = FileValidated(
        file_id=file_id,
        revision=1,
        provider_id="p",
        sha256="0" * 64,
        status="invalido",
        critiques=1,
    )
    await service_layer.record_verdict(files, "e1", old)
    assert files.docs[file_id]["status"] == "em_processamento"
    new = old.model_copy(update={"revision": 2, "status": "importado", "critiques": 0})
    await service_layer.record_verdict(files, "e2", new)
    assert files.docs[file_id]["status"] == "importado"
