"""The demonstrativos as PDFs people print: Jinja2 templates printed by WeasyPrint.

pt-BR figures (R$ 1.234,56; a negative as -R$ 10,00), dates dd/mm/aaaa, A4 with page
numbers; tables repeat their header on every page and a guide's header is never left at
the foot of a page without its items (CSS `break-*` rules in `_base.html`). WeasyPrint
needs Pango at run time (Debian: libpango-1.0-0, libpangoft2-1.0-0) and a font
(fonts-dejavu-core). Rendering is CPU work: callers run it off the event loop.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from tissflow_contracts.dominios import DEBITO_CREDITO_TIPO
from tissflow_contracts.formato import numero_br

from tissflow_statements.domain.documentos import SITUACAO, Analise, Pagamento
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


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import (Pango): only where a PDF is made

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def render_pdf(d: Analise | Pagamento) -> bytes:
    return html_to_pdf(render_html(d))


class WeasyPrintRenderer:
    """The PDF port the service layer takes (a fake in unit tests renders nothing)."""

    def pdf(self, d: Any) -> bytes:
        return render_pdf(d)
