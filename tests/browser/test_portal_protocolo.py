"""A protocol in two real browsers: the clinic opens its protocol, reads the Capa do Lote,
writes a message with a PDF attached; the operator's staff see it unread, move the
protocol to Em análise, glose an item with a table-38 code and answer; the clinic's page,
never reloaded, shows the unread badge, the answer and the glosa."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import Shot, login, new_context
from tests.support import Api, Stack, peg_of, send_lote

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clinic(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    login(context, "odontoarte", "odontoarte123").close()
    yield context
    context.close()


@pytest.fixture(scope="module")
def staff(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    login(context, "operadora", "operadora123").close()
    yield context
    context.close()


def test_clinic_and_operator_talk_and_the_glosa_shows_without_reloading(
    stack: Stack, clinica: Api, clinic: BrowserContext, staff: BrowserContext, shot: Shot
) -> None:
    # Playwright's loop is running here: the Kafka publish (asyncio.run) goes on a thread.
    with ThreadPoolExecutor(1) as pool:
        peg = peg_of(clinica, pool.submit(send_lote, stack).result())
    page = clinic.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Protocolos"
    ).click()
    page.get_by_role("link", name=peg).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Protocolo {peg}")
    expect(page.locator("#etapa")).to_have_text("Lote enviado para a Operadora")

    capa = page.get_by_role("link", name="Capa do Lote")
    pdf = page.request.get(capa.get_attribute("href") or "")
    assert pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.body(), capture_output=True, check=True
    ).stdout.decode()
    assert f"Protocolo (PEG): {peg}" in text and "Envio de Lote Para Faturamento" in text

    page.get_by_role("link", name="Troca de Mensagens").first.click()
    page.get_by_label("Texto da mensagem", exact=True).fill("Segue a nota fiscal deste lote.")
    page.get_by_label("Anexos (PDF, imagem ou XML, até 5 MB cada)").set_input_files(
        {"name": "nota-fiscal.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 nf"}
    )
    page.get_by_role("button", name="Enviar mensagem").click()
    expect(page.get_by_role("status")).to_have_text("Mensagem enviada.")
    expect(page.locator("#thread")).to_contain_text("Segue a nota fiscal deste lote.")
    expect(page.locator("#thread")).to_contain_text("nota-fiscal.pdf")
    page.get_by_role("link", name="‹ Voltar ao protocolo").click()
    page.evaluate("window.__semRecarregar = true")
    shot(page, "60-protocolo-prestador")

    op = staff.new_page()
    op.goto("/operadora/protocolos")
    linha = op.locator("tbody tr", has_text=peg)
    expect(linha).to_contain_text("ODONTO ARTE LTDA")
    expect(linha).to_contain_text("1 nova(s)")
    linha.get_by_role("link", name=peg).click()
    expect(op.locator("#thread")).to_contain_text("Segue a nota fiscal deste lote.")
    op.get_by_label(f"Nova situação do PEG {peg}").select_option("2")
    op.get_by_role("button", name="Aplicar").click()
    expect(op.get_by_role("status")).to_have_text("Situação do protocolo atualizada.")
    item = op.locator("tr.item-row", has_text="40301630")
    item.get_by_text("Glosar item 1").click()
    op.get_by_label("Código de glosa (tabela 38) da guia 7001 item 1").fill(
        "1705 - VALOR APRESENTADO A MAIOR"
    )
    op.get_by_label("Valor glosado da guia 7001 item 1").fill("6,00")
    op.get_by_label("Motivo da glosa da guia 7001 item 1").fill("Acima da tabela acordada")
    item.get_by_role("button", name="Glosar").click()
    expect(op.get_by_role("status")).to_have_text("Glosa registrada.")
    expect(op.locator("#guias")).to_contain_text("1705 – VALOR APRESENTADO A MAIOR")
    op.get_by_label("Texto da mensagem", exact=True).fill(
        "Recebemos a nota; o item 1 foi glosado (1705)."
    )
    op.get_by_role("button", name="Enviar mensagem").click()
    expect(op.get_by_role("status")).to_have_text("Mensagem enviada.")
    shot(op, "61-protocolo-operadora")

    # The clinic's page was not reloaded: the badge, the answer and the glosa came by polling.
    expect(page.locator("nav.menu [data-unread]")).to_have_text("1", timeout=20_000)
    expect(page.locator("#ultima-mensagem")).to_have_text(
        "Recebemos a nota; o item 1 foi glosado (1705).", timeout=20_000
    )
    expect(page.locator("#guias")).to_contain_text("1705 – VALOR APRESENTADO A MAIOR")
    expect(page.locator("#guias")).to_contain_text("Acima da tabela acordada")
    expect(page.locator("#valor-glosado")).to_contain_text("6,00")
    expect(page.locator("#etapa")).to_have_text("Em análise")
    assert page.evaluate("window.__semRecarregar === true")
    shot(page, "62-protocolo-prestador-glosa")
    page.get_by_role("link", name=re.compile("Troca de Mensagens")).first.click()
    expect(page.locator("#thread")).to_contain_text("o item 1 foi glosado")
    expect(page.locator("nav.menu [data-unread]")).to_be_hidden(timeout=10_000)
