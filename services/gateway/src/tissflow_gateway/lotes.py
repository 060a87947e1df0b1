"""Use cases on lotes and protocols shared by the API and the portal: ownership first."""

from __future__ import annotations

from typing import Any, Literal

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, not_found, seg
from tissflow_gateway.files import own

LoteAction = Literal["fechar", "reabrir", "enviar", "excluir"]


async def _get(service: str, path: str, what: str) -> dict[str, Any]:
    try:
        return await call("GET", service, path)
    except ApiError as exc:
        if exc.status_code == 404:
            raise not_found(what) from None
        raise


async def get_lote(user: User, lote_id: str) -> dict[str, Any]:
    return own(user, await _get("batching", f"/internal/lotes/{seg(lote_id)}", "Lote"), "Lote")


async def lote_of_file(user: User, file_id: str) -> dict[str, Any] | None:
    """The lote an imported file made (None while batching has not opened it yet)."""
    params: dict[str, Any] = {"file_id": file_id, "page_size": 1}
    if user.provider_filter():
        params["provider_id"] = user.provider_filter()
    page = await call("GET", "batching", "/internal/lotes", params=params)
    return page["items"][0] if page["items"] else None


async def act(user: User, lote_id: str, acao: LoteAction) -> dict[str, Any]:
    await get_lote(user, lote_id)
    if user.role != "prestador":
        raise ApiError(403, "acesso_negado", "Somente o prestador do lote pode alterá-lo.")
    return await call(
        "POST",
        "batching",
        f"/internal/lotes/{seg(lote_id)}/{seg(acao)}",
        json={"by": user.username},
    )


async def get_protocolo(user: User, peg: str) -> dict[str, Any]:
    doc = await _get("protocol", f"/internal/protocolos/{seg(peg)}", "Protocolo")
    return own(user, doc, "Protocolo")


async def change_status(user: User, peg: str, change: dict[str, Any]) -> dict[str, Any]:
    """The operator's staff move a protocol forward (never ops: deps.py's role table)."""
    if user.role != "operadora":
        raise ApiError(403, "acesso_negado", "Acesso restrito à equipe da operadora.")
    return await call(
        "POST",
        "protocol",
        f"/internal/protocolos/{seg(peg)}/status",
        json={**change, "by": user.username},
    )
