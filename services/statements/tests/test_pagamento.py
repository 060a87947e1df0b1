"""Demonstrativo de Pagamento by payment date and by competência: exactly the provider's
protocols paid then, per protocol informado/processado/glosado/liberado, débitos and
créditos, gross and net, bank data; following the protocol's latest situation."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree
from tissflow_contracts import DadosBancarios, DebitoCredito
from tissflow_demo import statement_samples as samples
from tissflow_statements.domain.errors import NadaPago, PedidoInvalido
from tissflow_statements.service_layer import build, projection
from tissflow_statements.service_layer.ports import Dependencias
from tissflow_tiss import erros_de_schema, leaf_text

OUTRO = "11222333000181"


def quando(dia: int, mes: int = 12) -> datetime:
    return datetime(2026, mes, dia, 12, 0, tzinfo=UTC)


async def protocolo(
    deps: Dependencias,
    n: int,
    situacoes: list[tuple[int, datetime, dict]],
    *,
    provider_id: str = samples.ODONTO_ARTE,
    n_guias: int = 2,
) -> str:
    peg = f"20260000{n:04d}"
    sent = samples.lote_sent(
        f"L{n}", provider_id=provider_id, n_guias=n_guias, n_itens=2, numero_lote=f"9{n:05d}"
    )
    await projection.lote_sent(deps, samples.envelope(sent, n * 100))
    for i, (situacao, at, extra) in enumerate(situacoes, start=1):
        event = samples.status(peg, sent, situacao, at, **extra)
        await projection.status_changed(deps, samples.envelope(event, n * 100 + i))
    return peg


def analisado(dia: int = 1) -> tuple[int, datetime, dict]:
    return (5, quando(dia, 11), {"valor_glosado": Decimal("4.00")})


def faturado(dia: int, mes: int = 12, **extra: object) -> tuple[int, datetime, dict]:
    return (
        3,
        quando(1, mes) if mes != 12 else quando(1),
        {"data_pagamento": date(2026 if mes != 1 else 2027, mes, dia), **extra},
    )


@pytest.fixture
async def carteira(deps: Dependencias) -> dict[str, str]:
    """Protocols of ODONTO ARTE paid on 10/12 (two), 22/12 and 05/01/2027, one only
    analysed, and another provider's paid on 10/12."""
    debitos = [
        DebitoCredito(
            indicador="debito", tipo="01", descricao="IRRF retido", valor=Decimal("1.50")
        ),
        DebitoCredito(
            indicador="credito", tipo="08", descricao="Ajuste lote anterior", valor=Decimal("5.00")
        ),
    ]
    banco = DadosBancarios(banco="341", agencia="1234", conta="56789-0")
    return {
        "p1": await protocolo(deps, 1, [analisado(), faturado(10)]),
        "p2": await protocolo(
            deps,
            2,
            [
                analisado(),
                faturado(10),
                (
                    6,
                    quando(11),
                    {
                        "data_pagamento": date(2026, 12, 10),
                        "debitos_creditos": debitos,
                        "dados_bancarios": banco,
                    },
                ),
            ],
        ),
        "p3": await protocolo(deps, 3, [analisado(), faturado(22)]),
        "p4": await protocolo(
            deps, 4, [analisado(), (3, quando(20), {"data_pagamento": date(2027, 1, 5)})]
        ),
        "p5": await protocolo(deps, 5, [analisado()]),
        "p6": await protocolo(deps, 6, [analisado(), faturado(10)], provider_id=OUTRO),
    }


def valid(xml: bytes) -> None:
    assert erros_de_schema(xml) == []
    root = etree.fromstring(xml)
    assert (
        root.findtext(".//{*}epilogo/{*}hash")
        == hashlib.md5(leaf_text(root).encode("iso-8859-1")).hexdigest()
    )


