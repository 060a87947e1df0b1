"""A file's correction state as data (`tissflow_validation.domain.correcoes`) and the operator's
rule catalogue (`tissflow_validation.domain.regras_operadora`), checked against the engine."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tissflow_demo.samples import CNPJ_PADRAO, build_lote
from tissflow_validation import engine
from tissflow_validation.domain.correcoes import (
    chave_xpath,
    com_ignorada,
    encontrar_critica,
    mesclar_pendentes,
    motivo,
    pares,
    pares_ignorados,
    publico,
    revisao_aplicada,
    sem_aplicadas,
)
from tissflow_validation.domain.regras_operadora import (
    CATALOGO,
    CONFIGURAVEIS,
    contexto_regras,
    item_regra,
)
from tissflow_validation.engine import OperatorContext, apply_correction, validate

AGORA = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
XPATH_CNPJ = "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"


def test_saving_a_path_again_replaces_its_value_and_saving_twice_changes_nothing() -> None:
    um = mesclar_pendentes(
        [], [(XPATH_CNPJ, "1"), ("/a/b", "x")], by="ana", revision=1, agora=AGORA
    )
    assert pares(um) == [(XPATH_CNPJ, "1"), ("/a/b", "x")]
    assert {p["by"] for p in um} == {"ana"} and {p["revision"] for p in um} == {1}
    mesmo = mesclar_pendentes(um, [(XPATH_CNPJ, "1")], by="bia", revision=1, agora=AGORA)
    assert mesmo == um
    outro = mesclar_pendentes(um, [(f" {XPATH_CNPJ} ", "2")], by="bia", revision=1, agora=AGORA)
    assert pares(outro) == [("/a/b", "x"), (XPATH_CNPJ, "2")]
    assert outro[-1]["by"] == "bia" and outro[-1]["id"] != um[0]["id"]
    assert um[0]["valor"] == "1"  # the input list is not changed


def test_clearing_keeps_corrections_saved_after_the_reprocess_started() -> None:
    antes = mesclar_pendentes([], [("/a", "1"), ("/b", "2")], by="ana", revision=1, agora=AGORA)
    aplicadas = [p["id"] for p in antes]
    depois = mesclar_pendentes(antes, [("/c", "3")], by="ana", revision=1, agora=AGORA)
    assert pares(sem_aplicadas(depois, aplicadas)) == [("/c", "3")]
    assert sem_aplicadas(sem_aplicadas(depois, aplicadas), aplicadas) == sem_aplicadas(
        depois, aplicadas
    )


def test_reason_and_critique_lookup() -> None:
    assert motivo([]) == "reprocessamento"
    assert motivo([{"xpath": "/a", "valor": "1"}]) == "correcao"
    critiques = [
        {"codigo": "5014", "xpath": None, "ignoravel": False},
        {"codigo": "1323", "xpath": "/x/data", "ignoravel": True},
    ]
    assert encontrar_critica(critiques, "5014", "") == critiques[0]
    assert encontrar_critica(critiques, "1323", "/x/data ") == critiques[1]
    assert encontrar_critica(critiques, "1323", "/x/outra") is None
    assert chave_xpath(None) == ""


def test_ignoring_is_idempotent_and_feeds_the_engine() -> None:
    antiga = date.today() - timedelta(days=6 * 366)
    content = build_lote(tipo_guia="sp_sadt", data=antiga)
    ctx = OperatorContext(registro_ans="331988")
    criticas = validate(content, ctx).critiques
    assert {c.codigo for c in criticas} == {"1323"} and len(criticas) == 2
    ignoradas: list[dict[str, object]] = []
    for c in criticas:
        novas = com_ignorada(ignoradas, c.codigo, c.xpath, by="ana", agora=AGORA)
        assert novas is not None
        ignoradas = novas
    assert com_ignorada(ignoradas, "1323", criticas[0].xpath, by="bia", agora=AGORA) is None
    r = validate(
        content, OperatorContext(registro_ans="331988", ignored=pares_ignorados(ignoradas))
    )
    assert r.valido and all(c.ignorada for c in r.critiques)
    # Only the first one ignored: still invalid.
    um = pares_ignorados(ignoradas[:1])
    assert not validate(content, OperatorContext(registro_ans="331988", ignored=um)).valido


def test_interrupted_reprocess_is_recognised_by_revision_and_hash() -> None:
    em = {"revision": 3, "sha256": "abc"}
    assert revisao_aplicada(em, [{"revision": 2, "sha256": "x"}, {"revision": 3, "sha256": "abc"}])
    assert not revisao_aplicada(em, [{"revision": 3, "sha256": "outro"}])
    assert not revisao_aplicada(None, [{"revision": 3, "sha256": "abc"}])


def test_public_view_shows_null_xpath_for_critiques_without_location() -> None:
    estado = {
        "pendentes": mesclar_pendentes([], [("/a", "1")], by="ana", revision=2, agora=AGORA),
        "ignoradas": com_ignorada([], "5014", None, by="ana", agora=AGORA),
        "em_andamento": {"revision": 3},
    }
    vista = publico(estado)
    assert set(vista) == {"pendentes", "ignoradas"}
    assert vista["ignoradas"] == [
        {"codigo": "5014", "xpath": None, "by": "ana", "ignorada_em": AGORA}
    ]
    assert vista["pendentes"][0]["revision"] == 2


def test_pending_corrections_apply_in_order_with_the_engine() -> None:
    content = build_lote(cnpj="07906129000199")
    pend = mesclar_pendentes([], [(XPATH_CNPJ, "1")], by="a", revision=1, agora=AGORA)
    pend = mesclar_pendentes(pend, [(XPATH_CNPJ, CNPJ_PADRAO)], by="a", revision=1, agora=AGORA)
    corrigido = apply_correction(content, pares(pend))
    r = validate(corrigido, OperatorContext(registro_ans="331988"))
    assert r.prestador is not None and r.prestador["valor"] == CNPJ_PADRAO


# --- rule catalogue -------------------------------------------------------------------


def _codigos_no_motor() -> set[str]:
    pasta = Path(engine.__file__).parent
    codigos: set[str] = set()
    for arq in pasta.glob("*.py"):
        codigos |= set(re.findall(r'"(\d{4})"', arq.read_text(encoding="utf-8")))
    return codigos


def test_catalogue_lists_every_code_the_engine_can_raise() -> None:
    faltando = _codigos_no_motor() - set(CATALOGO)
    assert not faltando, f"códigos do motor fora do catálogo de regras: {sorted(faltando)}"
    pasta = Path(engine.__file__).parent
    fontes = "".join(
        (pasta / nome).read_text(encoding="utf-8") for nome in ("regras.py", "assinatura.py")
    )
    for codigo in CONFIGURAVEIS:
        assert codigo == "5014" or f'"{codigo}"' in fontes, codigo


def test_rule_items_show_defaults_and_saved_settings() -> None:
    assert item_regra("1323", None)["ignoravel"] is True  # engine default
    assert item_regra("1206", None)["ignoravel"] is False
    salvo = {"enabled": False, "ignoravel": True, "atualizado_por": "op", "atualizado_em": AGORA}
    item = item_regra("1001", salvo)
    assert (item["enabled"], item["ignoravel"], item["atualizado_por"]) == (False, True, "op")
    assert item["padrao"] == {"enabled": True, "ignoravel": False, "severidade": "erro"}
    assert item["descricao"]
    estrutural = item_regra("5001", salvo)
    assert (estrutural["enabled"], estrutural["ignoravel"], estrutural["configuravel"]) == (
        True,
        False,
        False,
    )


def test_stored_settings_drive_the_engine() -> None:
    content = build_lote(tipo_guia="consulta", carteiras=["99999999999999"])
    benef = {"00331988000116": True}
    base = OperatorContext(registro_ans="331988", beneficiarios=benef)
    assert [c.codigo for c in validate(content, base).critiques] == ["1001"]
    regras = contexto_regras(
        [
            {"_id": "1001", "enabled": False, "ignoravel": False},
            {"_id": "5001", "enabled": False, "ignoravel": True},  # structural: left out
            {"_id": "0000", "enabled": False, "ignoravel": True},  # unknown: left out
        ]
    )
    assert set(regras) == {"1001"}
    off = OperatorContext(registro_ans="331988", beneficiarios=benef, rules=regras)
    assert validate(content, off).valido
    ignoravel = contexto_regras([{"_id": "1001", "enabled": True, "ignoravel": True}])
    r = validate(
        content, OperatorContext(registro_ans="331988", beneficiarios=benef, rules=ignoravel)
    )
    assert r.critiques[0].ignoravel and not r.valido
