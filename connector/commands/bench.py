"""``ml-connector bench``: the load benchmark, run from the source checkout.

The harness lives in ``bench/`` beside the ``connector`` package, not inside it: it is a
development tool that starts simulators and several connector processes, and it has no
place in an installed service. This command finds it next to the package it was imported
from and runs it with the same interpreter, so ``make bench`` and ``ml-connector bench``
are the same thing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import connector


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="run the load benchmark (bench/ in a source checkout); writes a JSON report",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a smaller run (a few minutes)")
    size.add_argument("--smoke", action="store_true", help="a tiny run that checks the harness")
    p.add_argument(
        "--out", type=Path, help="where the JSON report goes (default bench/results/latest.json)"
    )
    p.add_argument("--json", action="store_true", help="print the JSON report, no table")
    p.set_defaults(handler=_bench)


def harness_root() -> Path | None:
    """The checkout holding ``bench/run.py`` next to this ``connector`` package, if any."""
    root = Path(connector.__file__).resolve().parent.parent
    return root if (root / "bench" / "run.py").is_file() else None


def _bench(args: argparse.Namespace) -> int:
    root = harness_root()
    if root is None:
        print(
            "ml-connector bench: the benchmark harness (bench/) is not next to this "
            "installation; run it from a source checkout (git clone, then `make bench`)",
            file=sys.stderr,
        )
        return 1
    command = [sys.executable, "-m", "bench.run"]
    if args.quick:
        command.append("--quick")
    if args.smoke:
        command.append("--smoke")
    if args.out is not None:
        command += ["--out", str(args.out.resolve())]
    if args.json:
        command.append("--json")
    # Fixed arguments and this very interpreter: nothing here comes from a shell.
    return subprocess.run(command, cwd=root, check=False).returncode  # noqa: S603