async def test_by_payment_date_lists_exactly_the_protocols_paid_that_day(
    deps: Dependencias, carteira: dict[str, str], ler
) -> None:
    documento = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(date(2026, 12, 10), None)
    )
    xml = build.render(deps, documento, "xml")
    valid(xml)
    assert ler.xml_all(xml, ".//ans:relacaoProtocolos/ans:numeroProtocolo") == [
        carteira["p1"],
        carteira["p2"],
    ]
    assert ler.xml_all(xml, ".//ans:dataPagamento") == ["2026-12-10"]
    # Per protocol: 2 guides x 2 items x 100,00 = 400,00 informed, 4,00 glosed.
    assert ler.xml_all(xml, ".//ans:relacaoProtocolos/ans:valorInformado") == ["400.00"] * 2
    assert ler.xml_all(xml, ".//ans:relacaoProtocolos/ans:valorProcessado") == ["400.00"] * 2
    assert ler.xml_all(xml, ".//ans:relacaoProtocolos/ans:valorGlosa") == ["4.00"] * 2
    assert ler.xml_all(xml, ".//ans:relacaoProtocolos/ans:valorLiberado") == ["396.00"] * 2
    assert ler.xml_all(xml, ".//ans:guiasDoLote/ans:valorLiberadoGuia") == ["198.00"] * 4
    assert ler.xml_one(xml, ".//ans:totaLiberadoPorData") == "792.00"
    assert ler.xml_all(xml, ".//ans:debitosCreditos/ans:indicador") == ["1", "2"]
    assert ler.xml_all(xml, ".//ans:debitosCreditos/ans:valorDbCr") == ["1.50", "5.00"]
    assert ler.xml_one(xml, ".//ans:totalDebitosPorData") == "1.50"
    assert ler.xml_one(xml, ".//ans:totalCreditosPorData") == "5.00"
    assert ler.xml_one(xml, ".//ans:liquidoPorData") == "795.50"
    assert ler.xml_one(xml, ".//ans:valorLiberadoBruto") == "792.00"
    assert ler.xml_one(xml, ".//ans:valorLiberadoDemonstrativo") == "795.50"
    assert ler.xml_one(xml, ".//ans:dadosPagamento/ans:banco") == "341"
    assert ler.xml_one(xml, ".//ans:cabecalhoDemonstrativo/ans:numeroCNPJ") == "39419809000198"

    pdf = build.render(deps, documento, "pdf")
    ler.save_pngs(pdf, "pagamento-por-data")
    texto = ler.pdf_text(pdf)
    for outro in ("p3", "p4", "p5", "p6"):
        assert carteira[outro] not in texto
    assert "Data de Pagamento 10/12/2026" in texto
    assert "Banco 341 Agência 1234 Conta 56789-0" in texto
    # Per protocol: informado, processado, glosado, liberado (bruto), débitos, créditos, líquido.
    assert (
        f"{carteira['p1']} 20/11/2026 900001 3 - Liberado para pagamento "
        "R$ 400,00 R$ 400,00 R$ 4,00 R$ 396,00 R$ 0,00 R$ 0,00 R$ 396,00" in texto
    )
    assert (
        f"{carteira['p2']} 20/11/2026 900002 6 - Pagamento efetuado "
        "R$ 400,00 R$ 400,00 R$ 4,00 R$ 396,00 -R$ 1,50 R$ 5,00 R$ 399,50" in texto
    )
    assert "Guias: 7001 (processado R$ 200,00, glosa R$ 2,00, liberado R$ 198,00); 7002" in texto
    assert "Débito (IRRF): IRRF retido -R$ 1,50" in texto
    assert "Crédito (Ajuste de pagamento anterior): Ajuste lote anterior R$ 5,00" in texto
    assert "Total de Débitos -R$ 1,50" in texto
    assert "Valor Liberado (bruto) R$ 792,00" in texto
    assert "Valor Líquido R$ 795,50" in texto
    assert "4 - CNPJ da Operadora 39.419.809/0001-98" in texto


