"""API of recursos de glosa (`/api/v1/recursos`, `/api/v1/operadora/recursos`) and the
calls to the recursos service that the portal pages share.

A clinic only ever reaches its own recursos: every call carries its provider id, and the
recursos service answers 404 for another provider's (as if it did not exist).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.deps import CurrentUser, OperadoraStaff, ProviderUser

router = APIRouter(prefix="/api/v1", tags=["recursos de glosa"])
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


@router.get("/recursos/glosas", summary="Itens glosados que a clínica pode recorrer, com prazo")
async def api_glosas(user: CurrentUser, peg: str | None = None) -> dict[str, Any]:
    items = await glosas(user, peg)
    return {"items": items, "total": len(items)}


@router.get("/recursos/numeros", summary="Glosa inicial, recursado, recuperado e glosa final")
async def api_numeros(user: CurrentUser, peg: str | None = None) -> dict[str, Any]:
    return await numeros(user, peg)


@router.get("/recursos", summary="Recursos de glosa")
async def api_listar(
    user: CurrentUser,
    situacao: Literal["rascunho", "enviado", "em_analise", "respondido"] | None = None,
    peg: str | None = None,
    grupo_id: str | None = None,
) -> dict[str, Any]:
    return await listar(user, situacao=situacao, peg=peg, grupo_id=grupo_id)


@router.post("/recursos", status_code=201, summary="Recorrer (cria rascunhos, um por guia)")
async def api_abrir(user: ProviderUser, body: NovoRecurso) -> dict[str, Any]:
    return await abrir(user, body.peg, body.linhas)


@router.get("/recursos/{recurso_id}", summary="Um recurso de glosa")
async def api_obter(user: CurrentUser, recurso_id: str) -> dict[str, Any]:
    return await obter(user, recurso_id, marcar_lida=user.role == "prestador")


@router.put("/recursos/{recurso_id}", summary="Salvar o rascunho (valores e justificativas)")
async def api_salvar(user: ProviderUser, recurso_id: str, body: Rascunho) -> dict[str, Any]:
    return await salvar(user, recurso_id, [linha.model_dump() for linha in body.linhas])


@router.post("/recursos/{recurso_id}/enviar", summary="Enviar à operadora (RECURSO_GLOSA)")
async def api_enviar(user: ProviderUser, recurso_id: str) -> dict[str, Any]:
    return await enviar(user, recurso_id)


@router.post(
    "/recursos/{recurso_id}/atualizar-situacao",
    summary="Atualizar situação (SOLIC_STATUS_RECURSO_GLOSA)",
)
async def api_atualizar(user: ProviderUser, recurso_id: str) -> dict[str, Any]:
    return await atualizar(user, recurso_id)


@router.post("/recursos/{recurso_id}/anexos", status_code=201, summary="Anexar PDF ou imagem")
async def api_anexar(
    user: ProviderUser, recurso_id: str, arquivo_: Annotated[UploadFile, File(alias="arquivo")]
) -> dict[str, Any]:
    content = await arquivo_.read(ANEXO_MAX + 1)
    return await anexar(
        user,
        recurso_id,
        arquivo_.filename or "anexo",
        (arquivo_.content_type or "").split(";")[0],
        content,
    )


@router.get("/recursos/{recurso_id}/anexos/{anexo_id}", summary="Baixar um anexo")
async def api_anexo(user: CurrentUser, recurso_id: str, anexo_id: str) -> Response:
    return await arquivo(user, recurso_id, f"anexo-{anexo_id}")


@router.get("/recursos/{recurso_id}/xml/{tipo}", summary="XML TISS do recurso ou da resposta")
async def api_xml(
    user: CurrentUser, recurso_id: str, tipo: Literal["recurso", "resposta"]
) -> Response:
    return await arquivo(user, recurso_id, tipo)


@router.get("/operadora/recursos", summary="Recursos a responder (prazo mais antigo primeiro)")
async def api_operadora_listar(
    user: OperadoraStaff, situacao: Literal["em_analise", "respondido"] | None = None
) -> dict[str, Any]:
    return await operadora_listar(situacao)


@router.post("/operadora/recursos", status_code=201, summary="Receber um recurso (entrada)")
async def api_operadora_receber(user: OperadoraStaff, body: dict[str, Any]) -> dict[str, Any]:
    return await call("POST", "recursos", "/internal/operadora/recursos", json=body)


@router.get("/operadora/recursos/{recurso_id}", summary="Um recurso recebido")
async def api_operadora_obter(user: OperadoraStaff, recurso_id: str) -> dict[str, Any]:
    return await operadora_obter(recurso_id)


@router.post(
    "/operadora/recursos/{recurso_id}/resposta",
    summary="Responder (RESPOSTA_RECURSO_GLOSA): acatado S/N e valor por item",
)
async def api_operadora_responder(
    user: OperadoraStaff, recurso_id: str, body: Resposta
) -> dict[str, Any]:
    return await operadora_responder(user, recurso_id, [i.model_dump() for i in body.itens])
