"""The critiques validation gave, counted per code, provider, guide type and month."""

from __future__ import annotations

from datetime import UTC, datetime

from tissflow_validation.entrypoints.estatisticas import contar_criticas


def resultado(provider: str, at: datetime, *codigos: str) -> dict:
    return {
        "provider_id": provider,
        "validated_at": at,
        "result": {
            "tipo_guia": "consulta",
            "critiques": [{"codigo": c, "descricao": f"descr {c}"} for c in codigos],
        },
    }


def test_counts_per_code_provider_and_month_in_sao_paulo_time() -> None:
    docs = [
        resultado("A", datetime(2026, 11, 3, tzinfo=UTC), "1001", "1001", "1206"),
        # 01/12 02:00 UTC is still 30/11 in São Paulo.
        resultado("A", datetime(2026, 12, 1, 2, tzinfo=UTC), "1001"),
        resultado("B", datetime(2026, 11, 5, tzinfo=UTC), "1001"),
    ]
    rows = {
        (r["codigo"], r["provider_id"], r["mes"]): r["quantidade"] for r in contar_criticas(docs)
    }
    assert rows == {
        ("1001", "A", "2026-11"): 3,
        ("1206", "A", "2026-11"): 1,
        ("1001", "B", "2026-11"): 1,
    }
