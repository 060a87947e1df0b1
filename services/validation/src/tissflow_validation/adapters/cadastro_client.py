"""The registry CSV import over validation's internal API, for the `tissflow cadastro` CLI."""

from __future__ import annotations

from typing import Any

from tissflow_validation.domain.cadastro import CsvInvalido, TipoCadastro


def enviar_csv(
    validation_url: str, token: str, tipo: TipoCadastro, conteudo: bytes, timeout: float = 60.0
) -> dict[str, Any]:
    """POST one CSV to the validation service; returns `{"importados", "erros"}`.

    Raises `CsvInvalido` with the service's pt-BR message when it refuses the file, and
    httpx errors when the service cannot be reached.
    """
    import httpx

    response = httpx.post(
        f"{validation_url.rstrip('/')}/internal/cadastro/{tipo}/csv",
        content=conteudo,
        headers={"X-Internal-Token": token, "Content-Type": "text/csv; charset=utf-8"},
        timeout=timeout,
    )
    if response.status_code == 401:
        raise CsvInvalido("token interno recusado pelo serviço de validação")
    if response.status_code >= 400:
        try:
            detalhe = response.json().get("detail")
        except ValueError:
            detalhe = None
        mensagem = detalhe.get("message") if isinstance(detalhe, dict) else None
        raise CsvInvalido(mensagem or f"o serviço respondeu {response.status_code}")
    return response.json()
