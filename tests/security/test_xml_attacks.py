"""XML attacks through the public API: accepted as an upload (202) like any file, then
refused by the validation with one clear pt-BR critique, nothing read from the server's
disk and no entity expanded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import Api

pytestmark = [pytest.mark.security, pytest.mark.e2e]
ANS = 'xmlns:ans="http://www.ans.gov.br/padroes/tiss/schemas"'


def _attacks(secret: Path) -> dict[str, bytes]:
    bomb = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    return {
        "xxe": (
            f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>'
            f"<ans:mensagemTISS {ANS}>&x;</ans:mensagemTISS>"
        ).encode(),
        "bomba": f'<?xml version="1.0"?><!DOCTYPE b [{bomb}]><b>&a9;</b>'.encode(),
        "dtd-externo": (
            f'<?xml version="1.0"?><!DOCTYPE m SYSTEM "file://{secret}"><ans:mensagemTISS {ANS}/>'
        ).encode(),
        "profundo": b'<?xml version="1.0"?>' + b"<a>" * 5000 + b"</a>" * 5000,
        "nao-xml": b"\x00\x01\x02 isto nao e XML",
    }


@pytest.mark.parametrize("attack", ["xxe", "bomba", "dtd-externo", "profundo", "nao-xml"])
def test_an_xml_attack_is_refused_with_a_clear_critique(
    clinica: Api, tmp_path: Path, attack: str
) -> None:
    secret = tmp_path / "segredo.txt"
    secret.write_text("SEGREDO-DO-SERVIDOR")
    sent = clinica.upload(_attacks(secret)[attack], filename=f"{attack}.xml")
    assert sent.status_code == 202, sent.text
    file_id = sent.json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "invalido"
    resultado = clinica.get(f"/files/{file_id}/criticas").json()
    critiques = resultado["result"]["critiques"]
    assert critiques, resultado
    assert all(c["codigo"] and c["mensagem"] for c in critiques)
    text = json.dumps(resultado, ensure_ascii=False)
    assert "SEGREDO" not in text
    assert "lollollol" not in text
