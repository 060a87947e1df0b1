"""Lotes de pagamento in a real browser: Detalhes do Lote, Fechar with confirmation,
Reabrir, Enviar, Log de Envio, Excluir and Criar lote novamente, Pesquisa de Lotes filters,
and the side menu's pages (Nota Fiscal Pendente, Pagamentos Pendentes, Sincronizar), each
kept as a screenshot on a laptop and at phone width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect
from tissflow_validation.samples import build_lote

from tests.browser.conftest import Shot, login, new_context
from tests.support import Api, fresh_guia

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clerk(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    login(context, "odontoarte", "odontoarte123").close()
    yield context
    context.close()


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    return {}


def _lote(clinica: Api, numero: str, **kwargs: Any) -> dict[str, Any]:
    content = build_lote(numero_lote=numero, numero_guia_inicial=fresh_guia(), **kwargs)
    file_id = clinica.upload(content, filename=f"lote-{numero}.xml").json()["file_id"]
    assert clinica.wait_file(file_id)["status"] == "importado"
    return clinica.lote_do_arquivo(file_id)


def _confirming(page: Page, asked: list[str], accept: bool = True) -> None:
    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)


def test_close_with_confirmation_reopen_send_and_log(
    clerk: BrowserContext, clinica: Api, shot: Shot, phone_shot: Shot, state: dict
) -> None:
    lote = _lote(clinica, "770001", tipo_guia="sp_sadt", n_guias=2)
    numero = lote["numero_lote"]
    page = clerk.new_page()
    page.goto(f"/lotes/{lote['lote_id']}")
    expect(page.get_by_role("heading", name=f"Lote {numero}")).to_be_visible()
    detalhes = page.locator("#detalhes")
    expect(detalhes).to_contain_text("PASA | 331988")
    expect(detalhes).to_contain_text("Upload XML")
    expect(detalhes).to_contain_text("770001")  # Nº do lote no prestador
    expect(page.locator("#situacao-protocolo")).to_have_text("Lote não enviado")
    expect(page.locator("#enviar-ate")).to_contain_text(re.compile(r"\d{2}/\d{2}/\d{4}"))
    expect(page.locator("#aviso-limite")).to_have_text(
        "Este lote já possui 2 guias. Limite máximo permitido por lote é de 100 guias."
    )
    rows = page.locator("#guias tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("td[data-label='Beneficiário']")).to_have_text(
        re.compile(r"^\d+ - \S.+")
    )
    expect(page.get_by_role("button", name="Enviar Lote")).to_have_count(0)  # only from Fechado
    shot(page, "lotes-01-detalhes-aberto")
    phone_shot(page, "lotes-01-detalhes-aberto")

    asked: list[str] = []
    _confirming(page, asked, accept=False)  # "Cancelar": nothing changes
    page.get_by_role("button", name="Fechar Lote").click()
    assert asked == [f"Confirma o fechamento do lote {numero}?"]
    expect(page.locator("#lote-status")).to_have_text("Aberto")

    _confirming(page, asked)
    page.get_by_role("button", name="Fechar Lote").click()
    expect(page.locator("#lote-status")).to_have_text("Fechado (envio pendente)")
    expect(page.locator("#data-fechamento")).to_have_text(re.compile(r"\d{2}/\d{2}/\d{4}"))
    buttons = page.locator("#acoes-lote button")
    expect(buttons).to_have_text(["Excluir Lote", "Reabrir Lote", "Enviar Lote"])
    shot(page, "lotes-02-fechado")

    _confirming(page, asked)
    page.get_by_role("button", name="Reabrir Lote").click()
    expect(page.locator("#lote-status")).to_have_text("Aberto")
    expect(page.locator("#data-fechamento")).to_have_text("—")
    _confirming(page, asked)
    page.get_by_role("button", name="Fechar Lote").click()
    expect(page.locator("#lote-status")).to_have_text("Fechado (envio pendente)")
    _confirming(page, asked)
    page.get_by_role("button", name="Enviar Lote").click()
    assert asked[-1].startswith(f"Confirma o envio do lote {numero} à operadora?")
    expect(page.locator("#lote-status")).to_have_text("Enviado à operadora")
    expect(page.locator("#lote-imutavel")).to_contain_text("entre em contato com a Operadora")
    expect(page.locator("#acoes-lote")).to_have_count(0)
    expect(page.locator("#peg")).to_have_text(re.compile(r"^\d+$"), timeout=30_000)
    expect(page.locator("#situacao-protocolo")).to_have_text("Lote enviado para a Operadora")
    expect(page.locator("#data-envio")).to_have_text(re.compile(r"\d{2}/\d{2}/\d{4}"))
    state["enviado"] = lote
    state["peg"] = page.locator("#peg").inner_text()
    shot(page, "lotes-03-enviado")
    phone_shot(page, "lotes-03-enviado")

    page.get_by_role("link", name="Exibir Log de Envio").click()
    expect(page.get_by_role("heading", name=f"Log de Envio do lote {numero}")).to_be_visible()
    acoes = page.locator("#log-envio tbody td[data-label='Ação']").all_inner_texts()
    # The cancelled confirmation changed nothing and left nothing; the PEG's arrival follows.
    assert acoes[:5] == ["Lote criado", "Fechar lote", "Reabrir lote", "Fechar lote", "Enviar lote"]
    envio = page.locator("#log-envio tbody tr").nth(4)
    expect(envio).to_contain_text("odontoarte")
    expect(envio).to_contain_text("Sucesso")
    expect(envio).to_contain_text("Fechado (envio pendente) → Enviado à operadora")
    shot(page, "lotes-04-log")
    phone_shot(page, "lotes-04-log")
    page.close()


def test_delete_then_create_the_lote_again(
    clerk: BrowserContext, clinica: Api, shot: Shot, phone_shot: Shot
) -> None:
    lote = _lote(clinica, "770002", tipo_guia="consulta")
    page = clerk.new_page()
    page.goto(f"/lotes/{lote['lote_id']}")
    asked: list[str] = []
    _confirming(page, asked)
    page.get_by_role("button", name="Excluir Lote").click()
    assert asked == [
        f"Confirma a exclusão do lote {lote['numero_lote']}? As guias ficam livres para um "
        "novo lote."
    ]
    # Back on the file: it says its lote was deleted, by whom, and offers to make it again.
    expect(page).to_have_url(re.compile(rf"/arquivos/{lote['file_id']}"))
    expect(page.locator("#lote-excluido")).to_contain_text(
        f"O lote {lote['numero_lote']} deste arquivo foi excluído por odontoarte"
    )
    shot(page, "lotes-05-arquivo-lote-excluido")
    phone_shot(page, "lotes-05-arquivo-lote-excluido")
    # The lote's own page says so too, and never waits forever.
    waiting = clerk.new_page()
    waiting.goto(f"/arquivos/{lote['file_id']}/lote")
    expect(waiting.locator("#lote-excluido")).to_contain_text("excluído por odontoarte")
    waiting.close()

    page.get_by_role("button", name="Criar lote novamente").click()
    expect(page.get_by_role("heading", name="Importado com Sucesso")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Detalhes do Lote").click()
    expect(page).to_have_url(re.compile(r"/lotes/[0-9a-f]{32}$"), timeout=30_000)
    novo = page.locator("#numero-lote").inner_text()
    assert int(novo) > int(lote["numero_lote"])
    expect(page.locator("#lote-status")).to_have_text("Aberto")
    shot(page, "lotes-06-lote-recriado")
    page.close()


def test_waiting_for_a_lote_has_an_end(clerk: BrowserContext, shot: Shot) -> None:
    # A file that has no lote yet (invalid: never will) and a give-up page.
    content = build_lote(cnpj="07906129000100", numero_guia_inicial=fresh_guia())
    page = clerk.new_page()
    page.goto("/uploads/novo")
    page.locator("#arquivo").set_input_files(
        {"name": "sem-lote.xml", "mimeType": "application/xml", "buffer": content}
    )
    page.get_by_role("button", name="Incluir").click()
    expect(page).to_have_url(re.compile(r"/arquivos\?"), timeout=30_000)
    file_id = re.search(r"arquivo=([0-9a-f]+)", page.url)
    assert file_id
    page.goto(f"/arquivos/{file_id[1]}/lote")
    expect(page.get_by_text("não gerou lote")).to_be_visible()
    page.close()


def test_pesquisa_de_lotes_filters_and_sorting(
    clerk: BrowserContext, shot: Shot, phone_shot: Shot, state: dict
) -> None:
    enviado = state["enviado"]
    page = clerk.new_page()
    page.goto("/lotes")
    expect(page.get_by_role("heading", name="Pesquisa de Lotes")).to_be_visible()
    hoje = datetime.now(ZoneInfo("America/Sao_Paulo")).date()  # the clerk's today
    expect(page.locator("#f-de")).to_have_value((hoje - timedelta(days=30)).strftime("%d/%m/%Y"))
    expect(page.locator("#f-ate")).to_have_value(hoje.strftime("%d/%m/%Y"))
    headers = page.locator("#lotes thead th")
    expect(headers).to_have_text(
        [
            re.compile("^Data Inclusão"),
            "Nº Lote",
            "Situação Lote",
            "Protocolo",
            "Situação Protocolo",
            "Tipo de Guia",
            "Demonstrativo",
        ]
    )
    shot(page, "lotes-07-pesquisa")
    phone_shot(page, "lotes-07-pesquisa")

    # "Todas" everywhere answers (it used to be a 422).
    page.locator("#f-status").select_option("")
    page.locator("#f-situacao-protocolo").select_option("")
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.locator("#lotes tbody tr").first).not_to_have_class("empty")

    page.locator("#f-numero").fill(enviado["numero_lote"])
    page.get_by_role("button", name="Pesquisar").click()
    rows = page.locator("#lotes tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Enviado à operadora")
    expect(rows.first).to_contain_text(state["peg"])

    page.locator("#f-numero").fill("")
    page.locator("#f-protocolo").fill(state["peg"])
    page.locator("#f-situacao-protocolo").select_option("enviado")
    page.locator("#f-tipo").select_option("sp_sadt")
    page.get_by_role("button", name="Pesquisar").click()
    expect(rows).to_have_count(1)
    page.locator("#f-tipo").select_option("consulta")
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.locator("#lotes tbody tr.empty")).to_be_visible()
    shot(page, "lotes-08-pesquisa-vazia")

    page.goto("/lotes")
    page.get_by_role("link", name="Nº Lote").click()
    expect(page.locator("#lotes thead th[aria-sort]")).to_contain_text("Nº Lote")
    numeros = [
        int(n)
        for n in page.locator("#lotes tbody td[data-label='Nº Lote'] strong").all_inner_texts()
    ]
    assert numeros == sorted(numeros, reverse=True)
    page.get_by_role("link", name=re.compile("^Nº Lote")).click()
    numeros = [
        int(n)
        for n in page.locator("#lotes tbody td[data-label='Nº Lote'] strong").all_inner_texts()
    ]
    assert numeros == sorted(numeros)
    page.close()


def test_side_menu_nf_pagamentos_sincronizar(
    clerk: BrowserContext, clinica: Api, operadora: Api, shot: Shot, phone_shot: Shot, state: dict
) -> None:
    enviado = state["enviado"]
    page = clerk.new_page()
    page.goto("/")
    menu = page.locator("#menu-lotes")
    expect(menu).to_contain_text("Lotes de Pagamento")
    menu.get_by_role("link", name="Nota Fiscal Pendente").click()
    expect(page.get_by_role("heading", name="Nota Fiscal Pendente")).to_be_visible()
    row = page.locator("#nf-pendentes tbody tr", has_text=enviado["numero_lote"])
    expect(row).to_have_count(1)
    shot(page, "lotes-09-nf-pendente")
    phone_shot(page, "lotes-09-nf-pendente")
    row.get_by_role("link", name="Anexar NF").click()
    page.get_by_label("Número da nota fiscal").fill("4522")
    hoje = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    page.get_by_label("Data de emissão").fill(hoje.strftime("%d%m%Y"))
    page.get_by_label("Valor (R$)").fill("1.234,56")
    page.get_by_label(re.compile("Arquivo da nota")).set_input_files(
        {"name": "nf-4522.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%nf\n"}
    )
    shot(page, "lotes-10-nf-form")
    phone_shot(page, "lotes-10-nf-form")
    page.get_by_role("button", name="Anexar nota fiscal").click()
    expect(page.get_by_role("status")).to_have_text("Nota fiscal anexada ao lote.")
    expect(page.locator("#detalhes")).to_contain_text("4522")
    expect(page.locator("#detalhes")).to_contain_text("R$ 1.234,56")

    peg = state["peg"]
    for body in ({"status": 2}, {"status": 5}):
        assert operadora.post(f"/operadora/protocolos/{peg}/status", json=body).status_code == 200
    pagamento = date.today() + timedelta(days=10)
    body = {"status": 3, "data_pagamento": pagamento.isoformat()}
    assert operadora.post(f"/operadora/protocolos/{peg}/status", json=body).status_code == 200
    page.locator("#menu-lotes").get_by_role("link", name="Sincronizar").click()
    expect(page.get_by_role("heading", name="Sincronizar")).to_be_visible()
    page.get_by_role("button", name="Sincronizar agora").click()
    expect(page.locator("#resultado-sincronizar")).to_contain_text("verificado(s)")
    shot(page, "lotes-11-sincronizar")
    phone_shot(page, "lotes-11-sincronizar")

    page.locator("#menu-lotes").get_by_role("link", name="Pagamentos Pendentes").click()
    row = page.locator("#pagamentos-pendentes tbody tr", has_text=enviado["numero_lote"])
    expect(row).to_have_count(1, timeout=20_000)
    expect(row).to_contain_text(pagamento.strftime("%d/%m/%Y"))
    expect(row).to_contain_text("Faturado")
    # Released with no glosa reported: the expected value is what was informed.
    informado = f"R$ {enviado['valor_total'].replace('.', ',')}"
    expect(row.locator("td[data-label='Valor previsto']")).to_have_text(informado)
    shot(page, "lotes-12-pagamentos-pendentes")
    phone_shot(page, "lotes-12-pagamentos-pendentes")

    page.goto(f"/lotes/{enviado['lote_id']}")
    expect(page.locator("#situacao-protocolo")).to_have_text("Faturado")
    expect(page.locator("#data-pagamento")).to_have_text(pagamento.strftime("%d/%m/%Y"))
    expect(page.get_by_role("link", name="Gerar Demonstrativo")).to_be_visible()
    shot(page, "lotes-13-faturado")
    phone_shot(page, "lotes-13-faturado")
    page.close()


def test_operator_sets_the_billing_calendar(
    browser: Browser, portal_url: str, shot: Shot, phone_shot: Shot
) -> None:
    context = new_context(browser, portal_url)
    try:
        page = login(context, "operadora", "operadora123")
        page.get_by_role("link", name="Calendário e NF").click()
        expect(
            page.get_by_role("heading", name=re.compile("Calendário de faturamento"))
        ).to_be_visible()
        page.get_by_label(re.compile("Dia limite de envio")).fill("20")
        page.get_by_role("button", name="Salvar").click()
        expect(page.get_by_role("status")).to_have_text("Configuração salva.")
        expect(page.get_by_text("Alterado por operadora")).to_be_visible()
        shot(page, "lotes-14-operadora-calendario")
        phone_shot(page, "lotes-14-operadora-calendario")
    finally:
        context.close()
