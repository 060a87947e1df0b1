"""Issue 22 item 10: the epilogue hash's readings, and which one matched.

The standard's reading (the text of every leaf, in ISO-8859-1) and the practice's (the
same text in UTF-8, or in the file's own encoding) are accepted silently; any other
reading the engine tolerates (the raw file with its entities as written, trimmed
values...) is accepted with an alerta naming it. The verdict says which reading matched
and `hash_calculado` is that reading's value.
"""

from __future__ import annotations

import hashlib
import json
import re

from tissflow_demo.samples import build_lote
from tissflow_validation.cli import main
from tissflow_validation.engine import OperatorContext, RuleConfig, validate

from .conftest import unica

CTX = OperatorContext(registro_ans="331988")


def _com_hash(content: bytes, h: str) -> bytes:
    return re.sub(rb"(<ans:hash>)[^<]*", lambda m: m[1] + h.encode(), content, count=1)


def _bruto(content: bytes) -> bytes:
    """A lote whose hash is the MD5 of the raw file text, character references unresolved."""
    content = content.replace(
        b"<ans:indicacaoClinica>Avalia\xe7\xe3o", b"<ans:indicacaoClinica>Avalia&#231;&#227;o"
    )
    texto = content.decode("iso-8859-1").split("?>", 1)[1]
    texto = re.sub(r"<ans:hash>[^<]*", "<ans:hash>", re.sub(r">\s+<", "><", texto))
    h = hashlib.md5(re.sub(r"<[^>]+>", "", texto).strip().encode("iso-8859-1")).hexdigest()
    return _com_hash(content, h)


def test_leitura_padrao_iso_8859_1() -> None:
    r = validate(build_lote("sp_sadt"), CTX)
    assert r.valido and r.critiques == []
    assert r.leitura_hash == "ISO-8859-1" and r.hash_calculado == r.hash_informado
    assert r.to_dict()["leitura_hash"] == "ISO-8859-1"


def test_utf8_num_arquivo_iso_mostra_o_valor_da_leitura_que_conferiu() -> None:
    content = build_lote("sp_sadt", hash_utf8=True)
    r = validate(content, CTX)
    assert r.valido and r.critiques == []
    assert r.leitura_hash == "UTF-8"
    assert r.hash_calculado == r.hash_informado


def test_hash_do_texto_bruto_com_referencias_e_aceito_com_alerta() -> None:
    content = _bruto(build_lote("sp_sadt"))
    assert b"Avalia&#231;&#227;o" in content
    r = validate(content, CTX)
    assert r.valido
    (c,) = r.critiques
    assert (c.codigo, c.severidade) == ("5014", "alerta")
    assert "entidades e referências de caractere como escritas" in c.mensagem
    assert "o arquivo foi aceito" in c.mensagem
    assert r.leitura_hash.startswith("texto bruto do arquivo")
    assert r.hash_calculado == r.hash_informado
    # the operator who switches 5014 off hears nothing of it
    desligado = OperatorContext(registro_ans="331988", rules={"5014": RuleConfig(enabled=False)})
    assert validate(content, desligado).critiques == []


def test_hash_que_nao_confere_com_leitura_nenhuma() -> None:
    content = build_lote("sp_sadt")
    certo = validate(content, CTX).hash_informado
    r = validate(_com_hash(content, "f" * 32), CTX)
    c = unica(r, "5014")
    assert c.severidade == "erro"
    assert r.leitura_hash is None and r.hash_calculado == certo


def test_cli_diz_a_leitura(tmp_path, capsys) -> None:
    arq = tmp_path / "lote.xml"
    arq.write_bytes(build_lote("consulta", hash_utf8=True))
    assert main(["validate", str(arq)]) == 0
    assert "hash conferido na leitura UTF-8" in capsys.readouterr().out
    bruto = tmp_path / "bruto.xml"
    bruto.write_bytes(_bruto(build_lote("sp_sadt")))
    assert main(["validate", str(bruto), "--format", "json"]) == 0
    dados = json.loads(capsys.readouterr().out)[0]
    assert dados["leitura_hash"].startswith("texto bruto do arquivo")
    assert [c["severidade"] for c in dados["critiques"]] == ["alerta"]
