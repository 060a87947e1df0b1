"""Protocol statuses move forward along ANS dm_statusProtocolo; side states as allowed."""

from datetime import date

import pytest
from tissflow_protocol.domain.errors import TransitionRefused
from tissflow_protocol.domain.status import check_transition, format_peg

PAY = date(2026, 12, 10)


@pytest.mark.parametrize(
    ("current", "target"),
    [(1, 2), (2, 5), (5, 3), (3, 6), (1, 3), (2, 8), (8, 2), (1, 9), (3, 10), (10, 3)],
)
def test_allowed(current: int, target: int) -> None:
    check_transition(current, target, PAY)


@pytest.mark.parametrize(
    ("current", "target", "fragment"),
    [
        (5, 2, "só avança"),
        (3, 5, "só avança"),
        (6, 3, "encerrado"),
        (9, 2, "encerrado"),
        (3, 8, "não é possível"),
        (2, 11, "não existe"),
    ],
)
def test_refused(current: int, target: int, fragment: str) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check_transition(current, target, PAY)
    assert fragment in refused.value.message


def test_faturado_needs_a_payment_date() -> None:
    with pytest.raises(TransitionRefused, match="data de pagamento"):
        check_transition(2, 3, None)


def test_peg_format() -> None:
    assert format_peg(123, 2026) == "2026000123"


@pytest.mark.parametrize(("current", "target"), [(1, 6), (2, 6), (5, 6)])
def test_pagamento_efetuado_only_after_liberado_para_pagamento(current: int, target: int) -> None:
    with pytest.raises(TransitionRefused, match="6 - Pagamento efetuado"):
        check_transition(current, target, PAY)
