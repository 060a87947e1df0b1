"""The operator's staff in a real browser: Regras de Crítica (a rule made an alert, saved
in place, seen saved) and Cadastro (a beneficiaries CSV with one bad line: the count
imported and the refused line with its reason); a clinic does not get these pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import PHONE, SHOTS, Shot, login, new_context
from tests.support import Api

REGRA = "1806"  # quantidade do item: configurable, an error by default


@pytest.fixture(scope="module")
def staff(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, portal_url)
    login(context, "operadora", "operadora123").close()
    yield context
    context.close()


@pytest.fixture(scope="module")
def api(portal_url: str) -> Iterator[Api]:
    """The same operator through the public API, to restore what the test changed."""
    client = Api.login(portal_url, "operadora", "operadora123")
    yield client
    client.close()


def test_operator_makes_a_rule_an_alert_and_sees_it_saved(
    staff: BrowserContext, api: Api, shot: Shot, phone_shot: Shot
) -> None:
    antes = next(r for r in api.get("/operadora/regras").json()["items"] if r["codigo"] == REGRA)
    assert antes["severidade"] == "erro"
    page = staff.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Regras de Crítica"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Regras de Crítica")
    expect(page.locator(".breadcrumbs")).to_contain_text("Operadora › Regras de Crítica")
    linha = page.locator(f"#regra-{REGRA}")
    expect(linha).to_contain_text("quantidade do item")
    # Structural checks are listed, fixed: nothing to edit or save on their rows.
    fixa = page.locator("#regra-5001")
    expect(fixa).to_contain_text("Fixa")
    expect(fixa.locator("select, input, button")).to_have_count(0)
    shot(page, "50-operadora-regras")
    phone_shot(page, "50-operadora-regras")
    try:
        page.get_by_label(f"Severidade da regra {REGRA}").select_option("alerta")
        page.get_by_role("button", name=f"Salvar regra {REGRA}").click()
        expect(page.get_by_role("status")).to_have_text(
            f"Regra {REGRA} salva: ativa, não ignorável, alerta."
        )
        expect(page).to_have_url(re.compile(rf"/operadora/regras\?ok={REGRA}#regra-{REGRA}$"))
        # Saved: after a reload the row still says alerta, and who changed it.
        page.reload()
        linha = page.locator(f"#regra-{REGRA}")
        expect(page.get_by_label(f"Severidade da regra {REGRA}")).to_have_value("alerta")
        expect(page.get_by_label(f"Ativa (regra {REGRA})")).to_be_checked()
        expect(linha.locator("td.alterado")).to_contain_text("operadora")
        shot(page, "51-operadora-regra-salva")
        phone_shot(page, "51-operadora-regra-salva")

        # Back to how it was, through the same page.
        page.get_by_label(f"Severidade da regra {REGRA}").select_option(antes["severidade"])
        page.get_by_role("button", name=f"Salvar regra {REGRA}").click()
        expect(page.get_by_role("status")).to_contain_text("erro")
    finally:
        setting = {k: antes[k] for k in ("enabled", "ignoravel", "severidade")}
        assert api.put(f"/operadora/regras/{REGRA}", json=setting).status_code == 200
    depois = next(r for r in api.get("/operadora/regras").json()["items"] if r["codigo"] == REGRA)
    assert (depois["enabled"], depois["ignoravel"], depois["severidade"]) == (
        antes["enabled"],
        antes["ignoravel"],
        antes["severidade"],
    )


def test_operator_imports_beneficiaries_and_sees_the_refused_line(
    staff: BrowserContext, shot: Shot, phone_shot: Shot
) -> None:
    page = staff.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Cadastro"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cadastro da operadora")
    # The formats are on the page.
    expect(page.locator("#cadastro-prestadores")).to_contain_text("cnpj_cpf;codigo_prestador;nome")
    beneficiarios = page.locator("#cadastro-beneficiarios")
    expect(beneficiarios).to_contain_text("numero_carteira;nome;ativo")
    expect(beneficiarios).to_contain_text("UTF-8")
    shot(page, "52-operadora-cadastro")
    phone_shot(page, "52-operadora-cadastro")

    carteira = "6" + uuid.uuid4().hex[:13].translate(str.maketrans("abcdef", "012345"))
    csv = f"numero_carteira;nome;ativo\n{carteira};ANA PEREIRA;S\n{carteira}9;LUIZ COSTA;talvez\n"
    page.get_by_label("Arquivo CSV de beneficiários").set_input_files(
        {"name": "beneficiarios.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.get_by_role("button", name="Importar beneficiários").click()
    resultado = page.locator("#resultado")
    expect(resultado).to_contain_text("Beneficiários: 1 importado(s), 1 linha(s) recusada(s)")
    expect(resultado).to_contain_text("beneficiarios.csv")
    recusada = page.locator("#linhas-recusadas tbody tr")
    expect(recusada).to_have_count(1)
    expect(recusada.locator("td").nth(0)).to_have_text("3")
    expect(recusada.locator("td").nth(1)).to_have_text("ativo 'talvez' inválido: use S ou N")
    shot(page, "53-operadora-cadastro-resultado")
    # The result answers a POST: phone_shot would load the empty GET page instead.
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "53-operadora-cadastro-resultado-phone.png"), full_page=True)


def test_a_clinic_has_no_rules_nor_registry_pages(browser: Browser, portal_url: str) -> None:
    context = new_context(browser, portal_url)
    try:
        page = login(context, "odontoarte", "odontoarte123")
        menu = page.get_by_role("navigation", name="Menu principal")
        expect(menu.get_by_role("link", name="Regras de Crítica")).to_have_count(0)
        expect(menu.get_by_role("link", name="Cadastro")).to_have_count(0)
        for path in ("/operadora/regras", "/operadora/cadastro"):
            response = page.goto(path)
            assert response is not None and response.status == 403
            expect(page.get_by_role("heading", level=1)).to_have_text("Acesso negado")
            expect(page.locator("main")).to_contain_text("Acesso restrito à equipe da operadora")
    finally:
        context.close()


def test_forms_posted_without_the_csrf_token_change_nothing(
    staff: BrowserContext, api: Api
) -> None:
    """A form from another site, sent with the staff's session cookie, is refused."""
    antes = next(r for r in api.get("/operadora/regras").json()["items"] if r["codigo"] == REGRA)
    regra = staff.request.post(
        f"/operadora/regras/{REGRA}",
        form={"enabled": "", "ignoravel": "1", "severidade": "alerta"},
        headers={"Accept": "text/html"},
    )
    assert regra.status == 403
    assert "Sessão expirada ou formulário inválido" in regra.text()
    depois = next(r for r in api.get("/operadora/regras").json()["items"] if r["codigo"] == REGRA)
    assert depois == antes

    carteira = "5" + uuid.uuid4().hex[:13].translate(str.maketrans("abcdef", "012345"))
    csv = f"numero_carteira;nome;ativo\n{carteira};FORJADO;S\n".encode()
    cadastro = staff.request.post(
        "/operadora/cadastro/beneficiarios",
        multipart={"arquivo": {"name": "b.csv", "mimeType": "text/csv", "buffer": csv}},
        headers={"Accept": "text/html"},
    )
    assert cadastro.status == 403
    assert "importado(s)" not in cadastro.text()
