"""The demonstrativos as PDFs people print: Jinja2 templates printed by headless Chromium.

pt-BR figures (R$ 1.234,56; a negative as -R$ 10,00), dates dd/mm/aaaa, A4 with page
numbers (CSS `@page` margin boxes); tables repeat their header on every page and a guide's
header is never left at the foot of a page without its items (CSS `break-*` rules in the
templates). ADR 0017: Chromium prints the 100 × 20 Análise with ~1,3 s of CPU where
WeasyPrint took 18–36 s.

One browser per process, launched on the first PDF, driven by Playwright's async API on a
thread of its own (its event loop is never the service's), relaunched when it died. Pages
(in one context with JavaScript off and no network) are reused: each print takes an idle
page or opens one, and leaves it on about:blank for the next (a new page starts a renderer
process: ~0.9 s of CPU here); a page is closed after `PAGE_REUSES` prints or a failure. At
most `max_concurrent` prints run at once, so at most that many pages exist. When Chromium cannot be
started or does not answer, `GeradorPdfIndisponivel` says so in pt-BR (a 503, never a
stack trace). Production needs the `chromium` and `fonts-dejavu-core` Debian packages (see
the Dockerfile); `TISSFLOW_CHROMIUM` points at another binary.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import threading
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from tissflow_contracts.dominios import DEBITO_CREDITO_TIPO
from tissflow_contracts.formato import numero_br

from tissflow_statements.domain.documentos import SITUACAO, Analise, Pagamento
from tissflow_statements.domain.errors import GeradorPdfIndisponivel
from tissflow_statements.domain.xml import OBSERVACAO_SEM_GUIAS


def moeda(value: Decimal | int | None) -> str:
    """R$ 1.234,56; a negative as -R$ 10,00 (pt-BR)."""
    if value is None:
        return "—"
    valor = Decimal(value)
    texto = numero_br(abs(valor))
    return f"-R$ {texto}" if valor < 0 else f"R$ {texto}"


def numero(value: Decimal | None) -> str:
    """A value without the currency sign, as the layout's "(R$)" columns show it."""
    return moeda(value).replace("R$ ", "")


def quantidade(value: Decimal) -> str:
    texto = f"{value.normalize():f}"
    return texto.replace(".", ",")


def data_br(value: date | datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def hora_br(value: datetime | None) -> str:
    return value.strftime("%H:%M") if value else ""


def documento_br(value: str) -> str:
    """A CNPJ or CPF with its punctuation; anything else as is."""
    if len(value) == 14 and value.isdigit():
        return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"
    if len(value) == 11 and value.isdigit():
        return f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}"
    return value


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("tissflow_statements", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    env.filters.update(
        moeda=moeda,
        numero=numero,
        quantidade=quantidade,
        data=data_br,
        hora=hora_br,
        documento=documento_br,
    )
    env.globals.update(
        SITUACAO=SITUACAO, SEM_GUIAS=OBSERVACAO_SEM_GUIAS, TIPO_DC=DEBITO_CREDITO_TIPO
    )
    return env


def render_html(d: Analise | Pagamento) -> str:
    template = "analise.html" if d.tipo == "analise" else "pagamento.html"
    return _env().get_template(template).render(d=d)


CHROMIUM = os.environ.get("TISSFLOW_CHROMIUM", "/usr/bin/chromium")
# No sandbox: the pod runs unprivileged without user namespaces, and what is printed is our
# own template (autoescaped values), with JavaScript off and the network cut.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
]
# A page prints this many statements (cleared to about:blank in between), then is closed.
PAGE_REUSES = 50
INDISPONIVEL = (
    "O gerador de PDF dos demonstrativos está indisponível no momento; tente novamente em "
    "instantes (o XML do demonstrativo continua disponível)."
)
log = logging.getLogger(__name__)


