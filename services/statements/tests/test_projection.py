"""The projection: built from events only, idempotent, order-tolerant across topics, and
deterministic — replaying the topics yields byte-identical XML."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tissflow_contracts import DebitoCredito, Envelope
from tissflow_demo import statement_samples as samples
from tissflow_statements.adapters.memory import MemoryProjection, MemoryStatements
from tissflow_statements.service_layer import build, projection
from tissflow_statements.service_layer.ports import Dependencias

from .conftest import outbox_entry  # noqa: TID252


def eventos() -> tuple[list[Envelope], list[Envelope]]:
    """Two lotes (lote.sent) and their protocols' situations (status_changed)."""
    lote_a = samples.lote_sent("LA", n_guias=3, n_itens=4)
    lote_b = samples.lote_sent("LB", n_guias=1, n_itens=2, primeira_guia=9001, numero_lote="900888")
    lotes = [samples.envelope(lote_a, 1), samples.envelope(lote_b, 2)]
    at = lambda d: datetime(2026, 12, d, 10, 0, tzinfo=UTC)  # noqa: E731
    situacoes = [
        samples.status("PA", lote_a, 2, at(1)),
        samples.status("PA", lote_a, 5, at(2), guias=samples.analise_com_glosa(lote_a, "7.35")),
        samples.status("PA", lote_a, 3, at(3), data_pagamento=date(2026, 12, 15)),
        samples.status(
            "PA",
            lote_a,
            6,
            at(16),
            data_pagamento=date(2026, 12, 16),
            debitos_creditos=[
                DebitoCredito(indicador="debito", tipo="02", descricao="ISS", valor=Decimal("3.10"))
            ],
        ),
        samples.status("PB", lote_b, 5, at(4), valor_glosado=Decimal("0.99")),
        samples.status("PB", lote_b, 3, at(5), data_pagamento=date(2026, 12, 16)),
    ]
    return lotes, [samples.envelope(s, 10 + i) for i, s in enumerate(situacoes)]


def nova() -> Dependencias:
    return Dependencias(
        projection=MemoryProjection(),
        statements=MemoryStatements(),
        operadora=samples.PASA,
        renderer=None,  # type: ignore[arg-type]  # XML only here
        event=outbox_entry,
    )


async def alimentar(deps: Dependencias, envelopes: list[Envelope]) -> None:
    for env in envelopes:
        if env.type == "lote.sent":
            await projection.lote_sent(deps, env)
        else:
            await projection.status_changed(deps, env)


async def documentos(deps: Dependencias) -> list[bytes]:
    analise = await build.analise_de(deps, ["PA", "PB"])
    pagamento = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(date(2026, 12, 16), None)
    )
    competencia = await build.pagamento_de(
        deps, samples.ODONTO_ARTE, build.periodo_de(None, "2026-12")
    )
    return [build.render(deps, d, "xml") for d in (analise, pagamento, competencia)] + [
        build.render(deps, await build.do_indice(deps, sid), "xml")
        for sid in ("analise-PA", "pagamento-PA", "analise-PB", "pagamento-PB")
    ]


async def test_replaying_the_topics_yields_byte_identical_xml() -> None:
    lotes, situacoes = eventos()
    primeira = nova()
    await alimentar(primeira, lotes + situacoes)
    esperado = await documentos(primeira)

    # A replay: another consumer group from the start, each topic in its order but the
    # protocol events before the lotes, every event delivered twice.
    replay = nova()
    await alimentar(replay, [e for e in situacoes for _ in range(2)])
    await alimentar(replay, [e for e in lotes for _ in range(2)])
    assert await documentos(replay) == esperado

    # The same projection redelivered again changes nothing.
    await alimentar(primeira, situacoes + lotes)
    assert await documentos(primeira) == esperado


async def test_each_statement_is_announced_once_per_change() -> None:
    lotes, situacoes = eventos()
    deps = nova()
    await alimentar(deps, situacoes[:2])
    # The lote has not arrived: nothing to announce yet.
    assert deps.statements.published == []  # type: ignore[attr-defined]
    await alimentar(deps, lotes)
    await alimentar(deps, situacoes[2:] + situacoes)
    anunciados = [
        (e["payload"]["statement_id"], e["payload"]["data_pagamento"])
        for e in deps.statements.published  # type: ignore[attr-defined]
    ]
    assert anunciados == [
        ("analise-PA", None),
        ("pagamento-PA", "2026-12-15"),
        ("pagamento-PA", "2026-12-16"),  # Pagamento efetuado on another date
        ("analise-PB", None),
        ("pagamento-PB", "2026-12-16"),
    ]


async def test_an_older_event_does_not_undo_a_newer_one() -> None:
    lotes, situacoes = eventos()
    deps = nova()
    await alimentar(deps, lotes + situacoes[:4])
    await alimentar(deps, [situacoes[1]])  # the 5 again, with a new event id
    antigo = situacoes[1].model_copy(update={"event_id": situacoes[1].event_id.__class__(int=99)})
    await alimentar(deps, [antigo])
    estado = await deps.projection.protocolo("PA")
    assert estado is not None
    assert estado["status"] == 6 and estado["data_pagamento"] == "2026-12-16"
    # The analysis of the 5 survives the 3 and the 6 that did not repeat it.
    assert [g["valor_glosado"] for g in estado["guias"]] == ["7.35"] * 3
