"""`make bench`: `python -m bench [engine|pipeline|outbox|statements|ws] [--uploads N]`."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from bench import engine, outbox, pipeline, statements, ws


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "which", nargs="*", metavar="engine|pipeline|outbox|statements|ws", help="default: all"
    )
    parser.add_argument("--uploads", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    which = args.which or ["pipeline", "engine", "outbox", "statements", "ws"]
    if set(which) - {"engine", "pipeline", "outbox", "statements", "ws"}:
        parser.error("escolha engine, pipeline, outbox, statements, ws ou nada (todos)")
    print(
        f"# tissflow bench — {platform.machine()}, {os.cpu_count()} núcleos, "
        f"Python {platform.python_version()}; comando: {' '.join(sys.argv)}"
    )
    print("# máquinas compartilhadas e ruidosas: compare as razões, não os tempos absolutos")
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
