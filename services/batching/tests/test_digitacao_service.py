"""Use cases of Digitação de Guias against an in-memory repository and ingest: drafts kept
as typed, the 100-guide lote, generating once, Geração Automática by type."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from lxml import etree
from tissflow_batching.digitacao import service_layer as uc
from tissflow_batching.digitacao.domain.lotes import DigitacaoNaoEncontrada, DigitacaoRecusada
from tissflow_tiss import erros_de_schema

from .test_digitacao_domain import consulta, sadt

P = "07906129000102"


def _casa(doc: dict[str, Any], condicao: dict[str, Any]) -> bool:
    return all(doc.get(k) == v for k, v in condicao.items())


class FakeRepo:
    """The repository's methods over dicts (same conditional-update semantics)."""

    def __init__(self) -> None:
        self.guias: dict[str, dict[str, Any]] = {}
        self.lotes: dict[str, dict[str, Any]] = {}
        self.contadores: dict[str, int] = {}

    async def proximo(self, provider_id: str, serie: str) -> int:
        chave = f"{provider_id}:{serie}"
        self.contadores[chave] = self.contadores.get(chave, 0) + 1
        return self.contadores[chave]

    async def guia(self, provider_id: str, guia_id: str) -> dict[str, Any]:
        doc = self.guias.get(guia_id)
        if doc is None or doc["provider_id"] != provider_id:
            raise DigitacaoNaoEncontrada("guia_nao_encontrada", "Guia digitada não encontrada.")
        return copy.deepcopy(doc)

    async def inserir_guia(self, doc: dict[str, Any]) -> None:
        self.guias[doc["_id"]] = copy.deepcopy(doc)

    async def atualizar_guia(self, guia_id, condicao, mudanca):
        doc = self.guias.get(guia_id)
        if doc is None or not _casa(doc, condicao):
            return None
        doc.update(copy.deepcopy(mudanca))
        return copy.deepcopy(doc)

    async def excluir_guia(self, guia_id, condicao) -> bool:
        doc = self.guias.get(guia_id)
        if doc is None or not _casa(doc, condicao):
            return False
        del self.guias[guia_id]
        return True

    async def listar_guias(self, query, skip=0, limit=0):
        docs = [copy.deepcopy(d) for d in self.guias.values() if _casa(d, query)]
        return (docs[skip : skip + limit] if limit else docs[skip:]), len(docs)

    async def lote(self, provider_id: str, lote_id: str) -> dict[str, Any]:
        doc = self.lotes.get(lote_id)
        if doc is None or doc["provider_id"] != provider_id:
            raise DigitacaoNaoEncontrada("lote_nao_encontrado", "Lote digitado não encontrado.")
        return copy.deepcopy(doc)

    async def inserir_lote(self, doc: dict[str, Any]) -> None:
        self.lotes[doc["_id"]] = copy.deepcopy(doc)

    async def atualizar_lote(self, lote_id, condicao, mudanca):
        doc = self.lotes.get(lote_id)
        if doc is None or not _casa(doc, condicao):
            return None
        doc.update(copy.deepcopy(mudanca.get("$set", {})))
        if "$push" in mudanca:
            doc["guias"].extend(mudanca["$push"]["guias"]["$each"])
        if "$pull" in mudanca:
            doc["guias"] = [g for g in doc["guias"] if g != mudanca["$pull"]["guias"]]
        return copy.deepcopy(doc)


class FakeIngest:
    """Ingest's receive-a-file use case as the gateway calls it: one file per key."""

    def __init__(self) -> None:
        self.arquivos: dict[str, bytes] = {}

    def enviar(self, arquivo: uc.LoteFile) -> str:
        self.arquivos.setdefault(arquivo.idempotency_key, arquivo.xml)  # the idempotency key
        return f"f-{arquivo.idempotency_key.split('/')[-1]}"


async def gerar(repo: FakeRepo, ingest: FakeIngest, lote_id: str) -> dict[str, Any]:
    """Gerar Lote as the gateway composes it: XML from batching, to ingest, file recorded."""
    lote, arquivo = await uc.build_lote_file(
        repo, provider_id=P, lote_id=lote_id, registro_ans="331988"
    )
    if arquivo is None:
        return lote
    file_id = ingest.enviar(arquivo)
    return await uc.record_submission(
        repo, provider_id=P, por="clerk", lote_id=lote_id, file_id=file_id
    )


async def geracao_automatica(repo: FakeRepo, ingest: FakeIngest) -> dict[str, Any]:
    montados = await uc.make_automatic_lotes(repo, provider_id=P, por="clerk")
    lotes = [await gerar(repo, ingest, lote_id) for lote_id in montados["lote_ids"]]
    return {"lotes": lotes, "guias_incompletas": montados["guias_incompletas"]}


def run(coro):
    return asyncio.run(coro)


def salvar(repo: FakeRepo, guia, lote_id: str | None = None) -> dict[str, Any]:
    campos = {**guia.campos, "numero_guia_prestador": ""}
    return run(
        uc.salvar_guia(
            repo,
            provider_id=P,
            por="clerk",
            tipo=guia.tipo,
            campos=campos,
            itens=guia.itens,
            lote_id=lote_id,
        )
    )


