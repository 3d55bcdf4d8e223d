"""Infor requests per document, per stream of servicetitan-infor (issue 18, "fewer calls").

Not a test and not part of ``make bench``: a focused measurement. It starts the demo's
simulators with a small contractor, grows every job invoice to ``--lines`` lines (so a batch
has that many AddLines), then runs one cycle per stream in the flow's order and counts the
requests the Infor simulator served for each, divided by the documents the stream wrote::

    .venv/bin/python -m bench.infor_requests --lines 100 [--coding recode]
    .venv/bin/python -m bench.infor_requests --product ln|fsm|syteline --lines 0
    .venv/bin/python -m bench.infor_requests --product ln --ln-offers deep|batch|none

``--product`` runs the flow on that CloudSuite line as ``demo --infor-product`` sets it up;
the requests counted are the gateway's (token requests left out), so they include paging.
``--ln-offers`` sets what the simulated LN services offer for writing a document in one
request (deep insert, ``$batch``, both or neither, the simulator's default); the connector
runs with ``ln_write_mode = "auto"`` and finds out from ``$metadata``.

Reference streams (vendors, items) run first, as in a cycle, and are reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.requests import grow_invoices
from connector import demo
from connector.app import App
from connector.demo_lines import LINE_DEMOS
from connector.flows.servicetitan_infor import M3_STREAMS
from connector.flows.servicetitan_infor.lines import LINE_STREAMS
from connector.sandbox.infor.gateway import parse_path

FLOW = "servicetitan-infor"
#: Path segments of each line's API before what names the operation (IDO, entity set, class).
LINE_PREFIX = {"CSI": 3, "LN": 4, "FSM": 4}
#: Segments that say nothing about what was asked (FSM's list and batch boilerplate).
_NOISE = frozenset({"_generic", "batch", "lists", "actions"})


def _counts(invoices: int, bills: int) -> dict[str, dict[str, int]]:
    return {
        "servicetitan": {
            "vendors": 10, "materials": 8, "equipment": 4, "services": 4, "customers": 20,
            "jobs": invoices, "invoices": invoices, "payments": 0,
            "purchase_orders": bills, "received_purchase_orders": bills, "adjustments": 0,
        },
        "infor": {"suppliers": 6, "items": 8, "purchase_orders": 0},
    }  # fmt: skip


def _count_by_transaction(sim: object, seen: Counter[str]) -> None:
    """Wrap the simulator's per-request fault pick to tally ``PROGRAM/TRANSACTION`` (bulk)."""
    pick: Callable[[object], str | None] = sim._pick_fault  # type: ignore[attr-defined]

    def counted(request: object) -> str | None:
        path = parse_path(request.raw_path)  # type: ignore[attr-defined]
        skip = LINE_PREFIX.get(path.segments[0] if path.segments else "")
        if skip is not None:
            names = [n.split("(")[0] for n in path.segments[skip:] if n not in _NOISE]
            seen[f"{request.method} {'/'.join(names)}"] += 1  # type: ignore[attr-defined]
        else:
            seen["bulk" if path.is_bulk else "/".join(path.segments[-2:])] += 1
        return pick(request)

    sim._pick_fault = counted  # type: ignore[attr-defined]



async def measure(
    lines: int,
    coding: str,
    invoices: int,
    bills: int,
    *,
    verbose: bool = False,
    latency_ms: float = 0.0,
    product: str = "m3",
    ln_offers: str = "none",
) -> None:
    counts = _counts(invoices, bills)
    if product != "m3":
        line = LINE_DEMOS[product]
        counts[line.segment] = {name: min(n, 8) for name, n in line.counts.items()}
    with tempfile.TemporaryDirectory() as work:
        env = await demo.start(
            Path(work) / "state", counts=counts, flows=[FLOW], infor_product=product
        )
        try:
            if coding == "recode":
                await demo.admin(env.simulators["infor"], "POST", "faults", {"addline_ait": False})
                text = env.config_path.read_text()
                env.config_path.write_text(
                    text.replace(
                        "[flows.servicetitan-infor.options]\n",
                        '[flows.servicetitan-infor.options]\nap_coding = "recode"\n',
                    )
                )
            grow_invoices(env, lines)
            if product == "ln":
                settings = env.simulators["infor"].lines["LN"].settings  # type: ignore[attr-defined]
                settings.deep_insert = ln_offers in ("deep", "both")
                settings.batch = ln_offers in ("batch", "both")
            if latency_ms:
                # A real gateway answers in 100 ms or more; with answers in microseconds no
                # two workers' calls are ever in the air together to share a request.
                await demo.admin(
                    env.simulators["infor"], "POST", "faults", {"latency_ms": latency_ms}
                )
            m3 = env.simulators["infor"]
            seen: Counter[str] = Counter()
            _count_by_transaction(m3, seen)
            app = await App.open(env.config)
            try:
                runner = await app.runner(FLOW)
                offers = f" (LN offers: {ln_offers})" if product == "ln" else ""
                print(
                    f"product {product}{offers}; lines per invoice: {lines}; coding: {coding}; "
                    f"Infor latency {latency_ms} ms"
                )
                print(f"{'stream':24} {'written':>8} {'requests':>9} {'req/doc':>8}")
                for stream in M3_STREAMS if product == "m3" else LINE_STREAMS:
                    before = m3.counters["requests"] - m3.counters["token_requests"]
                    seen.clear()
                    report = await runner.cycle(streams=[stream])
                    assert report.ok, report.error
                    made = m3.counters["requests"] - m3.counters["token_requests"] - before
                    written = report.total("created") + report.total("updated")
                    per = f"{made / written:.2f}" if written else "-"
                    print(f"{stream:24} {written:8} {made:9} {per:>8}")
                    if verbose:
                        print("    " + ", ".join(f"{k} {n}" for k, n in seen.most_common()))
            finally:
                await app.aclose()
        finally:
            await env.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--coding", choices=("addline", "recode"), default="addline")
    parser.add_argument("--invoices", type=int, default=40)
    parser.add_argument("--bills", type=int, default=20)
    parser.add_argument("--verbose", action="store_true", help="requests per transaction too")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="simulated M3 latency")
    parser.add_argument(
        "--product", choices=("m3", *sorted(LINE_DEMOS)), default="m3", help="CloudSuite line"
    )
    parser.add_argument(
        "--ln-offers",
        choices=("none", "deep", "batch", "both"),
        default="none",
        help="what the simulated LN offers for one-request documents",
    )
    args = parser.parse_args()
    asyncio.run(
        measure(
            args.lines,
            args.coding,
            args.invoices,
            args.bills,
            verbose=args.verbose,
            latency_ms=args.latency_ms,
            product=args.product,
            ln_offers=args.ln_offers,
        )
    )


if __name__ == "__main__":
    main()
