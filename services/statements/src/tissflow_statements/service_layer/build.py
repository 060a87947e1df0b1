"""Use cases that build a statement from the projection, and its XML or PDF.

Nothing here calls another service: the facts are the projection's. The XML is checked
against the ANS XSD before it leaves (a failure is a bug, reported as such).
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date
from typing import Any, Literal

from tissflow_tiss import erros_de_schema

from tissflow_statements.domain import documentos
from tissflow_statements.domain.conta import Conta, conta_de, money
from tissflow_statements.domain.documentos import Analise, Pagamento, Periodo
from tissflow_statements.domain.errors import NaoEncontrado, PedidoInvalido
from tissflow_statements.domain.xml import analise_xml, pagamento_xml
from tissflow_statements.service_layer.ports import Dependencias

Formato = Literal["xml", "pdf"]
MEDIA = {"xml": "application/xml", "pdf": "application/pdf"}


class XmlForaDoPadrao(Exception):
    """A statement the XSD refuses: a defect of ours, never the clinic's input."""


async def _contas(deps: Dependencias, protocolos: list[dict[str, Any]]) -> list[Conta]:
    lotes = await deps.projection.lotes(sorted({p["lote_id"] for p in protocolos}))
    return [conta_de(lotes.get(p["lote_id"]), p) for p in protocolos]


async def analise_de(
    deps: Dependencias, pegs: list[str], provider_id: str | None = None
) -> Analise:
    """Análise de Conta of the given protocols (1–30), of `provider_id` when given."""
    pegs = list(dict.fromkeys(p.strip() for p in pegs if p.strip()))
    if len(pegs) > documentos.MAX_PROTOCOLOS:
        raise PedidoInvalido(
            f"Um demonstrativo cobre no máximo {documentos.MAX_PROTOCOLOS} protocolos "
            f"({len(pegs)} pedidos).",
            {"maximo": documentos.MAX_PROTOCOLOS, "pedidos": len(pegs)},
        )
    achados = {p["peg"]: p for p in await deps.projection.protocolos(pegs)}
    faltam = [
        peg
        for peg in pegs
        if peg not in achados or (provider_id and achados[peg]["provider_id"] != provider_id)
    ]
    if faltam:
        raise NaoEncontrado(
            f"Protocolo não encontrado: {', '.join(faltam)}.", {"protocolos": faltam}
        )
    return documentos.analise(deps.operadora, await _contas(deps, list(achados.values())))


async def pagamento_de(deps: Dependencias, provider_id: str, periodo: Periodo) -> Pagamento:
    """Demonstrativo de Pagamento of every protocol of the provider paid in `periodo`, with
    the recursos de glosa accepted since each previous payment as credits."""
    protocolos = await deps.projection.pagos_entre(
        provider_id, periodo.inicio.isoformat(), periodo.fim.isoformat()
    )
    creditos = [
        documentos.CreditoRecurso(
            recurso_id=r["recurso_id"],
            peg=r["peg"],
            numero_guia_prestador=r["numero_guia_prestador"],
            numero_protocolo_recurso=r["numero_protocolo_recurso"],
            valor=money(r["valor_total_acatado"]),
            respondido_em=date.fromisoformat(str(r["answered_at"])[:10]),
        )
        for r in await deps.projection.recursos(provider_id)
    ]
    datas = [date.fromisoformat(d) for d in await deps.projection.datas_pagas(provider_id)]
    return documentos.pagamento(
        deps.operadora,
        periodo,
        await _contas(deps, protocolos),
        recursos=documentos.creditos_por_data(creditos, datas),
    )


async def do_indice(deps: Dependencias, statement_id: str) -> Analise | Pagamento:
    """The document of a per-protocol statement, as its protocol stands now."""
    record = await deps.statements.get(statement_id)
    if record is None:
        raise NaoEncontrado("Demonstrativo não encontrado.")
    if record["tipo"] == "analise":
        return await analise_de(deps, [record["peg"]])
    protocolos = await deps.projection.protocolos([record["peg"]])
    contas = await _contas(deps, protocolos)
    if not contas or contas[0].data_pagamento is None:
        raise NaoEncontrado("Demonstrativo não encontrado.")
    return await documento_de(deps, "pagamento", contas[0])


async def documento_de(deps: Dependencias, tipo: str, conta: Conta) -> Analise | Pagamento:
    """The per-protocol statement of `tipo` for one protocol's account."""
    if tipo == "analise":
        return documentos.analise(deps.operadora, [conta])
    if conta.data_pagamento is None:
        raise NaoEncontrado("Demonstrativo não encontrado.")
    return documentos.pagamento(
        deps.operadora, Periodo.por_data(conta.data_pagamento), [conta], numero=conta.peg
    )


def render(deps: Dependencias, documento: Analise | Pagamento, formato: Formato) -> bytes:
    """The statement's bytes: TISS XML (XSD-checked) or PDF."""
    if formato == "pdf":
        return deps.renderer.pdf(documento)
    xml = analise_xml(documento) if isinstance(documento, Analise) else pagamento_xml(documento)
    if problemas := erros_de_schema(xml):
        raise XmlForaDoPadrao(f"{documento.titulo} {documento.numero}: {problemas[:3]}")
    return xml


def fingerprint(documento: Analise | Pagamento, formato: Formato) -> str:
    """What the document states, hashed: frozen dataclasses of values have a stable repr,
    so the same facts give the same key (and the same bytes) after any replay."""
    digest = hashlib.sha256(repr(documento).encode(), usedforsecurity=False).hexdigest()
    return f"{documento.tipo}.{formato}.{digest}"


async def documento_bytes(
    deps: Dependencias, documento: Analise | Pagamento, formato: Formato
) -> bytes:
    """The statement's bytes, rendered once per content (off the event loop) and cached."""
    key = fingerprint(documento, formato)
    if deps.cache is not None and (cached := await deps.cache.get(key)) is not None:
        return cached
    content = await asyncio.to_thread(render, deps, documento, formato)
    if deps.cache is not None:
        await deps.cache.put(key, content)
    return content


async def aquecer(deps: Dependencias, documento: Analise | Pagamento) -> None:
    """Render the XML and the PDF of a statement into the cache."""
    for formato in ("xml", "pdf"):
        await documento_bytes(deps, documento, formato)


def periodo_de(data: date | None, competencia: str | None) -> Periodo:
    """The period of a payment statement request: a date, or a competência "aaaa-mm"
    (also "mm/aaaa"); exactly one of them."""
    if (data is None) == (not competencia):
        raise PedidoInvalido(
            "Informe a data de pagamento ou a competência (mês/ano), uma das duas."
        )
    if data is not None:
        return Periodo.por_data(data)
    texto = (competencia or "").strip()
    try:
        if "/" in texto:
            mes, ano = texto.split("/")
        else:
            ano, mes = texto.split("-")
        return Periodo.por_competencia(int(ano), int(mes))
    except ValueError:
        raise PedidoInvalido(
            f"Competência inválida: {texto!r} (use aaaa-mm ou mm/aaaa).", {"competencia": texto}
        ) from None
