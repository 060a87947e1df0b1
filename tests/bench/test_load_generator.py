"""The load generator offers the load it says it offers (no servers needed).

`make test-load` reads its p95 as the latency at a stated rate: that only holds if the
open loop's arrivals come at that rate, stop at the run's bounds, and the ~1 MB files are
spread over the run rather than sent by every clinic at once.
"""

from __future__ import annotations

import random

from bench.load import Outcome, arrival_times, build_files


def test_poisson_arrivals_come_at_the_stated_rate_within_the_run() -> None:
    times = arrival_times(40, 60, 10_000, "poisson", random.Random(1))
    assert times == sorted(times)
    assert 0 <= times[0] and times[-1] < 60
    # 2,400 expected; a Poisson count's standard deviation is sqrt(2400) ≈ 49
    assert 2_250 < len(times) < 2_550


def test_even_arrivals_are_evenly_spaced_and_bounded_by_the_file_count() -> None:
    times = arrival_times(40, 60, 100, "even", random.Random(1))
    assert len(times) == 100
    gaps = {round(b - a, 9) for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {0.025}


def test_large_files_are_spread_over_clinics_and_rounds() -> None:
    files = build_files(clinics=10, per_clinic=4, large_every=8, large_mb=0.2)
    large = [
        (c, i) for c, mine in enumerate(files) for i, (_, b) in enumerate(mine) if len(b) > 100_000
    ]
    assert len(large) == 5  # 40 files, one in 8
    assert len({c for c, _ in large}) >= 4  # not one clinic's
    assert len({i for _, i in large}) >= 3  # not one round's


def test_offered_and_achieved_rates_are_reported_apart() -> None:
    out = Outcome(clinics=2, rate=10.0, started=0.0, scheduled=11, schedule_span=2.0)
    out.uploaded = {"a": 0.0, "b": 1.0}
    out.accepted = {"a": 0.5, "b": 1.5}
    out.verdicts = {"a": 3.0}
    assert out.offered_per_s == 5.0
    assert out.accepted_per_s == 2 / 1.5
    assert out.files_per_s == 1 / 3.0
    assert out.lost == ["b"]
