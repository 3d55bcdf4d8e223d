"""Pipeline overhead and memory: the runtime alone, on the synthetic stream.

Everything here runs in the connector process and touches nothing remote: the figures are
the cost of the exactly-once machinery itself (ledger check, two group-committed units per
record, audit rows, watermark cursor) plus a realistic mapper.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench import synthetic
from bench.metrics import cpu_seconds, peak_rss_mb, rss_mb
from bench.model import PipelineResult
from connector.runtime.runner import FlowRunner
from connector.store import Store


async def pipeline(state_dir: Path, records: int, workers: int) -> PipelineResult:
    """One backfill of ``records`` synthetic invoices into a fresh state database."""
    store = await Store.open(state_dir / "bench.db")
    try:
        for kind, values in synthetic.mappings().items():
            await store.set_mappings(kind, values)
        runner = FlowRunner(synthetic.flow(records, workers=workers), store)
        baseline = rss_mb()
        cpu_before, started = cpu_seconds(), time.perf_counter()
        report = await runner.cycle(trigger="bench")
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        done = report.total("created") + report.total("unchanged")
        return PipelineResult(
            records=done,
            workers=workers,
            seconds=round(seconds, 3),
            records_per_s=round(done / seconds, 1),
            cpu_s=round(cpu, 3),
            cpu_us_per_record=round(cpu / max(done, 1) * 1e6, 1),
            commits=store.db.commits_total,
            units=store.db.units_total,
            baseline_rss_mb=round(baseline, 1),
            peak_rss_mb=round(peak_rss_mb(), 1),
            error=report.error,
        )
    finally:
        await store.close()
