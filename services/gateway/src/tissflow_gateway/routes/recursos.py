"""API of recursos de glosa (`/api/v1/recursos`, `/api/v1/operadora/recursos`) and the
calls to the recursos service that the portal pages share.

A clinic only ever reaches its own recursos: every call carries its provider id, and the
recursos service answers 404 for another provider's (as if it did not exist).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from tissflow_gateway.api import COMMON, errors
from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.deps import CurrentUser, OperadoraStaff, ProviderUser

router = APIRouter(prefix="/api/v1", tags=["recursos de glosa"], responses=COMMON)
ANEXO_MAX = 5 * 1024 * 1024
ANEXO_TIPOS = {"application/pdf", "image/png", "image/jpeg"}


def _scope(user: User) -> dict[str, str]:
    provider = user.provider_filter()
    return {"provider_id": provider} if provider else {}


# -- calls shared with the pages ----------------------------------------------------------
async def glosas(user: User, peg: str | None = None) -> list[dict[str, Any]]:
    params = {**_scope(user), **({"peg": peg} if peg else {})}
    return (await call("GET", "recursos", "/internal/glosas", params=params))["items"]


async def numeros(user: User, peg: str | None = None) -> dict[str, Any]:
    params = {**_scope(user), **({"peg": peg} if peg else {})}
    return await call("GET", "recursos", "/internal/numeros", params=params)


async def listar(user: User, **filters: str | None) -> dict[str, Any]:
    params = {**_scope(user), **{k: v for k, v in filters.items() if v}}
    return await call("GET", "recursos", "/internal/recursos", params=params)


async def respostas_novas(user: User) -> int:
    """Answers the clinic has not opened yet; 0 for anyone else (the menu's badge)."""
    if user.role != "prestador":
        return 0
    found = await call("GET", "recursos", "/internal/recursos/respostas-novas", params=_scope(user))
    return int(found["respostas_novas"])


async def abrir(user: User, peg: str, linhas: list[str] | None) -> dict[str, Any]:
    body = {"provider_id": user.provider_id, "peg": peg, "linhas": linhas, "by": user.username}
    return await call("POST", "recursos", "/internal/recursos", json=body)


async def obter(user: User, recurso_id: str, marcar_lida: bool = False) -> dict[str, Any]:
    params: dict[str, Any] = {**_scope(user), "marcar_lida": marcar_lida}
    return await call("GET", "recursos", f"/internal/recursos/{seg(recurso_id)}", params=params)


async def salvar(user: User, recurso_id: str, linhas: list[dict[str, Any]]) -> dict[str, Any]:
    body = {"provider_id": user.provider_id, "linhas": linhas}
    return await call("PUT", "recursos", f"/internal/recursos/{seg(recurso_id)}", json=body)


async def enviar(user: User, recurso_id: str) -> dict[str, Any]:
    body = {"provider_id": user.provider_id, "by": user.username}
    return await call("POST", "recursos", f"/internal/recursos/{seg(recurso_id)}/enviar", json=body)


async def atualizar(user: User, recurso_id: str) -> dict[str, Any]:
    return await call(
        "POST",
        "recursos",
        f"/internal/recursos/{seg(recurso_id)}/situacao",
        params=_scope(user),
    )


async def anexar(
    user: User, recurso_id: str, nome: str, media_type: str, content: bytes
) -> dict[str, Any]:
    if len(content) > ANEXO_MAX:
        raise ApiError(413, "anexo_grande", f"O anexo {nome} passa de 5 MB.")
    if media_type not in ANEXO_TIPOS:
        raise ApiError(
            422, "anexo_tipo_invalido", f"O anexo {nome} não é PDF nem imagem (PNG ou JPEG)."
        )
    return await call(
        "POST",
        "recursos",
        f"/internal/recursos/{seg(recurso_id)}/anexos",
        params={"provider_id": user.provider_id, "nome": nome[:200]},
        content=content,
        headers={"Content-Type": media_type},
    )


async def arquivo(user: User, recurso_id: str, nome: str) -> Response:
    """An attachment or the recurso's / answer's TISS XML, as a download."""
    found = await call(
        "GET",
        "recursos",
        f"/internal/recursos/{seg(recurso_id)}/arquivos/{seg(nome)}",
        params=_scope(user),
    )
    media_type = found.headers.get("content-type", "application/octet-stream")
    if nome in ("recurso", "resposta"):
        filename = f"{nome}-glosa-{recurso_id}.xml"
    else:
        filename = found.headers.get("x-filename") or nome
    safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "arquivo"
    return Response(
        found.content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


async def operadora_listar(situacao: str | None = None) -> dict[str, Any]:
    params = {"situacao": situacao} if situacao else {}
    return await call("GET", "recursos", "/internal/operadora/recursos", params=params)


async def operadora_obter(recurso_id: str) -> dict[str, Any]:
    return await call("GET", "recursos", f"/internal/operadora/recursos/{seg(recurso_id)}")


async def operadora_responder(
    user: User, recurso_id: str, itens: list[dict[str, Any]]
) -> dict[str, Any]:
    return await call(
        "POST",
        "recursos",
        f"/internal/operadora/recursos/{seg(recurso_id)}/resposta",
        json={"itens": itens, "by": user.username},
    )


# -- API ----------------------------------------------------------------------------------
class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class NovoRecurso(BaseModel):
    peg: str = Field(max_length=20, description="Protocolo (PEG) glosado")
    linhas: list[str] | None = Field(
        default=None,
        max_length=500,
        description="Linhas glosadas a recorrer ('<guia>:<item>' ou '<guia>:G<código>'); "
        "vazio: o protocolo inteiro. Uma guia por recurso: várias guias viram vários "
        "recursos do mesmo grupo.",
    )


class LinhaRecurso(BaseModel):
    linha_id: str = Field(max_length=40)
    valor_recursado: str | None = Field(default=None, max_length=20)
    justificativa: str | None = Field(default=None, max_length=2000)


class Rascunho(BaseModel):
    linhas: list[LinhaRecurso] = Field(max_length=500)


class RespostaLinha(BaseModel):
    linha_id: str = Field(max_length=40)
    acatado: bool
    valor_acatado: str | None = Field(default=None, max_length=20)
    justificativa: str | None = Field(default=None, max_length=2000)


class Resposta(BaseModel):
    itens: list[RespostaLinha] = Field(min_length=1, max_length=500)


class GlosasPage(BaseModel):
    """Each analysed protocol: its deadline and glossed lines (with the recurso holding each)."""

    items: list[dict[str, Any]]
    total: int


class Numeros(BaseModel):
    """Glosa inicial (valor e %), recursado, recuperado, glosa final (valor e %), fora do prazo."""

    geral: dict[str, Any]
    protocolos: list[dict[str, Any]]


class RecursoOut(_Open):
    """One recurso de glosa (one guide): lines, values, situation, deadlines, answer."""

    recurso_id: str
    grupo_id: str
    peg: str
    numero_guia: str
    situacao: str
    linhas: list[dict[str, Any]]


class RecursoPage(BaseModel):
    items: list[RecursoOut]
    total: int
    respostas_novas: int = 0


class RecursosAbertos(BaseModel):
    """The drafts made by one Recorrer: one per guide, one group."""

    items: list[RecursoOut]
    grupo_id: str
    total: int


class AnexoOut(BaseModel):
    anexo_id: str
    nome: str
    media_type: str
    size: int


class RecursoOperadora(_Open):
    """A recurso as the operator received it: protocol number, answer deadline, answer."""

    recurso_id: str
    situacao: str
    numero_protocolo_recurso: str
    prazo_resposta: str | None = None


class RecursoOperadoraPage(BaseModel):
    items: list[RecursoOperadora]
    total: int
    pendentes: int
    atrasados: int = Field(0, description="Unanswered past the operator's answer deadline")


BYTES = {"schema": {"type": "string", "format": "binary"}}


@router.get("/recursos/glosas", summary="Itens glosados que a clínica pode recorrer, com prazo")
async def api_glosas(user: CurrentUser, peg: str | None = None) -> GlosasPage:
    """Glossed items of each analysed protocol, pre-filled from the analysis (guide, item,
    date, procedure, table-38 code and description, value glossed), with "prazo até"."""
    items = await glosas(user, peg)
    return GlosasPage(items=items, total=len(items))


@router.get(
    "/recursos/numeros",
    summary="Glosa inicial, recursado, recuperado e glosa final",
    responses=errors(404),
)
async def api_numeros(user: CurrentUser, peg: str | None = None) -> Numeros:
    """Numbers per protocol and overall; recursos sent past their deadline (zero when the
    clinic uses the portal)."""
    return Numeros.model_validate(await numeros(user, peg))


class RespostasNovas(BaseModel):
    respostas_novas: int = Field(description="Answers to the clinic's recursos not yet opened")


@router.get("/recursos/respostas-novas", summary="Respostas de recurso ainda não abertas")
async def api_respostas_novas(user: CurrentUser) -> RespostasNovas:
    """How many answered recursos the clinic has not opened yet: the menu's badge."""
    return RespostasNovas(respostas_novas=await respostas_novas(user))


@router.get("/recursos", summary="Recursos de glosa")
async def api_listar(
    user: CurrentUser,
    situacao: Literal["rascunho", "enviado", "em_analise", "respondido"] | None = None,
    peg: str | None = None,
    grupo_id: str | None = None,
) -> RecursoPage:
    """Every recurso (a clinic: its own), newest first; `respostas_novas` counts answers
    not yet opened (the badge)."""
    return RecursoPage.model_validate(
        await listar(user, situacao=situacao, peg=peg, grupo_id=grupo_id)
    )


@router.post(
    "/recursos",
    status_code=201,
    summary="Recorrer (cria rascunhos, um por guia)",
    responses=errors(403, 404, 409),
)
async def api_abrir(user: ProviderUser, body: NovoRecurso) -> RecursosAbertos:
    """Open drafts for the chosen glossed lines (or the whole protocol): 409 when an item is
    already under appeal, 422 `prazo_esgotado` past the deadline."""
    return RecursosAbertos.model_validate(await abrir(user, body.peg, body.linhas))


@router.get("/recursos/{recurso_id}", summary="Um recurso de glosa", responses=errors(404))
async def api_obter(user: CurrentUser, recurso_id: str) -> RecursoOut:
    """One recurso; opened by its clinic, its new answer is marked as read."""
    return RecursoOut.model_validate(
        await obter(user, recurso_id, marcar_lida=user.role == "prestador")
    )


@router.put(
    "/recursos/{recurso_id}",
    summary="Salvar o rascunho (valores e justificativas)",
    responses=errors(403, 404, 409),
)
async def api_salvar(user: ProviderUser, recurso_id: str, body: Rascunho) -> RecursoOut:
    """Save the draft as typed; the checks run when it is sent."""
    lines = [linha.model_dump() for linha in body.linhas]
    return RecursoOut.model_validate(await salvar(user, recurso_id, lines))


@router.post(
    "/recursos/{recurso_id}/enviar",
    summary="Enviar à operadora (RECURSO_GLOSA)",
    responses=errors(403, 404, 409),
)
async def api_enviar(user: ProviderUser, recurso_id: str) -> RecursoOut:
    """Check (valor recursado > 0 and ≤ glosado, justificativa ≤ 500, deadline, one guide),
    build the RECURSO_GLOSA message (XSD-valid, hashed) and send it once."""
    return RecursoOut.model_validate(await enviar(user, recurso_id))


@router.post(
    "/recursos/{recurso_id}/atualizar-situacao",
    summary="Atualizar situação (SOLIC_STATUS_RECURSO_GLOSA)",
    responses=errors(403, 404, 409),
)
async def api_atualizar(user: ProviderUser, recurso_id: str) -> RecursoOut:
    """Ask the operator the recurso's situation; `consulta` says what it answered."""
    return RecursoOut.model_validate(await atualizar(user, recurso_id))


@router.post(
    "/recursos/{recurso_id}/anexos",
    status_code=201,
    summary="Anexar PDF ou imagem",
    responses=errors(403, 404, 409, 413),
)
async def api_anexar(
    user: ProviderUser, recurso_id: str, arquivo_: Annotated[UploadFile, File(alias="arquivo")]
) -> AnexoOut:
    """Attach a PDF, PNG or JPEG of at most 5 MB to a draft."""
    content = await arquivo_.read(ANEXO_MAX + 1)
    found = await anexar(
        user,
        recurso_id,
        arquivo_.filename or "anexo",
        (arquivo_.content_type or "").split(";")[0],
        content,
    )
    return AnexoOut.model_validate(found)


@router.get(
    "/recursos/{recurso_id}/anexos/{anexo_id}",
    summary="Baixar um anexo",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": BYTES, "image/png": BYTES, "image/jpeg": BYTES},
            "description": "The attachment's bytes",
        },
        **errors(404),
    },
)
async def api_anexo(user: CurrentUser, recurso_id: str, anexo_id: str) -> Response:
    """Download an attachment of the recurso."""
    return await arquivo(user, recurso_id, f"anexo-{anexo_id}")


