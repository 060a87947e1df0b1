"""Unit-test helpers for statements: in-memory adapters, sample events, PDF/XML readers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from tissflow_demo.statement_samples import PASA
from tissflow_statements.adapters.memory import MemoryProjection, MemoryStatements
from tissflow_statements.adapters.pdf import shared_renderer
from tissflow_statements.service_layer.ports import Dependencias
from tissflow_tiss import NS

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "statements"


def outbox_entry(payload: Any, *, key: str, correlation_id: str) -> dict[str, Any]:
    return {
        "payload": payload.model_dump(mode="json"),
        "key": key,
        "correlation_id": correlation_id,
    }


@pytest.fixture
def deps() -> Dependencias:
    return Dependencias(
        projection=MemoryProjection(),
        statements=MemoryStatements(),
        operadora=PASA,
        renderer=shared_renderer(),
        event=outbox_entry,
    )


class Leitor:
    """Reads what a user sees in a statement: the PDF's text and pages, the XML's values."""

    @staticmethod
    def pdf_text(pdf: bytes, *, page: int | None = None) -> str:
        """The PDF's text in content order, whitespace collapsed: "label value label value"."""
        pages = ["-f", str(page), "-l", str(page)] if page else []
        raw = subprocess.run(
            ["pdftotext", "-raw", *pages, "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        return re.sub(r"\s+", " ", raw).strip()

    @staticmethod
    def pdf_top(pdf: bytes, points: int = 60) -> str:
        """The text of the first page's top band (`points` high): what heads the document,
        whatever order the engine draws the page's footer in."""
        crop = ["-f", "1", "-l", "1", "-x", "0", "-y", "0", "-W", "2000", "-H", str(points)]
        raw = subprocess.run(
            ["pdftotext", "-raw", *crop, "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        return re.sub(r"\s+", " ", raw).strip()

    @staticmethod
    def pdf_pages(pdf: bytes) -> int:
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
        match = re.search(rb"Pages:\s+(\d+)", info)
        assert match is not None
        return int(match.group(1))

    @staticmethod
    def save_pngs(pdf: bytes, name: str) -> list[Path]:
        """Every page of the PDF as a PNG under test-artifacts/statements/ (to look at)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{name}-*.png"):
            old.unlink()
        (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-", str(ARTIFACTS / name)], input=pdf, check=True
        )
        return sorted(ARTIFACTS.glob(f"{name}-*.png"))

    @staticmethod
    def xml_all(xml: bytes, path: str) -> list[str]:
        root = etree.fromstring(xml)
        return [e.text or "" for e in root.iterfind(path, namespaces={"ans": NS})]

    @staticmethod
    def xml_one(xml: bytes, path: str) -> str:
        found = Leitor.xml_all(xml, path)
        assert len(found) == 1, (path, found)
        return found[0]


@pytest.fixture
def ler() -> type[Leitor]:
    return Leitor
