"""Charts of the ops and glosa pages, drawn on the server as SVG by pygal (a dependency
installed by `uv sync`; no CDN, no script in the browser).

Each function takes the figures a page already has and returns the SVG document; the pages
serve it as an image with its own Content-Security-Policy (the SVG carries its style).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pygal
from pygal.style import Style
from tissflow_contracts.formato import numero_br

LOCAL = ZoneInfo("America/Sao_Paulo")
STATUS = (
    ("importado", "Importado"),
    ("invalido", "Inválido"),
    ("em_processamento", "Em processamento"),
)
# The portal's palette (portal.css): ok, bad, wait, brand.
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1b2631",
    foreground_strong="#1b2631",
    foreground_subtle="#dbe3ec",
    colors=("#1b6e3a", "#b3261e", "#8a5a00", "#0b5d8f", "#7cc4ef", "#5b6b7c"),
    font_family="DejaVu Sans, sans-serif",
    # The SVG is drawn 760 wide and shown at about 520: sizes a bit larger than the page's.
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=16,
    title_font_size=19,
    value_font_size=14,
    no_data_font_size=22,
)
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _chart(kind: type[pygal.graph.graph.Graph], title: str, **config: Any) -> Any:
    defaults: dict[str, Any] = {
        "style": STYLE,
        "js": [],  # no script: the tooltips' script would come from pygal's site
        "disable_xml_declaration": True,
        "width": 760,
        "height": 360,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 4,
        "print_values": False,
        "no_data_text": "Sem dados no período",
        "truncate_legend": -1,
        "truncate_label": -1,
        "margin_bottom": 28,
        "legend_box_size": 14,
    }
    return kind(title=title, **{**defaults, **config})


def _contagens(chart: Any, maximo: float) -> None:
    """Whole numbers on the y axis of a count chart (about six labels)."""
    passo = max(1, math.ceil(maximo / 6))
    chart.y_labels = list(range(0, int(maximo) + passo + 1, passo))


def _escala(chart: Any, maximo: float) -> None:
    """About five round labels (1, 2 or 5 times a power of ten) from zero past `maximo`."""
    bruto = max(maximo, 1e-9) / 5
    potencia = 10 ** math.floor(math.log10(bruto))
    passo = next(m * potencia for m in (1, 2, 5, 10) if m * potencia >= bruto)
    chart.y_labels = [round(i * passo, 6) for i in range(math.ceil(maximo / passo) + 1)]


def _rotulo(inicio: str, passo: str) -> str:
    at = datetime.fromisoformat(inicio).astimezone(LOCAL)
    return at.strftime("%d/%m %Hh") if passo == "hora" else at.strftime("%d/%m")


def arquivos_por_status(stats: dict[str, Any] | None) -> str:
    """Stacked bars: files uploaded in each period, by their current status."""
    chart = _chart(pygal.StackedBar, "Arquivos por situação (por período de envio)")
    if stats:
        serie = stats["serie"]
        chart.x_labels = [_rotulo(p["inicio"], stats["passo"]) for p in serie]
        chart.x_labels_major_every = max(1, len(serie) // 6)
        chart.show_minor_x_labels = False
        chart.x_label_rotation = 25
        for key, label in STATUS:
            chart.add(label, [p.get(key, 0) for p in serie])
        _contagens(chart, max((sum(p.get(k, 0) for k, _ in STATUS) for p in serie), default=0))
    return chart.render(is_unicode=True)


def latencia(stats: dict[str, Any] | None) -> str:
    """Lines: median and 95th percentile of seconds from upload to verdict, per period."""
    chart = _chart(
        pygal.Line,
        "Tempo do envio ao veredito (segundos)",
        allow_interruptions=True,
        include_x_axis=True,
        value_formatter=lambda v: f"{v:g}".replace(".", ","),
    )
    if stats:
        serie = stats["serie"]
        chart.x_labels = [_rotulo(p["inicio"], stats["passo"]) for p in serie]
        chart.x_labels_major_every = max(1, len(serie) // 6)
        chart.show_minor_x_labels = False
        chart.x_label_rotation = 25
        if any(p["latencia_mediana"] is not None for p in serie):
            chart.add("Mediana", [p["latencia_mediana"] for p in serie])
            chart.add("Percentil 95", [p["latencia_p95"] for p in serie])
            _escala(chart, max(p["latencia_p95"] or 0 for p in serie))
    return chart.render(is_unicode=True)


def _por_servico(titulo: str, serie: str, valores: dict[str, int]) -> str:
    chart = _chart(pygal.Bar, titulo, show_legend=False, print_values=True)
    chart.x_labels = list(valores)
    # A zero bar has no height: the printed value still says "0" above each service.
    chart.add(serie, list(valores.values()))
    _contagens(chart, max(valores.values(), default=0))
    return chart.render(is_unicode=True)


def lag(grupos: list[dict[str, Any]]) -> str:
    """Bars: messages not yet consumed, per service (its consumer group)."""
    return _por_servico(
        "Atraso dos consumidores (mensagens a consumir)",
        "Mensagens a consumir",
        {g["service"]: g["lag"] for g in grupos},
    )


def outbox(resumos: list[dict[str, Any]]) -> str:
    """Bars: events written but not yet published, per service."""
    return _por_servico(
        "Eventos aguardando publicação (outbox)",
        "Eventos pendentes",
        {
            r["service"]: sum(c["pendentes"] for c in r["outbox"])
            for r in resumos
            if r.get("outbox") is not None
        },
    )


def mensagens_paradas(resumos: list[dict[str, Any]]) -> str:
    """Stacked bars: parked messages per service, pending and replayed."""
    com_dados = [r for r in resumos if r.get("mensagens_paradas") is not None]
    chart = _chart(pygal.StackedBar, "Mensagens paradas (DLQ) por serviço")
    chart.x_labels = [r["service"] for r in com_dados]
    chart.add("Pendentes", [r["mensagens_paradas"]["pendente"] for r in com_dados])
    chart.add("Reprocessadas", [r["mensagens_paradas"]["reprocessado"] for r in com_dados])
    _contagens(chart, max((sum(r["mensagens_paradas"].values()) for r in com_dados), default=0))
    return chart.render(is_unicode=True)


def _reais(valor: float) -> str:
    return f"R$ {numero_br(valor)}"


def glosa_por_mes(meses: list[dict[str, Any]]) -> str:
    """Bars per month: value presented, glosa inicial and glosa final (after recursos)."""
    chart = _chart(
        pygal.Bar,
        "Glosa por mês de protocolo (R$)",
        value_formatter=_reais,
        y_labels_major_count=6,
        show_minor_y_labels=False,
    )
    chart.x_labels = [m["nome"] for m in meses]
    chart.add("Apresentado", [float(Decimal(m["valor_apresentado"])) for m in meses])
    chart.add("Glosa inicial", [float(Decimal(m["glosa_inicial"])) for m in meses])
    chart.add("Glosa final", [float(Decimal(m["glosa_final"])) for m in meses])
    return chart.render(is_unicode=True)
