"""Validation engine benchmark: a ~10 MB, 100-guide SP/SADT lote generated here.

Baselines measured in the same run: bare lxml parse + XSD validation of the same bytes (the
floor the engine is held to, target ≤ 1.5×), and the `tiss` PyPI package's validator (the
peer, target ≥ 5× slower than us), both as CLIs so start-up is counted alike. Also: peak
memory of validating a 15 MB file (child process max RSS), and hostile-file rejection time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from lxml import etree
from tissflow_demo.samples import build_lote_grande
from tissflow_validation.engine import OperatorContext, validate

from bench.report import median, ms, table, timed

CONTEXT = OperatorContext(registro_ans="331988")
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<mensagemTISS>&lol4;</mensagemTISS>"""
DEEP = b'<?xml version="1.0"?>' + b"<a>" * 100_000 + b"</a>" * 100_000

# VmHWM (peak RSS of this address space) rather than ru_maxrss: Linux carries ru_maxrss
# across exec, so a child forked from this big process would report the parent's peak.
MEMORY_CHILD = """
import sys
from pathlib import Path
content = Path(sys.argv[1]).read_bytes()
if sys.argv[2] == "validate":
    from tissflow_validation.engine import OperatorContext, validate
    result = validate(content, OperatorContext(registro_ans="331988"))
    assert result.valido, result.critiques[:3]
status = Path("/proc/self/status").read_text()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
"""


def tiss_schema() -> etree.XMLSchema:
    """The TISS 4.03.00 XSD, compiled by lxml (the floor the engine is held to)."""
    root = resources.files("tiss") / "_data" / "schemas" / "4.03.00" / "tissV4_03_00.xsd"
    with resources.as_file(root) as path:
        return etree.XMLSchema(etree.parse(str(path)))


def _cli(args: list[str]) -> None:
    subprocess.run(args, check=False, capture_output=True)


def _rss_kib(path: Path, mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(path), mode],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip())


def run(repeat: int = 5) -> str:
    content = build_lote_grande(10.0, 100)
    schema = tiss_schema()

    def floor() -> None:
        if not schema.validate(etree.fromstring(content)):
            raise SystemExit("o lote gerado não passou no XSD: benchmark inválido")

    def engine() -> None:
        result = validate(content, CONTEXT)
        if not result.valido:
            raise SystemExit(f"o lote gerado tem críticas: {result.critiques[:3]}")

    floor_s = median(timed(floor, repeat))
    engine_s = median(timed(engine, repeat))
    rows = [
        ["lxml parse + XSD (piso)", ms(floor_s), "1.00×", ""],
        ["tissflow validate (em processo)", ms(engine_s), f"{engine_s / floor_s:.2f}×", "≤ 1.50×"],
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lote-10mb.xml"
        path.write_bytes(content)
        tissflow = [sys.executable, "-m", "tissflow_validation.cli", "validate", str(path)]
        tissflow += ["--operadora", "331988"]
        peer = [
            str(Path(sys.executable).parent / "tiss"),
            "validate",
            str(path),
            "--format",
            "json",
        ]
        ours_cli = median(timed(lambda: _cli(tissflow), max(3, repeat // 2)))
        peer_cli = median(timed(lambda: _cli(peer), max(3, repeat // 2)))
        rows.append(["tissflow validate (CLI, com partida)", ms(ours_cli), "1.00×", ""])
        rows.append(
            [
                "tiss validate (CLI, pacote PyPI)",
                ms(peer_cli),
                f"{peer_cli / ours_cli:.2f}× mais lento",
                "≥ 5×",
            ]
        )
        big = Path(tmp) / "lote-15mb.xml"
        big.write_bytes(build_lote_grande(14.5, 100))
        base_after = _rss_kib(big, "load")
        val_after = _rss_kib(big, "validate")
        size_mb = big.stat().st_size / 1024 / 1024
    mem_rows = [
        [f"pico de memória validando {size_mb:.1f} MB", f"{val_after / 1024:.0f} MB", "< 300 MB"],
        ["linha de base: Python com o arquivo lido", f"{base_after / 1024:.0f} MB", ""],
        ["acréscimo (motor, XSD, TUSS, árvore)", f"{(val_after - base_after) / 1024:.0f} MB", ""],
    ]
    hostile_rows = []
    for name, data in (("bomba de entidades", BOMB), ("aninhamento de 100 mil níveis", DEEP)):
        result = validate(data, CONTEXT)
        assert not result.valido
        seconds = median(timed(lambda d=data: validate(d, CONTEXT), 20))
        hostile_rows.append([name, ms(seconds), result.critiques[0].codigo, "< 100 ms"])
    return "\n".join(
        [
            table(
                f"Motor de validação: lote SP/SADT de {len(content) / 1e6:.1f} MB, 100 guias "
                f"(mediana de {repeat})",
                ["medida", "tempo", "razão", "meta"],
                rows,
            ),
            table("Memória (pico de RSS do processo filho)", ["medida", "valor", "meta"], mem_rows),
            table(
                "Arquivos hostis (mediana de 20)",
                ["arquivo", "tempo até a crítica", "código", "meta"],
                hostile_rows,
            ),
        ]
    )


if __name__ == "__main__":
    print(run())
