"""Registry look-ups: keys found by scanning the file, misses fetched exactly on demand."""

from __future__ import annotations

import asyncio

from tissflow_demo.samples import CNPJ_PADRAO, build_lote, carteiras_ativas
from tissflow_validation.service_layer.lookups import (
    carteiras_in,
    guias_in,
    lazy_registry,
    prestadores_in,
)


def test_scan_finds_the_keys_a_file_mentions() -> None:
    content = build_lote("sp_sadt", n_guias=3, numero_guia_inicial=41)
    assert guias_in(content) == ["41", "42", "43"]
    assert set(carteiras_in(content)) <= set(carteiras_ativas())
    assert CNPJ_PADRAO in prestadores_in(content)


def test_scan_ignores_the_namespace_prefix() -> None:
    content = b"<x:numeroCarteira> 123 </x:numeroCarteira><numeroCarteira>456</numeroCarteira>"
    assert carteiras_in(content) == ["123", "456"]


def test_registry_fetches_a_missed_key_from_a_worker_thread() -> None:
    table = {"A": 1, "B": 2}
    asked: list[list[str]] = []

    async def fetch(keys: list[str]) -> dict[str, int]:
        asked.append(keys)
        return {k: table[k] for k in keys if k in table}

    async def main() -> tuple[bool, bool, bool, int]:
        registry = await lazy_registry(["A", "Z"], fetch, asyncio.get_running_loop())
        results: dict[str, object] = {}

        def worker() -> None:  # the engine runs in a thread, like asyncio.to_thread
            results["a"] = "A" in registry
            results["b"] = registry.get("B")
            results["z"] = "Z" in registry

        await asyncio.to_thread(worker)
        return results["a"], results["b"] == 2, results["z"], len(asked)

    a, b, z, calls = asyncio.run(main())
    assert (a, b, z) == (True, True, False)
    assert calls == 2  # one prefetch for the file's keys, one for the key the scan missed


def test_alert_severity_keeps_the_file_valid() -> None:
    from tissflow_validation.engine import OperatorContext, RuleConfig, validate

    content = build_lote("consulta", carteiras=["77777777777777"], numero_guia_inicial=9)
    erro = validate(content, OperatorContext(registro_ans="331988", beneficiarios={}))
    assert not erro.valido and [c.codigo for c in erro.critiques] == ["1001"]
    alerta_ctx = OperatorContext(
        registro_ans="331988",
        beneficiarios={},
        rules={"1001": RuleConfig(severidade="alerta")},
    )
    alerta = validate(content, alerta_ctx)
    assert alerta.valido
    assert [(c.codigo, c.severidade) for c in alerta.critiques] == [("1001", "alerta")]


def test_a_file_must_come_from_the_provider_it_names() -> None:
    from tissflow_validation.engine import OperatorContext, validate

    outro = "11222333000181"  # a valid CNPJ of another clinic
    content = build_lote("consulta", cnpj=outro, numero_guia_inicial=11)
    ctx = OperatorContext(registro_ans="331988", prestador_remetente={CNPJ_PADRAO, "100234"})
    result = validate(content, ctx)
    assert not result.valido
    [critica] = result.critiques
    assert critica.codigo == "1206"
    assert outro in critica.mensagem and "outro prestador" in critica.mensagem
    assert critica.xpath.endswith("identificacaoPrestador/CNPJ")
    ok = validate(build_lote("consulta", numero_guia_inicial=12), ctx)
    assert ok.valido
