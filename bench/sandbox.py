"""The sandbox process: the simulators a stage needs, seeded and set up like the demo's.

``python -m bench.sandbox --state-dir DIR --flow NAME [--flow NAME] --counts JSON``
starts the simulators through :func:`connector.demo.start` (seeding, vault, config and the
implementer's mapping tables, exactly as ``ml-connector demo`` does), prints one JSON line
``{"config": ..., "urls": {system: base_url}, "pid": ...}`` and serves until its standard
input closes or it gets SIGTERM. The harness owns that pipe, so a sandbox never outlives
the harness that started it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

import anyio
import msgspec

from connector import demo


class Ready(msgspec.Struct, frozen=True):
    """What the sandbox prints once it serves."""

    config: str
    urls: dict[str, str]
    pid: int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--flow", action="append", required=True, dest="flows")
    parser.add_argument("--counts", default="{}", help="seed counts per system, as JSON")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    counts = msgspec.json.decode(args.counts, type=dict[str, dict[str, int]])
    anyio.run(_serve, args.state_dir, args.flows, counts, args.seed)
    return 0


async def _serve(
    state_dir: Path, flows: list[str], counts: dict[str, dict[str, int]], seed: int
) -> None:
    env = await demo.start(state_dir, seed=seed, counts=counts, flows=flows)
    try:
        urls = {name: sim.base_url for name, sim in env.simulators.items()}
        ready = Ready(str(env.config_path), urls, os.getpid())
        sys.stdout.write(msgspec.json.encode(ready).decode() + "\n")
        sys.stdout.flush()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_until_stdin_closes, tg.cancel_scope)
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    tg.cancel_scope.cancel()
                    break
    finally:
        await env.stop()


async def _until_stdin_closes(scope: anyio.CancelScope) -> None:
    await anyio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)
    scope.cancel()


if __name__ == "__main__":
    sys.exit(main())
