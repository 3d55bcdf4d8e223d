"""``ml-connector demo``: simulators, a seeded contractor, every flow twice, a summary."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import anyio

from connector import demo, demo_lines
from connector.app import App
from connector.commands.common import print_json
from connector.commands.sync import COLUMNS, Progress, print_reports
from connector.runtime.runner import CycleReport


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo", help="start the simulators, seed a contractor, run every flow twice, summarise"
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path("demo-state"),
        help="where the demo's vault, database and config go (emptied first; default ./demo-state)",
    )
    p.add_argument("--seed", type=int, default=7, help="seed of the generated data (default 7)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--flow",
        action="append",
        dest="flows",
        choices=sorted(demo.DEMO_FLOWS),
        help="run only this flow, with only the simulators it needs (repeatable; default all)",
    )
    p.add_argument(
        "--infor-product",
        default="m3",
        choices=["m3", *sorted(demo_lines.LINE_DEMOS)],
        help="the CloudSuite line the Infor flows target (default m3)",
    )
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    # Another line replaces M3 in the Infor system, which infor-servicenow reads from M3.
    default = demo.DEMO_FLOWS if args.infor_product == "m3" else ("servicetitan-infor",)
    flows = tuple(args.flows or default)
    if args.infor_product != "m3" and "infor-servicenow" in flows:
        print(
            f"ml-connector demo: infor-servicenow reads M3 and cannot run with "
            f"--infor-product {args.infor_product}; leave --flow infor-servicenow out",
            file=sys.stderr,
        )
        return 2
    if args.state_dir.exists():
        shutil.rmtree(args.state_dir)
    return anyio.run(_run, args.state_dir, args.seed, args.json, flows, args.infor_product)


async def _run(
    state_dir: Path,
    seed: int,
    as_json: bool,
    flows: tuple[str, ...],
    infor_product: str = "m3",
    counts: dict[str, dict[str, int]] | None = None,
) -> int:
    """Both cycles of every flow and the summary; ``counts`` (per system, or per line
    segment such as ``LN``) replaces the simulators' default seed sizes."""

    def say(text: str) -> None:
        if not as_json:
            print(text, flush=True)

    started = time.monotonic()
    say(f"Starting simulators and seeding a contractor (seed {seed}) …")
    env = await demo.start(
        state_dir, seed=seed, counts=counts, flows=flows, infor_product=infor_product
    )
    summary: list[dict[str, object]] = []
    ok = True
    try:
        app = await App.open(env.config)
        try:
            for flow in app.enabled_flows():
                runner = await app.runner(flow)
                streams = await app.streams_to_run(flow)
                cycles = []
                for number in (1, 2):
                    say(f"\n{flow}, cycle {number}:")
                    progress = Progress()
                    report = await runner.cycle(streams=streams, trigger="demo", progress=progress)
                    progress.finish()
                    if not as_json:
                        print_reports([report], False)
                    cycles.append(_cycle_json(report))
                    ok = ok and report.ok and report.total("failed") == 0
                rerun = cycles[1]["totals"]
                ok = ok and isinstance(rerun, dict) and rerun["created"] + rerun["updated"] == 0
                summary.append({"name": flow, "cycles": cycles})
        finally:
            await app.aclose()
    finally:
        await env.stop()
    took = time.monotonic() - started
    if as_json:
        print_json(
            {"ok": ok, "seconds": round(took, 1), "state_dir": str(state_dir), "flows": summary}
        )
    else:
        verdict = "second cycle wrote nothing new" if ok else "SOMETHING FAILED: see above"
        print(f"\nDone in {took:.0f}s: {verdict}.")
        print(f"Inspect it: ml-connector --config {state_dir / 'connector.toml'} runs")
    return 0 if ok else 1


def _cycle_json(report: CycleReport) -> dict[str, object]:
    return {
        "run_id": report.run_id,
        "ok": report.ok,
        "error": report.error,
        "totals": {c: report.total(c) for c in COLUMNS},
        "streams": report.counts(),
    }
