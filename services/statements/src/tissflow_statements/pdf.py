"""The demonstrativo as a PDF a clinic files: an HTML template (Jinja2) printed by WeasyPrint.

WeasyPrint needs Pango at run time (Debian: libpango-1.0-0, libpangoft2-1.0-0) and a font
(fonts-dejavu-core). Rendering is CPU work: the service runs it off the event loop.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from tissflow_statements.documento import OBSERVACAO_SEM_GUIAS, Demonstrativo

SITUACAO = {
    1: "Recebido",
    2: "Em análise",
    3: "Liberado para pagamento",
    4: "Encerrado sem pagamento",
    5: "Analisado e aguardando liberação para pagamento",
    6: "Pagamento efetuado",
    7: "Não localizado",
    8: "Aguardando informação complementar",
    9: "Cancelado",
    10: "Bloqueio judicial - prestador",
}


def moeda(value: Decimal | None) -> str:
    """R$ 1.234,56 (pt-BR)."""
    if value is None:
        return "—"
    texto = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"R$ {texto}"


def data_br(value: date | datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


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
    )
    env.filters.update(moeda=moeda, data=data_br, documento=documento_br)
    return env


def render_html(d: Demonstrativo) -> str:
    return (
        _env()
        .get_template("demonstrativo.html")
        .render(
            d=d, situacao=SITUACAO.get(d.situacao, str(d.situacao)), sem_guias=OBSERVACAO_SEM_GUIAS
        )
    )


def render_pdf(d: Demonstrativo) -> bytes:
    from weasyprint import HTML  # heavy import (Pango): only where a PDF is made

    return HTML(string=render_html(d)).write_pdf()
