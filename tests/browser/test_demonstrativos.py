"""The Demonstrativos page in a real browser: the clerk picks the operator and a payment
date or a competência and downloads the Demonstrativo de Pagamento (PDF and XML), ticks
protocols and generates their Análise de Conta, and sees "novo" until it opens one."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from lxml import etree
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import Shot, login, new_context
from tests.support import Api, Stack, peg_of, send_lote, wait_for

pytestmark = pytest.mark.browser
NS = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}
# A statement asked for a period is rendered then: give a busy shared machine time.
DOWNLOAD_MS = 120_000


@pytest.fixture(scope="module")
def pegs(stack: Stack, clinica: Api, operadora: Api) -> list[str]:
    """Two protocols analysed (glosa 3,00) and paid on 09/07/2032, made before the browser
    opens (Playwright's loop and `send_lote`'s `asyncio.run` do not mix)."""
    pegs = [peg_of(clinica, send_lote(stack)) for _ in range(2)]
    for peg in pegs:
        for body in (
            {"status": 2},
            {"status": 5, "valor_glosado": "3.00"},
            {"status": 3, "data_pagamento": "2032-07-09"},
        ):
            response = operadora.post(f"/operadora/protocolos/{peg}/status", json=body)
            assert response.status_code == 200, response.text
        wait_for(
            lambda peg=peg: clinica.get(
                "/demonstrativos", params={"peg": peg, "tipo": "pagamento"}
            ).json()["items"],
            timeout=180,
            what=f"o demonstrativo de pagamento do protocolo {peg}",
        )
    return pegs


@pytest.fixture(scope="module")
def clerk(pegs: list[str], browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    yield context
    context.close()


def pdf_text(path: str) -> str:
    raw = subprocess.run(["pdftotext", "-raw", path, "-"], capture_output=True, check=True)
    return re.sub(r"\s+", " ", raw.stdout.decode())


def test_clerk_downloads_payment_and_analysis_statements(
    pegs: list[str], clerk: BrowserContext, shot: Shot
) -> None:
    page = login(clerk, "odontoarte", "odontoarte123")
    page.get_by_role("link", name="Demonstrativos").first.click()
    expect(page.get_by_role("heading", name="Demonstrativo de Pagamento")).to_be_visible()
    expect(page.get_by_label("Operadora*")).to_have_value("331988")
    page.get_by_label("Por Data de Pagamento").check()
    page.get_by_label("Data de Pagamento", exact=True).fill("09/07/2032")
    with page.expect_download(timeout=DOWNLOAD_MS) as baixado:
        page.get_by_role("button", name="Baixar Demonstrativo").click()
    texto = pdf_text(str(baixado.value.path()))
    assert all(peg in texto for peg in pegs)
    assert "Data de Pagamento 09/07/2032" in texto
    assert "4 - CNPJ da Operadora 39.419.809/0001-98" in texto

    page.get_by_label("Por Competência").check()
    page.get_by_label("Competência", exact=True).fill("07/2032")
    with page.expect_download(timeout=DOWNLOAD_MS) as baixado:
        page.get_by_role("button", name="Baixar XML").click()
    doc = etree.parse(str(baixado.value.path()))
    found = [e.text for e in doc.iterfind(".//ans:relacaoProtocolos/ans:numeroProtocolo", NS)]
    assert sorted(found) == sorted(pegs)

    # A date without payments is said on the page, the form kept.
    page.get_by_label("Por Data de Pagamento").check()
    page.get_by_label("Data de Pagamento", exact=True).fill("10/07/2032")
    page.get_by_role("button", name="Baixar Demonstrativo").click()
    expect(page.get_by_role("alert")).to_contain_text("Nenhum protocolo pago no período")
    expect(page.get_by_label("Data de Pagamento", exact=True)).to_have_value("10/07/2032")
    shot(page, "demonstrativos-pagamento")

    # Gerar Demonstrativo: tick the two protocols' análise and download it.
    page.goto("/demonstrativos?tipo=analise")
    for peg in pegs:
        row = page.get_by_role("row").filter(has_text=peg)
        expect(row.get_by_text("novo", exact=True)).to_be_visible()
        page.get_by_label(f"Selecionar o protocolo {peg}").check()
    shot(page, "demonstrativos-analise")
    with page.expect_download(timeout=DOWNLOAD_MS) as baixado:
        page.get_by_role("button", name="Gerar Demonstrativo").click()
    texto = pdf_text(str(baixado.value.path()))
    assert all(f"10 - Número do Protocolo {peg}" in texto for peg in pegs)
    assert "47 - Valor Glosa Geral (R$) 6,00" in texto

    # Opening one clears its "novo".
    row = page.get_by_role("row").filter(has_text=pegs[0])
    with page.expect_download(timeout=DOWNLOAD_MS):
        row.get_by_role("link", name="PDF").click()
    page.reload()
    expect(
        page.get_by_role("row").filter(has_text=pegs[0]).get_by_text("novo", exact=True)
    ).to_have_count(0)
