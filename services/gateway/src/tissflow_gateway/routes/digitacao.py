"""`/api/v1/digitacao`: typed guides, typed lotes and the forms' look-ups (provider only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tissflow_gateway import digitacao
from tissflow_gateway.deps import ProviderUser
from tissflow_gateway.routes.common import errors
from tissflow_gateway.schemas import Open

router = APIRouter(
    prefix="/api/v1/digitacao", tags=["Digitação de Guias"], responses=errors(401, 403, 422, 503)
)
Tipo = Literal["consulta", "sp_sadt", "odontologia", "honorarios"]
ONE = errors(404)
CHANGE = errors(404, 409)


class FormularioOut(Open):
    tipo: str
    nome: str
    secoes: list[dict[str, Any]] = Field(description="Seções na ordem da guia, com seus campos")
    itens: list[dict[str, Any]] = Field(description="Campos de cada procedimento (SP/SADT, GTO)")


class GuiaDigitadaOut(Open):
    guia_id: str
    tipo: str
    numero_guia_prestador: str
    campos: dict[str, str] = Field(description="Valores como digitados")
    itens: list[dict[str, str]] = []
    erros: dict[str, str] = Field(
        description="Campo (itens.<n>.<campo> nos itens) → mensagem; vazio: guia completa"
    )
    completa: bool
    valor_total: str | None = None
    lote_digitado_id: str | None = None
    aviso: str | None = None


class GuiaDigitadaPage(Open):
    items: list[GuiaDigitadaOut]
    total: int


class LoteDigitadoOut(Open):
    lote_digitado_id: str
    tipo: str
    situacao: Literal["aberto", "enviado_validacao"]
    guias: list[str]
    quantidade_guias: int
    numero_lote_prestador: str | None = None
    file_id: str | None = Field(
        default=None, description="O arquivo gerado: acompanhe em /api/v1/files/{file_id}"
    )


class LoteDigitadoPage(Open):
    items: list[LoteDigitadoOut]
    total: int


class GeracaoOut(Open):
    lotes: list[LoteDigitadoOut]
    guias_incompletas: int = Field(description="Guias fora de lote com campos a corrigir")


class CarteiraOut(Open):
    numero_carteira: str
    nome: str | None = None
    ativo: bool


class TussItem(Open):
    tabela: str
    codigo: str
    termo: str
    vigencia_inicio: str | None = None
    vigencia_fim: str | None = None
    vigente: bool = Field(description="Em vigência na data pedida")


class TussPage(Open):
    items: list[TussItem]
    total: int


class ExcluidaOut(Open):
    excluida: str


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


@router.get("/formularios/{tipo}", summary="Campos do formulário de um tipo de guia", responses=ONE)
async def formulario(tipo: Tipo, user: ProviderUser) -> FormularioOut:
    """Seções e campos na ordem da guia de contingência da ANS, com as opções do XSD."""
    return FormularioOut(**await digitacao.formulario(tipo))


@router.get("/guias", summary="Guias digitadas do prestador")
async def listar_guias(
    user: ProviderUser,
    tipo: Tipo | None = None,
    livres: Annotated[bool, Query(description="Só as que não estão em lote")] = False,
    lote_digitado_id: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> GuiaDigitadaPage:
    """As guias digitadas do prestador, da mais antiga à mais nova."""
    return GuiaDigitadaPage(
        **await digitacao.listar_guias(
            user,
            tipo=tipo,
            livres=livres,
            lote_digitado_id=lote_digitado_id,
            page=page,
            page_size=page_size,
        )
    )


@router.post(
    "/guias", status_code=201, summary="Salvar uma guia digitada (rascunho)", responses=CHANGE
)
async def criar_guia(body: GuiaIn, user: ProviderUser) -> GuiaDigitadaOut:
    """Salva como digitado, mesmo incompleta; `erros` diz campo a campo o que corrigir.
    Com `lote_digitado_id`, a guia entra nesse lote aberto (se couber)."""
    return GuiaDigitadaOut(
        **await digitacao.salvar_guia(
            user,
            body.tipo,
            _sem_nulos(body.campos),
            [_sem_nulos(i) for i in body.itens],
            lote_id=body.lote_digitado_id,
        )
    )


@router.get("/guias/{guia_id}", summary="Uma guia digitada", responses=ONE)
async def obter_guia(guia_id: str, user: ProviderUser) -> GuiaDigitadaOut:
    """A guia como foi digitada, com seus erros e totais."""
    return GuiaDigitadaOut(**await digitacao.guia(user, guia_id))


@router.put("/guias/{guia_id}", summary="Alterar uma guia digitada", responses=CHANGE)
async def editar_guia(guia_id: str, body: GuiaEdit, user: ProviderUser) -> GuiaDigitadaOut:
    """Substitui os valores da guia (409 se ela já está num lote gerado)."""
    return GuiaDigitadaOut(
        **await digitacao.salvar_guia(
            user, "", _sem_nulos(body.campos), [_sem_nulos(i) for i in body.itens], guia_id=guia_id
        )
    )


@router.delete("/guias/{guia_id}", summary="Excluir uma guia digitada", responses=CHANGE)
async def excluir_guia(guia_id: str, user: ProviderUser) -> ExcluidaOut:
    """Exclui a guia (409 se ela já está num lote gerado)."""
    return ExcluidaOut(**await digitacao.excluir_guia(user, guia_id))


@router.get("/lotes", summary="Lotes de guias digitadas")
async def listar_lotes(
    user: ProviderUser, situacao: Literal["aberto", "enviado_validacao"] | None = None
) -> LoteDigitadoPage:
    """Os lotes em montagem (`aberto`) e os já gerados (`enviado_validacao`, com `file_id`)."""
    return LoteDigitadoPage(**await digitacao.listar_lotes(user, situacao=situacao))


@router.post("/lotes", status_code=201, summary="+ Novo Lote (um tipo de guia)")
async def criar_lote(body: LoteIn, user: ProviderUser) -> LoteDigitadoOut:
    """Um lote aberto de um tipo de guia, para até 100 guias."""
    return LoteDigitadoOut(**await digitacao.novo_lote(user, body.tipo))


@router.get("/lotes/{lote_id}", summary="Um lote de guias digitadas", responses=ONE)
async def obter_lote(lote_id: str, user: ProviderUser) -> LoteDigitadoOut:
    """O lote, suas guias e, depois de gerado, o arquivo (`file_id`)."""
    return LoteDigitadoOut(**await digitacao.lote(user, lote_id))


@router.post(
    "/lotes/{lote_id}/guias", summary="+ Adicionar Guias (até 100, do mesmo tipo)", responses=CHANGE
)
async def adicionar(lote_id: str, body: GuiasIn, user: ProviderUser) -> LoteDigitadoOut:
    """Guias digitadas fora de lote, do tipo do lote; 409 além de 100 ou de outro tipo."""
    return LoteDigitadoOut(**await digitacao.adicionar_guias(user, lote_id, body.guia_ids))


@router.delete(
    "/lotes/{lote_id}/guias/{guia_id}", summary="Tirar uma guia do lote aberto", responses=CHANGE
)
async def remover(lote_id: str, guia_id: str, user: ProviderUser) -> LoteDigitadoOut:
    """A guia volta a ficar fora de lote; o lote já gerado não muda (409)."""
    return LoteDigitadoOut(**await digitacao.remover_guia(user, lote_id, guia_id))


@router.post(
    "/lotes/{lote_id}/gerar", summary="Gerar o XML TISS do lote e validá-lo", responses=CHANGE
)
async def gerar(lote_id: str, user: ProviderUser) -> LoteDigitadoOut:
    """O XML (ENVIO_LOTE_GUIAS 4.03.00) segue o mesmo caminho de um upload (canal
    digitação): `file_id` é o arquivo a acompanhar em `/api/v1/files/{file_id}`.
    Gerar duas vezes gera uma; 422 com as guias incompletas em `details`."""
    return LoteDigitadoOut(**await digitacao.gerar(user, lote_id))


@router.post("/geracao-automatica", summary="Geração Automática: lotes por tipo, até 100")
async def automatica(user: ProviderUser) -> GeracaoOut:
    """Reúne as guias completas fora de lote em lotes por tipo (até 100) e gera cada um."""
    return GeracaoOut(**await digitacao.geracao_automatica(user))


@router.get(
    "/carteiras/{numero_carteira}",
    summary="Beneficiário no cadastro da operadora",
    responses=ONE,
)
async def carteira(numero_carteira: str, user: ProviderUser) -> CarteiraOut:
    """Nome e situação da carteira no cadastro da operadora (404 se não consta)."""
    return CarteiraOut(**await digitacao.carteira(user, numero_carteira))


@router.get("/tuss", summary="Procedimentos TUSS por código ou descrição, com vigência")
async def tuss(
    user: ProviderUser,
    q: Annotated[str, Query(min_length=2, max_length=100)],
    tabela: Annotated[str | None, Query(pattern=r"^(18|19|20|22)$")] = None,
    data: date | None = None,
) -> TussPage:
    """Até 20 códigos da terminologia TUSS; os vigentes na `data` (padrão: hoje) primeiro."""
    return TussPage(**await digitacao.tuss(user, q, tabela, data))
