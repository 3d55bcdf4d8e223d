"""``ml-connector sandbox``: every simulator on its own loopback port until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys

import anyio

from connector.sandbox import SIMULATORS, load_simulator
from connector.sandbox.base import Simulator


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sandbox", help="serve the simulators of every external system")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--base-port", type=int, default=8700, help="system n listens on base+n")
    p.add_argument("--systems", nargs="*", default=None, help=f"subset of: {', '.join(SIMULATORS)}")
    p.add_argument("--seed", type=int, default=None, help="seed each simulator with this seed")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    names = args.systems or list(SIMULATORS)
    unknown = [n for n in names if n not in SIMULATORS]
    if unknown:
        print(f"unknown system(s) {unknown}; choose from {', '.join(SIMULATORS)}", file=sys.stderr)
        return 2

    async def go() -> int:
        started: list[Simulator] = []
        try:
            for name in names:
                sim = load_simulator(name)()
                port = args.base_port + SIMULATORS[name][2]
                await sim.start(args.host, port)
                if args.seed is not None:
                    sim.seed({"seed": args.seed})
                started.append(sim)
                print(f"{name:<13} {sim.base_url}", flush=True)
            print("sandbox ready; Ctrl-C stops it", flush=True)
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    break
        finally:
            for sim in started:
                await sim.stop()
        return 0

    return anyio.run(go)
