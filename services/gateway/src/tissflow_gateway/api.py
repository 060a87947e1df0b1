"""The public REST API `/api/v1`: what clinics' software and the operator's core call."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from tissflow_gateway import files, operadora, ops
from tissflow_gateway.auth import (
    BearerCredentials,
    CurrentUser,
    User,
    authenticate,
    issue_token,
    revoke_token,
)
from tissflow_gateway.core import ApiError, call
from tissflow_gateway.ops import OpsUser
from tissflow_gateway.schemas import (
    ActionOut,
    CadastroImportOut,
    CorrectionsRequest,
    ErrorBody,
    FileOut,
    FilePage,
    IgnoreRequest,
    Me,
    RegraIn,
    RegraOut,
    RegraPage,
    ReprocessOut,
    ReprocessRequest,
    ValidationOut,
)
from tissflow_gateway.uploads import receive_single_xml


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Requisição inválida",
        401: "Não autenticado",
        403: "Sem permissão",
        404: "Não encontrado (ou de outro prestador)",
        409: "Conflito com a situação atual",
        413: "Arquivo maior que 15 MB",
        415: "Formato não suportado",
        422: "Dados inválidos",
        429: "Muitas tentativas",
        503: "Serviço indisponível",
    }
    return {c: {"model": ErrorBody, "description": descriptions[c]} for c in codes}


COMMON = errors(401, 422, 503)
router = APIRouter(prefix="/api/v1", responses=COMMON)


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    provider_id: str | None


@router.post("/auth/token", tags=["auth"], responses=errors(429))
async def create_token(body: TokenRequest) -> TokenResponse:
    """Exchange a login and password for an API token (send as `Authorization: Bearer`).

    The token expires after `token_days` (30 by default); `DELETE /auth/token` revokes it.
    After 5 wrong passwords for a login, further attempts get 429 for a few minutes.
    """
    user = await authenticate(body.username, body.password)
    token = await issue_token(user)
    return TokenResponse(access_token=token, role=user.role, provider_id=user.provider_id)


@router.delete("/auth/token", status_code=204, tags=["auth"], response_class=Response)
async def delete_token(user: CurrentUser, credentials: BearerCredentials) -> None:
    """Revoke the API token this request is sent with (logout of an API client).

    Answers 204 with no body; the token is refused (401) from then on. Other tokens of
    the same user stay valid. Tokens also expire by themselves `token_days` after issue.
    """
    if credentials is None:
        raise ApiError(
            401, "nao_autenticado", "Envie o token de API a revogar (Authorization: Bearer)."
        )
    await revoke_token(credentials.credentials)


@router.get("/me", tags=["auth"])
async def me(user: CurrentUser) -> Me:
    """Who the token or session belongs to."""
    return Me(
        username=user.username,
        nome=user.nome,
        role=user.role,
        provider_id=user.provider_id,
        provider_nome=user.provider_nome,
    )


# -- files ---------------------------------------------------------------------------
# One file in field `arquivo` of a multipart form: the XML upload and the registry CSVs.
ARQUIVO_MULTIPART = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["arquivo"],
            "properties": {"arquivo": {"type": "string", "format": "binary"}},
        }
    }
}


@router.post(
    "/uploads",
    status_code=202,
    tags=["arquivos"],
    responses=errors(400, 403, 413, 415),
    openapi_extra={"requestBody": {"required": True, "content": ARQUIVO_MULTIPART}},
)
async def upload(
    request: Request,
    user: CurrentUser,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> FileOut:
    """Send one TISS XML (≤ 15 MB). It is validated asynchronously: follow `GET /files/{id}`.

    An `Idempotency-Key` header makes a retried upload return the first one's file.
    """
    if user.role != "prestador" or not user.provider_id:
        raise ApiError(403, "acesso_negado", "Somente prestadores enviam arquivos.")
    received = await receive_single_xml(request)
    params = {
        "provider_id": user.provider_id,
        "filename": received.filename,
        "uploaded_by": user.username,
    }
    if idempotency_key:
        params["idempotency_key"] = idempotency_key
    stored = await call(
        "POST",
        "ingest",
        "/internal/files",
        params=params,
        content=received.content,
        headers={"Content-Type": "application/xml"},
    )
    return FileOut(**stored)


@router.get("/files", tags=["arquivos"])
async def list_files(
    user: CurrentUser,
    status: Literal["em_processamento", "importado", "invalido"] | None = None,
    nome: Annotated[str | None, Query(max_length=255)] = None,
    de: datetime | None = None,
    ate: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> FilePage:
    """Histórico de Arquivos Enviados, newest first, with the portal's filters."""
    params: dict[str, Any] = {"page": page, "page_size": page_size}
    for key, value in {
        "provider_id": user.provider_filter(),
        "status": status,
        "nome": nome,
        "de": de.isoformat() if de else None,
        "ate": ate.isoformat() if ate else None,
    }.items():
        if value:
            params[key] = value
    return FilePage(**await call("GET", "ingest", "/internal/files", params=params))


