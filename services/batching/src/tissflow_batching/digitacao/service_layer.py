"""Use cases of Digitação de Guias: save a draft, list, delete, make lotes, generate their XML.

Each takes the repository as an argument (a fake in unit tests). A draft is saved
exactly as typed, with its field errors; only complete guides enter the XML. Batching
makes no call to another service: the gateway submits a typed lote's XML to ingest with
canal "digitacao" (`build_lote_file`, then `record_submission`); from there it follows the
upload's pipeline (validation, critiques, correction) and batching opens its lote.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tissflow_batching.digitacao.adapters import Repositorio
from tissflow_batching.digitacao.domain.formularios import FORMULARIOS, NOMES_TIPO
from tissflow_batching.digitacao.domain.lotes import (
    DigitacaoInvalida,
    DigitacaoNaoEncontrada,
    DigitacaoRecusada,
    SituacaoLoteDigitado,
    agrupar,
    cabe_no_lote,
)
from tissflow_batching.digitacao.domain.validacao import totais, validar
from tissflow_batching.digitacao.domain.xml import GuiaTipada, lote_xml

TZ = ZoneInfo("America/Sao_Paulo")
ABERTO = SituacaoLoteDigitado.ABERTO.value
ENVIADO = SituacaoLoteDigitado.ENVIADO_VALIDACAO.value


def hoje() -> date:
    return datetime.now(TZ).date()


def _tipo(tipo: str) -> str:
    if tipo not in FORMULARIOS:
        raise DigitacaoInvalida(
            "tipo_de_guia_invalido",
            f"Tipo de guia '{tipo}' não pode ser digitado; use Consulta, SP/SADT, Honorários ou "
            "Tratamento Odontológico.",
        )
    return tipo


def _limpo(valores: dict[str, Any]) -> dict[str, str]:
    return {str(k)[:60]: str(v)[:600] for k, v in valores.items() if v is not None}


def publico_guia(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in ("_id", "erros")}
    out["guia_id"] = doc["_id"]
    # Stored as a list: an item's key ("itens.0.codigo") cannot be a MongoDB field name.
    out["erros"] = {e["campo"]: e["mensagem"] for e in doc.get("erros") or []}
    out["tipo_label"] = NOMES_TIPO.get(doc["tipo"], doc["tipo"])
    return out


def publico_lote(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "_id"}
    out["lote_digitado_id"] = doc["_id"]
    out["tipo_label"] = NOMES_TIPO.get(doc["tipo"], doc["tipo"])
    out["quantidade_guias"] = len(doc.get("guias", []))
    return out


async def salvar_guia(
    repo: Repositorio,
    *,
    provider_id: str,
    por: str,
    tipo: str,
    campos: dict[str, Any],
    itens: list[dict[str, Any]],
    guia_id: str | None = None,
    lote_id: str | None = None,
) -> dict[str, Any]:
    """Keep the guide as typed (new or edited) with its field errors and totals.

    A guide in a lote already submitted cannot change (its XML is the file now). With
    `lote_id` (Digitar Guia inside a lote) a new guide joins that open lote.
    """
    _tipo(tipo)
    campos, itens = _limpo(campos), [_limpo(i) for i in itens][:200]
    agora = datetime.now(UTC)
    anterior = await repo.guia(provider_id, guia_id) if guia_id else None
    if anterior is not None:
        tipo = anterior["tipo"]
        if anterior.get("lote_digitado_id"):
            lote = await repo.lote(provider_id, anterior["lote_digitado_id"])
            if lote["situacao"] != ABERTO:
                raise DigitacaoRecusada(
                    "guia_em_lote_enviado",
                    "Esta guia está num lote já gerado; corrija-a pelas críticas do arquivo.",
                )
    if not campos.get("numero_guia_prestador", "").strip():
        campos["numero_guia_prestador"] = (
            anterior["campos"].get("numero_guia_prestador")
            if anterior and anterior["campos"].get("numero_guia_prestador")
            else f"D{await repo.proximo(provider_id, 'guia'):07d}"
        )
    erros = validar(tipo, campos, itens, hoje())
    calculo = totais(tipo, campos, itens)
    resumo = {
        "tipo": tipo,
        "campos": campos,
        "itens": itens,
        "erros": [{"campo": k, "mensagem": v} for k, v in erros.items()],
        "completa": not erros,
        "numero_guia_prestador": campos["numero_guia_prestador"],
        "numero_carteira": campos.get("numero_carteira", ""),
        "nome_beneficiario": campos.get("nome_beneficiario", ""),
        "valor_total": str(calculo["total"]) if calculo["total"] is not None else None,
        "valores_itens": [str(v) if v is not None else None for v in calculo["itens"]],
        "updated_at": agora,
        "updated_by": por,
    }
    if anterior is not None:
        doc = await repo.atualizar_guia(anterior["_id"], {"provider_id": provider_id}, resumo)
        if doc is None:
            raise DigitacaoNaoEncontrada("guia_nao_encontrada", "Guia digitada não encontrada.")
        return publico_guia(doc)
    doc = {
        "_id": uuid.uuid4().hex,
        "provider_id": provider_id,
        "lote_digitado_id": None,
        "created_at": agora,
        "created_by": por,
        **resumo,
    }
    await repo.inserir_guia(doc)
    aviso = None
    if lote_id:
        try:
            await adicionar_guias(
                repo, provider_id=provider_id, lote_id=lote_id, guia_ids=[doc["_id"]]
            )
        except DigitacaoRecusada as exc:
            # The guide is kept (saved as typed) outside any lote; the clerk is told why.
            aviso = f"A guia foi salva fora do lote: {exc.message}"
        doc = await repo.guia(provider_id, doc["_id"])
    return {**publico_guia(doc), "aviso": aviso}


async def excluir_guia(repo: Repositorio, *, provider_id: str, guia_id: str) -> None:
    doc = await repo.guia(provider_id, guia_id)
    if doc.get("lote_digitado_id"):
        lote = await repo.lote(provider_id, doc["lote_digitado_id"])
        if lote["situacao"] != ABERTO:
            raise DigitacaoRecusada(
                "guia_em_lote_enviado", "Esta guia está num lote já gerado e não pode ser excluída."
            )
        await remover_do_lote(repo, provider_id=provider_id, lote_id=lote["_id"], guia_id=guia_id)
    await repo.excluir_guia(guia_id, {"provider_id": provider_id, "lote_digitado_id": None})


async def novo_lote(
    repo: Repositorio, *, provider_id: str, por: str, tipo: str, origem: str = "manual"
) -> dict[str, Any]:
    """+ Novo Lote: an open typed lote of one guide type."""
    _tipo(tipo)
    agora = datetime.now(UTC)
    doc: dict[str, Any] = {
        "_id": uuid.uuid4().hex,
        "provider_id": provider_id,
        "tipo": tipo,
        "situacao": ABERTO,
        "guias": [],
        "numero_lote_prestador": None,
        "file_id": None,
        "origem": origem,
        "created_at": agora,
        "created_by": por,
        "updated_at": agora,
    }
    await repo.inserir_lote(doc)
    return publico_lote(doc)


async def adicionar_guias(
    repo: Repositorio, *, provider_id: str, lote_id: str, guia_ids: list[str]
) -> dict[str, Any]:
    """+ Adicionar Guias: free typed guides of the lote's type, up to 100 in the lote."""
    lote = await repo.lote(provider_id, lote_id)
    if lote["situacao"] != ABERTO:
        raise DigitacaoRecusada("lote_ja_gerado", "Este lote já foi gerado; crie um novo lote.")
    ids = list(dict.fromkeys(i for i in guia_ids if i not in lote["guias"]))
    guias = [await repo.guia(provider_id, i) for i in ids]
    ocupadas = [g["numero_guia_prestador"] for g in guias if g.get("lote_digitado_id")]
    if ocupadas:
        raise DigitacaoRecusada(
            "guia_em_outro_lote", f"A(s) guia(s) {', '.join(ocupadas)} já estão em outro lote."
        )
    cabe_no_lote(lote["tipo"], len(lote["guias"]), [g["tipo"] for g in guias])
    incluidas = []
    for g in guias:
        # Conditional on the guide being free: two lotes can never take the same guide.
        if await repo.atualizar_guia(
            g["_id"],
            {"provider_id": provider_id, "lote_digitado_id": None},
            {"lote_digitado_id": lote_id},
        ):
            incluidas.append(g["_id"])
    atualizado = await repo.atualizar_lote(
        lote_id,
        {"situacao": ABERTO},
        {"$push": {"guias": {"$each": incluidas}}, "$set": {"updated_at": datetime.now(UTC)}},
    )
    if atualizado is None:  # generated meanwhile: give the guides back
        for i in incluidas:
            await repo.atualizar_guia(i, {"lote_digitado_id": lote_id}, {"lote_digitado_id": None})
        raise DigitacaoRecusada("lote_ja_gerado", "Este lote já foi gerado; crie um novo lote.")
    return publico_lote(atualizado)