def test_a_draft_is_kept_as_typed_and_numbered() -> None:
    repo = FakeRepo()
    g = sadt()
    salvo = run(
        uc.salvar_guia(
            repo,
            provider_id=P,
            por="clerk",
            tipo="sp_sadt",
            campos={**g.campos, "cnes": "", "numero_guia_prestador": ""},
            itens=[],
        )
    )
    assert salvo["numero_guia_prestador"] == "D0000001"
    assert not salvo["completa"]
    assert salvo["erros"] == {
        "cnes": "Informe o Código CNES.",
        "itens": "Inclua ao menos um procedimento.",
    }
    assert salvo["campos"]["numero_carteira"] == g.campos["numero_carteira"]
    # Edited later, it keeps its number.
    editado = run(
        uc.salvar_guia(
            repo,
            provider_id=P,
            por="clerk",
            tipo="sp_sadt",
            campos=g.campos | {"numero_guia_prestador": ""},
            itens=g.itens,
            guia_id=salvo["guia_id"],
        )
    )
    assert editado["numero_guia_prestador"] == "D0000001" and editado["completa"]
    # Another provider does not reach it.
    with pytest.raises(DigitacaoRecusada) as exc:
        run(repo.guia("11222333000181", salvo["guia_id"]))
    assert exc.value.kind == "not_found"


def test_a_lote_takes_100_guides_and_the_101st_is_saved_outside() -> None:
    repo = FakeRepo()
    lote = run(uc.novo_lote(repo, provider_id=P, por="clerk", tipo="consulta"))
    ids = [salvar(repo, consulta())["guia_id"] for _ in range(100)]
    cheio = run(
        uc.adicionar_guias(repo, provider_id=P, lote_id=lote["lote_digitado_id"], guia_ids=ids)
    )
    assert cheio["quantidade_guias"] == 100
    extra = salvar(repo, consulta(), lote_id=lote["lote_digitado_id"])
    assert extra["lote_digitado_id"] is None
    assert extra["aviso"] == (
        "A guia foi salva fora do lote: Este lote já possui 100 guia(s). "
        "Limite máximo permitido por lote é de 100 guias."
    )


def test_generating_needs_complete_guides_and_submits_once() -> None:
    repo, ingest = FakeRepo(), FakeIngest()
    lote = run(uc.novo_lote(repo, provider_id=P, por="clerk", tipo="sp_sadt"))
    lid = lote["lote_digitado_id"]
    g = sadt()
    incompleta = run(
        uc.salvar_guia(
            repo,
            provider_id=P,
            por="clerk",
            tipo="sp_sadt",
            campos={**g.campos, "cnes": ""},
            itens=g.itens,
            lote_id=lid,
        )
    )
    with pytest.raises(DigitacaoRecusada) as exc:
        run(gerar(repo, ingest, lid))
    assert exc.value.kind == "invalid"
    assert exc.value.details[0]["erros"] == {"cnes": "Informe o Código CNES."}
    run(
        uc.salvar_guia(
            repo,
            provider_id=P,
            por="clerk",
            tipo="sp_sadt",
            campos=g.campos,
            itens=g.itens,
            guia_id=incompleta["guia_id"],
        )
    )
    primeiro = run(gerar(repo, ingest, lid))
    segundo = run(gerar(repo, ingest, lid))
    assert primeiro["situacao"] == "enviado_validacao"
    assert primeiro["file_id"] == segundo["file_id"] and len(ingest.arquivos) == 1
    xml = ingest.arquivos[f"digitacao/{lid}"]
    assert erros_de_schema(xml, "4.03.00") == []
    ns = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}
    assert etree.fromstring(xml).findtext(".//ans:numeroLote", namespaces=ns) == "D000001"
    # A generated lote no longer changes.
    with pytest.raises(DigitacaoRecusada):
        run(uc.excluir_guia(repo, provider_id=P, guia_id=incompleta["guia_id"]))


def test_geracao_automatica_groups_complete_free_guides_by_type() -> None:
    repo, ingest = FakeRepo(), FakeIngest()
    for _ in range(102):
        salvar(repo, sadt())
    salvar(repo, consulta())
    g = consulta()
    run(
        uc.salvar_guia(
            repo,
            provider_id=P,
            por="clerk",
            tipo="consulta",
            campos={**g.campos, "cnes": ""},
            itens=[],
        )
    )
    resultado = run(geracao_automatica(repo, ingest))
    assert sorted((lt["tipo"], lt["quantidade_guias"]) for lt in resultado["lotes"]) == [
        ("consulta", 1),
        ("sp_sadt", 2),
        ("sp_sadt", 100),
    ]
    assert resultado["guias_incompletas"] == 1
    assert len(ingest.arquivos) == 3
    again = run(geracao_automatica(repo, ingest))
    assert again["lotes"] == [] and again["guias_incompletas"] == 1
