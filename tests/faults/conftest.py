"""The fault suite's world (its own servers and services) and the report table printed at
the end of the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import World, start_world, table

ROWS: list[dict] = []


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    started = start_world()
    started.rows = ROWS
    try:
        yield started
    finally:
        started.services.stop()
        started.servers.run("stop")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ROWS:
        terminalreporter.section("falhas injetadas")
        terminalreporter.write_line(table(ROWS))
