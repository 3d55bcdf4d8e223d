"""The harness: ``python -m bench.run [--quick | --smoke] [--out PATH] [--keep]``.

Stages, in order (each connector run is a fresh process; see :mod:`bench`):

1. pipeline overhead — the synthetic stream, several runs, medians;
2. memory — the synthetic stream at two backfill sizes, peak RSS of each process;
3. end to end — one full cycle per available flow against a freshly seeded sandbox with
   every rate limit off, several runs, medians, and the CPU split connector/sandbox;
4. rate-limit efficiency — ServiceTitan at 60 req/s, then M3 at 300 calls/min, each
   measured after a warm-up;
5. webhook latency — invoices created in the sandbox at a fixed rate, delivered as
   webhooks, timed from delivery to target write.

``--quick`` shrinks every stage (and says so in the report's notes); ``--smoke`` is the
tiny run the tests use to check the report's shape: none of its figures means anything, so
it runs stages 1–2 beside 3–5 rather than before them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import aiohttp
import anyio
import msgspec

from bench import report as reporting
from bench import requests as bench_requests
from bench.metrics import median
from bench.model import EndToEndResult, PipelineResult, RateResult, WebhookReady, WebhookResult
from bench.procs import ROOT, Sandbox, Worker, run_worker
from connector import demo

#: The end-to-end flows the issue names; one that demo cannot set up is "not available".
E2E_FLOWS = (
    "servicetitan-acumatica",
    "servicetitan-infor",
    "ifs-servicetitan",
    "infor-servicenow",
    "servicetitan-syspro",
)
#: Invoice-creating requests per second the webhook stages send the sandbox, at most.
MAX_TICKS_PER_S = 100
#: The receiver-latency run stops this long after its last delivery (landing is not timed).
RECEIVER_SETTLE_S = 2.0
#: The flow the rate-limit and webhook stages drive (ServiceTitan and M3).
INFOR_FLOW = "servicetitan-infor"
#: Enough reference data for the rate and webhook stages, little enough to seed in a blink.
SERVICE_COUNTS: dict[str, dict[str, int]] = {
    "servicetitan": {
        "vendors": 10,
        "materials": 10,
        "equipment": 6,
        "services": 4,
        "customers": 20,
        "jobs": 10,
        "invoices": 10,
        "payments": 0,
        "purchase_orders": 4,
        "received_purchase_orders": 2,
        "adjustments": 0,
    },
    "infor": {"suppliers": 8, "items": 10, "purchase_orders": 2},
}


def _e2e_counts(invoices: int, bills: int) -> dict[str, dict[str, int]]:
    return {
        "servicetitan": {
            "vendors": max(10, invoices // 20),
            "materials": max(10, invoices // 20),
            "equipment": max(6, invoices // 40),
            "services": 10,
            "customers": max(20, invoices // 10),
            "jobs": invoices,
            "invoices": invoices,
            "payments": 0,
            "purchase_orders": bills,
            "received_purchase_orders": bills,
            "adjustments": 0,
        },
        "infor": {"suppliers": 20, "items": 40, "purchase_orders": 2},
    }


@dataclass(frozen=True)
class RequestsPlan:
    lines: int = 100
    invoices: int = 40
    bills: int = 20
    latencies_ms: tuple[float, ...] = (0.0, 100.0)


@dataclass(frozen=True)
class Plan:
    name: str
    pipeline_records: int
    pipeline_runs: int
    pipeline_workers: int
    memory_sizes: tuple[int, int]
    #: Seed counts per end-to-end flow ("*": any flow not named).
    e2e_counts: dict[str, dict[str, dict[str, int]]]
    e2e_runs: int
    st_seconds: float
    st_warmup_s: float
    erp_seconds: float
    erp_warmup_s: float
    webhook_events: int
    webhook_rate_per_s: float
    #: The receiver-latency run: deliveries at this rate, not waited for to land.
    receiver_events: int
    receiver_rate_per_s: float
    #: One sandbox for every remote stage (smoke: start-up time dominates otherwise).
    shared_sandbox: bool = False
    #: The local stages (pipeline, memory) run beside the remote ones. Only where no figure
    #: means anything (smoke): the processes would compete for the CPU they measure.
    overlap_stages: bool = False
    #: Requests per document (``bench.requests``): lines per job invoice, invoices, bills,
    #: and the simulated latencies it is measured at (the first one feeds the budgets).
    requests: RequestsPlan = field(default_factory=lambda: RequestsPlan())
    notes: tuple[str, ...] = ()


PLANS = {
    "full": Plan(
        name="full",
        pipeline_records=20_000,
        pipeline_runs=3,
        pipeline_workers=32,
        memory_sizes=(50_000, 200_000),
        # Acumatica's flow is latency-bound (about 30 records/s here): fewer records keep
        # the full run within ten minutes.
        e2e_counts={
            "*": _e2e_counts(2000, 300),
            "servicetitan-acumatica": _e2e_counts(500, 100),
        },
        e2e_runs=3,
        st_seconds=30,
        st_warmup_s=3,
        erp_seconds=60,
        erp_warmup_s=5,
        webhook_events=1500,
        webhook_rate_per_s=100,
        receiver_events=10_000,
        receiver_rate_per_s=1000,
    ),
    "quick": Plan(
        name="quick",
        pipeline_records=10_000,
        pipeline_runs=3,
        pipeline_workers=32,
        memory_sizes=(10_000, 40_000),
        e2e_counts={"*": _e2e_counts(500, 100), "servicetitan-acumatica": _e2e_counts(150, 30)},
        e2e_runs=2,
        st_seconds=10,
        st_warmup_s=2,
        erp_seconds=20,
        erp_warmup_s=3,
        webhook_events=300,
        webhook_rate_per_s=100,
        receiver_events=3000,
        receiver_rate_per_s=1000,
        notes=(
            "quick run: memory measured at 10,000/40,000 records instead of 50,000/200,000",
            "quick run: the ERP budget is measured over 20 s after warm-up and scaled to a minute",
        ),
    ),
    "smoke": Plan(
        name="smoke",
        pipeline_records=300,
        pipeline_runs=1,
        pipeline_workers=8,
        memory_sizes=(300, 1200),
        e2e_counts={"*": SERVICE_COUNTS},
        e2e_runs=1,
        st_seconds=1,
        st_warmup_s=0.3,
        erp_seconds=1,
        erp_warmup_s=0.3,
        webhook_events=5,
        webhook_rate_per_s=100,
        receiver_events=20,
        receiver_rate_per_s=1000,
        shared_sandbox=True,
        overlap_stages=True,
        requests=RequestsPlan(lines=5, invoices=4, bills=2, latencies_ms=(0.0,)),
        notes=("smoke run: sizes far too small for any figure to mean anything",),
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a smaller run (about 3 minutes)")
    size.add_argument("--smoke", action="store_true", help="a tiny run that checks the harness")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results" / "latest.json",
        help="where the JSON report goes (default bench/results/latest.json)",
    )
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", action="store_true", help="print the JSON report, no table")
    args = parser.parse_args(argv)
    plan = PLANS["smoke" if args.smoke else "quick" if args.quick else "full"]
    work = args.work or Path(tempfile.mkdtemp(prefix="ml-connector-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = anyio.run(run, plan, work, not args.json)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    reporting.write(result, args.out)
    if args.json:
        sys.stdout.write(args.out.read_text())
    else:
        print(reporting.table(result))
        print(f"\nwritten to {args.out}")
    return 0


async def run(plan: Plan, work: Path, verbose: bool) -> reporting.BenchReport:
    def say(text: str) -> None:
        if verbose:
            print(text, file=sys.stderr, flush=True)

    started = time.monotonic()
    machine = reporting.machine()
    pipeline: list[PipelineResult] = []
    memory: dict[int, PipelineResult] = {}

    async def local_stages() -> None:
        say(f"bench ({plan.name}): pipeline overhead, {plan.pipeline_runs} runs …")
        for n in range(plan.pipeline_runs):
            run_dir = work / f"pipeline-{n}"
            pipeline.append(
                await _pipeline(run_dir, plan.pipeline_records, plan.pipeline_workers)
            )
        say("bench: memory …")
        for size in plan.memory_sizes:
            if size == plan.pipeline_records:
                # A pipeline run of this size was this measurement already (smoke: it saves
                # a process start, which is most of what a smoke stage costs).
                memory[size] = pipeline[0]
                continue
            memory[size] = await _pipeline(work / f"memory-{size}", size, plan.pipeline_workers)

    if plan.overlap_stages:
        async with anyio.create_task_group() as tg:
            tg.start_soon(local_stages)
            e2e, status, service = await _remote_stages(plan, work, say)
    else:
        await local_stages()
        e2e, status, service = await _remote_stages(plan, work, say)
    say("bench: requests per document …")
    requests = await _requests_per_document(plan.requests)
    result = _assemble(plan, machine, started, pipeline, memory, e2e, status, service)
    _add_requests(result, requests)
    return result


async def _remote_stages(
    plan: Plan, work: Path, say: Callable[[str], None]
) -> tuple[dict[str, list[EndToEndResult]], dict[str, str], _Service]:
    """End to end per flow, then the stages that share the service sandbox."""
    available = [flow for flow in E2E_FLOWS if flow in demo.DEMO_FLOWS]
    status = {
        flow: "not available: the flow is not registered with the demo set-up"
        for flow in E2E_FLOWS
        if flow not in available
    }
    e2e: dict[str, list[EndToEndResult]] = {flow: [] for flow in available}
    if plan.shared_sandbox:
        say("bench: end to end, rate limits and webhooks on one sandbox …")
        shared = work / "shared"
        async with Sandbox(shared, available, plan.e2e_counts["*"]) as sandbox:
            for flow in available:
                e2e[flow].append(await _end_to_end_on(sandbox, shared, flow))
            service = await _service_stages(sandbox, shared, plan)
    else:
        for flow in available:
            say(f"bench: end to end {flow}, {plan.e2e_runs} runs …")
            for n in range(plan.e2e_runs):
                run_dir = work / f"e2e-{flow}-{n}"
                counts = plan.e2e_counts.get(flow, plan.e2e_counts["*"])
                async with Sandbox(run_dir, [flow], counts) as sandbox:
                    e2e[flow].append(await _end_to_end_on(sandbox, run_dir, flow))
        say("bench: rate limits and webhooks …")
        async with Sandbox(work / "service", [INFOR_FLOW], SERVICE_COUNTS) as sandbox:
            service = await _service_stages(sandbox, work / "service", plan)
    for flow, runs in e2e.items():
        errors = [r.error for r in runs if r.error]
        status[flow] = f"ran with errors: {errors[0]}" if errors else "ok"
    return e2e, status, service


async def _requests_per_document(
    plan: RequestsPlan,
) -> dict[float, dict[str, bench_requests.FlowRequests]]:
    """Each flow's requests per document and stream at each latency (in this process: the
    simulators count the requests, so no clock is involved)."""
    figures: dict[float, dict[str, bench_requests.FlowRequests]] = {}
    for latency in plan.latencies_ms:
        for flow in bench_requests.FLOWS:
            results = await bench_requests.measure(
                flow, lines=plan.lines, invoices=plan.invoices, bills=plan.bills,
                latency_ms=latency,
            )  # fmt: skip
            figures.setdefault(latency, {})[flow] = bench_requests.summarize(
                results, lines=plan.lines, latency_ms=latency
            )
    return figures


def _add_requests(
    result: reporting.BenchReport, figures: dict[float, dict[str, bench_requests.FlowRequests]]
) -> None:
    """Requests per document (no added latency first) and the budgeted end-to-end figure."""
    latencies = list(figures)
    result.requests_per_document = figures[latencies[0]]
    result.requests_per_document_with_latency = {
        f"{flow} @ {latency:g} ms": figure
        for latency in latencies[1:]
        for flow, figure in figures[latency].items()
    }
    result.budgeted_e2e = {
        flow: bench_requests.budgeted(figure, result.e2e_records_per_s.get(flow))
        for flow, figure in result.requests_per_document.items()
    }
    result.judge()


class _Service(NamedTuple):
    """What the stages sharing the service sandbox measured."""

    st: RateResult
    st_served_429: int
    erp: RateResult
    webhook: WebhookResult
    webhook_rate_per_s: float
    receiver: WebhookResult
    receiver_rate_per_s: float


async def _service_stages(sandbox: Sandbox, work: Path, plan: Plan) -> _Service:
    st, st_served = await _servicetitan_rate(sandbox, work, plan)
    erp = await _erp_budget(sandbox, work, plan)
    webhook, rate = await _webhook(sandbox, work, plan.webhook_events, plan.webhook_rate_per_s)
    receiver, receiver_rate = await _receiver(
        sandbox, work, plan.receiver_events, plan.receiver_rate_per_s
    )
    return _Service(st, st_served, erp, webhook, rate, receiver, receiver_rate)


async def _pipeline(work: Path, records: int, workers: int) -> PipelineResult:
    _fresh_directory(work)
    args = ["--state-dir", str(work), "--records", str(records), "--workers", str(workers)]
    result = await run_worker(work, "pipeline", args, PipelineResult)
    _drop_databases(work)
    return result


def _fresh_directory(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)


def _drop_databases(work: Path) -> None:
    """200,000 records of ledger and audit are not worth keeping once measured."""
    for database in work.glob("bench.db*"):
        database.unlink()


async def _end_to_end_on(sandbox: Sandbox, work: Path, flow: str) -> EndToEndResult:
    # "Limits off" on both sides: the sandbox's here, the connector's in the worker. A flow
    # without ServiceTitan (infor-servicenow) runs on a sandbox that does not serve it.
    servicetitan = "servicetitan" in sandbox.ready.urls
    if servicetitan:
        await sandbox.admin("servicetitan", "POST", "faults", {"rate_limit_per_s": 0})
    try:
        args = ["--config", str(sandbox.config), "--flow", flow]
        args += ["--sandbox-pid", str(sandbox.pid)]
        return await run_worker(work, "e2e", args, EndToEndResult, label=f"e2e-{flow}")
    finally:
        if servicetitan:
            await sandbox.admin("servicetitan", "POST", "faults", {"rate_limit_per_s": 60})


async def _servicetitan_rate(sandbox: Sandbox, work: Path, plan: Plan) -> tuple[RateResult, int]:
    await sandbox.admin("servicetitan", "POST", "faults", {"rate_limit_per_s": 60})
    served_before = (await sandbox.counters("servicetitan")).get("served_429", 0)
    args = ["--config", str(sandbox.config), "--limit", "60", "--concurrency", "16"]
    args += ["--seconds", str(plan.st_seconds), "--warmup", str(plan.st_warmup_s)]
    result = await run_worker(work, "st-rate", args, RateResult)
    served = (await sandbox.counters("servicetitan")).get("served_429", 0) - served_before
    return result, served


async def _erp_budget(sandbox: Sandbox, work: Path, plan: Plan) -> RateResult:
    await sandbox.admin("infor", "POST", "faults", {"requests_per_minute": 300})
    try:
        args = ["--config", str(sandbox.config), "--limit", "300", "--concurrency", "4"]
        args += ["--seconds", str(plan.erp_seconds), "--warmup", str(plan.erp_warmup_s)]
        return await run_worker(work, "erp-budget", args, RateResult)
    finally:
        await sandbox.admin("infor", "POST", "faults", {"requests_per_minute": 0})


async def _webhook(
    sandbox: Sandbox, work: Path, events: int, per_s: float
) -> tuple[WebhookResult, float]:
    args = ["--config", str(sandbox.config), "--flow", INFOR_FLOW]
    async with Worker(work, "webhook", args) as worker:
        with anyio.fail_after(600):
            await worker.receive(WebhookReady)
        created, rate = await _create_invoices(sandbox, events, per_s)
        await worker.send_line(str(created))
        with anyio.fail_after(600):
            return await worker.receive(WebhookResult), rate


async def _receiver(
    sandbox: Sandbox, work: Path, events: int, per_s: float
) -> tuple[WebhookResult, float]:
    """The receiver at ``per_s``: signed deliveries straight from here, not from the sandbox
    (which cannot create invoices that fast on two cores). Each names one of the sandbox's
    invoices as updated, so the drain behind the receiver does its real work (a re-read)."""
    args = ["--config", str(sandbox.config), "--flow", INFOR_FLOW]
    args += ["--settle", str(RECEIVER_SETTLE_S)]
    state = await sandbox.admin("servicetitan", "GET", "state")
    invoices = state["entities"]["invoices"]
    async with Worker(work, "webhook", args, label="webhook-receiver") as worker:
        with anyio.fail_after(600):
            ready = await worker.receive(WebhookReady)
        sent, rate = await _deliver(ready.receiver_url, state["tenant"], invoices, events, per_s)
        await worker.send_line(str(sent))
        with anyio.fail_after(600):
            return await worker.receive(WebhookResult), rate


async def _deliver(
    url: str, tenant: int, invoices: list[dict[str, object]], count: int, per_s: float
) -> tuple[int, float]:
    """POST ``count`` signed invoice events to ``url`` at ``per_s`` (in ticks of at most
    ``MAX_TICKS_PER_S``, each tick's deliveries concurrently, as a sender's pool would);
    the number answered 2xx and the rate achieved."""
    key = demo.DEMO_WEBHOOK_SECRET.encode()
    per_tick = max(1, round(per_s / MAX_TICKS_PER_S))
    answered = 0

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        nonlocal answered
        body = msgspec.json.encode(
            {
                "eventId": f"bench-{n}",
                "eventType": "invoice.updated",
                "tenantId": tenant,
                "data": invoices[n % len(invoices)],
            }
        )
        signature = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        headers = {"Content-Type": "application/json", "X-ServiceTitan-Signature": signature}
        async with session.post(url, data=body, headers=headers) as response:
            answered += response.status < 300

    connector = aiohttp.TCPConnector(limit=4 * per_tick)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for n in range(0, count, per_tick):
                delay = started + n / per_s - time.monotonic()
                if delay > 0:
                    await anyio.sleep(delay)
                for m in range(n, min(n + per_tick, count)):
                    tg.start_soon(one, session, m)
        took = time.monotonic() - started
    return answered, round(count / took, 1) if took > 0 else 0.0


async def _create_invoices(sandbox: Sandbox, count: int, per_s: float) -> tuple[int, float]:
    """Create ``count`` invoices at ``per_s``, each one firing a webhook; the rate achieved.

    At most ``MAX_TICKS_PER_S`` requests a second, each creating its share of invoices
    (ten every 10 ms at 1,000/s): one request per invoice would measure this loop."""
    url = f"{sandbox.url('servicetitan')}/_sandbox/generate"
    per_tick = max(1, round(per_s / MAX_TICKS_PER_S))
    created = 0
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        for n in range(0, count, per_tick):
            delay = started + n / per_s - time.monotonic()
            if delay > 0:
                await anyio.sleep(delay)
            body = {"entity": "invoices", "count": min(per_tick, count - n)}
            async with session.post(url, json=body) as response:
                response.raise_for_status()
                answer = await response.json()
            created += int(answer.get("created", {}).get("invoices", body["count"]))
        took = time.monotonic() - started
    return created, round(count / took, 1) if took > 0 else 0.0


def _assemble(
    plan: Plan,
    machine: reporting.Machine,
    started: float,
    pipeline: list[PipelineResult],
    memory: dict[int, PipelineResult],
    e2e: dict[str, list[EndToEndResult]],
    status: dict[str, str],
    service: _Service,
) -> reporting.BenchReport:
    st, st_served, erp, webhook, webhook_rate, receiver, receiver_rate = service
    rss = {str(size): result.peak_rss_mb for size, result in memory.items()}
    smallest, largest = memory[min(memory)], memory[max(memory)]
    e2e_rates: dict[str, float | None] = {flow: None for flow in E2E_FLOWS}
    splits: dict[str, reporting.Split | None] = {flow: None for flow in E2E_FLOWS}
    samples: dict[str, list[float]] = {
        "pipeline_records_per_s": [r.records_per_s for r in pipeline],
        "pipeline_cpu_us_per_record": [r.cpu_us_per_record for r in pipeline],
        "rss_records_per_s": [memory[size].records_per_s for size in sorted(memory)],
    }
    for flow, runs in e2e.items():
        e2e_rates[flow] = median([r.records_per_s for r in runs])
        wall = median([r.seconds for r in runs])
        connector = median([r.connector_cpu_s for r in runs])
        sandbox = median([r.sandbox_cpu_s for r in runs])
        splits[flow] = reporting.Split(
            wall_s=wall,
            connector_cpu_s=connector,
            sandbox_cpu_s=sandbox,
            connector_share=round(connector / wall, 3) if wall else 0.0,
            sandbox_share=round(sandbox / wall, 3) if wall else 0.0,
            requests_per_record=median([r.requests / max(r.records, 1) for r in runs]),
        )
        samples[f"e2e_records_per_s.{flow}"] = [r.records_per_s for r in runs]
    notes = list(plan.notes)
    notes.append(
        f"pipeline: {plan.pipeline_workers} loader workers on one synthetic stream; "
        "the target writes nothing remote"
    )
    notes.append(
        f"erp budget: calls per minute over {erp.seconds:g} s after a {erp.warmup_s:g} s "
        "warm-up (the limiter's initial burst excluded), against 300/min"
    )
    if st_served != st.throttled_total:
        notes.append(
            f"ServiceTitan served {st_served} 429s; the connector counted {st.throttled_total}"
        )
    result = reporting.BenchReport(
        mode=plan.name,
        generated_at=reporting.now_iso(),
        duration_s=round(time.monotonic() - started, 1),
        machine=machine,
        commit=reporting.commit(),
        pipeline_records_per_s=median([r.records_per_s for r in pipeline]),
        pipeline_cpu_us_per_record=median([r.cpu_us_per_record for r in pipeline]),
        pipeline_records=plan.pipeline_records,
        pipeline_workers=plan.pipeline_workers,
        e2e_records_per_s=e2e_rates,
        e2e_split=splits,
        e2e_status=status,
        st_achieved_req_per_s=st.requests_per_s,
        st_429_after_warmup=st.throttled_after_warmup,
        st_429_served_total=st_served,
        st_window_s=st.seconds,
        erp_budget_utilization=round(erp.requests_per_s * 60 / erp.limit, 4),
        erp_calls_per_minute=round(erp.requests_per_s * 60, 1),
        erp_429_after_warmup=erp.throttled_after_warmup,
        erp_window_s=erp.seconds,
        rss_mb=rss,
        rss_growth=round(largest.peak_rss_mb / smallest.peak_rss_mb - 1, 4),
        webhook_p50_ms=webhook.p50_ms,
        webhook_p99_ms=webhook.p99_ms,
        webhook_events=webhook.processed,
        webhook_rate_per_s=webhook_rate,
        webhook_requests_per_event=round(webhook.requests / max(webhook.processed, 1), 2),
        webhook_receiver_p50_ms=receiver.receiver_p50_ms,
        webhook_receiver_p99_ms=receiver.receiver_p99_ms,
        webhook_receiver_max_ms=receiver.receiver_max_ms,
        webhook_receiver_deliveries=receiver.deliveries,
        webhook_receiver_rate_per_s=receiver_rate,
        runs={
            "pipeline": len(pipeline),
            "e2e": max((len(r) for r in e2e.values()), default=0),
            "st_rate": 1,
            "erp_budget": 1,
            "rss": 1,
            "webhook": 1,
            "webhook_receiver": 1,
        },
        load_average_end=reporting.load_average(),
        samples=samples,
        notes=notes,
    )
    result.judge()
    return result


if __name__ == "__main__":
    sys.exit(main())
