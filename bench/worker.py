"""The connector process of one stage: ``python -m bench.worker STAGE [options]``.

It runs exactly one stage and prints the stage's result (a :mod:`bench.model` Struct) as
the last line of standard output, so its CPU time and peak memory belong to that stage
alone. Everything else it has to say goes to standard error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio
import msgspec

from bench import stage_local, stage_remote, stage_webhook
from connector.config import load_config
from connector.runtime.tuning import tune_process

STAGES = ("pipeline", "e2e", "st-rate", "erp-budget", "webhook")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--state-dir", type=Path, help="pipeline: where its database goes")
    parser.add_argument("--config", type=Path, help="connector.toml the sandbox wrote")
    parser.add_argument("--flow", default="servicetitan-infor")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="loader workers (pipeline)")
    parser.add_argument("--sandbox-pid", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--limit", type=int, default=60, help="requests per period (rate)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--settle", type=float, default=stage_webhook.SETTLE_S,
        help="webhook: seconds to wait for the last events to land",
    )
    args = parser.parse_args(argv)
    tune_process()  # as ``ml-connector`` does at start: the stage measures that process
    result = anyio.run(_run, args)
    sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
    return 0


async def _run(args: argparse.Namespace) -> msgspec.Struct:
    if args.stage == "pipeline":
        return await stage_local.pipeline(args.state_dir, args.records, args.workers)
    config = load_config(args.config)
    if args.stage == "e2e":
        return await stage_remote.end_to_end(config, args.flow, args.sandbox_pid)
    if args.stage == "st-rate":
        return await stage_remote.servicetitan_rate(
            config,
            seconds=args.seconds,
            warmup_s=args.warmup,
            limit_per_s=args.limit,
            concurrency=args.concurrency,
        )
    if args.stage == "erp-budget":
        return await stage_remote.erp_budget(
            config,
            seconds=args.seconds,
            warmup_s=args.warmup,
            per_minute=args.limit,
            concurrency=args.concurrency,
        )
    return await stage_webhook.webhook_latency(
        config, args.flow, "servicetitan", settle_s=args.settle
    )


if __name__ == "__main__":
    sys.exit(main())
