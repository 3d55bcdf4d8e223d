"""ifs-servicetitan under crashes, flaky systems and a lost state database: every document in
the other system exactly once.

The stamps are the flow's natural keys, so each system itself says where a document came
from: an IFS external load ``ST-INV-<id>`` per ServiceTitan invoice (its rows numbered
``#n`` in their text), a ServiceTitan PO with memo ``IFS PO <OrderNo>`` per released IFS
order. A record is *lost* when its load never became one voucher (or its PO is missing) and
*duplicated* when a load holds a row number twice, turned into more than one voucher, or
the order has more than one PO.

Set ``ML_CONNECTOR_CRASH_SEED`` to replay a crash run's kill moments; its figures line
prints the seed.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio

from connector import demo
from connector.app import App
from connector.flows.ifs_servicetitan import INVOICES, NAME, PURCHASE_ORDERS
from connector.flows.ifs_servicetitan.mapping import row_marker
from connector.sandbox.ifs import IfsSimulator
from connector.sandbox.servicetitan import ServiceTitanSimulator
from connector.store import State, Store
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import Figures, tune_systems

LOADS = "ExternalVoucherLoadInformationHandling/ExtLoadInfoSet"
ROWS = "ExternalVouchers/ExternalVouchersSet"
ORDERS = "PurchaseOrderHandling/PurchaseOrderSet"
VOUCHERS = "VoucherHandling/VoucherSet"
UNFINISHED = ("pending", "in_flight", "in_doubt")
#: Kill rounds of the crash scenario (each a fresh ``sync`` process: ~1 s of start-up).
ROUNDS = 6


def counts(invoices: int, orders: int) -> dict[str, dict[str, int]]:
    return {
        "servicetitan": {
            "business_units": 4, "vendors": 6, "materials": 6, "equipment": 2, "services": 4,
            "customers": 10, "jobs": invoices, "invoices": invoices, "payments": 0,
            "purchase_orders": 0, "received_purchase_orders": 0, "adjustments": 0,
        },
        "ifs": {"suppliers": 4, "purchase_orders": orders, "vouchers": 1},
    }


async def start(state_dir: Path, invoices: int, orders: int) -> demo.DemoEnvironment:
    return await demo.start(state_dir, counts=counts(invoices, orders), flows=[NAME])


def sims(env: demo.DemoEnvironment) -> tuple[ServiceTitanSimulator, IfsSimulator]:
    st, ifs = env.simulators["servicetitan"], env.simulators["ifs"]
    assert isinstance(st, ServiceTitanSimulator) and isinstance(ifs, IfsSimulator)
    return st, ifs


@dataclass
class Tally:
    """Stamps per verdict, comparing both systems with the source records."""

    records: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)


def stamps(st: ServiceTitanSimulator, ifs: IfsSimulator) -> dict[str, tuple[str, str]]:
    """Every document that must land, by stamp → (stream, source id)."""
    found = {
        f"ST-INV-{row['id']}": (INVOICES, str(row["id"]))
        for row in st.store.table("invoices").all()
        if row["active"] and Decimal(str(row["total"])) != 0
    }
    for row in ifs.store.table(ORDERS).rows.values():
        if row.values["Objstate"] == "Released":
            found[f"IFS PO {row.values['OrderNo']}"] = (PURCHASE_ORDERS, row.values["OrderNo"])
    return found


def tally(st: ServiceTitanSimulator, ifs: IfsSimulator, *, landed: bool = True) -> Tally:
    """With ``landed=False`` (a crash just happened) only duplicates count."""
    memos = Counter(po.get("summary") for po in st.store.table("purchase_orders").all())
    rows: dict[str, list[Any]] = {}
    for row in ifs.store.table(ROWS).rows.values():
        rows.setdefault(row.values["LoadId"], []).append(row.values)
    vouchers = Counter(v.values["VoucherText2"] for v in ifs.store.table(VOUCHERS).rows.values())
    result = Tally()
    for stamp in stamps(st, ifs):
        result.records += 1
        if stamp.startswith("IFS PO"):
            if memos[stamp] > 1:
                result.duplicated.append(stamp)
            elif landed and memos[stamp] == 0:
                result.lost.append(stamp)
            continue
        loaded = rows.get(stamp, [])
        numbers = [row_marker(r.get("Text")) for r in loaded]
        made = vouchers[f"External load {stamp}"]
        if len(numbers) != len(set(numbers)) or made > 1:
            result.duplicated.append(stamp)
        elif landed and (made != 1 or any(r["Objstate"] != "Updated" for r in loaded)):
            result.lost.append(stamp)
    return result


def ledger(db: Path) -> dict[tuple[str, str], str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT stream, source_id, state FROM ledger WHERE flow = ?", (NAME,)).fetchall()
    finally:
        conn.close()
    return {(r[0], r[1]): r[2] for r in rows}


def parked(db: Path) -> int:
    """Open dead letters and review items of the flow (clean seed data has none)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return sum(
            int(conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE status = 'open' AND flow = ?",  # noqa: S608
                (NAME,)).fetchone()[0])
            for table in ("dead_letters", "review"))
    finally:
        conn.close()


