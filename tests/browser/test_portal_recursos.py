"""Recurso de glosa in a real browser: the clerk appeals two glossed items of a protocol,
sees the deadline and the character counter, saves the draft, sends; the operator's staff
answer on their page; the clerk sees the answer badge in the menu, the value recovered on
the recurso and on the protocol's page, and the numbers per protocol."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Shot, login, new_context
from tests.e2e.test_recursos import glossed_protocol
from tests.support import Api, Stack, wait_for

# The whole thread (two services' consumers, the operator's page, the protocol) on a shared
# machine, plus the stack's start when this module runs first: more than the default 300 s.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def clerk(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
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


def _card(page: Page, peg: str):
    return page.get_by_role("form", name=f"Glosas do protocolo {peg}")


def test_clerk_appeals_two_items_and_sees_the_value_recovered(
    stack: Stack, clerk: BrowserContext, staff: BrowserContext, clinica: Api, shot: Shot
) -> None:
    # Playwright's sync API runs an event loop here: publish from another thread.
    with ThreadPoolExecutor(1) as pool:
        peg = pool.submit(glossed_protocol, stack, clinica).result()
    wait_for(
        lambda: clinica.get("/recursos/glosas", params={"peg": peg}).json().get("items"),
        timeout=90,
        what=f"as glosas do protocolo {peg}",
    )
    page = clerk.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Recursos de Glosa"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recursos de Glosa")
    card = _card(page, peg)
    # Emitted two days ago, 30 days to appeal: 28 left, the last day shown.
    hoje = datetime.now(ZoneInfo("America/Sao_Paulo")).date()  # the clinic's calendar
    prazo = (hoje - timedelta(days=2) + timedelta(days=30)).strftime("%d/%m/%Y")
    expect(card.locator("[data-prazo]")).to_have_text(f"prazo até {prazo} (28 dias)")
    expect(card).to_contain_text("1705 VALOR APRESENTADO A MAIOR")
    expect(card).to_contain_text("APLICACAO TOPICA DE FLUOR")
    boxes = card.locator("input[name=linhas]")
    expect(boxes).to_have_count(3)
    boxes.nth(0).check()
    boxes.nth(1).check()
    shot(page, "60-recursos-glosas")
    card.get_by_role("button", name="Recorrer itens selecionados").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Recurso de glosa · guia")
    expect(page.locator("[data-prazo]")).to_have_text(f"prazo até {prazo} (28 dias)")
    itens = page.locator("fieldset[data-linha]")
    expect(itens).to_have_count(2)
    primeiro, segundo = itens.nth(0), itens.nth(1)
    primeiro.get_by_label("Valor recursado (R$)").fill("30,00")
    primeiro.get_by_label("Justificativa").fill("Valor cobrado conforme tabela contratada.")
    expect(primeiro.locator("[data-contagem]")).to_have_text("41")
    segundo.get_by_label("Valor recursado (R$)").fill("50,00")
    segundo.get_by_label("Justificativa").fill("Código TUSS vigente na data do atendimento.")
    page.get_by_role("button", name="Salvar rascunho").click()
    expect(page.get_by_role("status")).to_have_text("Rascunho salvo.")
    # The draft is kept: after a reload the values typed are there.
    page.reload()
    expect(page.locator("fieldset[data-linha]").nth(0).get_by_label("Justificativa")).to_have_value(
        "Valor cobrado conforme tabela contratada."
    )
    shot(page, "61-recurso-rascunho")
    page.get_by_role("button", name="Enviar recurso").click()
    expect(page.get_by_role("status")).to_have_text("Recurso enviado à operadora.")
    recurso_url = page.url
    recurso_id = recurso_url.rstrip("/").split("/")[-1].split("?")[0]
    expect(page.get_by_role("link", name="XML do recurso")).to_be_visible()

    # The operator's staff: the recurso waits on their page; they answer it.
    wait_for(
        lambda: clinica.get(f"/recursos/{recurso_id}").json()["situacao"] == "em_analise",
        timeout=90,
        what="a operadora receber o recurso",
    )
    op = staff.new_page()
    op.goto(f"/operadora/recursos/{recurso_id}")
    respostas = op.locator("fieldset[data-linha]")
    expect(respostas).to_have_count(2)
    expect(respostas.nth(0)).to_contain_text("Valor cobrado conforme tabela contratada.")
    expect(respostas.nth(0)).to_contain_text("Glosa original 1705 VALOR APRESENTADO A MAIOR")
    respostas.nth(1).get_by_label("Valor acatado (R$)").fill("20,00")
    respostas.nth(1).get_by_label(re.compile("Justificativa da operadora")).fill(
        "Acatado em parte: valor da tabela."
    )
    shot(op, "62-operadora-recurso")
    op.get_by_role("button", name="Enviar resposta").click()
    expect(op.get_by_role("status")).to_have_text("Resposta enviada ao prestador.")
    op.close()

    wait_for(
        lambda: (
            clinica.get("/recursos", params={"peg": peg}).json()["items"][0]["situacao"]
            == "respondido"
        ),
        timeout=90,
        what="a resposta chegar à clínica",
    )
    page.goto("/lotes")
    # The side menu tells of the new answer on any page, not only on Recursos de Glosa.
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.locator("[data-respostas-novas]")).to_be_visible()
    menu.get_by_role("link", name=re.compile("Recursos de Glosa")).click()
    expect(page.locator("[data-badge]")).to_contain_text("nova")
    linha = page.locator("#recursos tr", has_text=peg)
    expect(linha).to_contain_text("Respondido")
    expect(linha).to_contain_text("R$ 50,00")
    shot(page, "63-recursos-respondido")
    page.goto(recurso_url.split("?")[0])
    expect(page.locator("[data-recuperado]")).to_have_text("R$ 50,00")
    expect(page.locator("[data-resposta]").nth(1)).to_contain_text(
        "Acatado · valor acatado R$ 20,00"
    )
    expect(page.get_by_role("link", name="XML da resposta")).to_be_visible()

    # The money: the protocol's page shows the value recovered apart from its glosa.
    wait_for(
        lambda: clinica.get(f"/protocolos/{peg}").json().get("valor_recuperado") == "50.00",
        timeout=60,
        what="o valor recuperado chegar ao protocolo",
    )
    page.goto(f"/protocolos/{peg}")
    expect(page.locator("#valor-recuperado")).to_contain_text("R$ 50,00")
    shot(page, "64-protocolo-recuperado")
    page.goto(f"/recursos?peg={peg}")
    numeros = page.locator(f"[data-numeros-peg='{peg}']")
    expect(numeros).to_contain_text("R$ 120,00")  # glosa inicial
    expect(numeros).to_contain_text("R$ 50,00")  # recuperado
    expect(numeros).to_contain_text("R$ 70,00")  # glosa final
