"""The operator's rule settings and registry CSVs, as the API and the portal reach them.

Both live in the validation service (`/internal/regras`, `/internal/cadastro/.../csv`);
here are what the two doors share: who may use them, the CSV read from a multipart form
(field `arquivo`) or a raw `text/csv` body with its size checked while it streams, and
the calls to validation with the user's login recorded as the author of a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Request
from starlette.datastructures import UploadFile
from tissflow_contracts.limites import MAX_CSV_BYTES as LIMITE_CSV

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.deps import require_role
from tissflow_gateway.uploads import TooLarge, limited, parse_form, recebido, refuse_declared

TipoCadastro = Literal["prestadores", "beneficiarios"]
# The validation service refuses CSVs past 20 MB; the gateway says so before relaying.
MAX_CSV_BYTES = LIMITE_CSV
MAX_CSV_REQUEST_BYTES = MAX_CSV_BYTES + 64 * 1024  # multipart boundaries and fields
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
COLUNAS: dict[str, str] = {
    "prestadores": "cnpj_cpf;codigo_prestador;nome",
    "beneficiarios": "numero_carteira;nome;ativo",
}


def only_operadora(user: User) -> None:
    """The operator's settings and registry are its own staff's, not ops' nor a clinic's
    (the portal pages' check; the API's routes take `deps.OperadoraStaff`)."""
    require_role(
        user,
        "operadora",
        message="Acesso restrito à equipe da operadora (regras de crítica e cadastro).",
    )


async def list_rules() -> dict[str, Any]:
    return await call("GET", "validation", "/internal/regras")


async def configure_rule(
    user: User, codigo: str, enabled: bool, ignoravel: bool, severidade: str
) -> dict[str, Any]:
    """Save one rule's setting; validation answers 404 (unknown code) or 409 (structural)."""
    body = {
        "enabled": enabled,
        "ignoravel": ignoravel,
        "severidade": severidade,
        "by": user.username,
    }
    return await call("PUT", "validation", f"/internal/regras/{seg(codigo)}", json=body)


def csv_too_large(size: int | None = None) -> ApiError:
    return ApiError(
        413,
        "arquivo_muito_grande",
        f"O arquivo CSV excede o limite de 20 MB{recebido(size)}.",
        {"limite_bytes": MAX_CSV_BYTES},
    )


@dataclass
class ReceivedCsv:
    content: bytes
    filename: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # the form's other fields (csrf)


async def receive_csv(request: Request) -> ReceivedCsv:
    """The CSV of a request: the file in field `arquivo` of a multipart form, or the body
    itself when sent as `text/csv`. 413 past 20 MB, 415 for any other body."""
    refuse_declared(request, MAX_CSV_REQUEST_BYTES, csv_too_large)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in CSV_TYPES:
        try:
            return ReceivedCsv(b"".join([c async for c in limited(request, MAX_CSV_BYTES)]))
        except TooLarge:
            raise csv_too_large() from None
    if content_type != "multipart/form-data":
        raise ApiError(
            415,
            "formato_invalido",
            "Envie o CSV no campo 'arquivo' (multipart/form-data) ou como corpo text/csv.",
        )
    form = await parse_form(
        request, MAX_CSV_REQUEST_BYTES, csv_too_large, max_files=2, max_fields=10
    )
    try:
        arquivos = [v for v in form.getlist("arquivo") if isinstance(v, UploadFile)]
        if not arquivos:
            raise ApiError(
                422, "arquivo_ausente", "Nenhum arquivo CSV foi enviado no campo 'arquivo'."
            )
        if len(arquivos) > 1:
            raise ApiError(422, "varios_arquivos", "Envie um arquivo CSV por vez.")
        content = await arquivos[0].read()
        if len(content) > MAX_CSV_BYTES:
            raise csv_too_large(len(content))
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        return ReceivedCsv(content, arquivos[0].filename, fields)
    finally:
        await form.close()


async def import_csv(tipo: TipoCadastro, content: bytes) -> dict[str, Any]:
    """Relay one registry CSV to validation: `{importados, erros: [{linha, mensagem}]}`.

    A file that cannot be read as a whole (not UTF-8, wrong header) is 422 `csv_invalido`.
    """
    if not content.strip():
        raise ApiError(422, "csv_invalido", "O arquivo CSV está vazio.")
    return await call(
        "POST",
        "validation",
        f"/internal/cadastro/{tipo}/csv",
        content=content,
        headers={"Content-Type": "text/csv; charset=utf-8"},
        timeout=120.0,
    )
