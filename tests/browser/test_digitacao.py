"""A clinic without billing software types an SP/SADT guide in the portal: the carteira and
TUSS look-ups, items added and removed, totals, field messages, a session that expires
mid-typing without losing the guide, and Geração Automática up to an imported lote."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import LAPTOP, PHONE, SHOTS, Shot, login, new_context

pytestmark = pytest.mark.browser

ONTEM = (date.today() - timedelta(days=1)).strftime("%d%m%Y")  # portal.js adds the slashes


@pytest.fixture(scope="module")
def clerk(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    login(context, "odontoarte", "odontoarte123").close()
    yield context
    context.close()


def _preencher_sadt(page: Page, carteira: str) -> None:
    page.locator("#c-numero_carteira").fill(carteira)
    page.locator("#c-numero_carteira").press("Tab")
    page.locator("#c-solicitante_nome_contratado").fill("ODONTO ARTE LTDA")
    page.locator("#c-solicitante_nome").fill("DR. RICARDO ALVES DE SOUZA")
    page.locator("#c-solicitante_conselho").select_option("06")
    page.locator("#c-solicitante_numero_conselho").fill("98765")
    page.locator("#c-solicitante_uf").select_option(label="35 - SP")
    page.locator("#c-solicitante_cbo").select_option("225125")
    page.locator("#c-cnes").fill("2077485")


def _item(page: Page, n: int, busca: str, codigo: str, valor: str) -> None:
    page.locator(f"#i-{n}-data_execucao").fill(ONTEM)
    page.locator(f"#i-{n}-descricao").press_sequentially(busca, delay=20)
    sugestao = page.locator(f"#i-{n}-descricao ~ .dg-sugestoes button", has_text=codigo).first
    expect(sugestao).to_be_visible(timeout=60_000)  # the TUSS index may still be loading
    sugestao.click()
    expect(page.locator(f"#i-{n}-codigo")).to_have_value(codigo)
    page.locator(f"#i-{n}-valor_unitario").fill(valor)


def test_clerk_types_an_sadt_guide_with_look_ups_items_and_totals(
    clerk: BrowserContext, shot: Shot, phone_shot: Shot
) -> None:
    page = clerk.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Digitar Guia"
    ).click()
    page.get_by_role("button", name="SP/SADT").click()
    expect(page.get_by_role("heading", name="Guia de SP/SADT")).to_be_visible()
    _preencher_sadt(page, "00331988000221")
    # The carteira is looked up in the operator's registry: the name comes by itself.
    expect(page.locator("#dg-carteira-status")).to_contain_text(
        "JOÃO CARLOS PEREIRA", timeout=30_000
    )
    expect(page.locator("#c-nome_beneficiario")).to_have_value("JOÃO CARLOS PEREIRA")

    # Procedures by description in TUSS; a second item added, then a third removed.
    _item(page, 0, "hemograma", "40304361", "12,50")
    page.locator("#i-0-quantidade").fill("2")
    expect(page.locator("[data-item-total]").first).to_have_text("R$ 25,00")
    page.get_by_role("button", name="+ Adicionar procedimento").click()
    _item(page, 1, "creatinina", "40301630", "6,80")
    page.get_by_role("button", name="+ Adicionar procedimento").click()
    expect(page.locator("[data-item]")).to_have_count(3)
    page.locator("[data-item]").nth(2).get_by_role("button", name="Remover item").click()
    expect(page.locator("[data-item]")).to_have_count(2)
    expect(page.locator("#dg-total")).to_have_text("R$ 31,80")
    page.locator("#c-cnes").fill("")
    shot(page, "60-digitacao-sadt-preenchida")

    # Saved although incomplete: nothing is lost, and the field says what is missing.
    page.get_by_role("button", name="Salvar guia").click()
    expect(page).to_have_url(re.compile(r"/digitacao/guias/\w+\?ok=salva"))
    expect(page.locator("#dg-alerta")).to_contain_text("1 campo(s) a corrigir")
    expect(page.locator("#c-cnes-erro")).to_have_text("Informe o Código CNES.")
    expect(page.locator("#i-1-codigo")).to_have_value("40301630")
    shot(page, "61-digitacao-sadt-rascunho")
    phone_shot(page, "61-digitacao-sadt-rascunho")

    page.locator("#c-cnes").fill("2077485")
    page.get_by_role("button", name="Salvar guia").click()
    expect(page.get_by_role("status")).to_contain_text("salva e completa")
    expect(page.locator("#dg-situacao")).to_have_text("Completa")
    expect(page.locator("#dg-total")).to_have_text("R$ 31,80")


def test_a_guide_posted_after_the_session_expired_is_saved_after_signing_in(
    browser: Browser, portal_url: str, shot: Shot
) -> None:
    context = new_context(browser, portal_url)
    page = login(context, "odontoarte", "odontoarte123")
    page.goto("/digitacao/guias/nova?tipo=sp_sadt")
    _preencher_sadt(page, "00331988000116")
    _item(page, 0, "hemograma", "40304361", "12,50")
    # The session ends while the clerk types (idle timeout, logout in another tab).
    context.clear_cookies()
    page.get_by_role("button", name="Salvar guia").click()
    expect(page.get_by_role("heading", name="Sua sessão expirou antes de salvar")).to_be_visible()
    expect(page.locator("#c-solicitante_numero_conselho")).to_have_value("98765")
    expect(page.locator("#i-0-codigo")).to_have_value("40304361")
    shot(page, "62-digitacao-sessao-expirada")
    # The page answers a POST: the phone picture is this page at phone width.
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "62-digitacao-sessao-expirada-phone.png"), full_page=True)
    page.set_viewport_size(LAPTOP)
    page.locator("#dg-user").fill("odontoarte")
    page.locator("#dg-pass").fill("odontoarte123")
    page.get_by_role("button", name="Entrar e salvar a guia").click()
    expect(page).to_have_url(re.compile(r"/digitacao/guias/\w+\?ok=salva"))
    expect(page.get_by_role("status")).to_contain_text("salva e completa")
    expect(page.locator("#c-numero_carteira")).to_have_value("00331988000116")
    context.close()


def test_geracao_automatica_makes_the_lote_that_becomes_importado(
    clerk: BrowserContext, shot: Shot, phone_shot: Shot
) -> None:
    page = clerk.new_page()
    page.goto("/digitacao")
    expect(page.locator("#dg-guias")).to_contain_text("JOÃO CARLOS PEREIRA")
    shot(page, "63-digitacao-guias")
    phone_shot(page, "63-digitacao-guias")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Geração Automática"
    ).click()
    expect(page.locator("table")).to_contain_text("SP/SADT")
    page.get_by_role("button", name="Gerar lotes").click()
    resultado = page.locator("#dg-resultado")
    expect(resultado).to_contain_text("1 lote(s) gerado(s)")
    expect(resultado).to_contain_text("SP/SADT · 2 guia(s)")
    shot(page, "64-digitacao-geracao-automatica")
    resultado.get_by_role("link", name="ver validação").click()
    expect(page.locator("#veredito")).to_contain_text("Importado com Sucesso", timeout=60_000)
    page.get_by_role("link", name="Detalhes do Lote").click()
    expect(page.locator("main")).to_contain_text("Digitação")
    shot(page, "65-digitacao-lote-de-pagamento")
    phone_shot(page, "65-digitacao-lote-de-pagamento")


def test_novo_lote_of_odonto_guides_and_the_consulta_form(
    clerk: BrowserContext, shot: Shot, phone_shot: Shot
) -> None:
    page = clerk.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="+ Novo Lote"
    ).click()
    page.get_by_role("button", name="Tratamento Odontológico").click()
    expect(page.get_by_role("heading", name="Lote de Tratamento Odontológico")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Este lote já possui 0 guia(s). Limite máximo permitido por lote é de 100 guias."
    )
    page.get_by_role("main").get_by_role("link", name="Digitar Guia").click()
    expect(
        page.get_by_role("heading", name="Guia de Tratamento Odontológico (GTO)")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("Esta guia entra no lote")
    page.locator("#c-numero_carteira").fill("00331988000337")
    page.locator("#c-plano_beneficiario").fill("ODONTO PLANO BÁSICO")
    page.locator("#c-executante_cro").fill("45678")
    page.locator("#c-executante_uf").select_option("35")
    page.locator("#c-cnes").fill("2077485")
    page.locator("#i-0-data_realizacao").fill(ONTEM)
    page.locator("#i-0-codigo").press_sequentially("81000065", delay=20)
    sugestao = page.locator("#i-0-codigo ~ .dg-sugestoes button", has_text="81000065").first
    expect(sugestao).to_be_visible(timeout=60_000)
    sugestao.click()
    expect(page.locator("#i-0-descricao")).to_have_value(
        re.compile("consulta odontol", re.IGNORECASE)
    )
    page.locator("#i-0-dente").select_option("36")
    page.locator("#i-0-valor_unitario").fill("80,00")
    expect(page.locator("#dg-total")).to_have_text("R$ 80,00")
    shot(page, "66-digitacao-gto")
    page.get_by_role("button", name="Salvar guia").click()
    expect(page.get_by_role("status")).to_contain_text("salva e completa")
    page.get_by_role("link", name="Voltar").click()
    expect(page.locator("#dg-qtd")).to_have_text("1")
    expect(page.get_by_role("button", name="Gerar lote e validar")).to_be_visible()
    shot(page, "67-digitacao-novo-lote")
    phone_shot(page, "67-digitacao-novo-lote")

    page.goto("/digitacao/guias/nova?tipo=consulta")
    expect(page.get_by_role("heading", name="Guia de Consulta")).to_be_visible()
    page.locator("#c-valor_procedimento").fill("150,00")
    expect(page.locator("#dg-total")).to_have_text("R$ 150,00")
    shot(page, "68-digitacao-consulta")
    phone_shot(page, "68-digitacao-consulta")
    page.goto("/digitacao/guias/nova?tipo=honorarios")
    expect(page.get_by_role("heading", name="Guia de Honorários")).to_be_visible()
    shot(page, "69-digitacao-honorarios")


def test_a_page_from_an_earlier_session_keeps_the_typed_guide(
    browser: Browser, portal_url: str
) -> None:
    context = new_context(browser, portal_url)
    page = login(context, "odontoarte", "odontoarte123")
    page.goto("/digitacao/guias/nova?tipo=consulta")
    page.locator("#c-numero_carteira").fill("00331988000442")
    page.locator("#c-executante_numero_conselho").fill("123456")
    # Meanwhile, in another tab, the clerk left and signed in again: a new session.
    other = context.new_page()
    other.goto("/")
    other.get_by_role("button", name="Sair").click()
    other.get_by_label("Usuário").fill("odontoarte")
    other.get_by_label("Senha").fill("odontoarte123")
    other.get_by_role("button", name="Entrar").click()
    expect(other).to_have_url(re.compile(r"/$"))
    page.get_by_role("button", name="Salvar guia").click()
    expect(page.locator("#dg-alerta")).to_contain_text("sessão anterior")
    expect(page.locator("#c-executante_numero_conselho")).to_have_value("123456")
    page.get_by_role("button", name="Salvar guia").click()
    expect(page).to_have_url(re.compile(r"/digitacao/guias/\w+\?ok=salva"))
    expect(page.locator("#c-numero_carteira")).to_have_value("00331988000442")
    context.close()
