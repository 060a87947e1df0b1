"""`make bench`: `python -m bench [seeded|pipeline|engine|outbox|statements|ws|scale]`;
`make test-load`: `python -m bench load --rate 40 --clinics 50 --duration 60` (open loop at
a stated rate: latency under load); without `--rate`, closed loop (saturation throughput)."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from bench import engine, outbox, pipeline, statements, ws

BENCHES = ("seeded", "pipeline", "engine", "outbox", "statements", "ws")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "which",
        nargs="*",
        metavar="seeded|pipeline|engine|outbox|statements|ws|scale|load",
        help="default: all but load",
    )
    parser.add_argument("--uploads", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed-files", type=int, default=100_000, help="seeded: arquivos")
    parser.add_argument("--scale-files", type=int, default=4, help="scale: arquivos por clínica")
    load = parser.add_argument_group("load (make test-load)")
    load.add_argument("--clinics", type=int, default=50, help="clínicas enviando em paralelo")
    load.add_argument("--duration", type=float, default=60.0, help="segundos de envio, no máximo")
    load.add_argument("--files", type=int, default=60, help="arquivos por clínica, no máximo")
    load.add_argument("--large-every", type=int, default=20, help="um arquivo de ~1 MB a cada N")
    load.add_argument("--browsers", type=int, default=2, help="usuários navegando no portal")
    load.add_argument(
        "--rate",
        type=float,
        default=None,
        help="arquivos/s oferecidos (laço aberto); sem ela, laço fechado: vazão máxima",
    )
    load.add_argument(
        "--arrivals",
        choices=("poisson", "even"),
        default="poisson",
        help="laço aberto: chegadas de Poisson ou igualmente espaçadas",
    )
    load.add_argument(
        "--max-in-flight",
        type=int,
        default=400,
        help="laço aberto: uploads em andamento no máximo (as chegadas além esperam)",
    )
    args = parser.parse_args()
    which = args.which or list(BENCHES)
    if set(which) - {*BENCHES, "load", "scale"}:
        parser.error(
            "escolha seeded, pipeline, engine, outbox, statements, ws, scale, load ou nada (todos)"
        )
    print(
        f"# tissflow bench — {platform.machine()}, {os.cpu_count()} núcleos, "
        f"Python {platform.python_version()}; comando: {' '.join(sys.argv)}"
    )
    print("# máquinas compartilhadas e ruidosas: compare as razões, não os tempos absolutos")
    if "load" in which:
        from bench import load as load_bench

        print(
            load_bench.run(
                args.clinics,
                args.duration,
                args.files,
                args.large_every,
                args.browsers,
                rate=args.rate,
                arrivals=args.arrivals,
                max_in_flight=args.max_in_flight,
            ),
            flush=True,
        )
    if "seeded" in which:
        from bench import seeded

        print(seeded.run(args.seed_files), flush=True)
    if "scale" in which:
        from bench import scale

        print(scale.run(args.clinics, args.scale_files), flush=True)
    if "pipeline" in which:
        print(pipeline.run(args.uploads, args.concurrency), flush=True)
    if "engine" in which:
        print(engine.run(args.repeat), flush=True)
    if "outbox" in which:
        print(outbox.run(args.repeat), flush=True)
    if "statements" in which:
        print(statements.run(args.repeat), flush=True)
    if "ws" in which:
        print(ws.run(args.repeat), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
