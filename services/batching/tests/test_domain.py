"""The lote state machine as the clinic sees it: what each action allows, in pt-BR."""

import pytest
from tissflow_batching.domain import LoteActionRefused, LoteStatus, next_status


def test_lote_life_aberto_fechado_reaberto_enviado() -> None:
    status = LoteStatus.ABERTO
    status = next_status("fechar", status)
    assert status == LoteStatus.FECHADO
    status = next_status("reabrir", status)
    assert status == LoteStatus.ABERTO
    assert next_status("enviar", status) == LoteStatus.ENVIADO
    assert next_status("enviar", LoteStatus.FECHADO) == LoteStatus.ENVIADO


def test_sending_twice_is_not_an_error() -> None:
    assert next_status("enviar", LoteStatus.ENVIADO) == LoteStatus.ENVIADO


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("excluir", LoteStatus.ENVIADO),
        ("reabrir", LoteStatus.ENVIADO),
        ("reabrir", LoteStatus.ABERTO),
        ("fechar", LoteStatus.FECHADO),
        ("enviar", LoteStatus.EXCLUIDO),
    ],
)
def test_refused_actions_say_why(action: str, status: LoteStatus) -> None:
    with pytest.raises(LoteActionRefused) as refused:
        next_status(action, status)
    assert refused.value.message.startswith("Não é possível")