async def test_by_competencia_lists_every_payment_date_of_the_month(
    deps: Dependencias, carteira: dict[str, str], ler
) -> None:
    documento = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(None, "2026-12")
    )
    xml = build.render(deps, documento, "xml")
    valid(xml)
    assert ler.xml_all(xml, ".//ans:dataPagamento") == ["2026-12-10", "2026-12-22"]
    assert ler.xml_all(xml, ".//ans:relacaoProtocolos/ans:numeroProtocolo") == [
        carteira["p1"],
        carteira["p2"],
        carteira["p3"],
    ]
    assert ler.xml_all(xml, ".//ans:liquidoPorData") == ["795.50", "396.00"]
    assert ler.xml_one(xml, ".//ans:valorInformadoBruto") == "1200.00"
    assert ler.xml_one(xml, ".//ans:valorLiberadoDemonstrativo") == "1191.50"
    texto = ler.pdf_text(build.render(deps, documento, "pdf"))
    assert "Por Competência Competência 12/2026" in texto
    assert "Pagamento em 10/12/2026" in texto and "Pagamento em 22/12/2026" in texto
    assert carteira["p4"] not in texto and carteira["p6"] not in texto
    assert "Valor Informado R$ 1.200,00" in texto
    janeiro = await build.pagamento_de(deps, samples.ODONTO_ARTE, build.periodo_de(None, "01/2027"))
    assert [c.peg for c in janeiro.contas] == [carteira["p4"]]


async def test_the_statement_follows_the_latest_situation(
    deps: Dependencias, carteira: dict[str, str], ler
) -> None:
    """Pagamento efetuado (6) on another date: the statement moves with it, and the
    per-protocol statement is new again with a fresh statement.ready."""
    antes = len(deps.statements.published)  # type: ignore[attr-defined]
    sent = samples.lote_sent("L3", n_guias=2, n_itens=2, numero_lote="900003")
    pago = samples.status(carteira["p3"], sent, 6, quando(29), data_pagamento=date(2026, 12, 28))
    await projection.status_changed(deps, samples.envelope(pago, 399))
    with pytest.raises(NadaPago, match="22/12/2026"):
        await build.pagamento_de(
            deps, samples.ODONTO_ARTE, build.periodo_de(date(2026, 12, 22), None)
        )
    documento = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(date(2026, 12, 28), None)
    )
    texto = ler.pdf_text(build.render(deps, documento, "pdf"))
    assert f"{carteira['p3']} 20/11/2026 900003 6 - Pagamento efetuado" in texto
    record = await deps.statements.get(f"pagamento-{carteira['p3']}")
    assert record is not None
    assert record["data_pagamento"] == "2026-12-28" and record["situacao"] == 6
    assert record["aberto_em"] is None
    novos = deps.statements.published[antes:]  # type: ignore[attr-defined]
    assert [e["payload"]["statement_id"] for e in novos] == [f"pagamento-{carteira['p3']}"]
    xml = build.render(deps, await build.do_indice(deps, f"pagamento-{carteira['p3']}"), "xml")
    valid(xml)
    assert ler.xml_all(xml, ".//ans:dataPagamento") == ["2026-12-28"]


async def test_a_request_names_a_date_or_a_competencia(deps: Dependencias) -> None:
    for data, competencia in ((None, None), (date(2026, 12, 10), "2026-12")):
        with pytest.raises(PedidoInvalido, match="uma das duas"):
            build.periodo_de(data, competencia)
    for errada in ("2026-13", "dez/2026", "12-2026x"):
        with pytest.raises(PedidoInvalido, match="Competência inválida"):
            build.periodo_de(None, errada)
    with pytest.raises(NadaPago):
        await build.pagamento_de(
            deps, samples.ODONTO_ARTE, build.periodo_de(date(2026, 12, 10), None)
        )


