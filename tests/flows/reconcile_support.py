"""What the per-flow reconciliation tests share: a synced demo pairing and a reconcile of it.

Each flow is started as the demo starts it (seeded simulators, vault, config with the
implementer's mapping tables), synced once, then reconciled in-process over a period wide
enough to hold every seeded document. The simulators run in the test's event loop, so a
test edits the target's records in-process, as a person keying a correction would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from connector import demo
from connector.app import App
from connector.runtime.reconcile import ReconcileReport, reconcile

WIDE = (dt.date(2000, 1, 1), dt.date(2099, 12, 31))


@asynccontextmanager
async def synced(
    state_dir: Path, flow: str, counts: dict[str, dict[str, int]] | None = None
) -> AsyncIterator[tuple[demo.DemoEnvironment, App]]:
    """The demo's ``flow`` after one clean sync cycle."""
    env = await demo.start(state_dir, counts=counts, flows=[flow])
    try:
        app = await App.open(env.config)
        try:
            report = await (await app.runner(flow)).cycle()
            assert report.ok, report.error
            assert report.total("failed") == report.total("review") == 0, report
            yield env, app
        finally:
            await app.aclose()
    finally:
        await env.stop()


async def reconciled(
    app: App, flow: str, period: tuple[dt.date, dt.date] = WIDE
) -> ReconcileReport:
    """The flow reconciled over ``period`` with the store's mapping tables."""
    built = await app.built_flow(flow)
    return await reconcile(built.flow, await app.store.all_mappings(), *period)


def stream_totals(report: ReconcileReport, stream: str) -> Any:
    return next(t for t in report.streams if t.stream == stream)


def agrees_with_documents(report: ReconcileReport, *streams: str) -> None:
    """The books agree, and each named stream counted documents on both sides alike."""
    assert report.agrees, report.differences
    for name in streams:
        totals = stream_totals(report, name)
        assert totals.source_count == totals.target_count > 0, totals
        assert totals.source_amount == totals.target_amount, totals
