"""State lost: the state database is deleted after a full sync of both flows, the vault is
restored from its backup, and a sync over the same systems creates nothing in any target.

The ledger is a cache of "is this document there?"; the answer is asked of the target by
natural key. So a new, empty ledger must adopt every customer, vendor, supplier, item,
order, invoice, payment, bill and AP batch the first sync made — none twice.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connector import demo
from connector.app import App
from connector.config import Config
from connector.store import Store
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import Figures, use_store_url

FLOWS = ("servicetitan-infor", "servicetitan-acumatica")


def _counts(states: dict[str, Any]) -> dict[str, int]:
    """Records per entity in every target simulator (what a duplicate would grow)."""
    counts: dict[str, int] = {}
    for system, state in states.items():
        for entity, value in (state.get("counts") or {}).items():
            counts[f"{system}.{entity}"] = int(value)
        for entity, rows in (state.get("entities") or {}).items():
            if isinstance(rows, list):
                counts.setdefault(f"{system}.{entity}", len(rows))
    return counts


async def _states(env: demo.DemoEnvironment) -> dict[str, Any]:
    return {name: await demo.admin(sim, "GET", "state") for name, sim in env.simulators.items()}


async def _restore_vault_only(db: Path) -> None:
    """Replace the state database by an empty one holding only the vault (its backup)."""
    backup = db.with_name("vault-backup.db")
    with sqlite3.connect(db) as old, sqlite3.connect(backup) as new:
        old.backup(new)
    for stale in db.parent.glob(db.name + "*"):
        stale.unlink()
    store = await Store.open(db)
    await store.close()
    with sqlite3.connect(db) as fresh:
        fresh.execute("ATTACH DATABASE ? AS backup", (str(backup),))
        fresh.execute("INSERT INTO vault SELECT * FROM backup.vault")
        fresh.execute("INSERT INTO vault_meta SELECT * FROM backup.vault_meta")
        fresh.commit()
        fresh.execute("DETACH DATABASE backup")
    backup.unlink()


async def _lose_state(config: Config) -> None:
    """The state is gone and only the vault is restored: the SQLite file replaced by its
    vault, or every table of the PostgreSQL schema dropped (the vault is in the file)."""
    if config.store.url is None:
        await _restore_vault_only(config.store.path)
        return
    with psycopg.connect(config.store.url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {config.store.schema} CASCADE")


def _tenant(scale: int) -> dict[str, dict[str, int]]:
    return {
        "servicetitan": {
            "vendors": 8 * scale, "materials": 8 * scale, "equipment": 4 * scale,
            "services": 4, "customers": 15 * scale, "jobs": 30 * scale,
            "invoices": 30 * scale, "payments": 12 * scale, "purchase_orders": 12 * scale,
            "received_purchase_orders": 8 * scale, "adjustments": 0,
        },
        "infor": {"suppliers": 6 * scale, "items": 8 * scale, "purchase_orders": 3 * scale},
        "acumatica": {"vendors": 4 * scale, "customers": 4 * scale},
    }


@pytest.mark.parametrize(
    "scale",
    [1, pytest.param(10, marks=[pytest.mark.soak, pytest.mark.timeout(1800)])],
    ids=["normal", "soak"],
)
async def test_a_lost_state_database_creates_no_document_again(
    scale: int, store_url: str | None, tmp_path: Path, show_figures: ShowFigures
) -> None:
    """After a full sync of both flows and the loss of the state database (the SQLite file,
    or the PostgreSQL schema), a sync of both flows adopts everything: 0 new records in
    ServiceTitan, M3 and Acumatica."""
    env = await demo.start(tmp_path / "state", seed=7, counts=_tenant(scale), flows=FLOWS)
    if store_url is not None:
        use_store_url(env.config_path, store_url)
    try:
        app = await App.open(env.config)
        try:
            first = {flow: await (await app.runner(flow)).cycle() for flow in FLOWS}
        finally:
            await app.aclose()
        for flow, report in first.items():
            assert report.ok, f"{flow}: {report.error}"
        created = sum(report.total("created") for report in first.values())
        before = _counts(await _states(env))
        await _lose_state(env.config)
        app = await App.open(env.config)
        try:
            again = {flow: await (await app.runner(flow)).cycle() for flow in FLOWS}
        finally:
            await app.aclose()
        after = _counts(await _states(env))
    finally:
        await env.stop()
    recreated = sum(report.total("created") for report in again.values())
    grown = {k: (before.get(k, 0), v) for k, v in after.items() if v != before.get(k, 0)}
    show_figures(
        Figures(
            "state lost" if store_url is None else "state lost (postgresql)",
            2,
            created,
            0,
            recreated,
            0,
            f"{created} records created by the first sync, "
            f"{sum(r.total('unchanged') for r in again.values())} adopted and "
            f"{sum(r.total('updated') for r in again.values())} brought in step after the loss",
        )
    )
    for flow, report in again.items():
        assert report.ok, f"{flow}: {report.error}"
    assert created > 100
    assert recreated == 0, {flow: r.counts() for flow, r in again.items()}
    # An update (a linked account brought in step) is not a new document; a document seen
    # as changed or refused would be.
    for outcome in ("changed", "failed"):
        assert sum(r.total(outcome) for r in again.values()) == 0, outcome
    assert grown == {}