class ChromiumRenderer:
    """The PDF port the service layer takes: HTML printed by one long-lived headless
    Chromium (a fake in unit tests of the use cases may render nothing)."""

    def __init__(
        self,
        executable: str = CHROMIUM,
        *,
        max_concurrent: int = 2,
        timeout_s: float = 120.0,
    ) -> None:
        self.executable = executable
        self.max_concurrent = max_concurrent
        self.timeout_s = timeout_s
        self._start_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._idle: list[tuple[Any, int]] = []  # pages between prints, with their use count
        self._launching: asyncio.Lock | None = None
        self._slots: asyncio.Semaphore | None = None

    # -- the port ----------------------------------------------------------------------
    def pdf(self, documento: Any) -> bytes:
        return self.html_to_pdf(render_html(documento))

    def html_to_pdf(self, html: str) -> bytes:
        """Print `html` to an A4 PDF (blocking: call it off the event loop)."""
        if not os.access(self.executable, os.X_OK):
            log.error("Chromium ausente em %s", self.executable)
            raise GeradorPdfIndisponivel(INDISPONIVEL, {"motivo": "Chromium ausente"})
        future = asyncio.run_coroutine_threadsafe(self._print(html), self._engine_loop())
        try:
            return future.result(self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            log.error("Chromium não imprimiu o PDF em %.0f s", self.timeout_s)
            raise GeradorPdfIndisponivel(INDISPONIVEL, {"motivo": "tempo esgotado"}) from None

    def close(self) -> None:
        """Close the browser and the engine's thread (at exit; a later PDF starts again)."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._discard(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._loop = None

    # -- the engine's own thread and event loop --------------------------------------------
    def _engine_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None or not self._loop.is_running():
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                threading.Thread(target=run, name="chromium-pdf", daemon=True).start()
                started.wait()
                self._loop = loop
                self._launching = None
                self._slots = None
                atexit.register(self.close)
            return self._loop

    async def _print(self, html: str) -> bytes:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        async with self._slots:
            from playwright.async_api import Error as PlaywrightError

            for tentativa in (1, 2):
                browser, context = await self._browser_up()
                try:
                    return await self._print_on(context, html)
                except PlaywrightError as exc:
                    # A crashed page or browser: once more on a new page (and a relaunched
                    # browser if it died), then the engine is unavailable.
                    if tentativa == 2:
                        log.error("Chromium falhou ao imprimir o PDF: %s", exc)
                        raise GeradorPdfIndisponivel(
                            INDISPONIVEL, {"motivo": "falha do Chromium"}
                        ) from None
                    log.warning(
                        "Chromium falhou ao imprimir (navegador %s); tentando de novo: %s",
                        "vivo" if browser.is_connected() else "caído",
                        exc,
                    )
            raise AssertionError("unreachable")

    async def _print_on(self, context: Any, html: str) -> bytes:
        # A page left from an earlier print, else a new one: a new page starts a renderer
        # process, which costs more CPU than printing the 100 × 20 Análise itself.
        page, uses = self._idle.pop() if self._idle else (await context.new_page(), 0)
        kept = False
        try:
            await page.set_content(html, wait_until="load")
            pdf: bytes = await page.pdf(prefer_css_page_size=True, print_background=True)
            if uses + 1 < PAGE_REUSES:
                await page.goto("about:blank")  # the statement leaves the page's memory
                self._idle.append((page, uses + 1))
                kept = True
            return pdf
        finally:
            if not kept:
                with contextlib.suppress(Exception):
                    await page.close()

    async def _browser_up(self) -> tuple[Any, Any]:
        if self._launching is None:
            self._launching = asyncio.Lock()
        async with self._launching:
            if self._browser is not None and self._browser.is_connected():
                return self._browser, self._context
            if self._browser is not None:
                log.warning("Chromium caiu; relançando")
            await self._discard()
            try:
                from playwright.async_api import async_playwright

                self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.executable, args=CHROMIUM_ARGS, timeout=60_000
                )
                # One context for the browser's life (a page per render): JavaScript off,
                # no network; what a page needs is in its HTML.
                self._context = await self._browser.new_context(
                    java_script_enabled=False, offline=True
                )
                self._context.set_default_timeout(self.timeout_s * 1000)
            except Exception as exc:
                log.error("Chromium não iniciou: %s", exc)
                await self._discard()
                raise GeradorPdfIndisponivel(
                    INDISPONIVEL, {"motivo": "Chromium não iniciou"}
                ) from None
            return self._browser, self._context

    async def _discard(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = self._context = None
        self._idle = []
        if browser is not None:
            with contextlib.suppress(Exception):
                await browser.close()
        if playwright is not None:
            with contextlib.suppress(Exception):
                await playwright.stop()


@cache
def shared_renderer() -> ChromiumRenderer:
    """This process's one Chromium renderer."""
    return ChromiumRenderer()


def html_to_pdf(html: str) -> bytes:
    """`html` printed by this process's one Chromium."""
    return shared_renderer().html_to_pdf(html)


def render_pdf(d: Analise | Pagamento) -> bytes:
    return html_to_pdf(render_html(d))
