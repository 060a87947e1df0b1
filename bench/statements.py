"""Demonstrativos benchmark: a protocol of 100 guides × 20 items (Análise de Conta as TISS
XML and as PDF) and a Demonstrativo de Pagamento of 200 protocols, built by the statements
use cases on the in-memory projection and printed by the service's PDF engine (one
headless Chromium per process, ADR 0017).

Baseline measured in the same run with the same engine: the bare HTML of the same rows —
one plain table, no CSS, no page rules — so the ratio shows what the printable layout (A4,
repeated headers, guide blocks kept whole, page numbers) costs on top of putting the text
on pages at all.

Honest numbers: medians of `repeat` runs; wall time end to end (HTML, Chromium's layout
and PDF, bytes back); CPU of this process and, separately, of the Chromium processes (the
Playwright driver, the browser and its renderers: all descendants of this process, read
from /proc with the CPU of renderers that exited and were reaped). The browser's launch is
timed apart: once per service process, not per statement.
"""

from __future__ import annotations

import asyncio
import html
import os
import time
from datetime import UTC, date, datetime, timedelta

from tissflow_demo import statement_samples as samples
from tissflow_statements.adapters.memory import MemoryProjection, MemoryStatements
from tissflow_statements.adapters.pdf import html_to_pdf, shared_renderer
from tissflow_statements.domain.documentos import Analise, Pagamento
from tissflow_statements.service_layer import build, projection
from tissflow_statements.service_layer.ports import Dependencias

from bench.report import median, ms, table


def _deps() -> Dependencias:
    return Dependencias(
        projection=MemoryProjection(),
        statements=MemoryStatements(),
        operadora=samples.PASA,
        renderer=shared_renderer(),
        event=lambda payload, **_: {},
    )


async def _protocolo_grande(deps: Dependencias) -> Analise:
    lote = samples.lote_sent("LBENCH", n_guias=100, n_itens=20)
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    await projection.lote_sent(deps, samples.envelope(lote, 1))
    analisado = samples.status("BENCH100", lote, 5, at, guias=samples.analise_com_glosa(lote))
    await projection.status_changed(deps, samples.envelope(analisado, 2))
    return await build.analise_de(deps, ["BENCH100"])


async def _duzentos_pagos(deps: Dependencias) -> Pagamento:
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    for n in range(200):
        lote = samples.lote_sent(f"LP{n}", n_guias=3, n_itens=2, numero_lote=f"8{n:05d}")
        await projection.lote_sent(deps, samples.envelope(lote, 1000 + n * 3))
        for i, (situacao, extra) in enumerate(
            ((5, {}), (3, {"data_pagamento": date(2026, 12, 1) + timedelta(days=n % 28)}))
        ):
            evento = samples.status(f"P{n:05d}", lote, situacao, at + timedelta(hours=i), **extra)
            await projection.status_changed(deps, samples.envelope(evento, 1001 + n * 3 + i))
    return await build.pagamento_de(deps, samples.ODONTO_ARTE, build.periodo_de(None, "2026-12"))


def _bare_html(d: Analise) -> str:
    """The same rows in one plain table: the engine's floor for this much text."""
    rows = []
    for c in d.contas:
        for g in c.guias:
            rows.append(f"<tr><td colspan=11>{html.escape(g.numero_guia_prestador)}</td></tr>")
            for i in g.itens:
                cells = (
                    i.data_realizacao,
                    i.tabela,
                    i.codigo,
                    i.descricao,
                    i.grau_participacao,
                    i.valor_informado,
                    i.quantidade,
                    i.valor_processado,
                    i.valor_liberado,
                    i.valor_glosado,
                    ",".join(x.codigo for x in i.glosas),
                )
                rows.append(
                    "<tr>"
                    + "".join(f"<td>{html.escape(str(x or ''))}</td>" for x in cells)
                    + "</tr>"
                )
    return "<html><body><table>" + "".join(rows) + "</table></body></html>"


