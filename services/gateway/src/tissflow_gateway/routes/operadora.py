"""API of the operator's settings: rules per table-38 code (regras) and the registry of
prestadores and beneficiários (cadastro, CSV imports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from tissflow_gateway import operadora
from tissflow_gateway.deps import OperadoraStaff
from tissflow_gateway.routes.common import ARQUIVO_MULTIPART, COMMON, errors
from tissflow_gateway.schemas import CadastroImportOut, ErrorBody, RegraIn, RegraOut, RegraPage

router = APIRouter(prefix="/api/v1", responses=COMMON)


@router.get("/operadora/regras", tags=["operadora"], responses=errors(403))
async def list_rules(user: OperadoraStaff) -> RegraPage:
    """Every table-38 code the validation can raise, with the operator's setting: ativa,
    ignorável, severidade (erro or alerta), who changed it and when. Structural checks
    (`configuravel: false`) are always on and never ignorable."""
    return RegraPage(**await operadora.list_rules())


@router.put("/operadora/regras/{codigo}", tags=["operadora"], responses=errors(403, 404, 409))
async def configure_rule(
    codigo: Annotated[str, Path(max_length=10)], body: RegraIn, user: OperadoraStaff
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
async def import_prestadores(request: Request, user: OperadoraStaff) -> CadastroImportOut:
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
async def import_beneficiarios(request: Request, user: OperadoraStaff) -> CadastroImportOut:
    """Import the beneficiaries' registry: a CSV `numero_carteira;nome;ativo` (ativo S/N;
    `;`, UTF-8, header line), in field `arquivo` of a multipart form or as a `text/csv`
    body, up to 20 MB. Each line adds or updates one carteira; a bad line is refused with
    its number and reason and the others are imported (422 `csv_invalido` when the file
    as a whole cannot be read)."""
    return await _import("beneficiarios", request)
