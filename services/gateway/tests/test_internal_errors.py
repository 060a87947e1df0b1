"""How a failed internal call reaches the public API (`core.api_error`): the callee's
{code, message} passes through; no answer is 503; an uncoded 5xx is 502."""

from __future__ import annotations

from tissflow_gateway.core import api_error
from tissflow_runtime.internal_client import NotFound, Refused, ServiceUnavailable


def test_the_callees_code_and_message_pass_through() -> None:
    err = api_error(
        Refused("validation", 409, "arquivo_nao_editavel", "Somente inválidos.", coded=True)
    )
    assert (err.status_code, err.detail["code"], err.detail["message"]) == (
        409,
        "arquivo_nao_editavel",
        "Somente inválidos.",
    )
    missing = api_error(NotFound("ingest", 404, "arquivo_nao_encontrado", "Não.", coded=True))
    assert missing.status_code == 404


def test_no_answer_is_503_and_an_uncoded_failure_502() -> None:
    down = api_error(
        ServiceUnavailable(
            "ingest", None, "servico_indisponivel", "Indisponível.", {"servico": "ingest"}
        )
    )
    assert (down.status_code, down.detail["code"]) == (503, "servico_indisponivel")
    assert down.detail["details"] == {"servico": "ingest"}
    failed = api_error(ServiceUnavailable("ingest", 500, "erro_interno", "O serviço falhou."))
    assert (failed.status_code, failed.detail["code"]) == (502, "erro_interno")
    refused = api_error(Refused("ingest", 400, "erro_interno", "Pedido recusado."))
    assert (refused.status_code, refused.detail["code"]) == (400, "requisicao_invalida")
