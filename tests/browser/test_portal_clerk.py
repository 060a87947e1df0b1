"""What a billing clerk meets beyond the main path, in a real browser: the upload area by
keyboard and its live status, the Período filter in dd/mm/aaaa, Histórico over more than
one page, a file with many critiques, critiques that may or may not be ignored (one by one
or a whole group), logout that a foreign form cannot trigger, the session cookie, back to
the page asked for after logging in, and pt-BR error pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tissflow_demo.samples import build_lote

from tests.browser.conftest import Shot, login, new_context
from tests.support import Api, fresh_guia

CNPJ_ERRADO = "07906129000100"
CNPJ_CERTO = "07906129000102"


@pytest.fixture(scope="module")
def clerk(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    login(context, "odontoarte", "odontoarte123").close()
    yield context
    context.close()


@pytest.fixture(scope="module")
def api(portal_url: str) -> Iterator[Api]:
    """The same clinic through the public API, to prepare files quickly."""
    client = Api.login(portal_url, "odontoarte", "odontoarte123")
    yield client
    client.close()


def _invalid_file(api: Api, content: bytes, name: str) -> str:
    response = api.upload(content, name)
    assert response.status_code == 202, response.text
    file_id = response.json()["file_id"]
    assert api.wait_file(file_id)["status"] == "invalido"
    return file_id


def test_upload_area_works_from_the_keyboard_with_live_status(
    clerk: BrowserContext, shot: Shot
) -> None:
    page = clerk.new_page()
    page.goto("/uploads/novo")
    zone = page.locator("#dropzone")
    outline_before = zone.evaluate("e => getComputedStyle(e).outlineStyle")
    # Tab from the page top reaches the file chooser, and the drop area shows the focus.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "arquivo":
            break
    assert page.evaluate("document.activeElement.id") == "arquivo"
    assert outline_before == "none"
    expect(zone).to_have_css("outline-style", "solid")
    shot(page, "20-upload-foco-teclado")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    content = build_lote(numero_lote="700201", numero_guia_inicial=fresh_guia())
    chooser.value.set_files(
        {"name": "lote-teclado.xml", "mimeType": "application/xml", "buffer": content}
    )
    expect(page.locator("#dz-file")).to_contain_text("lote-teclado.xml")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Incluir")).to_be_focused()
    page.keyboard.press("Enter")
    # Sent, then the live status while the file is validated, then the Histórico.
    expect(page.locator("#progress-bar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#processing")).to_contain_text("Aguarde o processamento")
    expect(page).to_have_url(re.compile(r"/arquivos\?aba=importados&arquivo="), timeout=60_000)
    expect(page.locator("#resultado-upload")).to_contain_text("Importado com Sucesso")
    page.close()


def test_period_filter_reads_and_writes_dd_mm_aaaa(
    clerk: BrowserContext, api: Api, shot: Shot, phone_shot: Shot
) -> None:
    nome = f"periodo-{uuid.uuid4().hex[:6]}.xml"
    _invalid_file(api, b"<nao-e-tiss/>", nome)
    page = clerk.new_page()
    page.goto("/arquivos?aba=invalidos")
    de = page.get_by_label("Período: de")
    expect(de).to_have_attribute("placeholder", "dd/mm/aaaa")
    hoje = datetime.now(ZoneInfo("America/Sao_Paulo")).date()  # the clerk's day
    # The clerk types only digits; the slashes come by themselves.
    de.press_sequentially(hoje.strftime("%d%m%Y"))
    expect(de).to_have_value(hoje.strftime("%d/%m/%Y"))
    page.get_by_label("até").fill(hoje.strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Pesquisar").click()
    expect(page).to_have_url(re.compile(r"de=\d\d%2F\d\d%2F\d{4}"))
    expect(page.get_by_label("Período: de")).to_have_value(hoje.strftime("%d/%m/%Y"))
    expect(page.locator("#arquivos")).to_contain_text(nome)
    shot(page, "21-historico-periodo")
    phone_shot(page, "21-historico-periodo")

    # Yesterday only: today's file is not in it.
    ontem = (hoje - timedelta(days=1)).strftime("%d/%m/%Y")
    page.get_by_label("Período: de").fill(ontem)
    page.get_by_label("até").fill(ontem)
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.locator("#arquivos")).not_to_contain_text(nome)

    page.get_by_label("Período: de").fill("31/02/2026")
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.locator("#erro-periodo")).to_have_text(
        "Data inicial inválida: “31/02/2026”. Use o formato dd/mm/aaaa."
    )
    expect(page.get_by_label("Período: de")).to_have_value("31/02/2026")

    page.get_by_label("Período: de").fill(hoje.strftime("%d/%m/%Y"))
    page.get_by_label("até").fill(ontem)
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.locator("#erro-periodo")).to_contain_text("data inicial do período é posterior")
    shot(page, "22-historico-periodo-invalido")
    page.close()


def test_historico_goes_over_more_than_one_page(
    clerk: BrowserContext, api: Api, shot: Shot
) -> None:
    prefixo = f"pag-{uuid.uuid4().hex[:6]}"
    for i in range(21):
        _invalid_file(api, b"<nao-e-tiss/>", f"{prefixo}-{i:02d}.xml")
    page = clerk.new_page()
    page.goto("/arquivos?aba=invalidos")
    page.get_by_label("Nome do Arquivo").fill(prefixo)
    page.get_by_role("button", name="Pesquisar").click()
    expect(page.get_by_role("link", name=re.compile("Inválidos"))).to_contain_text("21")
    rows = page.locator("#arquivos tbody tr")
    expect(rows).to_have_count(20)
    pager = page.get_by_role("navigation", name="Paginação")
    expect(pager).to_contain_text("Página 1 de 2 · 21 registro(s)")
    expect(rows.first).to_contain_text(f"{prefixo}-20.xml")  # newest first
    shot(page, "23-historico-pagina-1")
    pager.get_by_role("link", name="Próxima").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"{prefixo}-00.xml")
    expect(pager).to_contain_text("Página 2 de 2")
    expect(page.get_by_label("Nome do Arquivo")).to_have_value(prefixo)  # filter kept
    shot(page, "24-historico-pagina-2")
    pager.get_by_role("link", name="Anterior").click()
    expect(rows).to_have_count(20)
    page.close()


def test_many_critiques_are_grouped_and_fixed_at_once(
    clerk: BrowserContext, api: Api, shot: Shot, phone_shot: Shot
) -> None:
    content = build_lote(
        cnpj=CNPJ_ERRADO, n_guias=40, numero_lote="700202", numero_guia_inicial=fresh_guia()
    )
    file_id = _invalid_file(api, content, "lote-40-guias.xml")
    page = clerk.new_page()
    page.goto(f"/arquivos/{file_id}/corrigir")
    expect(page.get_by_role("heading", name="Críticas (81 em aberto)")).to_be_visible()
    grupo = page.locator("details.grupo-criticas")
    expect(grupo).to_have_count(1)
    expect(grupo.locator("summary")).to_contain_text("1206")
    expect(grupo.locator("summary")).to_contain_text("81 ocorrência(s)")
    expect(grupo.locator("tbody tr").first).to_be_hidden()  # a click away
    grupo.locator("summary").click()
    expect(grupo.locator("tbody tr")).to_have_count(81)
    grupo.locator("summary").click()

    # One input per field and value: the header CNPJ, and one for each 40-guide field.
    solicitante = page.get_by_label(re.compile(r"CNPJ do contratado \(solicitante\) · 40 campos"))
    executante = page.get_by_label(re.compile(r"CNPJ do contratado \(executante\) · 40 campos"))
    expect(solicitante).to_have_value(CNPJ_ERRADO)
    shot(page, "25-muitas-criticas")
    phone_shot(page, "25-muitas-criticas")
    page.get_by_label(re.compile(r"CNPJ do prestador \(cabeçalho\)")).fill(CNPJ_CERTO)
    solicitante.fill(CNPJ_CERTO)
    executante.fill(CNPJ_CERTO)
    page.get_by_role("button", name="Salvar e Reprocessar").click()
    expect(page.locator("#veredito")).to_contain_text("Importado com Sucesso", timeout=60_000)
    shot(page, "26-muitas-criticas-importado")
    with page.expect_download() as download:
        page.get_by_role("link", name="Baixar corrigido").click()
    corrected = open(download.value.path(), "rb").read()
    assert corrected.count(CNPJ_CERTO.encode()) == 81
    assert CNPJ_ERRADO.encode() not in corrected
    page.close()


def test_only_ignorable_critiques_can_be_ignored(
    clerk: BrowserContext, api: Api, shot: Shot
) -> None:
    antiga = date.today() - timedelta(days=2000)  # 1323: implausible date, ignorable
    content = build_lote(
        cnpj=CNPJ_ERRADO, numero_lote="700203", numero_guia_inicial=fresh_guia(), data=antiga
    )
    file_id = _invalid_file(api, content, "lote-data-antiga.xml")
    page = clerk.new_page()
    page.goto(f"/arquivos/{file_id}/corrigir")
    rows = page.locator("#criticas tbody tr")
    cnpj_rows = rows.filter(has_text="1206")
    expect(cnpj_rows).to_have_count(3)
    for i in range(3):
        expect(cnpj_rows.nth(i)).to_contain_text("Não ignorável")
        expect(cnpj_rows.nth(i).get_by_role("button", name="Ignorar")).to_have_count(0)

    # The same form, forged for the CNPJ critique, is refused with a clear message.
    csrf = page.locator("#ignorar-form input[name=csrf_token]").input_value()
    xpath = "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"
    refused = page.request.post(
        f"/arquivos/{file_id}/ignorar",
        form={"csrf_token": csrf, "ignorar": f"1206|{xpath}"},
        headers={"Accept": "text/html"},
    )
    assert refused.status == 409
    assert "não pode ser ignorada" in refused.text()
    page.reload()
    expect(cnpj_rows.first).to_contain_text("Não ignorável")

    data_row = rows.filter(has_text="1323").first
    data_row.get_by_role("button", name="Ignorar").click()
    expect(page.get_by_role("status")).to_contain_text("Crítica ignorada")
    expect(rows.filter(has_text="1323").first).to_contain_text("Ignorada")
    expect(page.get_by_role("heading", name="Críticas (4 em aberto)")).to_be_visible()
    shot(page, "27-critica-ignorada")
    page.close()


def test_ignore_all_of_a_group_ignores_only_the_ignorable(
    clerk: BrowserContext, api: Api, shot: Shot
) -> None:
    antiga = date.today() - timedelta(days=2000)  # 1323 in every guide: ignorable
    content = build_lote(
        cnpj=CNPJ_ERRADO,
        n_guias=6,
        numero_lote="700204",
        numero_guia_inicial=fresh_guia(),
        data=antiga,
    )
    file_id = _invalid_file(api, content, "lote-6-guias-data-antiga.xml")
    page = clerk.new_page()
    page.goto(f"/arquivos/{file_id}/corrigir")
    expect(page.get_by_role("heading", name="Críticas (25 em aberto)")).to_be_visible()
    cnpj = page.locator("details.grupo-criticas", has_text="1206")
    datas = page.locator("details.grupo-criticas", has_text="1323")
    expect(cnpj.locator("summary")).to_contain_text("Não ignorável")
    expect(cnpj.get_by_role("button", name=re.compile("Ignorar todas"))).to_have_count(0)
    expect(datas.locator("summary")).to_contain_text("12 ocorrência(s)")
    ignorar_todas = datas.get_by_role("button", name="Ignorar todas (12)")
    expect(ignorar_todas).to_be_visible()  # on the group's line, without opening it
    shot(page, "29-ignorar-todas")

    # The same form, forged for the CNPJ group, is refused and ignores nothing.
    csrf = page.locator("#ignorar-todas-form input[name=csrf_token]").input_value()
    refused = page.request.post(
        f"/arquivos/{file_id}/ignorar-todas",
        form={"csrf_token": csrf, "codigo": "1206"},
        headers={"Accept": "text/html"},
    )
    assert refused.status == 409
    assert "não pode ser ignorada" in refused.text()
    without_token = page.request.post(
        f"/arquivos/{file_id}/ignorar-todas",
        form={"csrf_token": "forjado", "codigo": "1323"},
        headers={"Accept": "text/html"},
    )
    assert without_token.status == 403
    page.reload()
    expect(page.get_by_role("heading", name="Críticas (25 em aberto)")).to_be_visible()

    # Asked first; cancelling changes nothing.
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ignorar_todas.click()
    expect(page.get_by_role("heading", name="Críticas (25 em aberto)")).to_be_visible()
    assert dialogs and dialogs[0].startswith("Ignorar as 12 críticas 1323")
    page.once("dialog", lambda d: d.accept())
    ignorar_todas.click()
    expect(page.get_by_role("status")).to_have_text(
        "12 críticas 1323 ignoradas. Reprocesse o arquivo para obter o novo resultado."
    )
    expect(page.get_by_role("heading", name="Críticas (13 em aberto)")).to_be_visible()
    expect(datas.locator("summary")).to_contain_text("0 em aberto")
    expect(datas.get_by_role("button", name=re.compile("Ignorar todas"))).to_have_count(0)
    datas.locator("summary").click()
    expect(datas.locator("tbody tr").filter(has_text="Ignorada")).to_have_count(12)
    cnpj.locator("summary").click()
    expect(cnpj.locator("tbody tr").filter(has_text="Ignorada")).to_have_count(0)
    expect(cnpj.locator("tbody tr").filter(has_text="Não ignorável")).to_have_count(13)
    shot(page, "30-ignorar-todas-feito")

    # With the CNPJ corrected, the ignored dates no longer keep the file out.
    page.get_by_label(re.compile(r"CNPJ do prestador \(cabeçalho\)")).fill(CNPJ_CERTO)
    page.get_by_label(re.compile(r"CNPJ do contratado \(solicitante\) · 6 campos")).fill(CNPJ_CERTO)
    page.get_by_label(re.compile(r"CNPJ do contratado \(executante\) · 6 campos")).fill(CNPJ_CERTO)
    page.get_by_role("button", name="Salvar e Reprocessar").click()
    expect(page.locator("#veredito")).to_contain_text("Importado com Sucesso", timeout=60_000)
    page.close()


def test_session_cookie_and_logout_resist_other_sites(browser: Browser, portal_url: str) -> None:
    context = new_context(browser, portal_url)
    try:
        page = login(context, "odontoarte", "odontoarte123")
        cookie = next(c for c in context.cookies() if c["name"] == "tissflow_sessao")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
        assert page.evaluate("document.cookie").find("tissflow_sessao") == -1

        # A logout form without the session's token (as another site would post) fails...
        forged = page.request.post(
            "/logout", form={"csrf_token": "forjado"}, headers={"Accept": "text/html"}
        )
        assert forged.status == 403
        page.goto("/")
        expect(page.get_by_role("heading", name=re.compile("Olá"))).to_be_visible()
        # ...and the portal's own Sair button works, for good.
        page.get_by_role("button", name="Sair").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        page.goto("/arquivos?aba=invalidos")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        # Logging in again leads back to the page asked for...
        page.get_by_label("Usuário").fill("odontoarte")
        page.get_by_label("Senha").fill("odontoarte123")
        page.get_by_role("button", name="Entrar").click()
        expect(page).to_have_url(re.compile(r"/arquivos\?aba=invalidos$"))
        expect(page.get_by_role("heading", name="Histórico de Arquivos Enviados")).to_be_visible()
        # ...and only to a page of the portal, never to another site.
        page.get_by_role("button", name="Sair").click()
        page.goto("/login?next=//outro-site.example/phishing")
        page.get_by_label("Usuário").fill("odontoarte")
        page.get_by_label("Senha").fill("odontoarte123")
        page.get_by_role("button", name="Entrar").click()
        expect(page).to_have_url(re.compile(r"^" + re.escape(portal_url) + r"/$"))
    finally:
        context.close()


@pytest.mark.parametrize(
    ("path", "status", "titulo"),
    [
        ("/arquivos/nao-existe", 404, "Página não encontrada"),
        ("/arquivos/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404, "Página não encontrada"),
        ("/arquivos/nao-existe/corrigir", 404, "Página não encontrada"),
        ("/arquivos/nao-existe/revisoes/abc", 422, "Dados inválidos"),
        ("/arquivos?pagina=abc", 422, "Dados inválidos"),
        ("/lotes/nao-existe", 404, "Página não encontrada"),
        ("/pagina-que-nao-existe", 404, "Página não encontrada"),
    ],
)
def test_error_pages_are_pt_br_and_never_a_traceback(
    clerk: BrowserContext, shot: Shot, path: str, status: int, titulo: str
) -> None:
    page: Page = clerk.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    response = page.goto(path)
    assert response is not None and response.status == status
    expect(page.get_by_role("heading", name=titulo)).to_be_visible()
    expect(page.get_by_role("link", name="Voltar ao início")).to_be_visible()
    text = page.locator("main").inner_text()
    for english in ("Traceback", "Not Found", "Internal Server Error", "detail", "{"):
        assert english not in text, (path, text)
    if path == "/arquivos/nao-existe":
        shot(page, "28-erro-404")
    assert dialogs == []
    page.close()
