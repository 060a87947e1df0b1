"""The lote state machine, numbering and calendar as the clinic meets them, in pt-BR."""

from datetime import date

import pytest
from tissflow_batching.domain import (
    LIMITE_GUIAS,
    GuiasRecusadas,
    LoteActionRefused,
    LoteStatus,
    acoes_disponiveis,
    aviso_de_limite,
    check_new_guides,
    enviar_ate,
    next_status,
    numero_do_lote,
    prazo_em_texto,
)


def test_lote_life_aberto_fechado_reaberto_fechado_enviado() -> None:
    status = LoteStatus.ABERTO
    status = next_status("fechar", status)
    assert status == LoteStatus.FECHADO
    status = next_status("reabrir", status)
    assert status == LoteStatus.ABERTO
    status = next_status("fechar", status)
    assert next_status("enviar", status) == LoteStatus.ENVIADO


def test_enviar_only_from_fechado() -> None:
    with pytest.raises(LoteActionRefused) as refused:
        next_status("enviar", LoteStatus.ABERTO)
    assert refused.value.code == "lote_nao_fechado"
    assert "Feche o lote" in refused.value.message


def test_sending_twice_is_not_an_error() -> None:
    assert next_status("enviar", LoteStatus.ENVIADO) == LoteStatus.ENVIADO


@pytest.mark.parametrize("action", ["fechar", "reabrir", "excluir"])
def test_a_sent_lote_never_changes_and_says_to_contact_the_operator(action: str) -> None:
    with pytest.raises(LoteActionRefused) as refused:
        next_status(action, LoteStatus.ENVIADO)
    assert "entre em contato com a operadora" in refused.value.message


@pytest.mark.parametrize(
    ("action", "status"),
    [("reabrir", LoteStatus.ABERTO), ("fechar", LoteStatus.FECHADO)],
)
def test_refused_actions_say_why(action: str, status: LoteStatus) -> None:
    with pytest.raises(LoteActionRefused) as refused:
        next_status(action, status)
    assert refused.value.message.startswith("Não é possível")


def test_actions_in_the_manuals_order() -> None:
    assert acoes_disponiveis("aberto") == ["fechar", "excluir"]
    assert acoes_disponiveis("fechado") == ["excluir", "reabrir", "enviar"]
    assert acoes_disponiveis("enviado") == []


def test_numbers_follow_the_sequence_and_never_start_at_zero() -> None:
    assert numero_do_lote(1) == 1_000_001
    assert numero_do_lote(2270) == 1_002_270
    with pytest.raises(ValueError):
        numero_do_lote(0)


def test_hundred_guides_of_one_type() -> None:
    assert aviso_de_limite(1) == (
        "Este lote já possui 1 guia. Limite máximo permitido por lote é de 100 guias."
    )
    check_new_guides("sp_sadt", 99, "sp_sadt", 1)
    with pytest.raises(GuiasRecusadas) as cheio:
        check_new_guides("sp_sadt", LIMITE_GUIAS, "sp_sadt", 1)
    assert cheio.value.code == "limite_de_guias"
    with pytest.raises(GuiasRecusadas) as outro:
        check_new_guides("sp_sadt", 1, "consulta", 1)
    assert outro.value.code == "tipo_de_guia_diferente"


def test_billing_calendar_deadline() -> None:
    assert enviar_ate(date(2026, 4, 17), 20) == date(2026, 4, 20)
    assert enviar_ate(date(2026, 4, 21), 20) == date(2026, 5, 20)
    assert enviar_ate(date(2026, 12, 31), 20) == date(2027, 1, 20)
    assert enviar_ate(date(2026, 2, 10), 31) == date(2026, 2, 28)
    assert prazo_em_texto(date(2026, 4, 20), date(2026, 4, 17)) == "faltam 3 dias"
    assert prazo_em_texto(date(2026, 4, 20), date(2026, 4, 20)) == "último dia"
    assert prazo_em_texto(date(2026, 4, 20), date(2026, 4, 22)) == "prazo vencido há 2 dias"