async def remover_do_lote(
    repo: Repositorio, *, provider_id: str, lote_id: str, guia_id: str
) -> dict[str, Any]:
    lote = await repo.lote(provider_id, lote_id)
    if lote["situacao"] != ABERTO:
        raise DigitacaoRecusada("lote_ja_gerado", "Este lote já foi gerado e não muda mais.")
    atualizado = await repo.atualizar_lote(
        lote_id, {"situacao": ABERTO}, {"$pull": {"guias": guia_id}}
    )
    await repo.atualizar_guia(
        guia_id,
        {"provider_id": provider_id, "lote_digitado_id": lote_id},
        {"lote_digitado_id": None},
    )
    return publico_lote(atualizado or lote)


@dataclass(frozen=True, slots=True)
class LoteFile:
    """A typed lote's TISS XML and how it is submitted (the gateway uploads it to ingest).

    `idempotency_key` is the typed lote's: a retry after a crash submits the same file.
    """

    filename: str
    idempotency_key: str
    xml: bytes


async def build_lote_file(
    repo: Repositorio, *, provider_id: str, lote_id: str, registro_ans: str
) -> tuple[dict[str, Any], LoteFile | None]:
    """Gerar Lote, first step: the lote's TISS XML, its number fixed once.

    None instead of the file when the lote was already submitted (generating twice
    generates once). The gateway submits the file to ingest (canal digitacao) and then
    calls `record_submission` with its file id.
    """
    lote = await repo.lote(provider_id, lote_id)
    if lote["situacao"] == ENVIADO:
        return publico_lote(lote), None
    if not lote["guias"]:
        raise DigitacaoInvalida("lote_vazio", "Inclua ao menos uma guia no lote antes de gerá-lo.")
    guias = [await repo.guia(provider_id, i) for i in lote["guias"]]
    incompletas = [g for g in guias if not g["completa"]]
    if incompletas:
        raise DigitacaoInvalida(
            "guias_incompletas",
            f"{len(incompletas)} guia(s) do lote têm campos a corrigir: "
            f"{', '.join(g['numero_guia_prestador'] for g in incompletas[:10])}.",
            [{"guia_id": g["_id"], "erros": publico_guia(g)["erros"]} for g in incompletas],
        )
    numero = lote.get("numero_lote_prestador")
    if not numero:
        numero = f"D{await repo.proximo(provider_id, 'lote'):06d}"
        # Fixed before the XML is built, so a retry carries the same number.
        fixado = await repo.atualizar_lote(
            lote_id,
            {"situacao": ABERTO, "numero_lote_prestador": None},
            {"$set": {"numero_lote_prestador": numero}},
        )
        lote = fixado or await repo.lote(provider_id, lote_id)
        numero = lote["numero_lote_prestador"]
    xml = lote_xml(
        [GuiaTipada(g["tipo"], g["campos"], g["itens"]) for g in guias],
        provider_id=provider_id,
        registro_ans=registro_ans,
        numero_lote=numero,
        quando=datetime.now(TZ).replace(microsecond=0, tzinfo=None),
    )
    arquivo = LoteFile(f"digitacao-lote-{numero}.xml", f"digitacao/{lote_id}", xml)
    return publico_lote(lote), arquivo


