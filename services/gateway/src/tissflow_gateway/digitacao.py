"""Use cases of Digitação de Guias shared by the API and the portal: the clerk's provider only.

Batching keeps the typed guides and lotes (`/internal/digitacao/...`); validation answers
the carteira and TUSS look-ups (`/internal/consultas/...`); a generated lote's XML goes to
ingest from here, the same use case an upload calls (batching calls no other service).
Every call carries the clerk's own provider id, so another provider's guide is simply
"not found".
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.files import store_file

BASE = "/internal/digitacao"
TIPOS = {
    "consulta": "Consulta",
    "sp_sadt": "SP/SADT",
    "odontologia": "Tratamento Odontológico",
    "honorarios": "Honorários",
}


def _provider(user: User) -> str:
    if user.role != "prestador" or not user.provider_id:
        raise ApiError(403, "acesso_negado", "A digitação de guias é do prestador.")
    return user.provider_id


def _quem(user: User) -> dict[str, str]:
    return {"provider_id": _provider(user), "by": user.username}


async def formulario(tipo: str) -> dict[str, Any]:
    if tipo not in TIPOS:
        raise ApiError(404, "nao_encontrado", "Tipo de guia não disponível para digitação.")
    return await call("GET", "batching", f"{BASE}/formularios/{seg(tipo)}")


async def listar_guias(user: User, **filtros: Any) -> dict[str, Any]:
    params = {k: v for k, v in filtros.items() if v not in (None, "", False)}
    params["provider_id"] = _provider(user)
    return await call("GET", "batching", f"{BASE}/guias", params=params)


async def guia(user: User, guia_id: str) -> dict[str, Any]:
    return await call(
        "GET", "batching", f"{BASE}/guias/{seg(guia_id)}", params={"provider_id": _provider(user)}
    )


async def salvar_guia(
    user: User,
    tipo: str,
    campos: dict[str, str],
    itens: list[dict[str, str]],
    guia_id: str | None = None,
    lote_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {**_quem(user), "campos": campos, "itens": itens}
    if guia_id:
        return await call("PUT", "batching", f"{BASE}/guias/{seg(guia_id)}", json=body)
    body["tipo"] = tipo
    if lote_id:
        body["lote_digitado_id"] = lote_id
    return await call("POST", "batching", f"{BASE}/guias", json=body)


async def excluir_guia(user: User, guia_id: str) -> dict[str, Any]:
    return await call(
        "DELETE",
        "batching",
        f"{BASE}/guias/{seg(guia_id)}",
        params={"provider_id": _provider(user)},
    )


async def listar_lotes(user: User, **filtros: Any) -> dict[str, Any]:
    params = {k: v for k, v in filtros.items() if v}
    params["provider_id"] = _provider(user)
    return await call("GET", "batching", f"{BASE}/lotes", params=params)


async def lote(user: User, lote_id: str) -> dict[str, Any]:
    return await call(
        "GET", "batching", f"{BASE}/lotes/{seg(lote_id)}", params={"provider_id": _provider(user)}
    )


async def novo_lote(user: User, tipo: str) -> dict[str, Any]:
    return await call("POST", "batching", f"{BASE}/lotes", json={**_quem(user), "tipo": tipo})


async def adicionar_guias(user: User, lote_id: str, guia_ids: list[str]) -> dict[str, Any]:
    return await call(
        "POST",
        "batching",
        f"{BASE}/lotes/{seg(lote_id)}/guias",
        json={**_quem(user), "guia_ids": guia_ids},
    )


async def remover_guia(user: User, lote_id: str, guia_id: str) -> dict[str, Any]:
    return await call(
        "DELETE",
        "batching",
        f"{BASE}/lotes/{seg(lote_id)}/guias/{seg(guia_id)}",
        params={"provider_id": _provider(user)},
    )


async def gerar(user: User, lote_id: str) -> dict[str, Any]:
    """Gerar Lote: batching builds the lote's TISS XML, ingest receives it like an upload
    (canal digitacao, the typed lote's idempotency key: a retry submits the same file),
    then batching records the file and the lote no longer changes. Generating twice
    generates once."""
    quem = _quem(user)
    preparado = await call("POST", "batching", f"{BASE}/lotes/{seg(lote_id)}/arquivo", json=quem)
    arquivo = preparado["arquivo"]
    if arquivo is None:
        return preparado["lote"]
    try:
        stored = await store_file(
            quem["provider_id"],
            arquivo["filename"],
            user.username,
            base64.b64decode(arquivo["xml"]),
            idempotency_key=arquivo["idempotency_key"],
            canal="digitacao",
        )
    except ApiError as exc:
        if exc.status_code == 503:
            raise ApiError(
                503,
                "ingest_indisponivel",
                "O recebimento de arquivos está indisponível; tente gerar o lote de novo em "
                "instantes (as guias continuam salvas).",
            ) from exc
        raise ApiError(
            502,
            "ingest_recusou",
            "O arquivo do lote não foi aceito pelo recebimento; as guias continuam salvas.",
            exc.detail,
        ) from exc
    return await call(
        "POST",
        "batching",
        f"{BASE}/lotes/{seg(lote_id)}/envio",
        json={**quem, "file_id": stored["file_id"]},
    )


async def geracao_automatica(user: User) -> dict[str, Any]:
    """Geração Automática: batching puts the complete guides in no lote into new lotes by
    type (≤100 each); each is then generated as Gerar Lote does."""
    montados = await call("POST", "batching", f"{BASE}/geracao-automatica", json=_quem(user))
    lotes = [await gerar(user, lote_id) for lote_id in montados["lote_ids"]]
    return {"lotes": lotes, "guias_incompletas": montados["guias_incompletas"]}


async def carteira(user: User, numero: str) -> dict[str, Any]:
    _provider(user)
    return await call("GET", "validation", f"/internal/consultas/beneficiarios/{seg(numero)}")


async def tuss(user: User, q: str, tabela: str | None, data: date | None) -> dict[str, Any]:
    _provider(user)
    params: dict[str, Any] = {"q": q}
    if tabela in ("18", "19", "20", "22"):
        params["tabela"] = tabela
    if data:
        params["data"] = data.isoformat()
    return await call("GET", "validation", "/internal/consultas/tuss", params=params)