@router.get("/files/{file_id}", tags=["arquivos"], responses=errors(404))
async def get_file(file_id: str, user: CurrentUser) -> FileOut:
    """One file: status (em_processamento, importado, invalido), revisions, verdict summary."""
    return FileOut(**await files.get_file(user, file_id))


@router.get("/files/{file_id}/criticas", tags=["arquivos"], responses=errors(404))
async def get_critiques(file_id: str, user: CurrentUser) -> ValidationOut:
    """The latest revision's verdict and critiques (table-38 codes, pt-BR messages).

    404 `resultado_nao_encontrado` while the file has not been validated yet.
    """
    return ValidationOut(**await files.get_result(user, file_id))


@router.get(
    "/files/{file_id}/revisions/{revision}/content",
    tags=["arquivos"],
    responses={
        200: {
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The revision's bytes, as stored (1 = original upload)",
        },
        **errors(404),
    },
    response_class=StreamingResponse,
)
async def download_revision(
    file_id: str, revision: Annotated[int, Path(ge=1)], user: CurrentUser
) -> StreamingResponse:
    """Download the original (revision 1) or a corrected revision of a file."""
    return await files.stream_revision(user, file_id, revision)


@router.post(
    "/files/{file_id}/criticas/ignorar", tags=["correcao"], responses=errors(403, 404, 409)
)
async def ignore_critique(file_id: str, body: IgnoreRequest, user: CurrentUser) -> ActionOut:
    """Ignore an ignorable critique (409 `critica_nao_ignoravel` otherwise).

    Only for files with status `invalido` (409 `arquivo_nao_editavel` otherwise).
    """
    return ActionOut(**await files.ignore(user, file_id, body.codigo, body.xpath))


@router.post("/files/{file_id}/correcoes", tags=["correcao"], responses=errors(403, 404, 409))
async def save_corrections(file_id: str, body: CorrectionsRequest, user: CurrentUser) -> ActionOut:
    """ "Salvar": keep new values for fields (by xpath) without reprocessing yet.

    422 `correcao_invalida` when a path does not name a simple field of the file;
    409 `arquivo_nao_editavel` unless the file's status is `invalido`.
    """
    correcoes = [c.model_dump() for c in body.correcoes]
    return ActionOut(**await files.save_corrections(user, file_id, correcoes))


@router.post(
    "/files/{file_id}/reprocessar",
    status_code=202,
    tags=["correcao"],
    responses=errors(403, 404, 409),
)
async def reprocess(file_id: str, body: ReprocessRequest, user: CurrentUser) -> ReprocessOut:
    """ "Salvar e Reprocessar": apply saved and given corrections into a new revision
    (optionally recalculating totals; the hash always) and validate it again.
    Follow `GET /files/{id}` until it leaves em_processamento. Only for files with
    status `invalido` (409 `arquivo_nao_editavel` otherwise)."""
    correcoes = [c.model_dump() for c in body.correcoes] if body.correcoes else None
    return ReprocessOut(**await files.reprocess(user, file_id, body.recalcular_totais, correcoes))


async def _operadora_user(user: CurrentUser) -> User:
    operadora.only_operadora(user)
    return user


OperadoraUser = Annotated[User, Depends(_operadora_user)]


@router.get("/operadora/regras", tags=["operadora"], responses=errors(403))
async def list_rules(user: OperadoraUser) -> RegraPage:
    """Every table-38 code the validation can raise, with the operator's setting: ativa,
    ignorável, severidade (erro or alerta), who changed it and when. Structural checks
    (`configuravel: false`) are always on and never ignorable."""
    return RegraPage(**await operadora.list_rules())


