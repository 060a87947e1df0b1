"""The PDF engine as the service runs it: one headless Chromium per process that comes
back after it died, and a clear pt-BR 503 (the XML still served) when it cannot start."""

from __future__ import annotations

import os
import signal
import time

import httpx
from fastapi import FastAPI
from tissflow_runtime.errors import install_error_handler
from tissflow_statements.adapters.pdf import ChromiumRenderer
from tissflow_statements.entrypoints import routes
from tissflow_statements.service_layer.ports import Dependencias

from .test_analise import protocolo_analisado


def _chromium_processes() -> list[int]:
    """Ids of this test process's Chromium browsers (the root process of each)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1 :].rsplit(")", 1)
            parents[int(entry)], names[int(entry)] = int(rest.split()[1]), name
    mine = {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                changed = True
    return [
        pid
        for pid in mine
        if names[pid].startswith("chromium")
        and not names.get(parents[pid], "").startswith("chromium")
    ]


def test_a_pdf_is_printed_again_after_chromium_died(ler) -> None:
    others = set(_chromium_processes())  # the suite's shared renderer, if running
    renderer = ChromiumRenderer()
    try:
        html = "<p>Demonstrativo de teste 1</p>"
        assert "Demonstrativo de teste 1" in ler.pdf_text(renderer.html_to_pdf(html))
        browsers = [pid for pid in _chromium_processes() if pid not in others]
        assert len(browsers) == 1, browsers
        os.kill(browsers[0], signal.SIGKILL)
        while browsers[0] in _chromium_processes():
            time.sleep(0.05)
        again = renderer.html_to_pdf("<p>Demonstrativo de teste 2</p>")
        assert "Demonstrativo de teste 2" in ler.pdf_text(again)
        relaunched = [pid for pid in _chromium_processes() if pid not in others]
        assert len(relaunched) == 1 and relaunched != browsers
    finally:
        renderer.close()


async def test_without_chromium_the_pdf_is_a_pt_br_503_and_the_xml_still_comes(
    deps: Dependencias,
) -> None:
    deps.renderer = ChromiumRenderer("/nao/existe/chromium")
    await protocolo_analisado(deps, "202600000720", "L720", n_guias=1, n_itens=1)
    app = FastAPI()
    install_error_handler(app)
    app.include_router(routes.router_for(deps))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://statements") as client:
        pdf = await client.get("/internal/analise/pdf", params={"peg": "202600000720"})
        xml = await client.get("/internal/analise/xml", params={"peg": "202600000720"})
    assert pdf.status_code == 503
    erro = pdf.json()["detail"]
    assert erro["code"] == "gerador_pdf_indisponivel"
    assert erro["message"].startswith("O gerador de PDF dos demonstrativos está indisponível")
    assert "Traceback" not in pdf.text
    assert xml.status_code == 200
    assert b"DEMONSTRATIVO_ANALISE_CONTA" in xml.content


def test_each_print_has_only_its_own_statement(ler) -> None:
    """Pages are reused between prints: nothing of one statement is left in the next."""
    renderer = ChromiumRenderer()
    try:
        longo = "".join(f"<p>Conteúdo A linha {n}</p>" for n in range(400))
        primeiro = renderer.html_to_pdf(longo)
        segundo = renderer.html_to_pdf("<p>Conteúdo B</p>")
        assert ler.pdf_pages(primeiro) > 1
        assert ler.pdf_pages(segundo) == 1
        assert ler.pdf_text(segundo) == "Conteúdo B"
    finally:
        renderer.close()