async def record_submission(
    repo: Repositorio, *, provider_id: str, por: str, lote_id: str, file_id: str
) -> dict[str, Any]:
    """Gerar Lote, last step: ingest stored the lote's file; the lote no longer changes."""
    lote = await repo.lote(provider_id, lote_id)
    if lote["situacao"] == ENVIADO:
        return publico_lote(lote)
    agora = datetime.now(UTC)
    feito = await repo.atualizar_lote(
        lote_id,
        {},
        {
            "$set": {
                "situacao": ENVIADO,
                "file_id": file_id,
                "enviado_em": agora,
                "enviado_por": por,
                "updated_at": agora,
            }
        },
    )
    return publico_lote(feito or lote)


async def make_automatic_lotes(repo: Repositorio, *, provider_id: str, por: str) -> dict[str, Any]:
    """Geração Automática, first step: the clinic's complete guides in no lote, by type,
    ≤100 per lote, in new open lotes (the gateway then generates each as Gerar Lote does).

    Returns the new lotes' ids and how many guides in no lote are still incomplete.
    """
    livres, _ = await repo.listar_guias(
        {"provider_id": provider_id, "lote_digitado_id": None, "completa": True}
    )
    _, incompletas = await repo.listar_guias(
        {"provider_id": provider_id, "lote_digitado_id": None, "completa": False}, limit=1
    )
    montados = []
    for grupo in agrupar(livres, lambda g: g["tipo"]):
        lote = await novo_lote(
            repo, provider_id=provider_id, por=por, tipo=grupo[0]["tipo"], origem="automatica"
        )
        await adicionar_guias(
            repo,
            provider_id=provider_id,
            lote_id=lote["lote_digitado_id"],
            guia_ids=[g["_id"] for g in grupo],
        )
        montados.append(lote["lote_digitado_id"])
    return {"lote_ids": montados, "guias_incompletas": incompletas}
