"""Requests per document, per stream and per system, as the simulators count them (issue 18).

A focused measurement, also run by ``bench.run`` for ``latest.json``. It starts the demo's
simulators for one flow with a small tenant, grows every ServiceTitan job invoice to
``--lines`` lines (so an M3 batch has that many AddLines and an Acumatica invoice that many
details), then runs one cycle per stream in the flow's order and counts the requests each
simulator served for it (a bulk POST is one request, as the server counts it), divided by
the documents the stream wrote::

    .venv/bin/python -m bench.requests --flow servicetitan-infor --lines 100 [--coding recode]
    .venv/bin/python -m bench.requests --flow servicetitan-acumatica --verbose

Reference streams run first, as in a cycle, and are reported too. ``--latency-ms`` makes
every simulator answer that much later, as a real tenant does.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import tempfile
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import msgspec

from bench.model import StreamRequests
from connector import demo
from connector.app import App
from connector.sandbox.servicetitan.sales import recompute_invoice

INFOR_FLOW = "servicetitan-infor"
ACUMATICA_FLOW = "servicetitan-acumatica"
FLOWS = (INFOR_FLOW, ACUMATICA_FLOW)

#: The request budget per minute each system publishes, for the budgeted end-to-end figure:
#: M3 through ION 300/min and ServiceTitan 60/s (issue 18). Acumatica's is the licence
#: tier's "web services API requests per minute" (License Monitoring Console, SM604000); the
#: tier chart is not public and the sheet gives no number, so this is the standard tiers'
#: 100/min commonly quoted (unverified): scale the figure by your licence's.
BUDGETS_PER_MINUTE = {"infor": 300, "servicetitan": 3600, "acumatica": 100}


class StreamFigure(msgspec.Struct, frozen=True, kw_only=True):
    """One stream in ``latest.json``: documents written, requests per system, per document."""

    documents: int
    requests: dict[str, int]
    per_document: float | None


class FlowRequests(msgspec.Struct, frozen=True, kw_only=True):
    """Requests per document of one flow, over its document streams (reference streams are
    listed but not counted: they are paid once, not per document) and per stream."""

    lines_per_invoice: int
    latency_ms: float
    documents: int
    per_document: float | None
    per_document_by_system: dict[str, float]
    streams: dict[str, StreamFigure]


class BudgetedRate(msgspec.Struct, frozen=True, kw_only=True):
    """Documents per minute a flow reaches at each system's published budget (budget ÷
    that system's requests per document), the lowest of them, and the unthrottled figure
    beside it (end-to-end records/s of the same flow, with no budget, times 60)."""

    budgets_per_minute: dict[str, int]
    documents_per_minute_by_system: dict[str, float]
    documents_per_minute: float | None
    bound_by: str | None
    unthrottled_records_per_minute: float | None


def summarize(results: list[StreamRequests], *, lines: int, latency_ms: float) -> FlowRequests:
    documents = [r for r in results if not r.reference]
    count = sum(r.documents for r in documents)
    by_system: dict[str, int] = {}
    for r in documents:
        for system, made in r.requests.items():
            by_system[system] = by_system.get(system, 0) + made
    per_system = {s: round(n / count, 3) for s, n in by_system.items()} if count else {}
    return FlowRequests(
        lines_per_invoice=lines,
        latency_ms=latency_ms,
        documents=count,
        per_document=round(sum(by_system.values()) / count, 3) if count else None,
        per_document_by_system=per_system,
        streams={
            r.stream: StreamFigure(
                documents=r.documents,
                requests=r.requests,
                per_document=None if r.per_document is None else round(r.per_document, 3),
            )
            for r in results
        },
    )


def budgeted(figure: FlowRequests, unthrottled_records_per_s: float | None) -> BudgetedRate:
    systems = [s for s, per in figure.per_document_by_system.items() if per > 0]
    budgets = {s: BUDGETS_PER_MINUTE[s] for s in systems if s in BUDGETS_PER_MINUTE}
    rates = {s: round(b / figure.per_document_by_system[s], 1) for s, b in budgets.items()}
    bound = min(rates, key=rates.__getitem__) if rates else None
    return BudgetedRate(
        budgets_per_minute=budgets,
        documents_per_minute_by_system=rates,
        documents_per_minute=rates[bound] if bound else None,
        bound_by=bound,
        unthrottled_records_per_minute=(
            None if unthrottled_records_per_s is None else round(unthrottled_records_per_s * 60)
        ),
    )


def seed_counts(invoices: int, bills: int) -> dict[str, dict[str, int]]:
    return {
        "servicetitan": {
            "vendors": 10, "materials": 8, "equipment": 4, "services": 4, "customers": 20,
            "jobs": invoices, "invoices": invoices, "payments": invoices // 2,
            "purchase_orders": bills, "received_purchase_orders": bills, "adjustments": 0,
        },
        "infor": {"suppliers": 6, "items": 8, "purchase_orders": 0},
    }  # fmt: skip


def _count_by_call(sim: object, seen: Counter[str]) -> None:
    """Wrap the simulator's per-request fault pick to tally requests by method and path."""
    pick: Callable[[object], str | None] = sim._pick_fault  # type: ignore[attr-defined]

    def counted(request: object) -> str | None:
        method = request.method  # type: ignore[attr-defined]
        parts = [p for p in request.path.split("/") if p]  # type: ignore[attr-defined]
        seen[f"{method} {'/'.join(parts[-2:])}"] += 1
        return pick(request)

    sim._pick_fault = counted  # type: ignore[attr-defined]


