"""The recurso's TISS messages validate against the ANS XSD and carry a correct hash."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree
from tissflow_recursos.adapters import tiss_xml
from tissflow_tiss import NS, epilogo_hash, erros_de_schema

QUANDO = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
RECURSO = {
    "_id": "a1b2c3d4e5f60718",
    "provider_id": "07906129000102",
    "registro_ans": "331988",
    "peg": "2026000123",
    "numero_lote": "1001",
    "numero_guia": "9001",
    "numero_guia_recurso": "A1B2C3D4E5F60718",
    "numero_protocolo_recurso": "2026000001",
    "enviado_em": "2026-12-01T14:00:00+00:00",
    "linhas": [
        {
            "linha_id": "9001:1",
            "sequencial_item": 1,
            "data_inicio": "2026-11-03",
            "codigo_tabela": "22",
            "codigo_procedimento": "81000065",
            "descricao": "CONSULTA ODONTOLOGICA INICIAL",
            "codigo_glosa": "1705",
            "valor_glosado": "30.00",
            "valor_recursado": "30.00",
            "justificativa": "Valor conforme tabela contratada; ação de cobrança revisada.",
        },
        {
            "linha_id": "9001:2",
            "sequencial_item": 2,
            "data_inicio": "2026-11-04",
            "codigo_tabela": "22",
            "codigo_procedimento": "84000198",
            "descricao": "APLICAÇÃO TÓPICA DE FLÚOR",
            "codigo_glosa": "1801",
            "valor_glosado": "50.00",
            "valor_recursado": "40.00",
            "justificativa": "Código TUSS vigente na data do atendimento.",
        },
    ],
}


def _leaf(xml: bytes, name: str) -> list[str]:
    return [e.text for e in etree.fromstring(xml).iter(f"{{{NS}}}{name}")]


def _hash_ok(xml: bytes) -> None:
    root = etree.fromstring(xml)
    assert _leaf(xml, "hash") == [epilogo_hash(root)]


def test_recurso_glosa_is_xsd_valid_with_its_hash():
    xml = tiss_xml.recurso_glosa(RECURSO, operadora_nome="PASA", quando=QUANDO)
    assert erros_de_schema(xml) == []
    _hash_ok(xml)
    assert _leaf(xml, "tipoTransacao") == ["RECURSO_GLOSA"]
    assert _leaf(xml, "valorRecursado") == ["30.00", "40.00"]
    assert _leaf(xml, "valorTotalRecursado") == ["70.00"]
    assert _leaf(xml, "numeroGuiaOrigem") == ["9001"]
    assert b"encoding='ISO-8859-1'" in xml.split(b"?>")[0]


def test_a_guide_level_recurso_uses_recurso_guia_completa():
    guia = {
        **RECURSO,
        "linhas": [
            {
                "linha_id": "9002:G1705",
                "sequencial_item": None,
                "codigo_glosa": "1705",
                "valor_glosado": "40.00",
                "valor_recursado": "40.00",
                "justificativa": "Guia cobrada conforme contrato.",
            }
        ],
    }
    xml = tiss_xml.recurso_glosa(guia, operadora_nome="PASA", quando=QUANDO)
    assert erros_de_schema(xml) == []
    assert _leaf(xml, "codGlosaGuia") == ["1705"]
    _hash_ok(xml)


def test_the_answer_is_xsd_valid_with_its_hash():
    respostas = {
        "9001:1": {"acatado": True, "valor_acatado": "30.00", "justificativa": None},
        "9001:2": {"acatado": False, "valor_acatado": "0.00", "justificativa": "Sem cobertura."},
    }
    xml = tiss_xml.resposta_recurso_glosa(RECURSO, respostas, operadora_nome="PASA", quando=QUANDO)
    assert erros_de_schema(xml) == []
    _hash_ok(xml)
    assert _leaf(xml, "tipoTransacao") == ["RESPOSTA_RECURSO_GLOSA"]
    assert _leaf(xml, "valorAcatadado") == ["30.00", "0.00"]
    assert _leaf(xml, "valorTotalAcatado") == ["30.00"]
    assert _leaf(xml, "justificativaOperadora") == ["Sem cobertura."]


def test_status_request_and_its_answer_are_xsd_valid():
    pedido = tiss_xml.solicitacao_status(RECURSO, numero_protocolo="2026000001", quando=QUANDO)
    assert erros_de_schema(pedido) == []
    _hash_ok(pedido)
    recibo = tiss_xml.recibo_status(
        RECURSO,
        situacao="em_analise",
        data_envio=QUANDO.date(),
        data_recebimento=QUANDO.date(),
        data_situacao=QUANDO.date(),
        quando=QUANDO,
    )
    assert erros_de_schema(recibo) == []
    _hash_ok(recibo)
    assert _leaf(recibo, "situacaoProtocolo") == ["2"]


PROTOCOLO = {
    **RECURSO,
    "objeto": "protocolo",
    "numero_guia": "",
    "linhas": [
        {
            "linha_id": "P:1705",
            "sequencial_item": None,
            "codigo_glosa": "1705",
            "valor_glosado": "25.00",
            "valor_recursado": "20.00",
            "justificativa": "Valores do protocolo conforme a tabela contratada.",
        }
    ],
}


def test_a_protocol_level_recurso_uses_recurso_protocolo():
    xml = tiss_xml.recurso_glosa(PROTOCOLO, operadora_nome="PASA", quando=QUANDO)
    assert erros_de_schema(xml) == []
    _hash_ok(xml)
    assert _leaf(xml, "objetoRecurso") == ["1"]
    assert _leaf(xml, "codigoGlosaProtocolo") == ["1705"]
    assert _leaf(xml, "valorTotalRecursado") == ["20.00"]
    assert _leaf(xml, "numeroGuiaOrigem") == []  # no guide: the protocol as a whole


def test_the_answer_to_a_protocol_level_recurso_is_xsd_valid():
    for acatado, valor, sim_nao in ((True, "20.00", "S"), (False, "0.00", "N")):
        resposta = {
            "P:1705": {
                "linha_id": "P:1705",
                "acatado": acatado,
                "valor_acatado": valor,
                "justificativa": None if acatado else "Glosa mantida.",
            }
        }
        xml = tiss_xml.resposta_recurso_glosa(
            PROTOCOLO, resposta, operadora_nome="PASA", quando=QUANDO
        )
        assert erros_de_schema(xml) == []
        _hash_ok(xml)
        assert _leaf(xml, "objetoRecurso") == ["1"]
        assert _leaf(xml, "recursoAcatado") == [sim_nao]
        assert _leaf(xml, "valorTotalAcatado") == [valor]
