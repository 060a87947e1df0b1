"""The Histórico's Período filter: what the clerk types (dd/mm/aaaa) and the days it means."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tissflow_gateway.pages_arquivos import periodo, periodo_params
from tissflow_gateway.portal import data_br, parse_data


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("05/03/2026", date(2026, 3, 5)),
        (" 05/03/2026 ", date(2026, 3, 5)),
        ("5/3/2026", date(2026, 3, 5)),
        ("29/02/2028", date(2028, 2, 29)),
        ("2026-03-05", date(2026, 3, 5)),  # old links carry ISO dates
    ],
)
def test_a_real_day_is_read_day_first(typed: str, day: date) -> None:
    assert parse_data(typed) == day


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_field_is_no_limit(blank: str) -> None:
    assert parse_data(blank) is None


@pytest.mark.parametrize(
    "typed",
    [
        "31/02/2026",  # no such day
        "29/02/2026",  # not a leap year
        "00/01/2026",
        "12/13/2026",  # month first, as an English browser would write it
        "05/03/26",  # two-digit year
        "05/03",
        "05/03/2026/1",
        "05-03-2026",
        "2026-02-30",
        "hoje",
        "aa/bb/cccc",
    ],
)
def test_what_is_not_a_day_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_data(typed)


def test_a_day_is_written_back_as_dd_mm_aaaa() -> None:
    assert data_br(date(2026, 3, 5)) == "05/03/2026"
    assert data_br(None) == ""


def test_a_valid_period_has_both_days_and_no_message() -> None:
    assert periodo("01/03/2026", "31/03/2026") == (date(2026, 3, 1), date(2026, 3, 31), None)
    assert periodo("01/03/2026", "01/03/2026") == (date(2026, 3, 1), date(2026, 3, 1), None)
    assert periodo("", "31/03/2026") == (None, date(2026, 3, 31), None)
    assert periodo("", "") == (None, None, None)


def test_an_impossible_date_says_which_one_and_how_to_write_it() -> None:
    desde, ate, erro = periodo("31/02/2026", "10/03/2026")
    assert desde is None and ate == date(2026, 3, 10)
    assert erro == "Data inicial inválida: “31/02/2026”. Use o formato dd/mm/aaaa."
    _, ate, erro = periodo("01/03/2026", "3/10/26")
    assert ate is None
    assert erro == "Data final inválida: “3/10/26”. Use o formato dd/mm/aaaa."


def test_both_dates_wrong_gives_both_messages() -> None:
    _, _, erro = periodo("x", "y")
    assert erro == (
        "Data inicial inválida: “x”. Use o formato dd/mm/aaaa. "
        "Data final inválida: “y”. Use o formato dd/mm/aaaa."
    )


def test_an_inverted_period_filters_nothing_and_says_so() -> None:
    assert periodo("10/03/2026", "09/03/2026") == (
        None,
        None,
        "A data inicial do período é posterior à data final.",
    )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_period_covers_whole_sao_paulo_days() -> None:
    params = periodo_params(date(2026, 3, 1), date(2026, 3, 1))
    de, ate = _utc(params["de"]), _utc(params["ate"])
    # Uploaded at 23:30 in São Paulo on 01/03 is already 02/03 in UTC: still in the period.
    late_evening = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    just_after = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 00:00 of 02/03 in São Paulo
    just_before = datetime(2026, 3, 1, 2, 59, 59, tzinfo=UTC)  # 23:59:59 of 28/02
    assert de <= late_evening <= ate
    assert not de <= just_after <= ate
    assert not de <= just_before <= ate


def test_an_open_ended_period_sends_only_its_limit() -> None:
    assert set(periodo_params(date(2026, 3, 1), None)) == {"de"}
    assert set(periodo_params(None, date(2026, 3, 1))) == {"ate"}
    assert periodo_params(None, None) == {}
