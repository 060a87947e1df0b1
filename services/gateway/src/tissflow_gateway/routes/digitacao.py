"""`/api/v1/digitacao`: typed guides, typed lotes and the forms' look-ups (provider only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tissflow_gateway import digitacao
from tissflow_gateway.deps import ProviderUser

router = APIRouter(prefix="/api/v1/digitacao", tags=["Digitação de Guias"])
Tipo = Literal["consulta", "sp_sadt", "odontologia"]


class GuiaIn(BaseModel):
    tipo: Tipo
    campos: dict[str, str | None] = Field(
        default_factory=dict, description="Valores como digitados (datas dd/mm/aaaa)"
    )
    itens: list[dict[str, str | None]] = Field(default_factory=list, max_length=200)
    lote_digitado_id: str | None = Field(default=None, description="Incluir num lote aberto")


class GuiaEdit(BaseModel):
    campos: dict[str, str | None] = Field(default_factory=dict)
    itens: list[dict[str, str | None]] = Field(default_factory=list, max_length=200)


class LoteIn(BaseModel):
    tipo: Tipo


class GuiasIn(BaseModel):
    guia_ids: list[str] = Field(min_length=1, max_length=100)


def _sem_nulos(d: dict[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in d.items() if v is not None}


@router.get("/formularios/{tipo}", summary="Campos do formulário de um tipo de guia")
async def formulario(tipo: Tipo, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.formulario(tipo)


@router.get("/guias", summary="Guias digitadas do prestador")
async def listar_guias(
    user: ProviderUser,
    tipo: Tipo | None = None,
    livres: Annotated[bool, Query(description="Só as que não estão em lote")] = False,
    lote_digitado_id: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    return await digitacao.listar_guias(
        user,
        tipo=tipo,
        livres=livres,
        lote_digitado_id=lote_digitado_id,
        page=page,
        page_size=page_size,
    )


@router.post("/guias", status_code=201, summary="Salvar uma guia digitada (rascunho)")
async def criar_guia(body: GuiaIn, user: ProviderUser) -> dict[str, Any]:
    """Salva como digitado, mesmo incompleta; `erros` diz campo a campo o que corrigir."""
    return await digitacao.salvar_guia(
        user,
        body.tipo,
        _sem_nulos(body.campos),
        [_sem_nulos(i) for i in body.itens],
        lote_id=body.lote_digitado_id,
    )


@router.get("/guias/{guia_id}", summary="Uma guia digitada")
async def obter_guia(guia_id: str, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.guia(user, guia_id)


@router.put("/guias/{guia_id}", summary="Alterar uma guia digitada")
async def editar_guia(guia_id: str, body: GuiaEdit, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.salvar_guia(
        user, "", _sem_nulos(body.campos), [_sem_nulos(i) for i in body.itens], guia_id=guia_id
    )


@router.delete("/guias/{guia_id}", summary="Excluir uma guia digitada")
async def excluir_guia(guia_id: str, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.excluir_guia(user, guia_id)


@router.get("/lotes", summary="Lotes de guias digitadas")
async def listar_lotes(
    user: ProviderUser, situacao: Literal["aberto", "enviado_validacao"] | None = None
) -> dict[str, Any]:
    return await digitacao.listar_lotes(user, situacao=situacao)


@router.post("/lotes", status_code=201, summary="+ Novo Lote (um tipo de guia)")
async def criar_lote(body: LoteIn, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.novo_lote(user, body.tipo)


@router.get("/lotes/{lote_id}", summary="Um lote de guias digitadas")
async def obter_lote(lote_id: str, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.lote(user, lote_id)


@router.post("/lotes/{lote_id}/guias", summary="+ Adicionar Guias (até 100, do mesmo tipo)")
async def adicionar(lote_id: str, body: GuiasIn, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.adicionar_guias(user, lote_id, body.guia_ids)


@router.delete("/lotes/{lote_id}/guias/{guia_id}", summary="Tirar uma guia do lote aberto")
async def remover(lote_id: str, guia_id: str, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.remover_guia(user, lote_id, guia_id)


@router.post("/lotes/{lote_id}/gerar", summary="Gerar o XML TISS do lote e validá-lo")
async def gerar(lote_id: str, user: ProviderUser) -> dict[str, Any]:
    """O XML (ENVIO_LOTE_GUIAS 4.03.00) segue o mesmo caminho de um upload (canal
    digitação): `file_id` é o arquivo a acompanhar em `/api/v1/files/{file_id}`."""
    return await digitacao.gerar(user, lote_id)


@router.post("/geracao-automatica", summary="Geração Automática: lotes por tipo, até 100")
async def automatica(user: ProviderUser) -> dict[str, Any]:
    return await digitacao.geracao_automatica(user)


@router.get("/carteiras/{numero_carteira}", summary="Beneficiário no cadastro da operadora")
async def carteira(numero_carteira: str, user: ProviderUser) -> dict[str, Any]:
    return await digitacao.carteira(user, numero_carteira)


@router.get("/tuss", summary="Procedimentos TUSS por código ou descrição, com vigência")
async def tuss(
    user: ProviderUser,
    q: Annotated[str, Query(min_length=2, max_length=100)],
    tabela: Annotated[str | None, Query(pattern=r"^(18|19|20|22)$")] = None,
    data: date | None = None,
) -> dict[str, Any]:
    return await digitacao.tuss(user, q, tabela, data)
