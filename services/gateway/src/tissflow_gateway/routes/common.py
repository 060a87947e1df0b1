"""What every `/api/v1` router shares: the documented error responses (`errors`, `COMMON`)."""

from __future__ import annotations

from typing import Any

from tissflow_gateway.schemas import ErrorBody


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
