"""The ops page's charts and the Painel de Glosa in a real browser: ops sees the five charts
drawn (server-side SVG, no script, no CDN), the lag and outbox tables and a parked
message with its error and Reprocessar; the operator reads the glosa panel and downloads
its CSV; a clinic sees its own panel without the per-provider view."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tissflow_contracts import OperadoraReport, Topic, new_envelope
from tissflow_demo.samples import build_lote

from tests.browser.conftest import Shot, login, new_context
from tests.e2e.test_painel import CNPJ, analysed_and_paid
from tests.support import Api, Stack, fresh_guia, publish, wait_for

CHARTS = {
    "arquivos": "Arquivos por situação",
    "latencia": "Tempo do envio ao veredito",
    "atraso": "Atraso dos consumidores",
    "outbox": "Eventos aguardando publicação",
    "mensagens": "Mensagens paradas (DLQ)",
}


@pytest.fixture(scope="module")
def clinica_api(portal_url: str) -> Iterator[Api]:
    client = Api.login(portal_url, "odontoarte", "odontoarte123")
    yield client
    client.close()


@pytest.fixture(scope="module")
def operadora_api(portal_url: str) -> Iterator[Api]:
    client = Api.login(portal_url, "operadora", "operadora123")
    yield client
    client.close()


def context_of(browser: Browser, portal_url: str, user: str, password: str) -> BrowserContext:
    context = new_context(browser, portal_url)
    login(context, user, password).close()
    return context


def drawn(page: Page, nome: str) -> bool:
    """The chart's <img> loaded a picture (an SVG the CSP let through)."""
    return page.locator(f'img[src^="/ops/graficos/{nome}.svg"]').evaluate(
        "img => img.complete && img.naturalWidth > 0"
    )


def test_ops_sees_the_charts_and_replays_a_parked_message(
    browser: Browser, portal_url: str, stack: Stack, clinica_api: Api, shot: Shot
) -> None:
    arquivo = build_lote(n_guias=1, numero_lote="940001", numero_guia_inicial=fresh_guia())
    file_id = clinica_api.upload(arquivo, filename="lote-940001.xml").json()["file_id"]
    assert clinica_api.wait_file(file_id)["status"] == "importado"
    # A report on a PEG that does not exist: parked by protocol, with its error.
    peg = f"98{uuid.uuid4().int % 10**8:08d}"
    env = new_envelope(
        OperadoraReport(peg=peg, status=2), correlation_id=peg, producer="t", key=peg
    )
    # In another thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            publish, stack.kafka, Topic.OPERADORA_INBOUND, peg, env.model_dump_json().encode()
        ).result()
    ops_api = Api.login(portal_url, "ops", "ops123")
    wait_for(
        lambda: any(m["key"] == peg for m in ops_api.get("/ops/mensagens-paradas").json()["items"]),
        what="a mensagem parada",
    )

    context = context_of(browser, portal_url, "ops", "ops123")
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name="Operações").click()
        expect(page.get_by_role("heading", name="Painel")).to_be_visible()
        page.wait_for_load_state("networkidle")
        for nome, titulo in CHARTS.items():
            assert drawn(page, nome), f"gráfico {nome} não desenhado"
            svg = page.request.get(f"/ops/graficos/{nome}.svg")
            assert svg.headers["content-type"].startswith("image/svg+xml")
            assert titulo in svg.text()
            assert not re.search(r"<script[^>]*\ssrc=", svg.text()), "script de fora no SVG"
        # The upload above is in the files chart's data; validation's lag row is listed.
        assert "Importado" in page.request.get("/ops/graficos/arquivos.svg").text()
        expect(page.locator("#atraso-consumidores")).to_contain_text("file.uploaded")
        expect(page.locator("#outbox")).to_contain_text("files")
        shot(page, "60-ops-graficos")

        page.get_by_label("Período").select_option(label="7 dias")
        page.get_by_role("button", name="Atualizar").click()
        expect(page).to_have_url(re.compile(r"horas=168"))
        page.wait_for_load_state("networkidle")
        assert drawn(page, "arquivos") and drawn(page, "latencia")

        linha = page.locator("#mensagens-paradas tr", has_text=peg)
        expect(linha).to_contain_text(f"protocolo {peg} não encontrado")
        linha.get_by_role("button", name="Reprocessar").click()
        # Replayed through the same handler: the PEG still does not exist, so it says so.
        expect(page.get_by_role("alert")).to_contain_text("Falhou de novo")
        shot(page, "61-ops-reprocessar")
    finally:
        context.close()
        ops_api.close()


