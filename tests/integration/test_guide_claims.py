"""Guide numbers are claimed atomically in the real database: of two files of the same
provider holding the same guide and validated at the same time, only one is imported."""

from __future__ import annotations

import importlib
import sys

import pytest
from tissflow_validation.engine import OperatorContext, validate
from tissflow_validation.samples import build_lote

from tests.support import Stack, fresh_guia

pytestmark = pytest.mark.integration


@pytest.fixture
def app_module(stack: Stack, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("TISSFLOW_DB_PREFIX", f"{stack.prefix}claims")
    sys.modules.pop("tissflow_validation.app", None)
    module = importlib.import_module("tissflow_validation.app")
    yield module
    sys.modules.pop("tissflow_validation.app", None)


async def test_two_files_racing_for_a_guide_import_once(app_module) -> None:  # noqa: ANN001
    numero = fresh_guia()
    ctx = OperatorContext(registro_ans="331988")
    # Both judged valid by the engine before either claimed: the race the claim closes.
    a = validate(build_lote("consulta", numero_guia_inicial=numero), ctx)
    b = validate(build_lote("consulta", n_guias=2, numero_guia_inicial=numero), ctx)
    assert a.valido and b.valido
    try:
        assert await app_module.claim_guides("07906129000102", "file-a", 1, a) == []
        taken = await app_module.claim_guides("07906129000102", "file-b", 1, b)
        assert [g.numero_guia_prestador for g in taken] == [str(numero)]
        app_module.mark_presented(b, taken)
        assert not b.valido
        assert [(c.codigo, c.numero_guia) for c in b.critiques] == [("1308", str(numero))]
        # The loser's other guide was released, the winner's kept; a retry of the winner
        # (a redelivery) finds its own claims and stays valid.
        holders = {d["_id"]: d["file_id"] async for d in app_module.guias.find({}, {"file_id": 1})}
        assert holders == {f"07906129000102:{numero}": "file-a"}
        assert await app_module.claim_guides("07906129000102", "file-a", 1, a) == []
    finally:
        await app_module.runtime.mongo.drop_database(app_module.runtime.db.name)
        await app_module.runtime.mongo.close()
