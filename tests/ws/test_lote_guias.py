"""tissLoteGuias' own rules with no servers: the rewrapped ENVIO_LOTE_GUIAS a web-service
lote becomes (valid in the ANS XSD, hash recomputed, no credentials stored), the refusal
that fits the standard's one code in 500 characters, and the identity of a call."""

from __future__ import annotations

from lxml import etree
from tissflow_demo.samples import build_lote
from tissflow_gateway.ws.operations import lote_guias
from tissflow_tiss import epilogo_hash, erros_de_schema

from tests.ws import soap_support as ws


def test_the_rewrapped_file_is_the_lote_as_an_upload_without_credentials() -> None:
    original = build_lote("sp_sadt", 3, itens_por_guia=2, numero_lote="4321")
    element = ws.lote_ws(original, "odontoarte-ws", "segredo")
    content = lote_guias.rewrap(
        element.find("ans:cabecalho", ws.A), element.find("ans:loteGuias", ws.A)
    )
    assert content.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    assert erros_de_schema(content) == []
    root = etree.fromstring(content)
    assert root.findtext("ans:epilogo/ans:hash", namespaces=ws.A) == epilogo_hash(root)
    assert b"loginSenhaPrestador" not in content and b"senhaPrestador" not in content
    # The same guides and header as the file the clinic would have uploaded.
    before = etree.fromstring(original)
    assert root.findtext(".//ans:tipoTransacao", namespaces=ws.A) == "ENVIO_LOTE_GUIAS"
    assert root.find("ans:epilogo/ans:hash", ws.A).text == before.findtext(
        "ans:epilogo/ans:hash", namespaces=ws.A
    )
    # The request element the door checked is untouched (its hash still holds).
    assert element.findtext("ans:hash", namespaces=ws.A) == epilogo_hash(element)


def critica(codigo: str, guia: str, mensagem: str, **kw: object) -> dict[str, object]:
    return {"codigo": codigo, "numero_guia": guia, "mensagem": mensagem, **kw}


def test_a_refusal_names_one_code_the_count_and_where_the_full_list_is() -> None:
    critiques = [
        critica("9999", "1", "código fora do dm_tipoGlosa"),
        critica("1001", "1", "carteira 123 inexistente no cadastro"),
        critica("1308", "2", "guia já apresentada no arquivo abc"),
    ]
    codigo, texto = lote_guias.mensagem_erro("f1le", critiques)
    assert codigo == "1001"  # the first one the message can carry
    assert texto.startswith("Lote recusado com 3 crítica(s).")
    assert "arquivo f1le" in texto and "/api/v1/files/f1le/criticas" in texto
    assert "[1308] guia 2: guia já apresentada" in texto
    many = [critica("1001", str(i), "carteira inexistente " + "x" * 40) for i in range(50)]
    codigo, texto = lote_guias.mensagem_erro("f2", many)
    assert codigo == "1001" and len(texto) == 500 and texto.endswith("…")
    assert "50 crítica(s)" in texto
    assert lote_guias.mensagem_erro("f3", [critica("XX", "", "?")])[0] == "5001"


def test_a_call_is_the_same_call_only_with_the_same_provider_sequence_lote_and_hash() -> None:
    key = lote_guias.call_key("07906129000102", "15", "4321", "ABC")
    assert key == lote_guias.call_key("07906129000102", "15", "4321", "abc")
    for other in (
        ("11222333000181", "15", "4321", "abc"),
        ("07906129000102", "16", "4321", "abc"),
        ("07906129000102", "15", "4322", "abc"),
        ("07906129000102", "15", "4321", "abd"),
    ):
        assert lote_guias.call_key(*other) != key
