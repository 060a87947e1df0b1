"""Use cases on lotes and protocols shared by the API and the portal: ownership first.

Pesquisa de Lotes, a lote and its log, the actions, recreating the lote of a file whose
lote was deleted, the invoice (NF), pending payments and Sincronizar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from fastapi import Request
from starlette.datastructures import UploadFile

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, not_found, seg
from tissflow_gateway.files import get_file, own
from tissflow_gateway.uploads import parse_form, refuse_declared

LoteAction = Literal["fechar", "reabrir", "enviar", "excluir"]
NF_MAX_BYTES = 5 * 1024 * 1024


async def _get(service: str, path: str, what: str) -> dict[str, Any]:
    try:
        return await call("GET", service, path)
    except ApiError as exc:
        if exc.status_code == 404:
            raise not_found(what) from None
        raise


def _provider_only(
    user: User, message: str = "Somente o prestador do lote pode alterá-lo."
) -> None:
    if user.role != "prestador":
        raise ApiError(403, "acesso_negado", message)


@dataclass
class Filtros:
    """Pesquisa de Lotes as the portal and the API take it (every field optional)."""

    registro_ans: str | None = None
    numero_lote: str | None = None
    protocolo: str | None = None
    tipo_guia: str | None = None
    situacao_protocolo: str | None = None
    status: str | None = None
    file_id: str | None = None
    de: datetime | None = None
    ate: datetime | None = None
    ordem: str = "data_inclusao"
    direcao: str = "desc"

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
            elif value not in (None, ""):
                out[key] = value
        return out


async def search(user: User, filtros: Filtros, page: int, page_size: int) -> dict[str, Any]:
    params = {**filtros.params(), "page": page, "page_size": page_size}
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    return await call("GET", "batching", "/internal/lotes", params=params)


async def get_lote(user: User, lote_id: str) -> dict[str, Any]:
    return own(user, await _get("batching", f"/internal/lotes/{seg(lote_id)}", "Lote"), "Lote")


async def get_log(user: User, lote_id: str) -> dict[str, Any]:
    await get_lote(user, lote_id)
    return await call("GET", "batching", f"/internal/lotes/{seg(lote_id)}/log")


async def lote_of_file(
    user: User, file_id: str, incluir_excluidos: bool = False
) -> dict[str, Any] | None:
    """The lote an imported file made (None while batching has not opened it yet); with
    `incluir_excluidos`, the newest one even if it was deleted."""
    params: dict[str, Any] = {"file_id": file_id, "page_size": 1}
    if incluir_excluidos:
        params["incluir_excluidos"] = "true"
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    page = await call("GET", "batching", "/internal/lotes", params=params)
    return page["items"][0] if page["items"] else None


async def act(user: User, lote_id: str, acao: LoteAction) -> dict[str, Any]:
    await get_lote(user, lote_id)
    _provider_only(user)
    return await call(
        "POST",
        "batching",
        f"/internal/lotes/{seg(lote_id)}/{seg(acao)}",
        json={"by": user.username},
    )


async def recreate_lote(user: User, file_id: str) -> dict[str, Any]:
    """ "Criar lote novamente": the file's lote was deleted, so its current revision is
    validated again (its guides claimed again: another file may have presented them
    meanwhile) and, imported, makes a new lote with a new number."""
    _provider_only(user, "Somente o prestador do arquivo pode criar o lote.")
    doc = await get_file(user, file_id)
    if doc["status"] != "importado":
        raise ApiError(
            409, "arquivo_nao_importado", "Somente arquivos importados com sucesso formam lotes."
        )
    if await lote_of_file(user, file_id) is not None:
        raise ApiError(409, "lote_existente", "Este arquivo já tem um lote; abra-o em Detalhes.")
    revision = doc["current_revision"]
    path = f"/internal/files/{seg(file_id)}"
    content = await call("GET", "ingest", f"{path}/revisions/{seg(revision)}/content")
    return await call(
        "POST",
        "ingest",
        f"{path}/revisions",
        params={"created_by": user.username, "base_revision": revision, "reason": "lote_recriado"},
        content=content.content,
        headers={"Content-Type": "application/xml"},
    )


def _nf_too_large(size: int | None = None) -> ApiError:
    return ApiError(413, "nf_arquivo_grande", "O arquivo da nota fiscal excede 5 MB.")


@dataclass
class NotaFiscal:
    numero: str
    emissao: date
    valor: str
    filename: str
    content: bytes
    campos: dict[str, str]


def parse_data_br(text: str) -> date:
    text = text.strip()
    try:
        if "/" in text:
            dia, mes, ano = text.split("/")
            return date(int(ano), int(mes), int(dia))
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(
            422, "nf_emissao_invalida", "Data de emissão inválida (use dd/mm/aaaa)."
        ) from None


async def receive_nf(request: Request) -> NotaFiscal:
    """The NF form: numero, emissao, valor and the file in `arquivo` (multipart)."""
    limit = NF_MAX_BYTES + 64 * 1024
    refuse_declared(request, limit, _nf_too_large)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "formato_invalido", "Envie a nota fiscal como multipart/form-data.")
    form = await parse_form(request, limit, _nf_too_large, max_files=2, max_fields=10)
    try:
        campos = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        arquivos = [v for v in form.getlist("arquivo") if isinstance(v, UploadFile)]
        content = await arquivos[0].read() if arquivos else b""
        filename = (arquivos[0].filename or "nota-fiscal") if arquivos else ""
    finally:
        await form.close()
    faltam = [c for c in ("numero", "emissao", "valor") if not campos.get(c, "").strip()]
    if faltam or not content:
        raise ApiError(
            422,
            "nf_incompleta",
            "Informe número, data de emissão e valor da nota fiscal e anexe o arquivo "
            "(PDF ou XML da NFS-e).",
            {"faltando": faltam + ([] if content else ["arquivo"])},
        )
    return NotaFiscal(
        numero=campos["numero"].strip()[:40],
        emissao=parse_data_br(campos["emissao"]),
        valor=campos["valor"].strip()[:30],
        filename=filename[-255:],
        content=content,
        campos=campos,
    )


async def attach_nf(user: User, lote_id: str, nf: NotaFiscal) -> dict[str, Any]:
    await get_lote(user, lote_id)
    _provider_only(user)
    return await call(
        "POST",
        "batching",
        f"/internal/lotes/{seg(lote_id)}/nf",
        params={
            "numero": nf.numero,
            "emissao": nf.emissao.isoformat(),
            "valor": nf.valor,
            "filename": nf.filename,
            "by": user.username,
        },
        content=nf.content,
        headers={"Content-Type": "application/octet-stream"},
    )


async def nf_file(user: User, lote_id: str) -> tuple[bytes, str, str]:
    await get_lote(user, lote_id)
    try:
        upstream = await call("GET", "batching", f"/internal/lotes/{seg(lote_id)}/nf/arquivo")
    except ApiError as exc:
        if exc.status_code == 404:
            raise ApiError(404, "nf_nao_encontrada", "Nota fiscal não encontrada.") from None
        raise
    return (
        upstream.content,
        upstream.headers.get("content-type", "application/octet-stream"),
        upstream.headers.get("x-filename", "nota-fiscal"),
    )


async def nf_pendentes(user: User, page: int, page_size: int) -> dict[str, Any]:
    """Sent lotes still without the clinic's invoice."""
    params: dict[str, Any] = {
        "status": "enviado",
        "sem_nf": "true",
        "page": page,
        "page_size": page_size,
        "ordem": "data_inclusao",
        "direcao": "asc",
    }
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    return await call("GET", "batching", "/internal/lotes", params=params)