def done_but_absent(st: ServiceTitanSimulator, ifs: IfsSimulator, db: Path) -> list[str]:
    """Stamps the ledger calls done that the other system does not hold, finished."""
    states = ledger(db)
    landed = tally(st, ifs)
    return [stamp for stamp, key in stamps(st, ifs).items()
            if states.get(key) == "done" and stamp in landed.lost]


async def test_sigkill_at_random_moments_loses_nothing_and_posts_nothing_twice(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """``sync`` processes SIGKILLed after a random number of requests to either system (new
    invoices arriving between rounds), then one left to finish, leave each invoice one IFS
    voucher (no row posted twice) and each released IFS order one ServiceTitan PO; nothing
    the ledger calls done is missing."""
    seed = int(os.environ.get("ML_CONNECTOR_CRASH_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    env = await start(tmp_path / "state", invoices=40, orders=8)
    st, ifs = sims(env)
    db = env.state_dir / "connector.db"
    log = tmp_path / "sync.log"
    command = [sys.executable, "-m", "connector", "--config", str(env.config_path),
               "sync", "--flow", NAME]
    violations: list[str] = []
    killed = 0
    try:
        for number in range(1, ROUNDS + 1):
            if number > 1:
                # New work for every round, so each kill lands inside a sync with documents
                # in flight rather than after an idle one.
                await demo.admin(st, "POST", "generate", {"entity": "invoices", "count": 6})
            code = await _sync(command, log, st, ifs, kill_after=rng.randint(10, 120))
            killed += code is None
            midway = tally(st, ifs, landed=False)
            absent = done_but_absent(st, ifs, db)
            if midway.duplicated or absent:
                violations.append(f"round {number}: {midway.duplicated} {absent}")
        for _ in range(3):
            if await _sync(command, log, st, ifs, kill_after=None) == 0 and not [
                k for k, s in ledger(db).items() if s in UNFINISHED
            ]:
                break
        final = tally(st, ifs)
        refused = parked(db)
    finally:
        await env.stop()
    show_figures(Figures(NAME + " crash", ROUNDS, final.records, len(final.lost),
                         len(final.duplicated), refused, f"{killed} SIGKILLs, seed {seed}"))
    assert not violations, f"seed {seed}, output in {log}: {violations}"
    assert final.lost == [] and final.duplicated == [], f"seed {seed}, output in {log}"
    assert final.records > 0 and refused == 0


async def _sync(
    command: list[str], log: Path, st: ServiceTitanSimulator, ifs: IfsSimulator,
    *, kill_after: int | None,
) -> int | None:
    """One ``sync`` process, SIGKILLed once both systems served ``kill_after`` more requests.
    Its exit code, or None when it was killed."""
    start_count = st.counters["requests"] + ifs.counters["requests"]
    with log.open("ab") as output:
        process = await anyio.open_process(command, stdout=output, stderr=output)
    with anyio.fail_after(120):
        while process.returncode is None:
            made = st.counters["requests"] + ifs.counters["requests"] - start_count
            if kill_after is not None and made >= kill_after:
                process.send_signal(signal.SIGKILL)
                await process.wait()
                return None
            await anyio.sleep(0.002)
        return await process.wait()


FAULTS = {
    "rate_429": 0.10, "retry_after_s": 1, "rate_5xx": 0.05, "status_5xx": 503,
    "rate_timeout_after_commit": 0.04, "hang_s": 1.5, "seed": 5,
}
#: Each kind of unanswered write to IFS at least once: a row, the check, the voucher action,
#: and a ServiceTitan PO create.
IFS_SCRIPT = [
    {"fault": "timeout_after_commit", "match": "write", "path_contains": "ExternalVouchersSet"},
    {"fault": "timeout_after_commit", "match": "write", "path_contains": "DoCheckTransactions"},
    {"fault": "timeout_after_commit", "match": "write", "path_contains": "DoCreateVoucher"},
]
ST_SCRIPT = [{"fault": "timeout_after_commit", "match": "write",
              "path_contains": "purchase-orders"}]


async def test_flaky_systems_lose_nothing_and_post_nothing_twice(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Under 429s, 503s and timeouts after commit on both systems, cycles converge with each
    document landed once; every in-doubt write was settled by a look-up in the target,
    never by writing again."""
    env = await start(tmp_path / "state", invoices=10, orders=8)
    st, ifs = sims(env)
    tune_systems(env.config_path, {"servicetitan": {"timeout_s": 1.0}, "ifs": {"timeout_s": 1.0}})
    await demo.admin(st, "POST", "faults", {**FAULTS, "script": ST_SCRIPT})
    await demo.admin(ifs, "POST", "faults", {**FAULTS, "script": IFS_SCRIPT})
    app = await App.open(env.config)
    try:
        runner = await app.runner(NAME)
        cycles = 0
        while cycles < 12:
            cycles += 1
            report = await runner.cycle()
            left = await app.store.ledger_by_state(
                NAME, [State.PENDING, State.IN_FLIGHT, State.IN_DOUBT])
            if report.ok and not left:
                break
        doubted = 0
        unverified: list[str] = []
        for stream, source_id in ledger(env.state_dir / "connector.db"):
            events = [e for e in await app.store.audit_history(NAME, source_id)
                      if e.key.stream == stream]
            steps = [e.step for e in events]
            if "in_doubt" in steps:
                doubted += 1
                last = len(steps) - 1 - steps[::-1].index("in_doubt")
                # Settled by the look-up in the same pass ("settled" on the write) or in a
                # later one (a "verified" look-up before any write).
                if not any(e.step == "verified" or "settled" in (e.detail or "")
                           for e in events[last:]):
                    unverified.append(f"{stream} {source_id}")
        parked = len(await app.store.dead_letters(flow=NAME)) + len(
            await app.store.review_items(flow=NAME))
        await demo.admin(st, "POST", "faults", {"rate_429": 0, "rate_5xx": 0,
                                                "rate_timeout_after_commit": 0})
        await demo.admin(ifs, "POST", "faults", {"rate_429": 0, "rate_5xx": 0,
                                                 "rate_timeout_after_commit": 0})
        final = tally(st, ifs)
    finally:
        await app.aclose()
        await env.stop()
    show_figures(Figures(NAME + " faults", cycles, final.records, len(final.lost),
                         len(final.duplicated), parked, f"{doubted} in-doubt writes settled"))
    assert final.lost == [] and final.duplicated == []
    assert parked == 0
    assert doubted >= 1 and unverified == []


async def test_a_rebuilt_state_database_creates_nothing_in_either_system(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """After a full sync, a new state database over the same systems adopts every GL
    account, PO and voucher: 0 new documents in IFS or ServiceTitan."""
    env = await start(tmp_path / "state", invoices=20, orders=8)
    st, ifs = sims(env)
    app = await App.open(env.config)
    try:
        first = await (await app.runner(NAME)).cycle()
        assert first.ok, first.error
        before_st = (await demo.admin(st, "GET", "state"))["counts"]
        before_ifs = (await demo.admin(ifs, "GET", "state"))["counts"]
        mappings = await app.store.all_mappings()
        rebuilt = await Store.open(tmp_path / "rebuilt.db")
        old = app.store
        try:
            for kind, values in mappings.items():
                await rebuilt.set_mappings(kind, values)
            app.store, app.runners = rebuilt, {}
            again = await (await app.runner(NAME)).cycle()
        finally:
            app.store, app.runners = old, {}
            await rebuilt.close()
        after_st = (await demo.admin(st, "GET", "state"))["counts"]
        after_ifs = (await demo.admin(ifs, "GET", "state"))["counts"]
        final = tally(st, ifs)
    finally:
        await app.aclose()
        await env.stop()
    new = sum(after_st.values()) - sum(before_st.values()) + sum(after_ifs.values()) - sum(
        before_ifs.values())
    show_figures(Figures(NAME + " state lost", 2, final.records, len(final.lost),
                         len(final.duplicated), 0, f"{new} new documents after the rebuild"))
    assert again.ok, again.error
    assert again.total("created") == 0, again.counts()
    assert after_st == before_st and after_ifs == before_ifs
    assert final.lost == [] and final.duplicated == []
