"""Use cases of the protocol against the in-memory repository: one PEG per lote under
redelivery, the receipt and the situation as schema-valid TISS XML with a correct hash,
every transition allowed or refused (and a refusal changes nothing), one event per change
with the analysis and the protocol date, messages and unread counts on both sides, and
the Capa do Lote PDF with every field of the cover (read back with pdftotext; the page
kept as a PNG under test-artifacts/)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from tissflow_contracts import (
    AnaliseGuia,
    AnaliseItem,
    DadosBancarios,
    DebitoCredito,
    GlosaAnalise,
    GuiaLote,
    ItemGuia,
    LoteSent,
    Prestador,
)
from tissflow_protocol.adapters import capa_pdf
from tissflow_protocol.adapters.memory import MemoryProtocolos
from tissflow_protocol.bootstrap import descreve_glosa
from tissflow_protocol.domain.errors import (
    AnaliseInvalida,
    Conflict,
    MensagemInvalida,
    TransitionRefused,
)
from tissflow_protocol.service_layer import use_cases as uc
from tissflow_protocol.service_layer.ports import Deps, Operadora
from tissflow_runtime.outbox import outbox_entry
from tissflow_tiss import epilogo_hash, erros_de_schema

D = Decimal
OPERADORA = Operadora("331988", "PASA", "PASA - PLANO DE ASSISTENCIA", "39419809000198")
NOW = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def deps() -> Deps:
    def event(payload: Any, key: str, cid: str) -> dict[str, Any]:
        return outbox_entry(payload, key=key, correlation_id=cid, producer="protocol")

    return Deps(MemoryProtocolos(), event, OPERADORA, descreve_glosa, clock=lambda: NOW)


def lote_sent(lote_id: str = "L1", tipo: str = "sp_sadt") -> LoteSent:
    return LoteSent(
        lote_id=lote_id,
        provider_id="07906129000102",
        registro_ans="331988",
        numero_lote="1002270",
        numero_lote_prestador="900777",
        canal="upload_xml",
        file_id="F1",
        tipo_guia=tipo,
        quantidade_guias=2,
        valor_total=D("150.00"),
        sent_by="odontoarte",
        sent_at=NOW,
        versao_tiss="4.03.00",
        prestador=Prestador(provider_id="07906129000102", nome="ODONTO ARTE LTDA"),
        guias=[
            GuiaLote(
                numero_guia_prestador="7001",
                numero_carteira="0009002501230005",
                data_atendimento=date(2026, 11, 20),
                valor_informado=D("100.00"),
                itens=[
                    ItemGuia(
                        sequencial_item=1, codigo_procedimento="81000065", valor_total=D("60")
                    ),
                    ItemGuia(
                        sequencial_item=2, codigo_procedimento="81000073", valor_total=D("40")
                    ),
                ],
            ),
            GuiaLote(
                numero_guia_prestador="7002",
                numero_carteira="0009002501230006",
                valor_informado=D("50.00"),
            ),
        ],
    )


def receive(d: Deps, lote_id: str = "L1", tipo: str = "sp_sadt") -> dict[str, Any]:
    return asyncio.run(uc.receive_lote(d, lote_sent(lote_id, tipo), uuid.uuid4().hex, "cid"))


def events(d: Deps) -> list[dict[str, Any]]:
    return [json.loads(e["data"])["payload"] for e in d.repo.outbox]  # type: ignore[attr-defined]


def assert_valid_tiss(xml: bytes) -> etree._Element:
    assert erros_de_schema(xml) == []
    root = etree.fromstring(xml)
    ns = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}
    assert root.findtext("ans:epilogo/ans:hash", namespaces=ns) == epilogo_hash(root)
    return root


def test_each_lote_gets_one_increasing_peg_and_redelivery_changes_nothing() -> None:
    d = deps()
    first = receive(d, "L1")
    again = asyncio.run(uc.receive_lote(d, lote_sent("L1"), uuid.uuid4().hex, "cid"))
    second = receive(d, "L2")
    assert again["_id"] == first["_id"] == "2026000001"
    assert second["_id"] == "2026000002"
    assert len(d.repo.docs) == 2  # type: ignore[attr-defined]
    assert [e["status"] for e in events(d)] == [1, 1]
    assert events(d)[0]["data_protocolo"] == "2026-12-01"


@pytest.mark.parametrize("tipo", ["sp_sadt", "odontologia"])
def test_protocolo_recebimento_is_schema_valid_with_a_correct_hash(tipo: str) -> None:
    doc = receive(deps(), tipo=tipo)
    root = assert_valid_tiss(bytes(doc["recebimento_xml"]))
    ns = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}
    assert root.findtext(".//ans:tipoTransacao", namespaces=ns) == "PROTOCOLO_RECEBIMENTO"
    assert root.findtext(".//ans:numeroProtocolo", namespaces=ns) == doc["_id"]
    assert root.findtext(".//ans:valorTotalProtocolo", namespaces=ns) == "150.00"
    assert [e.text for e in root.iterfind(".//ans:numeroGuiaPrestador", ns)] == ["7001", "7002"]


def change(d: Deps, peg: str, status: int, **kw: Any) -> dict[str, Any]:
    return asyncio.run(uc.change_status(d, peg, uc.StatusChange(status=status, by="op", **kw)))


def analise(glosa: str = "6.00") -> list[AnaliseGuia]:
    g = D(glosa)
    return [
        AnaliseGuia(
            numero_guia_prestador="7001",
            valor_processado=D("100.00"),
            valor_liberado=D("100.00") - g,
            valor_glosado=g,
            itens=[
                AnaliseItem(
                    sequencial_item=1,
                    valor_processado=D("60.00"),
                    valor_liberado=D("60.00") - g,
                    valor_glosado=g,
                    glosas=[GlosaAnalise(codigo="1705", valor=g)] if g else [],
                ),
                AnaliseItem(
                    sequencial_item=2, valor_processado=D("40.00"), valor_liberado=D("40.00")
                ),
            ],
        ),
        AnaliseGuia(
            numero_guia_prestador="7002", valor_processado=D("50.00"), valor_liberado=D("50.00")
        ),
    ]


def test_the_main_line_to_pagamento_efetuado_publishes_each_change_with_the_analysis() -> None:
    d = deps()
    peg = receive(d)["_id"]
    change(d, peg, 2)
    change(d, peg, 5, guias=analise())
    change(d, peg, 3, data_pagamento=date(2026, 12, 10))
    final = change(d, peg, 6)
    assert [h["status"] for h in final["historico"]] == [1, 2, 5, 3, 6]
    published = events(d)
    assert [(e["status"], e["status_anterior"]) for e in published] == [
        (1, None),
        (2, 1),
        (5, 2),
        (3, 5),
        (6, 3),
    ]
    last = published[-1]
    assert last["data_pagamento"] == "2026-12-10" and last["data_protocolo"] == "2026-12-01"
    assert (last["valor_liberado"], last["valor_glosado"]) == ("144.00", "6.00")
    item = last["guias"][0]["itens"][0]
    assert item["glosas"][0]["codigo"] == "1705"
    assert item["glosas"][0]["descricao"] == "VALOR APRESENTADO A MAIOR"
    assert [e["tipo"] for e in final["log"]] == [
        "envio",
        "recebimento",
        "situacao",
        "situacao",
        "situacao",
        "situacao",
    ]


ALLOWED = [(1, 2), (2, 5), (5, 3), (3, 6), (1, 5), (2, 8), (8, 2), (1, 9), (2, 4), (5, 10)]
REFUSED = [(5, 2), (3, 5), (2, 6), (1, 6), (6, 3), (9, 2), (3, 8), (2, 3)]
PATHS = {1: [], 2: [2], 5: [2, 5], 3: [2, 5, 3], 6: [2, 5, 3, 6], 8: [2, 8], 9: [9]}


def _at(d: Deps, status: int) -> str:
    peg = receive(d, uuid.uuid4().hex)["_id"]
    for s in PATHS[status]:
        change(d, peg, s, data_pagamento=date(2026, 12, 10) if s == 3 else None)
    return peg


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_allowed_transition(current: int, target: int) -> None:
    d = deps()
    peg = _at(d, current)
    doc = change(d, peg, target, data_pagamento=date(2026, 12, 10) if target == 3 else None)
    assert doc["status"] == target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_refused_transition_is_a_pt_br_409_that_changes_nothing(
    current: int, target: int
) -> None:
    d = deps()
    peg = _at(d, current)
    before = asyncio.run(d.repo.get(peg))
    published = len(events(d))
    with pytest.raises(TransitionRefused) as refused:
        change(d, peg, target, data_pagamento=None)
    # pt-BR, naming the situation refused (or what is missing for it).
    message = refused.value.message
    assert f"{target} - " in message or "data de pagamento" in message, message
    assert asyncio.run(d.repo.get(peg)) == before
    assert len(events(d)) == published


def test_a_repeated_report_changes_nothing_and_another_date_is_a_conflict() -> None:
    d = deps()
    peg = _at(d, 3)
    published = len(events(d))
    change(d, peg, 3, data_pagamento=date(2026, 12, 10))
    assert len(events(d)) == published
    with pytest.raises(Conflict, match="outra data de pagamento"):
        change(d, peg, 3, data_pagamento=date(2026, 12, 20))


def test_debitos_creditos_and_bank_data_come_with_the_payment_and_reach_the_event() -> None:
    d = deps()
    peg = _at(d, 5)
    irrf = DebitoCredito(indicador="debito", tipo="01", descricao="IRRF retido", valor=D("2.25"))
    ajuste = DebitoCredito(indicador="credito", descricao="Ajuste lote anterior", valor=D("5"))
    banco = DadosBancarios(banco="341", agencia="1234", conta="56789-0")
    with pytest.raises(TransitionRefused, match="acompanham o pagamento"):
        change(d, peg, 5, debitos_creditos=[irrf])
    with pytest.raises(AnaliseInvalida, match="superam o valor liberado"):
        demais = irrf.model_copy(update={"valor": D("160.00")})
        change(d, peg, 3, data_pagamento=date(2026, 12, 10), debitos_creditos=[demais])
    assert asyncio.run(d.repo.get(peg))["status"] == 5
    paid = dict(data_pagamento=date(2026, 12, 10), debitos_creditos=[irrf, ajuste])
    doc = change(d, peg, 3, dados_bancarios=banco, **paid)
    assert doc["dados_bancarios"] == {"banco": "341", "agencia": "1234", "conta": "56789-0"}
    faturado = events(d)[-1]
    assert [(x["indicador"], x["tipo"], x["valor"]) for x in faturado["debitos_creditos"]] == [
        ("debito", "01", "2.25"),
        ("credito", "08", "5"),
    ]
    assert faturado["dados_bancarios"]["conta"] == "56789-0"
    # Repeating the report changes nothing; other débitos at the same situation conflict.
    published = len(events(d))
    change(d, peg, 3, dados_bancarios=banco, **paid)
    assert len(events(d)) == published
    with pytest.raises(Conflict, match="outros débitos"):
        change(d, peg, 3, data_pagamento=date(2026, 12, 10), debitos_creditos=[irrf])
    # 6 Pagamento efetuado without them keeps what the payment reported.
    change(d, peg, 6)
    efetuado = events(d)[-1]
    assert efetuado["status"] == 6 and len(efetuado["debitos_creditos"]) == 2
    assert efetuado["dados_bancarios"]["banco"] == "341"


def test_an_unreconciled_report_is_refused_and_changes_nothing() -> None:
    d = deps()
    peg = _at(d, 2)
    bad = analise()
    bad[1] = AnaliseGuia(
        numero_guia_prestador="7002", valor_processado=D("45.00"), valor_liberado=D("45.00")
    )
    with pytest.raises(AnaliseInvalida, match="Guia 7002.*diferença de R\\$ 5,00"):
        change(d, peg, 5, guias=bad)
    doc = asyncio.run(d.repo.get(peg))
    assert doc["status"] == 2 and doc["guias"] == []


def test_the_same_event_twice_is_handled_once() -> None:
    d = deps()
    peg = receive(d)["_id"]
    step = uc.StatusChange(status=2, by="core")
    asyncio.run(uc.change_status(d, peg, step, event_id="E1"))
    asyncio.run(uc.change_status(d, peg, step, event_id="E1"))
    assert [e["status"] for e in events(d)] == [1, 2]


def test_glosar_item_starts_from_the_lote_paid_in_full() -> None:
    d = deps()
    peg = _at(d, 2)
    doc = asyncio.run(
        uc.glosar_item(
            d,
            peg,
            numero_guia="7001",
            sequencial_item=2,
            codigo="1801",
            valor=D("12.50"),
            observacao="Sem cobertura",
            by="analista",
        )
    )
    assert (doc["valor_liberado"], doc["valor_glosado"]) == ("137.50", "12.50")
    glosa = doc["guias"][0]["itens"][1]["glosas"][0]
    assert (glosa["codigo"], glosa["descricao"], glosa["observacao"]) == (
        "1801",
        "PROCEDIMENTO INVÁLIDO",
        "Sem cobertura",
    )
    assert events(d)[-1]["valor_glosado"] == "12.50"


def test_messages_count_unread_on_the_other_side_and_reading_clears_them() -> None:
    d = deps()
    peg = receive(d)["_id"]
    pdf = uc.Anexo("nota.pdf", "application/pdf", b"%PDF-1.4 test")
    asyncio.run(
        uc.post_message(d, peg, papel="prestador", autor="clerk", texto="Olá", anexos=[pdf])
    )
    asyncio.run(uc.post_message(d, peg, papel="prestador", autor="clerk", texto="De novo"))
    assert asyncio.run(d.repo.nao_lidas("operadora", None)) == 2
    assert asyncio.run(d.repo.nao_lidas("prestador", "07906129000102")) == 0
    thread = asyncio.run(uc.read_messages(d, peg, "operadora"))
    assert [m["texto"] for m in thread["mensagens"]] == ["Olá", "De novo"]
    assert thread["mensagens"][0]["anexos"][0]["content_type"] == "application/pdf"
    assert asyncio.run(d.repo.nao_lidas("operadora", None)) == 0
    asyncio.run(uc.post_message(d, peg, papel="operadora", autor="op", texto="Resposta"))
    assert asyncio.run(d.repo.nao_lidas("prestador", "07906129000102")) == 1
    log = asyncio.run(d.repo.get(peg))["log"]
    assert [e["tipo"] for e in log][-3:] == ["mensagem"] * 3


@pytest.mark.parametrize(
    ("anexo", "fragmento"),
    [
        (uc.Anexo("x.exe", "application/octet-stream", b"MZ\x90\x00"), "não é PDF"),
        (uc.Anexo("big.pdf", "application/pdf", b"%PDF" + b"0" * (5 * 1024 * 1024)), "5 MB"),
    ],
)
def test_attachments_must_be_pdf_image_or_xml_up_to_5_mb(anexo: uc.Anexo, fragmento: str) -> None:
    d = deps()
    peg = receive(d)["_id"]
    with pytest.raises(MensagemInvalida, match=fragmento):
        asyncio.run(uc.post_message(d, peg, papel="prestador", autor="c", texto="", anexos=[anexo]))


def test_atualizar_situacao_keeps_request_and_answer_as_valid_tiss_xml() -> None:
    d = deps()
    peg = _at(d, 2)
    change(d, peg, 5, guias=analise())
    consulta = asyncio.run(uc.solicitar_situacao(d, peg, "clerk"))
    assert consulta["status"] == 5 and consulta["etapa"] == "Liberado para Faturamento"
    ns = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}
    pedido = assert_valid_tiss(bytes(d.repo.files[consulta["solicitacao_id"]]["dados"]))  # type: ignore[attr-defined]
    assert pedido.findtext(".//ans:tipoTransacao", namespaces=ns) == "SOLIC_STATUS_PROTOCOLO"
    resposta = assert_valid_tiss(bytes(d.repo.files[consulta["situacao_id"]]["dados"]))  # type: ignore[attr-defined]
    assert resposta.findtext(".//ans:tipoTransacao", namespaces=ns) == "SITUACAO_PROTOCOLO"
    assert resposta.findtext(".//ans:statusProtocolo", namespaces=ns) == "5"
    assert resposta.findtext(".//ans:valorTotalLote/ans:valorGlosa", namespaces=ns) == "6.00"
    assert resposta.findtext(".//ans:glosaGuia//ans:codigoGlosa", namespaces=ns) == "1705"
    assert asyncio.run(d.repo.get(peg))["log"][-1]["tipo"] == "consulta"


def test_capa_do_lote_pdf_has_every_field_of_the_cover(tmp_path: Path) -> None:
    d = deps()
    peg = asyncio.run(uc.receive_lote(d, lote_sent(), uuid.uuid4().hex, "cid"))["_id"]
    asyncio.run(uc.change_status(d, peg, uc.StatusChange(status=2, by="op")))
    asyncio.run(uc.change_status(d, peg, uc.StatusChange(status=5, by="op", guias=analise())))
    doc = asyncio.run(d.repo.get(peg))
    doc["nota_fiscal"] = {"numero": "NF-4512", "emissao": "2026-11-30", "valor": "150.00"}
    impresso = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    pdf = capa_pdf.render_pdf(doc, OPERADORA, impresso)
    path = tmp_path / "capa.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "PASA - PLANO DE ASSISTENCIA",
        "ANS nº 331988",
        "Envio de Lote Para Faturamento",
        f"Protocolo (PEG): {peg}",
        "Lote: 1002270",
        "Envio: 01/12/2026",
        "Tipo da Guia: Cobrança SP/SADT",
        "Origem: Upload XML",
        "Versão: TISS 4.03.00",
        "Valor Informado: R$150,00",
        "Valor Glosado: R$6,00",
        "Valor Liberado: R$144,00",
        "Prestador: ODONTO ARTE LTDA - CNPJ 07.906.129/0001-02",
        "Código na operadora: 07906129000102",
        "Nota Fiscal: Emissão: Valor:",
        "NF-4512 30/11/2026 R$150,00",
        "Guias apresentadas 2",
        "Guias com glosas 1",
        "Itens apresentados 2",
        "Itens com glosas 1",
        "Impresso em: 01/12/2026 14:00",
        "Relação das Guias:",
        "7001",
        "7002",
    ):
        assert expected in flat, f"{expected!r} não está na capa: {flat}"
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(path), str(ARTIFACTS / "capa-do-lote")],
        check=True,
    )
    assert (ARTIFACTS / "capa-do-lote.png").stat().st_size > 10_000
    assert Decimal(doc["valor_glosado"]) == Decimal("6.00")


def test_capa_and_receipt_state_the_configured_operator() -> None:
    """Another operator configured (settings, as the Kubernetes config sets them): the Capa
    and the PROTOCOLO_RECEBIMENTO state it, and nothing of the demo operator is left."""
    from tissflow_protocol.bootstrap import operadora_de
    from tissflow_runtime.settings import ServiceSettings

    conecta = operadora_de(
        ServiceSettings(
            operadora_registro_ans="419991",
            operadora_nome="CONECTA",
            operadora_razao_social="CONECTA SAUDE OPERADORA DE PLANOS S.A.",
            operadora_nome_fantasia="Conecta Saúde",
            operadora_cnpj="11444777000161",
            operadora_endereco="Av. Paulista, 1000 - São Paulo/SP",
        )
    )
    d = deps()
    d.operadora = conecta
    doc = asyncio.run(uc.receive_lote(d, lote_sent(), uuid.uuid4().hex, "cid"))
    root = assert_valid_tiss(bytes(doc["recebimento_xml"]))
    ns = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}
    assert root.findtext(".//ans:origem//ans:registroANS", namespaces=ns) == "419991"
    pdf = capa_pdf.render_pdf(doc, conecta, NOW)
    text = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    flat = " ".join(text.split())
    assert "CONECTA SAUDE OPERADORA DE PLANOS S.A." in flat
    assert "Conecta Saúde · ANS nº 419991 · CNPJ 11.444.777/0001-61" in flat
    assert "Av. Paulista, 1000 - São Paulo/SP" in flat
    assert "PASA" not in flat and "331988" not in flat and "39.419.809" not in flat


def test_capa_route_prints_the_nf_the_gateway_passes() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from tissflow_protocol.entrypoints.routes import router

    d = deps()
    peg = receive(d)["_id"]
    app = FastAPI()
    app.include_router(router(d))
    client = TestClient(app)
    params = {"nf_numero": "NF-99", "nf_emissao": "2026-11-30", "nf_valor": "150.00"}
    pdf = client.get(f"/internal/protocolos/{peg}/capa.pdf", params=params)
    assert pdf.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "NF-99" in " ".join(text.split()) and "30/11/2026" in text
    missing = client.get("/internal/protocolos/2099000001/capa.pdf")
    assert missing.status_code == 404
    assert missing.json()["detail"]["message"] == "Protocolo não encontrado."