async def test_a_recurso_accepted_is_credited_in_the_next_payment(
    deps: Dependencias, carteira: dict[str, str], ler
) -> None:
    import uuid

    from tissflow_contracts import RecursoAnswered, new_envelope
    from tissflow_contracts.events import RespostaItemRecurso

    def resposta(n: int, dia: int, acatado: str) -> RecursoAnswered:
        return RecursoAnswered(
            recurso_id=f"R{n}",
            provider_id=samples.ODONTO_ARTE,
            peg=carteira["p5"],
            lote_id="L5",
            numero_guia_prestador="7001",
            numero_protocolo_recurso=f"RG{n}",
            itens=[
                RespostaItemRecurso(
                    linha_id="7001:1",
                    sequencial_item=1,
                    codigo_glosa="1705",
                    valor_recursado=Decimal("20.00"),
                    acatado=acatado != "0",
                    valor_acatado=Decimal(acatado),
                )
            ],
            valor_total_recursado=Decimal("20.00"),
            valor_total_acatado=Decimal(acatado),
            answered_by="operadora",
            answered_at=quando(dia),
        )

    for n, (dia, acatado) in enumerate(((5, "12.30"), (6, "0"), (23, "7.00"))):
        env = new_envelope(
            resposta(n, dia, acatado),
            correlation_id="c",
            producer="recursos",
            key=f"R{n}",
            event_id=uuid.UUID(int=900 + n),
        )
        for _ in range(2):  # redelivered: credited once
            await projection.recurso_answered(deps, env)

    dia10 = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(date(2026, 12, 10), None)
    )
    xml = build.render(deps, dia10, "xml")
    valid(xml)
    assert ler.xml_all(xml, ".//ans:debitosCreditos/ans:indicador") == ["1", "2", "2"]
    assert ler.xml_all(xml, ".//ans:debitosCreditos/ans:valorDbCr") == ["1.50", "5.00", "12.30"]
    assert ler.xml_one(xml, ".//ans:totalCreditosPorData") == "17.30"
    assert ler.xml_one(xml, ".//ans:liquidoPorData") == "807.80"
    texto = ler.pdf_text(build.render(deps, dia10, "pdf"))
    assert "Crédito (recurso de glosa acatado em 05/12/2026): protocolo do recurso RG0" in texto
    assert "R$ 12,30" in texto and "Valor Líquido R$ 807,80" in texto
    # Answered on the 23rd, after the last payment of December: it waits for the next one.
    dezembro = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(None, "2026-12")
    )
    assert ler.xml_all(build.render(deps, dezembro, "xml"), ".//ans:valorDbCr") == [
        "1.50",
        "5.00",
        "12.30",
    ]
    janeiro = await build.pagamento_de(deps, samples.ODONTO_ARTE, build.periodo_de(None, "2027-01"))
    assert ler.xml_all(build.render(deps, janeiro, "xml"), ".//ans:valorDbCr") == ["7.00"]


def test_a_credit_names_the_guide_or_the_protocol_glosa_it_recovered() -> None:
    from datetime import date

    from tissflow_statements.domain.documentos import CreditoRecurso

    def credito(guia: str) -> str:
        return CreditoRecurso(
            "R1", "2026000001", guia, "RG7", Decimal("2.00"), date(2026, 12, 1)
        ).credito.descricao

    assert credito("7001") == "Recurso RG7 guia 7001"
    assert credito("") == "Recurso RG7 glosa do protocolo"


async def test_a_long_payment_statement_breaks_pages_between_protocols(
    deps: Dependencias, ler
) -> None:
    """60 protocols paid on one date: several A4 pages, each numbered, each continuing with
    the column header and then a protocol's own row (never its guides line or the day's
    total alone under a repeated header)."""
    pegs = [await protocolo(deps, 100 + n, [analisado(), faturado(15)]) for n in range(60)]
    documento = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(date(2026, 12, 15), None)
    )
    pdf = build.render(deps, documento, "pdf")
    paginas = ler.pdf_pages(pdf)
    assert paginas >= 2
    assert len(ler.save_pngs(pdf, "pagamento-multipagina")) == paginas
    cabecalho = "Protocolo Data do Protocolo Nº Lote Situação Valor Informado"
    continuadas = 0
    for n in range(1, paginas + 1):
        texto = ler.pdf_text(pdf, page=n)
        assert f"Página {n} de {paginas}" in texto
        if n > 1 and cabecalho in texto:
            seguinte = texto.split(cabecalho, 1)[1].split("Valor Líquido ", 1)[1]
            assert seguinte[:12] in pegs, (n, seguinte[:80])
            continuadas += 1
    assert continuadas >= 1
    texto = ler.pdf_text(pdf)
    assert all(peg in texto for peg in pegs)
    assert "Total em 15/12/2026 R$ 24.000,00 R$ 24.000,00 R$ 240,00 R$ 23.760,00" in texto
