"""validate is safe to call from several threads (shared schema and TUSS caches)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tissflow_demo.samples import build_lote, substituir
from tissflow_validation.engine import validate

from .conftest import codigos


def test_validate_em_paralelo(ctx):
    valido = build_lote("sp_sadt", n_guias=20, itens_por_guia=5)
    invalido = substituir(valido, "<ans:atendimentoRN>N<", "<ans:atendimentoRN>X<")
    versao_402 = build_lote("honorarios", n_guias=10, versao="4.02.00")
    trabalhos = [valido, invalido, versao_402] * 8
    with ThreadPoolExecutor(max_workers=6) as pool:
        resultados = list(pool.map(lambda c: validate(c, ctx), trabalhos))
    for content, r in zip(trabalhos, resultados, strict=True):
        if content is invalido:
            assert codigos(r) == ["5032"]
            assert r.critiques[0].xpath.endswith("guiaSP-SADT[1]/dadosBeneficiario/atendimentoRN")
        else:
            assert r.valido, [c.to_dict() for c in r.critiques]
