"""Fifty clinics upload at once while clerks browse: every file is judged, once.

The short form of `make test-load` (`bench/load.py`): 50 clinics (the demo's two
provider logins) send a file each through the public API, arriving at the issue's 40 files
per second (the open loop `make test-load` runs for a minute), while two clerks page
through Histórico, Pesquisa de Lotes and Demonstrativos and download statements. What must hold
under that load is asserted: no upload refused, no file left without a verdict, none
judged twice, every list answering. The times are printed, never asserted (a shared
2-core machine); `make test-load` runs the long form and prints the same table.
"""

from __future__ import annotations

import asyncio

import pytest

from bench.load import report, run_load
from tests.support import Api, Stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_fifty_clinics_at_once_every_file_judged_once(stack: Stack, clinica: Api) -> None:
    out = asyncio.run(
        run_load(
            stack.services.url("gateway"),
            stack.kafka,
            clinics=50,
            duration=300,
            files=1,
            large_every=0,
            browsers=2,
            verdict_timeout=300,
            rate=40,
        )
    )
    print(report(out, "Carga curta (make test): 50 clínicas, 1 arquivo cada, 40 arquivos/s"))

    assert out.scheduled == 50
    assert out.refused == []
    assert len(out.uploaded) == 50
    assert out.lost == [], f"{len(out.lost)} arquivos sem veredito"
    assert out.duplicated == {}, "arquivos julgados mais de uma vez"
    assert out.browse_errors == []
    assert {"Histórico (/files)", "Pesquisa de Lotes (/lotes)"} <= set(out.browse)
    # What the clinic sees agrees with the verdicts read from Kafka.
    mine = [f for f in out.uploaded if out.logins[f] == "odontoarte"]
    assert len(mine) == 25
    # (ingest records the verdict from the same event the load generator read: a moment
    # later, maybe)
    for file_id in mine[:10]:
        wait_for(
            lambda f=file_id: clinica.get(f"/files/{f}").json()["status"] != "em_processamento",
            what=f"a situação do arquivo {file_id}",
        )