async def pagamentos_pendentes(user: User) -> dict[str, Any]:
    params = {"provider_id": user.provider_filter()} if user.provider_filter() else {}
    return await call("GET", "batching", "/internal/lotes/pendencias/pagamentos", params=params)


async def sincronizar(user: User) -> dict[str, Any]:
    """Refresh every open protocol's situation now (the provider's; staff: all): batching
    names its lotes whose protocol is still open, protocol gives each one's record, and
    batching shows them (services do not call each other: the gateway brings the data)."""
    provider_id = user.provider_filter()
    params = {"provider_id": provider_id} if provider_id else {}
    abertos = await call("GET", "batching", "/internal/lotes/sincronizar", params=params)
    protocolos: dict[str, dict[str, Any] | None] = {}
    for lote_id in abertos["lote_ids"]:
        page = await call(
            "GET", "protocol", "/internal/protocolos", params={"lote_id": lote_id, "page_size": 1}
        )
        items = page.get("items") or []
        protocolos[lote_id] = items[0] if items else None
    return await call(
        "POST",
        "batching",
        "/internal/lotes/sincronizar",
        json={"by": user.username, "provider_id": provider_id, "protocolos": protocolos},
    )


async def get_config() -> dict[str, Any]:
    return await call("GET", "batching", "/internal/config")


async def save_config(user: User, config: dict[str, Any]) -> dict[str, Any]:
    if user.role != "operadora":
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe da operadora.")
    return await call("PUT", "batching", "/internal/config", json={**config, "by": user.username})


async def get_protocolo(user: User, peg: str) -> dict[str, Any]:
    doc = await _get("protocol", f"/internal/protocolos/{seg(peg)}", "Protocolo")
    return own(user, doc, "Protocolo")
