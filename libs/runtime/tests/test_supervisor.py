"""`make run`'s supervisor: a service that exited, or that stays unready too long, is
restarted; one that is briefly unready, or ready, is left alone (issue 22, item 11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tissflow_runtime.local import Supervisor


@dataclass
class FakeProc:
    returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


@dataclass
class FakeServices:
    procs: dict[str, Any] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://{name}"

    def start(self, *names: str) -> None:
        for name in names:
            self.started.append(name)
            self.procs[name] = FakeProc()

    def stop(self, *names: str, timeout: float = 15.0) -> None:
        for name in names:
            self.stopped.append(name)
            del self.procs[name]


def test_a_service_that_stays_unready_is_restarted_and_a_brief_outage_is_not() -> None:
    services = FakeServices(procs={"statements": FakeProc(), "ingest": FakeProc()})
    now = [0.0]
    ready = {"http://statements": False, "http://ingest": True}
    supervisor = Supervisor(
        services,  # type: ignore[arg-type]
        unready_seconds=60,
        probe=lambda url: ready[url],
        clock=lambda: now[0],
        say=lambda _: None,
    )
    assert supervisor.check() == []
    now[0] = 30
    assert supervisor.check() == []  # unready for 30 s: a dependency may be coming back
    now[0] = 61
    assert supervisor.check() == ["statements"]
    assert services.stopped == ["statements"] and services.started == ["statements"]
    # Ready again: the clock starts over the next time it is unready.
    ready["http://statements"] = True
    now[0] = 200
    assert supervisor.check() == []
    ready["http://statements"] = False
    now[0] = 210
    assert supervisor.check() == []


def test_a_service_that_exited_is_restarted_at_once() -> None:
    services = FakeServices(procs={"ingest": FakeProc(returncode=-9)})
    supervisor = Supervisor(
        services,  # type: ignore[arg-type]
        probe=lambda url: True,
        clock=lambda: 0.0,
        say=lambda _: None,
    )
    assert supervisor.check() == ["ingest"]
    assert services.started == ["ingest"] and services.stopped == []