_TICK = os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    """CPU seconds of every live descendant of this process, each with the CPU of its own
    exited (reaped) children: the Playwright driver and Chromium's processes."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = sum(int(x) for x in fields[11:15]) / _TICK  # u+s time, cu+cs
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    mine.discard(os.getpid())
    return sum(cpu[pid] for pid in mine)


def _time(fn, repeat: int) -> tuple[float, float, float, object]:  # type: ignore[no-untyped-def]
    """Medians of wall-clock seconds, this process's CPU seconds and Chromium's CPU
    seconds (the descendants') of `fn`."""
    wall, cpu, child = [], [], []
    result = None
    for _ in range(repeat):
        started_child = _children_cpu()
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        child.append(_children_cpu() - started_child)
    return median(wall), median(cpu), median(child), result


def run(repeat: int = 5) -> str:
    deps = _deps()
    analise = asyncio.run(_protocolo_grande(deps))
    pagamento = asyncio.run(_duzentos_pagos(_deps()))
    repeat = max(1, repeat)
    # The browser starts once per service process (on its first PDF): timed apart.
    t_launch, c_launch, k_launch, _ = _time(lambda: html_to_pdf("<p>aquecimento</p>"), 1)
    t_xml, c_xml, k_xml, xml = _time(lambda: build.render(deps, analise, "xml"), repeat)
    t_pdf, c_pdf, k_pdf, pdf = _time(lambda: build.render(deps, analise, "pdf"), repeat)
    t_bare, c_bare, k_bare, _ = _time(lambda: html_to_pdf(_bare_html(analise)), repeat)
    t_both, c_both, k_both, _ = _time(
        lambda: (build.render(deps, analise, "xml"), build.render(deps, analise, "pdf")), repeat
    )
    t_pxml, c_pxml, k_pxml, pag_xml = _time(lambda: build.render(deps, pagamento, "xml"), repeat)
    t_ppdf, c_ppdf, k_ppdf, pag_pdf = _time(lambda: build.render(deps, pagamento, "pdf"), repeat)
    shared_renderer().close()
    itens = sum(len(g.itens) for g in analise.contas[0].guias)

    def kb(content: object) -> str:
        return f"{len(content) // 1024} kB"  # type: ignore[arg-type]

    def razao(wall: float, cpu: float) -> str:
        texto = f"{wall / t_bare:.2f}× (CPU {cpu / (c_bare + k_bare):.2f}×)"
        return texto.replace(".", ",")

    def veredito(seconds: float) -> str:
        return "ok" if seconds < 3 else "ACIMA"

    carga = os.getloadavg()[0]
    rows = [
        [
            "Lançar o Chromium (1× por processo)",
            "—",
            ms(t_launch),
            ms(c_launch),
            ms(k_launch),
            "—",
            "—",
        ],
        [
            "Análise, XML (XSD + hash)",
            "100 guias × 20 itens",
            ms(t_xml),
            ms(c_xml),
            ms(k_xml),
            kb(xml),
            "—",
        ],
        [
            "Análise, PDF",
            f"{itens} itens",
            ms(t_pdf),
            ms(c_pdf),
            ms(k_pdf),
            kb(pdf),
            razao(t_pdf, c_pdf + k_pdf),
        ],
        [
            "  base: HTML cru, mesmo motor",
            f"{itens} linhas",
            ms(t_bare),
            ms(c_bare),
            ms(k_bare),
            "—",
            "1,00×",
        ],
        [
            f"  Análise XML + PDF (meta < 3 s: tempo {veredito(t_both)}, "
            f"CPU {veredito(c_both + k_both)})",
            "de ponta a ponta",
            ms(t_both),
            ms(c_both),
            ms(k_both),
            "—",
            razao(t_both, c_both + k_both),
        ],
        [
            "Pagamento, XML (competência)",
            "200 protocolos",
            ms(t_pxml),
            ms(c_pxml),
            ms(k_pxml),
            kb(pag_xml),
            "—",
        ],
        [
            "Pagamento, PDF (competência)",
            "200 protocolos",
            ms(t_ppdf),
            ms(c_ppdf),
            ms(k_ppdf),
            kb(pag_pdf),
            "—",
        ],
    ]
    return table(
        f"Demonstrativos (mediana de {repeat}; PDF pelo Chromium headless; razão: tempo do "
        "PDF / tempo do HTML cru no mesmo motor, e a de CPU somando Python e Chromium; "
        f"carga média da máquina no fim: {carga:.1f} em {os.cpu_count()} núcleos)",
        ["o quê", "tamanho", "tempo", "CPU Python", "CPU Chromium", "bytes", "razão"],
        rows,
    )


if __name__ == "__main__":
    print(run())
