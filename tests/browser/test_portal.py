"""The billing clerk's whole path in a real browser: log in, upload, see Importado,
correct a CNPJ critique online, reprocess, open the lote; limits, escaping, isolation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tissflow_demo.samples import build_lote

from tests.browser.conftest import Shot, login, new_context
from tests.support import fresh_guia

CNPJ_ERRADO = "07906129000100"
CNPJ_CERTO = "07906129000102"


@pytest.fixture(scope="module")
def clerk(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    yield context
    context.close()


@pytest.fixture(scope="module")
def state() -> dict[str, str]:
    """What one step leaves for the next (file ids)."""
    return {}


def upload(page: Page, name: str, content: bytes) -> None:
    page.goto("/uploads/novo")
    page.locator("#arquivo").set_input_files(
        {"name": name, "mimeType": "application/xml", "buffer": content}
    )
    expect(page.locator("#dz-file")).to_contain_text(name)
    page.get_by_role("button", name="Incluir").click()


def test_login_and_upload_valid_file(
    clerk: BrowserContext, portal_url: str, shot: Shot, phone_shot: Shot, state: dict
) -> None:
    page = clerk.new_page()
    page.goto("/login")
    expect(page.get_by_role("heading", name="Acesso ao Portal do Prestador")).to_be_visible()
    shot(page, "01-login")
    phone_shot(page, "01-login")
    page.get_by_label("Usuário").fill("odontoarte")
    page.get_by_label("Senha").fill("senha-errada")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("Usuário ou senha inválidos.")
    page.get_by_label("Senha").fill("odontoarte123")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name=re.compile("Olá"))).to_be_visible()
    shot(page, "02-home")
    phone_shot(page, "02-home")

    page.get_by_role("link", name="Novo", exact=True).click()
    expect(page.get_by_text("clique aqui")).to_be_visible()
    expect(page.get_by_text("tamanho máximo de 15 MB")).to_be_visible()
    shot(page, "03-upload")
    phone_shot(page, "03-upload")

    content = build_lote(numero_lote="700101", numero_guia_inicial=fresh_guia())
    upload(page, "lote-700101.xml", content)
    expect(page.locator("#progress")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/arquivos\?aba=importados&arquivo="), timeout=60_000)
    banner = page.locator("#resultado-upload")
    expect(banner).to_contain_text("lote-700101.xml")
    expect(banner).to_contain_text("Importado com Sucesso")
    expect(page.get_by_role("navigation", name="Trilha")).to_have_text(
        re.compile(r"Home\s*›\s*Histórico de Arquivos Enviados")
    )
    row = page.locator("#arquivos tbody tr").first
    expect(row).to_contain_text("lote-700101.xml")
    expect(row).to_contain_text("700101")
    state["valido"] = page.url.rsplit("arquivo=", 1)[1]
    shot(page, "04-historico-importado")
    phone_shot(page, "04-historico-importado")

    # The original revision downloads as the bytes that were sent.
    with page.expect_download() as download:
        row.get_by_role("link", name="Original").click()
    assert open(download.value.path(), "rb").read() == content
    page.close()


def test_correct_cnpj_critique_online(
    clerk: BrowserContext, shot: Shot, phone_shot: Shot, state: dict
) -> None:
    page = clerk.new_page()
    content = build_lote(cnpj=CNPJ_ERRADO, numero_lote="700102", numero_guia_inicial=fresh_guia())
    upload(page, "lote-cnpj-errado.xml", content)
    expect(page).to_have_url(re.compile(r"/arquivos\?aba=invalidos&arquivo="), timeout=60_000)
    expect(page.locator("#resultado-upload")).to_contain_text("Inválido")
    shot(page, "05-historico-invalido")

    page.locator("#resultado-upload").get_by_role("link", name="Corrigir Críticas").click()
    expect(page.get_by_role("heading", name="Corrigir Críticas")).to_be_visible()
    criticas = page.locator("#criticas")
    expect(criticas).to_contain_text("1206")
    expect(criticas).to_contain_text("CPF / CNPJ INVÁLIDO")
    expect(page.get_by_text("Recalcular automaticamente totais de procedimentos")).to_be_visible()
    shot(page, "06-corrigir")
    phone_shot(page, "06-corrigir")

    file_id = page.url.split("/arquivos/", 1)[1].split("/", 1)[0]
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    refused = page.request.post(
        f"/api/v1/files/{file_id}/criticas/ignorar",
        data={
            "codigo": "1206",
            "xpath": "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status == 409 and refused.json()["code"] == "critica_nao_ignoravel"

    # "Salvar" keeps a correction pending; the page shows it saved.
    fields = page.locator("#editor input[data-xpath]")
    assert fields.count() == 3
    fields.first.fill(CNPJ_CERTO)
    page.get_by_role("button", name="Salvar", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Correções salvas")
    expect(page.locator(".field-edit.pendente")).to_have_count(1)
    expect(fields.first).to_have_value(CNPJ_CERTO)

    for i in range(fields.count()):
        field = fields.nth(i)
        if field.input_value() == CNPJ_ERRADO:
            field.fill(CNPJ_CERTO)
    shot(page, "07-corrigir-preenchido")
    page.get_by_role("button", name="Salvar e Reprocessar").click()

    verdict = page.locator("#veredito")
    expect(verdict).to_contain_text("Importado com Sucesso", timeout=60_000)
    expect(page.get_by_role("heading", name="Revisões")).to_be_visible()
    expect(page.get_by_text("Correção online")).to_be_visible()
    shot(page, "08-reprocessado-importado")
    phone_shot(page, "08-reprocessado-importado")

    # The corrected revision downloads with the fixed CNPJ.
    with page.expect_download() as download:
        page.get_by_role("link", name="Baixar corrigido").click()
    corrected = open(download.value.path(), "rb").read()
    assert CNPJ_CERTO.encode() in corrected and CNPJ_ERRADO.encode() not in corrected

    page.get_by_role("link", name="Detalhes do Lote").click()
    expect(page).to_have_url(re.compile(r"/lotes/[0-9a-f]+"), timeout=30_000)
    # The portal's own Nº Lote; the XML's numeroLote stays as the provider's number.
    expect(page.get_by_role("heading", name=re.compile(r"^Lote 1\d{6}$"))).to_be_visible()
    expect(page.locator("#detalhes")).to_contain_text("700102")
    state["numero_lote"] = page.locator("#numero-lote").inner_text().strip()
    expect(page.locator("#lote-status")).to_have_text("Aberto")
    shot(page, "09-lote")
    phone_shot(page, "09-lote")

    page.on("dialog", lambda dialog: dialog.accept())  # Confirma o fechamento / o envio
    page.get_by_role("button", name="Fechar Lote").click()
    expect(page.locator("#lote-status")).to_have_text("Fechado (envio pendente)")
    page.get_by_role("button", name="Enviar Lote").click()
    expect(page.locator("#lote-status")).to_have_text("Enviado à operadora")
    expect(page.locator("#peg")).to_be_visible(timeout=30_000)
    expect(page.locator(".tag-etapa")).to_have_text("Enviado para a Operadora")
    state["peg"] = page.locator("#peg").inner_text().strip()
    shot(page, "10-lote-enviado")

    page.get_by_role("link", name="Arquivos", exact=True).click()
    page.get_by_role("link", name=re.compile("Importados")).click()
    row = page.locator("#arquivos tbody tr", has_text="lote-cnpj-errado.xml")
    expect(row).to_contain_text("Sim")  # Corrigido Online
    expect(row.get_by_role("link", name=re.compile("Corrigido"))).to_be_visible()
    shot(page, "11-historico-corrigido")
    page.close()


def test_list_pages(clerk: BrowserContext, shot: Shot, phone_shot: Shot) -> None:
    page = clerk.new_page()
    page.goto("/lotes")
    expect(page.get_by_role("heading", name="Pesquisa de Lotes")).to_be_visible()
    expect(page.locator("table")).to_contain_text("700102")
    shot(page, "16-lotes")
    phone_shot(page, "16-lotes")
    page.get_by_role("link", name="Demonstrativos").click()
    expect(page.get_by_role("heading", name="Demonstrativos")).to_be_visible()
    shot(page, "17-demonstrativos")
    page.close()


def test_operator_sees_protocols(
    browser: Browser, portal_url: str, shot: Shot, state: dict
) -> None:
    context = new_context(browser, portal_url)
    try:
        page = login(context, "operadora", "operadora123")
        page.get_by_role("link", name="Protocolos", exact=True).click()
        expect(page.get_by_role("heading", name="Protocolos recebidos")).to_be_visible()
        # The lote the clinic has just sent is there, with its PEG, number and stage.
        row = page.locator("tbody tr", has_text=state["peg"])
        expect(row).to_have_count(1)
        expect(row).to_contain_text(state["numero_lote"])
        expect(row).to_contain_text(CNPJ_CERTO)
        expect(row.locator("td[data-label=Etapa]")).to_have_text("Enviado para a Operadora")
        shot(page, "18-operadora-protocolos")
        expect(page.get_by_role("link", name="Operações")).to_have_count(0)
    finally:
        context.close()


def test_ops_sees_services_and_parked_messages(
    browser: Browser, portal_url: str, shot: Shot, phone_shot: Shot
) -> None:
    context = new_context(browser, portal_url)
    try:
        page = login(context, "ops", "ops123")
        page.get_by_role("link", name="Operações").click()
        expect(page.get_by_role("heading", name="Operações", exact=True)).to_be_visible()
        for service in ("ingest", "validation", "batching", "protocol", "statements", "gateway"):
            row = page.locator("tr", has=page.get_by_text(service, exact=True)).first
            expect(row).to_contain_text("Pronto")
        expect(page.get_by_role("heading", name=re.compile("Mensagens paradas"))).to_be_visible()
        shot(page, "19-ops")
        phone_shot(page, "19-ops")
    finally:
        context.close()


def test_upload_limits_have_clear_messages(clerk: BrowserContext, shot: Shot) -> None:
    page = clerk.new_page()
    page.goto("/uploads/novo")
    big = b"<a>" + b"x" * (16 * 1024 * 1024) + b"</a>"
    page.locator("#arquivo").set_input_files(
        {"name": "grande.xml", "mimeType": "application/xml", "buffer": big}
    )
    alert = page.locator("#upload-error")
    expect(alert).to_contain_text("excede o limite de 15 MB")
    expect(page.get_by_role("button", name="Incluir")).to_be_disabled()
    shot(page, "12-upload-16mb")

    page.locator("#arquivo").set_input_files(
        {"name": "guia.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}
    )
    expect(alert).to_contain_text("não é um XML")

    page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File(["<a/>"], "a.xml", {type: "application/xml"}));
          dt.items.add(new File(["<b/>"], "b.xml", {type: "application/xml"}));
          document.getElementById("dropzone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    expect(alert).to_contain_text("apenas um arquivo por vez")
    shot(page, "13-upload-dois-arquivos")
    page.close()


def test_server_refuses_16mb_even_past_the_browser(clerk: BrowserContext, portal_url: str) -> None:
    """The browser check is a courtesy: the gateway refuses while streaming (413)."""
    cookies = {c["name"]: c["value"] for c in clerk.cookies()}
    page = clerk.new_page()
    page.goto("/uploads/novo")
    csrf = page.locator("#upload-form").get_attribute("data-csrf")
    page.close()
    big = b"<a>" + b"x" * (16 * 1024 * 1024) + b"</a>"
    response = httpx.post(
        f"{portal_url}/api/v1/uploads",
        files={"arquivo": ("grande.xml", big, "application/xml")},
        cookies=cookies,
        headers={"X-CSRF-Token": csrf or ""},
        timeout=60,
    )
    assert response.status_code == 413
    assert "15 MB" in response.json()["message"]
    without_csrf = httpx.post(
        f"{portal_url}/api/v1/uploads",
        files={"arquivo": ("a.xml", b"<a/>", "application/xml")},
        cookies=cookies,
    )
    assert without_csrf.status_code == 403


def test_values_from_files_are_escaped(clerk: BrowserContext, shot: Shot) -> None:
    page = clerk.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # A name with markup (no "/": a path in a name is cut to its last part on upload).
    nome = "<img src=x onerror=alert(1)>.xml"
    content = build_lote(
        cnpj="<script>alert(2)</script>", numero_lote="700103", numero_guia_inicial=fresh_guia()
    )
    upload(page, nome, content)
    expect(page).to_have_url(re.compile(r"/arquivos\?aba=invalidos&arquivo="), timeout=60_000)
    expect(page.locator("#resultado-upload")).to_contain_text(nome)
    page.locator("#resultado-upload").get_by_role("link", name="Corrigir Críticas").click()
    expect(page.locator("#criticas")).to_contain_text("<script>alert(2)</script>")
    assert "<script>alert(2)" not in page.content()
    shot(page, "14-escape")
    assert dialogs == []
    page.close()


def test_another_provider_cannot_see_the_files(
    browser: Browser, portal_url: str, shot: Shot, state: dict
) -> None:
    context = new_context(browser, portal_url)
    try:
        page = login(context, "sorriso", "sorriso123")
        page.goto("/arquivos?aba=importados")
        expect(page.locator("#arquivos")).not_to_contain_text("lote-700101.xml")
        response = page.goto(f"/arquivos/{state['valido']}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Página não encontrada")).to_be_visible()
        shot(page, "15-outro-prestador-404")
        for path in (
            f"/arquivos/{state['valido']}/corrigir",
            f"/arquivos/{state['valido']}/revisoes/1",
            f"/arquivos/{state['valido']}/lote",
            f"/api/v1/files/{state['valido']}/revisions/1/content",
        ):
            answer = page.request.get(path)
            assert answer.status == 404, path
            assert b"mensagemTISS" not in answer.body()
    finally:
        context.close()
