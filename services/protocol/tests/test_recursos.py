"""The value a recurso de glosa recovered reaches the protocol (`recurso.answered`): shown
apart from the glosa inicial, with the glosa final and liberado it implies; once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from tissflow_contracts import RecursoAnswered
from tissflow_protocol.service_layer import use_cases as uc
from tissflow_protocol.service_layer.recursos import apply_recurso_answered

from services.protocol.tests.test_use_cases import analise, deps, receive


def answered(peg: str, recurso_id: str, acatado: str, guia: str = "7001") -> RecursoAnswered:
    return RecursoAnswered(
        recurso_id=recurso_id,
        provider_id="07906129000102",
        peg=peg,
        lote_id="L1",
        numero_guia_prestador=guia,
        numero_protocolo_recurso="2026000007",
        itens=[
            {
                "linha_id": f"{guia}:1",
                "sequencial_item": 1,
                "codigo_glosa": "1705",
                "valor_recursado": "6.00",
                "acatado": Decimal(acatado) > 0,
                "valor_acatado": acatado,
                "justificativa": None if acatado == "6.00" else "Em parte.",
            }
        ],
        valor_total_recursado=Decimal("6.00"),
        valor_total_acatado=Decimal(acatado),
        answered_by="operadora",
        answered_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    )


def test_the_recovered_value_reaches_the_protocol_once() -> None:
    d = deps()
    peg = receive(d)["_id"]
    asyncio.run(uc.change_status(d, peg, uc.StatusChange(status=2, by="op")))
    asyncio.run(uc.change_status(d, peg, uc.StatusChange(status=5, by="op", guias=analise())))
    before = uc.public(d.repo.docs[peg])  # type: ignore[attr-defined]
    assert before["valor_glosado"] == "6.00" and before["valor_recuperado"] == "0.00"

    event = answered(peg, "R1", "4.00")
    assert asyncio.run(apply_recurso_answered(d, event, "E1")) is not None
    assert asyncio.run(apply_recurso_answered(d, event, "E1")) is None  # redelivery
    p = uc.public(d.repo.docs[peg])  # type: ignore[attr-defined]
    assert p["valor_glosado"] == "6.00"  # the glosa inicial stays as analysed
    assert (p["valor_recursado"], p["valor_recuperado"]) == ("6.00", "4.00")
    assert p["valor_glosado_final"] == "2.00"
    assert p["valor_liberado_final"] == str(Decimal(p["valor_liberado"]) + 4)
    guia = next(g for g in p["guias"] if g["numero_guia_prestador"] == "7001")
    assert (guia["valor_recuperado"], guia["valor_glosado_final"]) == ("4.00", "2.00")

    # A second recurso of the same protocol adds to the first; none overwrites the other.
    asyncio.run(apply_recurso_answered(d, answered(peg, "R2", "1.00"), "E2"))
    p = uc.public(d.repo.docs[peg])  # type: ignore[attr-defined]
    assert (p["valor_recuperado"], p["valor_glosado_final"]) == ("5.00", "1.00")
    assert p["recursos_respondidos"] == 2


def test_an_answer_for_an_unknown_protocol_changes_nothing() -> None:
    d = deps()
    assert (
        asyncio.run(apply_recurso_answered(d, answered("2026999999", "R1", "1.00"), "E1")) is None
    )
