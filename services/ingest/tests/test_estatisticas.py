"""The ops figures of the file registry: files per status per period, verdict times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tissflow_ingest.estatisticas import resumo_arquivos

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def arquivo(minuto: int, status: str, segundos: float | None) -> dict:
    created = T0 + timedelta(minutes=minuto)
    doc = {"created_at": created, "status": status, "revisions": [{"created_at": created}]}
    if segundos is not None:
        doc["updated_at"] = created + timedelta(seconds=segundos)
    return doc


def test_files_per_status_per_hour_and_verdict_times() -> None:
    docs = [
        arquivo(5, "importado", 2),
        arquivo(10, "invalido", 4),
        arquivo(20, "importado", 6),
        arquivo(70, "em_processamento", None),
        arquivo(-600, "importado", 1),  # before the window: left out
    ]
    r = resumo_arquivos(docs, T0, T0 + timedelta(hours=2), "hora")
    primeira, segunda = r["serie"][0], r["serie"][1]
    assert (primeira["importado"], primeira["invalido"], primeira["em_processamento"]) == (2, 1, 0)
    assert primeira["latencia_mediana"] == 4 and primeira["latencia_max"] == 6
    assert segunda["em_processamento"] == 1 and segunda["latencia_mediana"] is None
    assert r["total"] == {"em_processamento": 1, "importado": 2, "invalido": 1}
    assert len(r["serie"]) == 3  # 10h, 11h, 12h
    assert r["latencia_mediana"] == 4


def test_a_corrected_file_counts_from_its_current_revision() -> None:
    doc = arquivo(0, "importado", None)
    doc["revisions"].append({"created_at": T0 + timedelta(minutes=30)})
    doc["updated_at"] = T0 + timedelta(minutes=30, seconds=3)
    r = resumo_arquivos([doc], T0, T0, "dia")
    assert r["serie"][0]["latencia_mediana"] == 3
