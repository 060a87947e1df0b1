"""How the portal writes values for a Brazilian clerk, names downloads and fields, and
reads a file's current values without trusting it."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from tissflow_gateway.core import seg
from tissflow_gateway.files import download_name
from tissflow_gateway.portal import datahora, moeda
from tissflow_gateway.xmlvalues import field_label, values_at


@pytest.mark.parametrize(
    ("valor", "texto"),
    [
        ("1234.56", "R$ 1.234,56"),
        (1234567.8, "R$ 1.234.567,80"),
        ("0", "R$ 0,00"),
        ("-15.5", "R$ -15,50"),
        (None, "—"),
        ("", "—"),
        ("abc", "abc"),
    ],
)
def test_money_is_written_as_reais(valor: object, texto: str) -> None:
    assert moeda(valor) == texto


def test_instants_are_shown_in_sao_paulo_time() -> None:
    assert datahora(datetime(2026, 3, 2, 2, 30, tzinfo=UTC)) == "01/03/2026 23:30"
    assert datahora("2026-03-02T02:30:15Z", with_seconds=True) == "01/03/2026 23:30:15"
    assert datahora(datetime(2026, 3, 2, 2, 30)) == "01/03/2026 23:30"  # stored naive UTC
    assert datahora(None) == "—"


@pytest.mark.parametrize(
    ("nome", "revisao", "baixado"),
    [
        ("lote.xml", 1, "lote.xml"),
        ("lote.xml", 3, "lote.corrigido-r3.xml"),
        ("LOTE.XML", 2, "LOTE.corrigido-r2.xml"),
        ("lote", 2, "lote.corrigido-r2.xml"),
    ],
)
def test_a_corrected_revision_downloads_under_a_name_of_its_own(
    nome: str, revisao: int, baixado: str
) -> None:
    assert download_name(nome, revisao) == baixado


@pytest.mark.parametrize("valor", ["../admin", "a?x=1", "a#b", "a/b", "%2e%2e"])
def test_an_id_from_the_request_stays_one_path_segment(valor: str) -> None:
    escaped = seg(valor)
    assert not set(escaped) & set("/?#")
    assert unquote(escaped) == valor


@pytest.mark.parametrize(
    ("xpath", "nome"),
    [
        (
            "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ",
            "CNPJ do prestador (cabeçalho)",
        ),
        (
            "/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS/guiaSP-SADT[3]"
            "/dadosExecutante/contratadoExecutante/cnpjContratado",
            "CNPJ do contratado (executante)",
        ),
        ("/a/b/numeroCarteira[2]", "Número da carteira"),
        ("/a/b/campoDesconhecido", "campoDesconhecido"),
    ],
)
def test_fields_have_names_a_clerk_knows(xpath: str, nome: str) -> None:
    assert field_label(xpath) == nome


XML = (
    b'<?xml version="1.0" encoding="ISO-8859-1"?>'
    b'<ans:mensagemTISS xmlns:ans="http://www.ans.gov.br/padroes/tiss/schemas">'
    b"<ans:cabecalho><ans:origem><ans:CNPJ> 07906129000100 </ans:CNPJ></ans:origem>"
    b"<ans:nome>S\xe3o Paulo</ans:nome></ans:cabecalho>"  # ISO-8859-1
    b"<ans:guia><ans:n>1</ans:n></ans:guia><ans:guia><ans:n>2</ans:n></ans:guia>"
    b"</ans:mensagemTISS>"
)


def test_the_editor_reads_each_field_as_the_file_has_it() -> None:
    assert values_at(
        XML,
        [
            "/mensagemTISS/cabecalho/origem/CNPJ",
            "/mensagemTISS/cabecalho/nome",
            "/mensagemTISS/guia[2]/n",
            "/mensagemTISS/guia[3]/n",  # no third guide
            "/mensagemTISS/cabecalho",  # not a simple field
        ],
    ) == {
        "/mensagemTISS/cabecalho/origem/CNPJ": "07906129000100",
        "/mensagemTISS/cabecalho/nome": "São Paulo",
        "/mensagemTISS/guia[2]/n": "2",
        "/mensagemTISS/guia[3]/n": None,
        "/mensagemTISS/cabecalho": None,
    }


@pytest.mark.parametrize(
    "hostil",
    [
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x "CNPJ">]><m><c>&x;</c></m>',
        b'<?xml version="1.0"?><!DOCTYPE m SYSTEM "file:///etc/passwd"><m><c>1</c></m>',
        b"<m><c>&indefinida;</c></m>",
        b"<m><c>1</c>",  # not well-formed
    ],
)
def test_a_file_with_a_dtd_entities_or_broken_is_not_read(hostil: bytes) -> None:
    assert values_at(hostil, ["/m/c"]) == {"/m/c": None}