def test_operator_reads_the_glosa_panel_and_downloads_its_csv(
    browser: Browser, portal_url: str, clinica_api: Api, operadora_api: Api, shot: Shot
) -> None:
    peg, glosada, _ = analysed_and_paid(clinica_api, operadora_api)
    # A file refused by validation: its critique is among those the clinics get most.
    ruim = build_lote(
        n_guias=1,
        numero_lote="940002",
        numero_guia_inicial=fresh_guia(),
        carteiras=["00000000000001"],
    )
    file_id = clinica_api.upload(ruim, filename="lote-940002.xml").json()["file_id"]
    assert clinica_api.wait_file(file_id)["status"] == "invalido"
    critica = clinica_api.get(f"/files/{file_id}/criticas").json()["result"]["critiques"][0]
    wait_for(
        lambda: any(
            r.startswith(CNPJ) and peg in r
            for r in operadora_api.get("/analises/glosas.csv", params={"visao": "guias"})
            .content.decode("utf-8-sig")
            .splitlines()
        ),
        what="o protocolo analisado no painel",
    )
    context = context_of(browser, portal_url, "operadora", "operadora123")
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name="Painel de Glosa").click()
        expect(page.get_by_role("heading", name="Painel de Glosa", level=1)).to_be_visible()
        expect(page.locator("#resumo")).to_contain_text("Glosa inicial")
        expect(page.locator("#tabela-prestador")).to_contain_text(CNPJ)
        expect(page.locator("#tabela-glosas")).to_contain_text("1801")
        expect(page.locator("#tabela-tipo")).to_contain_text("SP/SADT")
        expect(page.locator("#tabela-criticas")).to_contain_text(critica["codigo"])
        page.wait_for_load_state("networkidle")
        assert page.locator('img[src^="/analises/glosas/grafico.svg"]').evaluate(
            "img => img.complete && img.naturalWidth > 0"
        )
        shot(page, "62-painel-glosa-operadora")

        secao = page.locator(
            "section", has=page.get_by_role("heading", name=re.compile("Por prestador"))
        )
        with page.expect_download() as info:
            secao.get_by_role("link", name="Baixar CSV").click()
        download = info.value
        assert download.suggested_filename == "painel-glosa-prestador.csv"
        raw = Path(download.path()).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][:2] == ["Prestador", "CNPJ/CPF"] and "Glosa final (%)" in rows[0]
        dela = next(r for r in rows if r[1] == CNPJ)
        assert re.fullmatch(r"\d+,\d{2}", dela[rows[0].index("Glosa inicial (R$)")])

        # Narrowed to the clinic by the filter field.
        page.get_by_label("Prestador (CNPJ/CPF)").fill(CNPJ)
        page.get_by_role("button", name="Filtrar").click()
        expect(page).to_have_url(re.compile(f"prestador={CNPJ}"))
        expect(page.locator("#tabela-prestador tbody tr")).to_have_count(1)
    finally:
        context.close()


def test_clinic_sees_its_own_panel_only(
    browser: Browser, portal_url: str, shot: Shot, phone_shot: Shot
) -> None:
    context = context_of(browser, portal_url, "sorriso", "sorriso123")
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name="Painel de Glosa").click()
        expect(page.get_by_role("heading", name="Painel de Glosa", level=1)).to_be_visible()
        # No provider field, no per-provider table, nothing of ODONTO ARTE.
        expect(page.get_by_label("Prestador (CNPJ/CPF)")).to_have_count(0)
        expect(page.locator("#tabela-prestador")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text(CNPJ)
        page.goto(f"/analises/glosas?prestador={CNPJ}")
        expect(page.get_by_role("alert")).to_contain_text("próprios indicadores")
        page.goto("/analises/glosas")
        shot(page, "63-painel-glosa-clinica")
        phone_shot(page, "63-painel-glosa-clinica")
    finally:
        context.close()
