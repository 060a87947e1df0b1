"""`python -m tissflow_runtime.trace` tells one file's story from the services' JSON logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tissflow_runtime.trace import main, story


def _write(path: Path, lines: list[dict[str, str]]) -> None:
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")


def test_a_files_lines_and_its_traces_in_time_order(tmp_path: Path) -> None:
    _write(
        tmp_path / "validation.log",
        [
            {
                "ts": "2026-12-01T10:00:02",
                "service": "validation",
                "msg": "handled",
                "correlation_id": "F1",
                "trace_id": "T1",
                "topic": "file.uploaded",
            },
            {
                "ts": "2026-12-01T10:00:09",
                "service": "validation",
                "msg": "other file",
                "correlation_id": "F2",
                "trace_id": "T9",
            },
        ],
    )
    _write(
        tmp_path / "ingest.log",
        [
            {
                "ts": "2026-12-01T10:00:01",
                "service": "ingest",
                "msg": "stored",
                "correlation_id": "F1",
                "trace_id": "T1",
            },
            {
                "ts": "2026-12-01T10:00:03",
                "service": "ingest",
                "msg": "claim check served",
                "trace_id": "T1",
            },
        ],
    )
    got = story("F1", [tmp_path])
    assert [x["msg"] for x in got] == ["stored", "handled", "claim check served"]


def test_the_command_prints_the_story_or_says_nothing_was_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path / "a.log",
        [{"ts": "1", "service": "gateway", "msg": "upload", "correlation_id": "F1"}],
    )
    assert main(["F1", "--logs", str(tmp_path)]) == 0
    assert "gateway" in capsys.readouterr().out
    assert main(["F404", "--logs", str(tmp_path)]) == 1
    assert "nada sobre F404" in capsys.readouterr().err
