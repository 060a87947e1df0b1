"""Upload checks before a file is stored: size, emptiness, extension; messages in pt-BR."""

import pytest
from tissflow_ingest.domain import MAX_UPLOAD_BYTES, UploadRejected, check_upload


def test_accepts_an_xml_up_to_15_mb() -> None:
    check_upload("lote.XML", b"<a/>" + b" " * (MAX_UPLOAD_BYTES - 4))


@pytest.mark.parametrize(
    ("name", "content", "kind", "code"),
    [
        ("lote.xml", b"x" * (MAX_UPLOAD_BYTES + 1), "too_large", "arquivo_muito_grande"),
        ("lote.xml", b"   \n", "invalid", "arquivo_vazio"),
        ("lote.pdf", b"%PDF", "invalid", "extensao_invalida"),
    ],
)
def test_rejections(name: str, content: bytes, kind: str, code: str) -> None:
    with pytest.raises(UploadRejected) as rejected:
        check_upload(name, content)
    assert (rejected.value.kind, rejected.value.code) == (kind, code)
    assert name in rejected.value.message
