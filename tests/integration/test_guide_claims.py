"""Guide numbers are claimed atomically in the real database: of two files of the same
provider holding the same guide and validated at the same time, only one is imported."""

from __future__ import annotations

import pytest
from tissflow_demo.samples import build_lote
from tissflow_runtime.settings import ServiceSettings
from tissflow_validation.bootstrap import Validation, build
from tissflow_validation.engine import OperatorContext, validate
from tissflow_validation.service_layer.judge import claim_guides, mark_presented

from tests.support import Stack, fresh_guia

pytestmark = pytest.mark.integration


@pytest.fixture
def service(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Validation:
    monkeypatch.setenv("TISSFLOW_DB_PREFIX", f"{stack.prefix}claims")
    return build(ServiceSettings())


async def test_two_files_racing_for_a_guide_import_once(service: Validation) -> None:
    guides = service.adapters.guides
    numero = fresh_guia()
    ctx = OperatorContext(registro_ans="331988")
    # Both judged valid by the engine before either claimed: the race the claim closes.
    a = validate(build_lote("consulta", numero_guia_inicial=numero), ctx)
    b = validate(build_lote("consulta", n_guias=2, numero_guia_inicial=numero), ctx)
    assert a.valido and b.valido
    try:
        assert await claim_guides(guides, "07906129000102", "file-a", 1, a) == []
        taken = await claim_guides(guides, "07906129000102", "file-b", 1, b)
        assert [g.numero_guia_prestador for g in taken] == [str(numero)]
        mark_presented(b, taken)
        assert not b.valido
        assert [(c.codigo, c.numero_guia) for c in b.critiques] == [("1308", str(numero))]
        # The loser's other guide was released, the winner's kept; a retry of the winner
        # (a redelivery) finds its own claims and stays valid.
        holders = {
            d["_id"]: d["file_id"]
            async for d in service.runtime.db["guias"].find({}, {"file_id": 1})
        }
        assert holders == {f"07906129000102:{numero}": "file-a"}
        assert await claim_guides(guides, "07906129000102", "file-a", 1, a) == []
    finally:
        await service.runtime.mongo.drop_database(service.runtime.db.name)
        await service.runtime.mongo.close()
