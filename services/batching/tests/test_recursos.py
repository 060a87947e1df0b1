"""The value a recurso de glosa recovered reaches the lote (`recurso.answered`): the
Detalhes do Lote and the Pesquisa show it apart from the glosa inicial, with the glosa
final and liberado it implies; once per event."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tissflow_batching.domain import ConfigOperadora
from tissflow_batching.service_layer import lotes
from tissflow_batching.service_layer.recursos import apply_recurso_answered
from tissflow_contracts import AnaliseGuia, RecursoAnswered
from tissflow_contracts import ProtocoloStatusChanged as StatusChanged

from services.batching.tests.fakes import fake_deps
from services.batching.tests.test_lote_use_cases import validated


def answered(lote_id: str, recurso_id: str, acatado: str) -> RecursoAnswered:
    return RecursoAnswered(
        recurso_id=recurso_id,
        provider_id="07906129000102",
        peg="2026000001",
        lote_id=lote_id,
        numero_guia_prestador="20300965",
        numero_protocolo_recurso="2026000003",
        itens=[
            {
                "linha_id": "20300965:G1705",
                "codigo_glosa": "1705",
                "valor_recursado": "17.62",
                "acatado": True,
                "valor_acatado": acatado,
                "justificativa": "Em parte.",
            }
        ],
        valor_total_recursado=Decimal("17.62"),
        valor_total_acatado=Decimal(acatado),
        answered_by="operadora",
        answered_at=datetime(2026, 5, 2, tzinfo=UTC),
    )


async def test_the_recovered_value_reaches_the_lote_once() -> None:
    deps = fake_deps()
    doc = await lotes.open_lote_from_file(deps, validated(), "e1", "c1")
    assert doc
    changed = StatusChanged(
        peg="2026000001",
        lote_id=doc["_id"],
        provider_id=doc["provider_id"],
        registro_ans="331988",
        numero_lote=doc["numero_lote"],
        status=5,
        guias=[
            AnaliseGuia(
                numero_guia_prestador="20300965",
                valor_processado=Decimal("317.62"),
                valor_liberado=Decimal("300"),
                valor_glosado=Decimal("17.62"),
            )
        ],
        changed_at=datetime(2026, 4, 18, tzinfo=UTC),
    )
    await lotes.apply_protocol_status(deps, changed, "ev-1")

    def view() -> dict:
        stored = deps.lotes.docs[doc["_id"]]  # type: ignore[attr-defined]
        return lotes.public(stored, ConfigOperadora(), date(2026, 5, 3))

    assert view()["valor_recuperado"] == "0.00"
    event = answered(doc["_id"], "R1", "10.00")
    assert await apply_recurso_answered(deps, event, "ev-2")
    assert await apply_recurso_answered(deps, event, "ev-2") is None  # redelivery
    lote = view()
    assert lote["valor_glosado"] == "17.62"  # the glosa inicial, as analysed
    assert (lote["valor_recursado"], lote["valor_recuperado"]) == ("17.62", "10.00")
    assert (lote["valor_glosado_final"], lote["valor_liberado_final"]) == ("7.62", "310.00")
    guia = lote["guias"][0]
    assert (guia["valor_recuperado"], guia["valor_glosado_final"]) == ("10.00", "7.62")
    assert "recuperado" in lote["log"][-1]["detalhe"]

    # A later status change (Faturado) keeps what the recursos recovered.
    await lotes.apply_protocol_status(
        deps,
        changed.model_copy(update={"status": 3, "changed_at": datetime(2026, 5, 4, tzinfo=UTC)}),
        "ev-3",
    )
    await apply_recurso_answered(deps, answered(doc["_id"], "R2", "2.00"), "ev-4")
    assert (view()["valor_recuperado"], view()["valor_glosado_final"]) == ("12.00", "5.62")