@router.get(
    "/recursos/{recurso_id}/xml/{tipo}",
    summary="XML TISS do recurso ou da resposta",
    response_class=Response,
    responses={
        200: {"content": {"application/xml": BYTES}, "description": "The TISS message"},
        **errors(404),
    },
)
async def api_xml(
    user: CurrentUser, recurso_id: str, tipo: Literal["recurso", "resposta"]
) -> Response:
    """The RECURSO_GLOSA sent, or the operator's RESPOSTA_RECURSO_GLOSA once answered."""
    return await arquivo(user, recurso_id, tipo)


@router.get(
    "/operadora/recursos",
    summary="Recursos a responder (prazo mais antigo primeiro)",
    responses=errors(403),
)
async def api_operadora_listar(
    user: OperadoraStaff, situacao: Literal["em_analise", "respondido"] | None = None
) -> RecursoOperadoraPage:
    """The recursos the operator received, the oldest answer deadline first."""
    return RecursoOperadoraPage.model_validate(await operadora_listar(situacao))


@router.post(
    "/operadora/recursos",
    status_code=201,
    summary="Receber um recurso (entrada)",
    responses=errors(403),
)
async def api_operadora_receber(user: OperadoraStaff, body: dict[str, Any]) -> RecursoOperadora:
    """The operator's inbound API (a `recurso.sent` payload): the same use case as the Kafka
    consumer; receiving one recurso twice returns the first receipt."""
    found = await call("POST", "recursos", "/internal/operadora/recursos", json=body)
    return RecursoOperadora.model_validate(found)


@router.get(
    "/operadora/recursos/{recurso_id}",
    summary="Um recurso recebido",
    responses=errors(403, 404),
)
async def api_operadora_obter(user: OperadoraStaff, recurso_id: str) -> RecursoOperadora:
    """One received recurso with the clinic's lines, justificativas and attachments."""
    return RecursoOperadora.model_validate(await operadora_obter(recurso_id))


@router.post(
    "/operadora/recursos/{recurso_id}/resposta",
    summary="Responder (RESPOSTA_RECURSO_GLOSA): acatado S/N e valor por item",
    responses=errors(403, 404, 409),
)
async def api_operadora_responder(
    user: OperadoraStaff, recurso_id: str, body: Resposta
) -> RecursoOperadora:
    """Answer every line: acatado S/N, valor acatado ≤ recursado, a justificativa when
    refused or accepted in part; publishes `recurso.answered` once."""
    itens = [i.model_dump() for i in body.itens]
    return RecursoOperadora.model_validate(await operadora_responder(user, recurso_id, itens))