def grow_invoices(env: demo.DemoEnvironment, lines: int) -> None:
    """Every job invoice repeated up to ``lines`` items, totals recomputed (0: as seeded)."""
    if lines <= 0:
        return
    store = env.simulators["servicetitan"].store  # type: ignore[attr-defined]
    for invoice in store.table("invoices").all():
        items = invoice["items"]
        if not items:
            continue
        grown = [copy.deepcopy(items[i % len(items)]) for i in range(lines)]
        for order, item in enumerate(grown, start=1):
            item["order"] = order
        invoice["items"] = grown
        recompute_invoice(invoice, Decimal(invoice.get("_taxRate") or "0"))


async def measure(
    flow: str,
    *,
    lines: int = 100,
    coding: str = "addline",
    invoices: int = 40,
    bills: int = 20,
    latency_ms: float = 0.0,
    verbose: bool = False,
) -> list[StreamRequests]:
    """One cycle per stream of ``flow`` on a fresh sandbox; what each stream cost."""
    with tempfile.TemporaryDirectory() as work:
        counts = seed_counts(invoices, bills)
        env = await demo.start(Path(work) / "state", counts=counts, flows=[flow])
        try:
            systems = demo.DEMO_FLOWS[flow]
            if coding == "recode":
                await demo.admin(env.simulators["infor"], "POST", "faults", {"addline_ait": False})
                text = env.config_path.read_text()
                env.config_path.write_text(
                    text.replace(f"[flows.{flow}.options]\n",
                                 f'[flows.{flow}.options]\nap_coding = "recode"\n')
                )  # fmt: skip
            grow_invoices(env, lines)
            if latency_ms:
                for system in systems:
                    await demo.admin(
                        env.simulators[system], "POST", "faults", {"latency_ms": latency_ms}
                    )
            seen: Counter[str] = Counter()
            for system in systems:
                _count_by_call(env.simulators[system], seen)
            return await _run_streams(env, flow, systems, seen, verbose)
        finally:
            await env.stop()


async def _run_streams(
    env: demo.DemoEnvironment,
    flow: str,
    systems: tuple[str, ...],
    seen: Counter[str],
    verbose: bool,
) -> list[StreamRequests]:
    app = await App.open(env.config)
    results = []
    try:
        runner = await app.runner(flow)
        for stream in runner.flow.streams:
            before = {s: env.simulators[s].counters["requests"] for s in systems}
            seen.clear()
            report = await runner.cycle(streams=[stream.name])
            if not report.ok:
                raise RuntimeError(f"{flow} {stream.name}: {report.error}")
            made = {s: env.simulators[s].counters["requests"] - before[s] for s in systems}
            written = report.total("created") + report.total("updated")
            results.append(
                StreamRequests(
                    stream=stream.name, reference=stream.reference, documents=written, requests=made
                )
            )
            if verbose:
                print(f"  {stream.name}: " + ", ".join(f"{k} {n}" for k, n in seen.most_common()))
    finally:
        await app.aclose()
    return results


def table(flow: str, results: list[StreamRequests]) -> str:
    systems = sorted({s for r in results for s in r.requests})
    head = f"{'stream':24} {'written':>8} " + " ".join(f"{s:>12}" for s in systems)
    rows = [f"{flow}", head + f" {'req/doc':>8}"]
    for r in results:
        per = f"{r.per_document:.2f}" if r.per_document is not None else "-"
        counts = " ".join(f"{r.requests.get(s, 0):>12}" for s in systems)
        rows.append(f"{r.stream:24} {r.documents:8} {counts} {per:>8}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flow", choices=FLOWS, default=INFOR_FLOW)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--coding", choices=("addline", "recode"), default="addline")
    parser.add_argument("--invoices", type=int, default=40)
    parser.add_argument("--bills", type=int, default=20)
    parser.add_argument("--verbose", action="store_true", help="requests per call too")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="simulated latency")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = asyncio.run(
        measure(
            args.flow,
            lines=args.lines,
            coding=args.coding,
            invoices=args.invoices,
            bills=args.bills,
            latency_ms=args.latency_ms,
            verbose=args.verbose,
        )
    )
    if args.json:
        print(msgspec.json.encode(results).decode())
    else:
        print(f"lines per invoice {args.lines}; coding {args.coding}; latency {args.latency_ms} ms")
        print(table(args.flow, results))


if __name__ == "__main__":
    main()
