"""Use cases on a provider's files shared by the API and the portal: ownership first.

Every function takes the user and checks the file is theirs before touching it; a file
of another provider is "not found", never "forbidden", so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from tissflow_runtime.internal_client import InternalCallError

from tissflow_gateway.auth import User
from tissflow_gateway.core import (
    ApiError,
    call,
    not_found,
    runtime,
    seg,
    unavailable,
)


async def store_file(
    provider_id: str,
    filename: str,
    uploaded_by: str,
    content: bytes,
    *,
    idempotency_key: str | None = None,
    canal: str | None = None,
) -> dict[str, Any]:
    """Ingest's "receive a file" use case, for every door a TISS file comes in by (upload,
    typed lote): the bytes are stored and `file.received` published. The same
    `idempotency_key` returns the first file."""
    params = {"provider_id": provider_id, "filename": filename, "uploaded_by": uploaded_by}
    if idempotency_key:
        params["idempotency_key"] = idempotency_key
    if canal:
        params["canal"] = canal
    return await call(
        "POST",
        "ingest",
        "/internal/files",
        params=params,
        content=content,
        headers={"Content-Type": "application/xml"},
    )


def may_read_content(user: User) -> None:
    """A file's XML and critiques carry patients' data: its provider and the operator's
    staff read them, the operations team only lists files (deps.py's role table)."""
    if user.role == "ops":
        raise ApiError(
            403,
            "acesso_negado",
            "A equipe de operações não lê o conteúdo dos arquivos nem suas críticas.",
        )


def own(user: User, doc: dict[str, Any], what: str) -> dict[str, Any]:
    if not user.can_see_provider(doc.get("provider_id")):
        raise not_found(what)  # never reveal that another provider's id exists
    return doc


async def store_upload(
    user: User,
    filename: str,
    content: bytes,
    idempotency_key: str | None = None,
    canal: str = "upload_xml",
) -> dict[str, Any]:
    """One TISS XML as the provider's own upload (the API's `POST /uploads` and the web
    service's tissLoteGuias, canal "webservice"), through `store_file`."""
    if user.role != "prestador" or not user.provider_id:
        raise ApiError(403, "acesso_negado", "Somente prestadores enviam arquivos.")
    return await store_file(
        user.provider_id,
        filename,
        user.username,
        content,
        idempotency_key=idempotency_key,
        canal=None if canal == "upload_xml" else canal,
    )


async def get_file(user: User, file_id: str) -> dict[str, Any]:
    try:
        doc = await call("GET", "ingest", f"/internal/files/{seg(file_id)}")
    except ApiError as exc:
        if exc.status_code == 404:
            raise not_found("Arquivo") from None
        raise
    return own(user, doc, "Arquivo")


async def get_result(user: User, file_id: str) -> dict[str, Any]:
    """The latest judged revision's result (404 `resultado_nao_encontrado` until then)."""
    may_read_content(user)
    await get_file(user, file_id)
    return await call("GET", "validation", f"/internal/results/{seg(file_id)}")


async def editable_file(user: User, file_id: str) -> dict[str, Any]:
    """The file, if this user may correct it: its own provider's user, and only while it
    is "Inválido" (Corrigir Críticas is for rejected files; an imported file's guides are
    in a lote, perhaps already sent to the operator)."""
    doc = await get_file(user, file_id)
    if user.role != "prestador":
        raise ApiError(403, "acesso_negado", "Somente o prestador do arquivo pode corrigi-lo.")
    if doc["status"] == "em_processamento":
        raise ApiError(
            409,
            "arquivo_em_processamento",
            "O arquivo está em processamento; aguarde o resultado para corrigi-lo.",
        )
    if not correctable(doc):
        raise ApiError(
            409,
            "arquivo_nao_editavel",
            "Somente arquivos com situação “Inválido” podem ser corrigidos; "
            "este arquivo já foi importado.",
        )
    return doc


def correctable(doc: dict[str, Any]) -> bool:
    """Corrigir Críticas (correct, ignore, reprocess) applies to rejected files only."""
    return doc.get("status") == "invalido"


async def ignore(user: User, file_id: str, codigo: str, xpath: str | None) -> dict[str, Any]:
    await editable_file(user, file_id)
    return await call(
        "POST",
        "validation",
        f"/internal/files/{seg(file_id)}/ignorar",
        json={"codigo": codigo, "xpath": xpath, "by": user.username},
    )


@dataclass(frozen=True)
class IgnorableGroup:
    """What "Ignorar todas" does to one table-38 code of a result."""

    xpaths: list[str | None]  # each open, ignorable location once: one ignore call each
    ocorrencias: int  # the critiques those calls ignore (one location may have several)
    nao_ignoraveis: int  # critiques of the code that may not be ignored: left as they are
    descricao: str | None


def ignorable_group(resultado: dict[str, Any], codigo: str) -> IgnorableGroup:
    """The critiques of `codigo` in a result that "Ignorar todas" ignores: ignorable ones
    not ignored yet (in the validation or since it, in the file's ignored list)."""
    ja = {(i.get("codigo"), i.get("xpath") or None) for i in resultado.get("ignoradas", [])}
    xpaths: list[str | None] = []
    ocorrencias = nao_ignoraveis = 0
    descricao = None
    for c in resultado.get("result", {}).get("critiques", []):
        if c.get("codigo") != codigo:
            continue
        descricao = descricao or c.get("descricao")
        xpath = c.get("xpath") or None
        if not c.get("ignoravel"):
            nao_ignoraveis += 1
        elif not c.get("ignorada") and (codigo, xpath) not in ja:
            ocorrencias += 1
            if xpath not in xpaths:
                xpaths.append(xpath)
    return IgnorableGroup(xpaths, ocorrencias, nao_ignoraveis, descricao)


async def ignore_all(user: User, file_id: str, codigo: str) -> int:
    """ "Ignorar todas" of a group: every ignorable critique of the code, in one call to
    the same ignore as one "Ignorar"; the ones that may not be ignored are left alone.
    Returns how many critiques were ignored."""
    await editable_file(user, file_id)
    resultado = await call("GET", "validation", f"/internal/results/{seg(file_id)}")
    grupo = ignorable_group(resultado, codigo)
    if not grupo.xpaths and grupo.nao_ignoraveis:
        raise ApiError(
            409,
            "critica_nao_ignoravel",
            f"A crítica {codigo} ({grupo.descricao}) não pode ser ignorada; corrija o arquivo.",
        )
    if not grupo.xpaths and grupo.descricao is None:
        raise ApiError(404, "critica_nao_encontrada", f"O arquivo não tem a crítica {codigo}.")
    if grupo.xpaths:
        await call(
            "POST",
            "validation",
            f"/internal/files/{seg(file_id)}/ignorar",
            json={"codigo": codigo, "xpaths": grupo.xpaths, "by": user.username},
        )
    return grupo.ocorrencias


async def save_corrections(
    user: User, file_id: str, correcoes: list[dict[str, str]]
) -> dict[str, Any]:
    """ "Salvar": keep the corrections as pending, without reprocessing."""
    await editable_file(user, file_id)
    return await call(
        "POST",
        "validation",
        f"/internal/files/{seg(file_id)}/correcoes",
        json={"correcoes": correcoes, "by": user.username},
    )


async def reprocess(
    user: User,
    file_id: str,
    recalcular_totais: bool,
    correcoes: list[dict[str, str]] | None,
) -> dict[str, Any]:
    """ "Salvar e Reprocessar": a corrected revision goes through the pipeline again."""
    await editable_file(user, file_id)
    body: dict[str, Any] = {"by": user.username, "recalcular_totais": recalcular_totais}
    if correcoes:
        body["correcoes"] = correcoes
    return await call(
        "POST", "validation", f"/internal/files/{seg(file_id)}/reprocessar", json=body
    )


async def revision_content(user: User, file_id: str, revision: int) -> bytes:
    may_read_content(user)
    await get_file(user, file_id)
    response = await call(
        "GET", "ingest", f"/internal/files/{seg(file_id)}/revisions/{seg(revision)}/content"
    )
    return response.content


def download_name(filename: str, revision: int) -> str:
    stem = filename[:-4] if filename.lower().endswith(".xml") else filename
    return f"{stem}.xml" if revision == 1 else f"{stem}.corrigido-r{revision}.xml"


async def stream_revision(user: User, file_id: str, revision: int) -> StreamingResponse:
    """A revision's bytes as a download, passed through as they arrive from ingest."""
    may_read_content(user)
    doc = await get_file(user, file_id)
    if not any(r["revision"] == revision for r in doc.get("revisions", [])):
        raise ApiError(404, "revisao_nao_encontrada", "Revisão não encontrada.")
    path = f"/internal/files/{seg(file_id)}/revisions/{seg(revision)}/content"
    try:
        upstream = await runtime.internal.open_stream("ingest", path)
    except InternalCallError as exc:
        # No answer, or ingest (or its database) down: say so, not 404.
        if exc.status is None or exc.status >= 500:
            raise unavailable({"servico": "ingest"}) from exc
        raise ApiError(404, "revisao_nao_encontrada", "Revisão não encontrada.") from exc

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_bytes():
                yield chunk
        finally:
            await upstream.aclose()

    name = download_name(doc["filename"], revision)
    # Header values are Latin-1 on the wire: the ASCII fallback keeps only ASCII letters
    # and digits (str.isalnum() is true for 日本 or œ, which made the download a 500);
    # the real name travels RFC 5987-encoded in `filename*`.
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name)
    headers = {
        "Content-Disposition": f'attachment; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-SHA256": upstream.headers.get("X-Content-SHA256", ""),
        "X-Content-Type-Options": "nosniff",
    }
    if "content-length" in upstream.headers:
        headers["Content-Length"] = upstream.headers["content-length"]
    return StreamingResponse(body(), media_type="application/xml", headers=headers)