@router.put("/operadora/regras/{codigo}", tags=["operadora"], responses=errors(403, 404, 409))
async def configure_rule(
    codigo: Annotated[str, Path(max_length=10)], body: RegraIn, user: OperadoraUser
) -> RegraOut:
    """Switch a rule off, make it ignorable by the clinic or a mere alert (the file is
    imported with the critique shown). Applies to the files validated from then on, with
    no deploy; the user's login is recorded as `atualizado_por`.

    404 `regra_nao_encontrada` for a code the validation does not use; 409
    `regra_nao_configuravel` for a structural check (reading, message, version, XSD)."""
    return RegraOut(
        **await operadora.configure_rule(
            user, codigo, body.enabled, body.ignoravel, body.severidade
        )
    )


CSV_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {**ARQUIVO_MULTIPART, "text/csv": {"schema": {"type": "string"}}},
    }
}
CSV_ERRORS = {
    **errors(400, 403, 415),
    413: {"model": ErrorBody, "description": "Arquivo CSV maior que 20 MB"},
}


async def _import(tipo: operadora.TipoCadastro, request: Request) -> CadastroImportOut:
    received = await operadora.receive_csv(request)
    result = await operadora.import_csv(tipo, received.content)
    return CadastroImportOut(
        tipo=tipo,
        importados=result["importados"],
        recusados=len(result["erros"]),
        erros=result["erros"],
    )


@router.post(
    "/operadora/cadastro/prestadores",
    tags=["operadora"],
    responses=CSV_ERRORS,
    openapi_extra=CSV_UPLOAD,
)
async def import_prestadores(request: Request, user: OperadoraUser) -> CadastroImportOut:
    """Import the providers' registry: a CSV `cnpj_cpf;codigo_prestador;nome` (`;`,
    UTF-8, header line), in field `arquivo` of a multipart form or as a `text/csv` body,
    up to 20 MB. Each line adds or updates one provider (by CNPJ/CPF); a bad line is
    refused with its number and reason and the others are imported. A file that is not
    UTF-8 or lacks the header is refused as a whole (422 `csv_invalido`)."""
    return await _import("prestadores", request)


@router.post(
    "/operadora/cadastro/beneficiarios",
    tags=["operadora"],
    responses=CSV_ERRORS,
    openapi_extra=CSV_UPLOAD,
)
async def import_beneficiarios(request: Request, user: OperadoraUser) -> CadastroImportOut:
    """Import the beneficiaries' registry: a CSV `numero_carteira;nome;ativo` (ativo S/N;
    `;`, UTF-8, header line), in field `arquivo` of a multipart form or as a `text/csv`
    body, up to 20 MB. Each line adds or updates one carteira; a bad line is refused with
    its number and reason and the others are imported (422 `csv_invalido` when the file
    as a whole cannot be read)."""
    return await _import("beneficiarios", request)


# -- operations ----------------------------------------------------------------------
class ServiceHealth(BaseModel):
    service: str
    ready: bool
    checks: dict[str, str]


class Health(BaseModel):
    items: list[ServiceHealth]


class DeadLetter(BaseModel, extra="allow"):
    id: str
    service: str
    topic: str
    key: str | None
    error: str
    attempts: int
    status: str


class DeadLetters(BaseModel):
    items: list[DeadLetter]
    total: int
    indisponiveis: list[str]


@router.get("/ops/saude", tags=["operações"], responses=errors(403))
async def ops_health(user: OpsUser) -> Health:
    """Readiness of every service (its Kafka and MongoDB connections)."""
    return Health(items=[ServiceHealth(**h) for h in await ops.health()])


@router.get("/ops/mensagens-paradas", tags=["operações"], responses=errors(403))
async def ops_dead_letters(
    user: OpsUser, status: Literal["pendente", "reprocessado"] | None = None
) -> DeadLetters:
    """Messages a consumer gave up on (also on `<topic>.dlq`), newest first."""
    return DeadLetters(**await ops.dead_letters(status))


@router.post(
    "/ops/mensagens-paradas/{service}/{dead_letter_id}/reprocessar",
    tags=["operações"],
    responses=errors(403, 404, 409),
)
async def ops_replay(service: str, dead_letter_id: str, user: OpsUser) -> DeadLetter:
    """Run the consumer's handler on a parked message again (handlers are idempotent)."""
    return DeadLetter(**await ops.replay(service, dead_letter_id))
