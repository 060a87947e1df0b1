"""`python -m tissflow_runtime.trace FILE_ID`: one file's whole story, from the logs.

Every service writes JSON log lines with the `correlation_id` that follows a file from its
upload to its statement (the file id) and the OpenTelemetry `trace_id` of the work in
progress. This reads the log files (by default those `make run` writes), keeps the lines of
that file, and the lines of the same traces, and prints them in time order:

    python -m tissflow_runtime.trace 3f2a... [--logs DIR ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_LOGS = Path(__file__).resolve().parents[4] / ".local" / "logs"


def _lines(folders: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for folder in folders:
        for path in sorted(folder.glob("*.log")):
            with path.open(encoding="utf-8", errors="replace") as handle:
                for raw in handle:
                    if not raw.startswith("{"):
                        continue
                    try:
                        yield json.loads(raw)
                    except ValueError:
                        continue


def story(file_id: str, folders: Iterable[Path]) -> list[dict[str, Any]]:
    """The log lines of one file: its correlation id, and the traces those lines ran in."""
    lines = list(_lines(folders))
    traces = {
        line["trace_id"]
        for line in lines
        if line.get("correlation_id") == file_id and line.get("trace_id")
    }
    mine = [
        line
        for line in lines
        if line.get("correlation_id") == file_id
        or line.get("file_id") == file_id
        or (line.get("trace_id") in traces)
    ]
    return sorted(mine, key=lambda line: line.get("ts", ""))


def _format(line: dict[str, Any]) -> str:
    extra = " ".join(
        f"{k}={line[k]}" for k in ("topic", "event_type", "lote_id", "peg") if line.get(k)
    )
    return f"{line.get('ts', '?')}  {line.get('service', '?'):<11} {line.get('msg', '')}  {extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tissflow_runtime.trace")
    parser.add_argument("file_id", help="o id do arquivo (correlation_id)")
    parser.add_argument("--logs", type=Path, action="append", help=f"padrão: {DEFAULT_LOGS}")
    parser.add_argument("--json", action="store_true", help="as linhas como estão, em JSON")
    args = parser.parse_args(argv)
    folders = args.logs or [DEFAULT_LOGS]
    lines = story(args.file_id, folders)
    if not lines:
        print(f"nada sobre {args.file_id} em {', '.join(map(str, folders))}", file=sys.stderr)
        return 1
    for line in lines:
        print(json.dumps(line, ensure_ascii=False) if args.json else _format(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
