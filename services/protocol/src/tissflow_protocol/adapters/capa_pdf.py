"""Capa do Lote: the cover a clinic prints for a sent lote (the operator's manual's), as
an HTML template (Jinja2) printed to PDF by WeasyPrint.

WeasyPrint needs Pango at run time (Debian: libpango-1.0-0, libpangoft2-1.0-0) and a
font (fonts-dejavu-core). Rendering is CPU work: the route runs it off the event loop.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from tissflow_contracts.formato import numero_br

from tissflow_protocol.service_layer.ports import Operadora

BRASILIA = ZoneInfo("America/Sao_Paulo")
TIPOS_GUIA = {
    "consulta": "Consulta",
    "sp_sadt": "Cobrança SP/SADT",
    "odontologia": "Tratamento Odontológico",
    "honorarios": "Honorários",
    "resumo_internacao": "Resumo de Internação",
}
ORIGEM = {"upload_xml": "Upload XML", "digitacao": "Digitação"}


def moeda(value: Any) -> str:
    """R$1.234,56 (pt-BR, as the manual's cover prints it)."""
    if value in (None, ""):
        return "R$0,00"
    return f"R${numero_br(Decimal(str(value)))}"


def documento_br(value: str | None) -> str:
    """A CNPJ (alphanumeric too) or CPF with its punctuation; anything else as is."""
    value = value or ""
    if len(value) == 14:
        return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"
    if len(value) == 11 and value.isdigit():
        return f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}"
    return value


def data_br(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(BRASILIA).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("tissflow_protocol", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters.update(moeda=moeda, documento=documento_br, data=data_br)
    return env


def resumo(doc: dict[str, Any]) -> dict[str, int]:
    """Guias apresentadas / com glosas, itens apresentados / com glosas."""
    lote = doc.get("guias_lote") or []
    analise = {g["numero_guia_prestador"]: g for g in doc.get("guias") or []}
    guias = len(lote) or doc.get("quantidade_guias") or len(analise)
    itens = sum(len(g.get("itens") or []) for g in lote)
    guias_glosa = sum(1 for g in analise.values() if Decimal(str(g["valor_glosado"])) > 0)
    itens_glosa = sum(
        1
        for g in analise.values()
        for i in g.get("itens") or []
        if Decimal(str(i.get("valor_glosado") or 0)) > 0
    )
    return {
        "guias": guias,
        "guias_glosa": guias_glosa,
        "itens": itens,
        "itens_glosa": itens_glosa,
    }


def render_html(doc: dict[str, Any], operadora: Operadora, impresso_em: datetime) -> str:
    prestador = doc.get("prestador") or {}
    guias = [g["numero_guia_prestador"] for g in doc.get("guias_lote") or []] or [
        g["numero_guia_prestador"] for g in doc.get("guias") or []
    ]
    return (
        _env()
        .get_template("capa.html")
        .render(
            p=doc,
            operadora=operadora,
            prestador_nome=prestador.get("nome") or doc["provider_id"],
            codigo=prestador.get("codigo_na_operadora") or doc["provider_id"],
            tipo_guia=TIPOS_GUIA.get(doc.get("tipo_guia") or "", doc.get("tipo_guia") or "—"),
            origem=ORIGEM.get(doc.get("canal") or "", doc.get("canal") or "—"),
            nf=doc.get("nota_fiscal") or {},
            resumo=resumo(doc),
            guias=guias,
            impresso_em=impresso_em.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M"),
        )
    )


def render_pdf(doc: dict[str, Any], operadora: Operadora, impresso_em: datetime) -> bytes:
    from weasyprint import HTML  # heavy import (Pango): only where a PDF is made

    return HTML(string=render_html(doc, operadora, impresso_em)).write_pdf()


def warm_up() -> None:
    """Import WeasyPrint once, off the request path."""
    import weasyprint  # noqa: F401
