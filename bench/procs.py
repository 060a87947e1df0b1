"""What the processes spent: CPU per process from /proc, the load average, and validation's
own step times from its `/metrics` (`tissflow_validation_step_seconds{step}`).

A bench takes a `CpuMeter` reading before and after its run and divides by the files
judged (ms of CPU per file, per process: services, FerretDB, Kafka, the load generator
itself); the machine's load average goes next to every figure (a shared machine).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def server_pid(name: str) -> int | None:
    """The pid `deploy/local/servers.sh` recorded for `kafka` or `ferretdb` (the state dir
    of TISSFLOW_STATE_DIR), or None."""
    state = Path(os.environ.get("TISSFLOW_STATE_DIR", ".local/test"))
    if not state.is_absolute():
        state = ROOT / state
    try:
        return int((state / "run" / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def server_pids() -> dict[str, int]:
    out = {}
    for name in ("kafka", "ferretdb"):
        pid = server_pid(name)
        if pid is not None:
            out[name] = pid
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pids: dict[str, int], seconds: float = 10.0) -> dict[str, float]:
    """Share of one core each process used over `seconds` with no traffic."""
    before = {n: cpu_seconds(p) for n, p in pids.items()}
    time.sleep(seconds)
    return {n: (cpu_seconds(p) - before[n]) / seconds for n, p in pids.items()}


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy so far (/proc/stat: all but idle
    and iowait), whoever spent them."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user and nice
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU seconds of named processes between `start()` and `stop()` (wall time too)."""

    pids: dict[str, int]
    before: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    machine: float = 0.0  # busy CPU seconds of the whole machine over the run
    load_before: str = ""
    load_after: str = ""

    def start(self) -> CpuMeter:
        self.pids.setdefault("gerador de carga", os.getpid())
        self.load_before = load_average()
        self.before = {n: cpu_seconds(p) for n, p in self.pids.items()}
        self.machine = machine_busy_seconds()
        self.wall = time.perf_counter()
        return self

    def stop(self) -> CpuMeter:
        self.wall = time.perf_counter() - self.wall
        self.machine = machine_busy_seconds() - self.machine
        self.used = {n: cpu_seconds(p) - self.before[n] for n, p in self.pids.items()}
        self.load_after = load_average()
        return self

    def rows(self, files: int) -> list[list[str]]:
        """One row per process, most CPU first: ms of CPU per file judged, share of one
        core over the run, share of all the CPU the measured processes used."""
        total = sum(self.used.values()) or 1e-9
        rows = []
        for name, used in sorted(self.used.items(), key=lambda kv: -kv[1]):
            rows.append(
                [
                    name,
                    f"{used * 1000 / max(files, 1):.1f} ms",
                    f"{used / max(self.wall, 1e-9) * 100:.0f}%",
                    f"{used / total * 100:.0f}%",
                ]
            )
        rows.append(
            [
                "total medido",
                f"{total * 1000 / max(files, 1):.1f} ms",
                f"{total / max(self.wall, 1e-9) * 100:.0f}%",
                f"de {os.cpu_count()} núcleos",
            ]
        )
        others = max(0.0, self.machine - total)
        rows.append(
            [
                "outros processos da máquina",
                "—",
                f"{others / max(self.wall, 1e-9) * 100:.0f}%",
                f"máquina ocupada: {self.busy * 100:.0f}% de {os.cpu_count()} núcleos",
            ]
        )
        return rows

    @property
    def busy(self) -> float:
        """Share of all the machine's cores busy over the run (anyone's work)."""
        return self.machine / max(self.wall, 1e-9) / (os.cpu_count() or 1)

    def per_file_ms(self, files: int) -> dict[str, float]:
        return {n: round(u * 1000 / max(files, 1), 1) for n, u in self.used.items()}


CPU_HEADERS = ["processo", "CPU por arquivo", "de um núcleo", "do total medido"]

_STEP = re.compile(
    r'^tissflow_validation_step_seconds_(sum|count)\{step="([^"]+)"\}\s+([0-9.eE+-]+)$'
)


def validation_steps(url: str) -> dict[str, tuple[float, float]]:
    """`{step: (sum seconds, count)}` from a validation instance's `/metrics`."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    out: dict[str, list[float]] = {}
    for line in text.splitlines():
        m = _STEP.match(line)
        if m:
            kind, step, value = m.groups()
            out.setdefault(step, [0.0, 0.0])[0 if kind == "sum" else 1] = float(value)
    return {k: (v[0], v[1]) for k, v in out.items()}


def step_means(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, int]]:
    """Mean seconds per observation of each step between two `/metrics` readings, and how
    many observations (steps that ran in between only)."""
    out = {}
    for step, (s1, c1) in after.items():
        s0, c0 = before.get(step, (0.0, 0.0))
        if c1 > c0:
            out[step] = ((s1 - s0) / (c1 - c0), int(c1 - c0))
    return out
