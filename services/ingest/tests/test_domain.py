"""Upload checks before a file is stored: size, emptiness, extension; messages in pt-BR."""

import pytest
from tissflow_ingest.domain import MAX_UPLOAD_BYTES, UploadRejected, check_upload


def test_accepts_an_xml_up_to_15_mb() -> None:
    check_upload("lote.XML", b"<a/>" + b" " * (MAX_UPLOAD_BYTES - 4))


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("lote.xml", b"x" * (MAX_UPLOAD_BYTES + 1), 413, "arquivo_muito_grande"),
        ("lote.xml", b"   \n", 422, "arquivo_vazio"),
        ("lote.pdf", b"%PDF", 422, "extensao_invalida"),
    ],
)
def test_rejections(name: str, content: bytes, status: int, code: str) -> None:
    with pytest.raises(UploadRejected) as rejected:
        check_upload(name, content)
    assert (rejected.value.status_code, rejected.value.code) == (status, code)
    assert name in rejected.value.message
