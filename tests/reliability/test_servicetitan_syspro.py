"""servicetitan-syspro under crashes, faults and a lost state database: 0 lost, 0 duplicated.

Every document the flow writes carries its source in SYSPRO, so SYSPRO itself says which
ServiceTitan record each row came from: an AP invoice's ``TransactionReference`` is
``ST invoice <id>``, a PO is numbered ``ST<id>``, an adjustment line's movement is referenced
``STADJ<id>/<n>``, a supplier made from a vendor is coded ``ST<id>``; the other way, a
ServiceTitan vendor is stamped with its SYSPRO supplier code, a PO's memo names its SYSPRO
PO, and an invoice SYSPRO AP holds is marked exported. A document is *lost* when no row
stands for it at the end, *duplicated* when more than one does — or when a ServiceTitan copy
of a SYSPRO PO travelled back to SYSPRO (a ping-pong).

The simulators run in this test's event loop; their tables are read in-process.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from connector import demo
from connector.app import App
from connector.flows.servicetitan_syspro import (
    ADJUSTMENTS,
    INVOICES,
    NAME,
    POS_TO_ST,
    POS_TO_SYSPRO,
    SUPPLIERS,
    VENDORS,
    mapping,
)
from connector.sandbox.servicetitan import ServiceTitanSimulator
from connector.sandbox.servicetitan.wire import parse_ticks
from connector.sandbox.syspro.simulator import SysproSimulator
from connector.store import State
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    TERMINAL,
    UNFINISHED,
    Figures,
    tune_systems,
)
from tests.reliability.test_state_lost import _restore_vault_only as restore_vault_only

CLIENT_TIMEOUT_S = 1.0
FAULTS = {
    "rate_429": 0.10,
    "retry_after_s": 1,
    "rate_5xx": 0.05,
    "status_5xx": 503,
    "rate_timeout": 0.02,
    "rate_timeout_after_commit": 0.02,
    "rate_reset": 0.01,
    "hang_s": 1.5,
}
#: Each kind of SYSPRO write applied but unanswered at least once, and a reset post.
SYSPRO_SCRIPT = [
    {"fault": "timeout_after_commit", "match": "write", "path_contains": business_object}
    for business_object in ("APSSSP", "PORTOI", "INVTMA", "APSTIN")
] + [{"fault": "reset", "match": "write", "path_contains": "APSTIN"}]
MAX_CYCLES = 12
CRASH_ROUNDS = 6
#: SYSPRO requests a document costs, about (a lookup, a post, OData reads).
REQUESTS_PER_DOCUMENT = 3
SYNC_DEADLINE_S = 300


def contractor(invoices: int, orders: int, adjustments: int) -> dict[str, dict[str, int]]:
    """Seed counts for ``demo.start``: few reference records, the given documents."""
    return {
        "servicetitan": {
            "business_units": 3, "vendors": 4, "materials": 4, "equipment": 2, "services": 3,
            "customers": 10, "jobs": invoices, "invoices": invoices, "payments": 0,
            "purchase_orders": orders, "received_purchase_orders": 0, "adjustments": adjustments,
        },
        "syspro": {"suppliers": 3, "stock": 6, "invoices": 2, "purchase_orders": 3},
    }


@dataclass
class Tally:
    """Source documents by how often the target holds them (keys like ``invoice:12``)."""

    expected: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)


def sims(env: demo.DemoEnvironment) -> tuple[ServiceTitanSimulator, SysproSimulator]:
    st, syspro = env.simulators["servicetitan"], env.simulators["syspro"]
    assert isinstance(st, ServiceTitanSimulator) and isinstance(syspro, SysproSimulator)
    return st, syspro


def tally(env: demo.DemoEnvironment, *, landed: bool = True) -> Tally:
    """Compare both systems with the sources. With ``landed=False`` (right after a kill) a
    document may not be there yet: only duplicates count."""
    st, syspro = sims(env)
    tables = syspro.company.tables

    def column(table: str, name: str) -> Counter[str]:
        return Counter(str(row[name]) for row in tables[table])

    invoices = column("ApInvoice", "Reference")
    orders = column("PorMasterHdr", "PurchaseOrder")
    movements = column("InvMovements", "Reference")
    suppliers = column("ApSupplier", "Supplier")
    st_pos = st.store.table("purchase_orders").all()
    memos = Counter(mapping.mirrored_number(po.get("summary")) for po in st_pos)
    stamps = Counter(
        pairs[mapping.SUPPLIER_KEY]
        for vendor in st.store.table("vendors").all()
        for pairs in (vendor.get("_ext") or {}).values()
        if mapping.SUPPLIER_KEY in pairs
    )
    wanted: dict[str, tuple[int, int]] = {}  # key → (copies held, copies wanted)
    for invoice in st.store.table("invoices").all():
        wanted[f"invoice:{invoice['id']}"] = (invoices[f"ST invoice {invoice['id']}"], 1)
        # Its AP invoice, read back from SYSPRO, marks it exported in ServiceTitan.
        wanted[f"exported:{invoice['id']}"] = (int(invoice["syncStatus"] == "Exported"), 1)
    for po in st_pos:
        copy = mapping.mirrored_number(po.get("summary")) is not None
        want = 0 if copy or po["status"] == "Canceled" else 1
        wanted[f"po:{po['id']}"] = (orders[f"ST{po['id']}"], want)
    for adjustment in st.store.table("adjustments").all():
        for n, item in enumerate(adjustment["items"], start=1):
            reference = f"STADJ{adjustment['id']}/{n}"
            wanted[f"adjustment:{reference}"] = (movements[reference], int(item["quantity"] != 0))
    for vendor in st.store.table("vendors").all():
        if not any(mapping.SUPPLIER_KEY in p for p in (vendor.get("_ext") or {}).values()):
            wanted[f"vendor:{vendor['id']}"] = (suppliers[f"ST{vendor['id']}"], 1)
    for row in tables["ApSupplier"]:
        code = str(row["Supplier"])
        if not code.startswith("ST"):
            wanted[f"supplier:{code}"] = (stamps[code], 1)
    for row in tables["PorMasterHdr"]:
        number = str(row["PurchaseOrder"])
        if not mapping.is_servicetitan_order(number):
            wanted[f"syspro-po:{number}"] = (memos[number], 1)
    result = Tally(expected=sum(want for _, want in wanted.values()))
    for key, (held, want) in wanted.items():
        if held > want:
            result.duplicated.append(key)
        elif landed and held < want:
            result.lost.append(key)
    return result


async def start(tmp_path: Path, counts: dict[str, dict[str, int]]) -> demo.DemoEnvironment:
    env = await demo.start(tmp_path / "state", counts=counts, flows=[NAME])
    tune_systems(
        env.config_path,
        {
            "servicetitan": {"timeout_s": CLIENT_TIMEOUT_S},
            "syspro": {"timeout_s": CLIENT_TIMEOUT_S},
        },
    )
    return env


async def parked(app: App) -> list[str]:
    letters = await app.store.dead_letters(flow=NAME)
    items = await app.store.review_items(flow=NAME)
    return [f"{p.key}: {p.reason}" for p in (*letters, *items)]


# -- crash ----------------------------------------------------------------------------------
async def test_sigkill_mid_sync_then_rerun_loses_nothing_and_posts_nothing_twice(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """`sync` processes SIGKILLed after a random number of SYSPRO requests, then rerun until
    done, leave every document in the other system exactly once and nothing unfinished; no
    cursor ever passed a record that was not terminal (``ML_CONNECTOR_CRASH_SEED`` repeats a
    run's random draws)."""
    seed = int(os.environ.get("ML_CONNECTOR_CRASH_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    env = await start(tmp_path, contractor(invoices=40, orders=8, adjustments=6))
    _, syspro = sims(env)
    db = env.state_dir / "connector.db"
    command = [sys.executable, "-m", "connector", "--config", str(env.config_path), "sync",
               "--flow", NAME]
    log = tmp_path / "sync.log"
    violations: list[str] = []
    killed = 0

    async def sync_once(kill_after: int | None) -> int | None:
        start_requests = syspro.counters["requests"]
        with log.open("ab") as output:
            process = await anyio.open_process(command, stdout=output, stderr=output)
        try:
            with anyio.fail_after(SYNC_DEADLINE_S):
                while process.returncode is None:
                    made = syspro.counters["requests"] - start_requests
                    if kill_after is not None and made >= kill_after:
                        process.send_signal(signal.SIGKILL)
                        await process.wait()
                        return None
                    await anyio.sleep(0.002)
                return await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                with anyio.CancelScope(shield=True):
                    await process.wait()
            await process.aclose()

    try:
        for number in range(1, CRASH_ROUNDS + 1):
            # Twice a round's share of what is still missing, so kills keep landing mid-sync
            # as the work shrinks (a budget past the sync's end kills nothing).
            missing = len(tally(env).lost)
            rounds_left = CRASH_ROUNDS - number + 1
            budget = max(10, 2 * REQUESTS_PER_DOCUMENT * missing // rounds_left)
            killed += await sync_once(kill_after=rng.randint(1, budget)) is None
            duplicated = tally(env, landed=False).duplicated
            if duplicated:
                violations.append(f"after round {number}: twice: {duplicated[:3]}")
            passed = overtaken(env, db)
            if passed:
                violations.append(f"after round {number}: cursor passed {passed[:3]}")
        for _ in range(5):
            code = await sync_once(kill_after=None)
            ledger = read_ledger_of(db)
            if code == 0 and not [k for k, state in ledger.items() if state in UNFINISHED]:
                break
        final = tally(env)
        app = await App.open(env.config)
        try:
            refused = await parked(app)
        finally:
            await app.aclose()
        unfinished = [k for k, state in read_ledger_of(db).items() if state in UNFINISHED]
    finally:
        await env.stop()
    show_figures(
        Figures(
            "crash servicetitan-syspro", CRASH_ROUNDS, final.expected, len(final.lost),
            len(final.duplicated), len(refused), f"{killed} SIGKILLs, seed {seed}",
        )
    )
    assert violations == [], f"seed {seed}, sync output in {log}"
    assert final.lost == [] and final.duplicated == [], f"seed {seed}"
    assert refused == [] and unfinished == []


def read_ledger_of(db: Path) -> dict[tuple[str, str], str]:
    """This flow's ledger states (``support.read_ledger`` reads servicetitan-infor's)."""
    rows = _rows(db, "SELECT stream, source_id, state FROM ledger WHERE flow = ?")
    return {(row[0], row[1]): row[2] for row in rows}


def read_cursors_of(db: Path) -> dict[str, str]:
    return {row[0]: row[1] for row in _rows(db, "SELECT stream, value FROM cursors WHERE flow = ?")}


def _rows(db: Path, sql: str) -> list[tuple[str, ...]]:
    """Rows of this flow, read-only (the writer may be dead), every value as text."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(sql, (NAME,)).fetchall()
    finally:
        conn.close()
    return [tuple(str(value) for value in row) for row in rows]


#: ServiceTitan streams and the table each reads (cursor: the newest ``modifiedOn`` read).
ST_STREAMS = {
    VENDORS: "vendors",
    POS_TO_SYSPRO: "purchase_orders",
    ADJUSTMENTS: "adjustments",
    INVOICES: "invoices",
}


def overtaken(env: demo.DemoEnvironment, db: Path) -> list[str]:
    """Records their stream's cursor has passed although their ledger state is not terminal:
    an incremental read would never see them again (protocol step 4)."""
    st, syspro = sims(env)
    ledger = read_ledger_of(db)
    cursors = read_cursors_of(db)
    passed = []

    def check(stream: str, source_id: str, passed_by_cursor: bool) -> None:
        if passed_by_cursor and ledger.get((stream, source_id)) not in TERMINAL:
            passed.append(f"{stream} {source_id}")

    for stream, table in ST_STREAMS.items():
        mark = parse_ticks(cursors[stream]) if stream in cursors else None
        for row in st.store.table(table).all():
            stamp = parse_ticks(str(row["modifiedOn"]))
            check(stream, str(row["id"]), mark is not None and stamp is not None and stamp <= mark)
    for stream, table, key, wanted in (
        (SUPPLIERS, "ApSupplier", "Supplier",
         lambda code: not code.startswith("ST")),
        (POS_TO_ST, "PorMasterHdr", "PurchaseOrder",
         lambda number: not mapping.is_servicetitan_order(number)),
    ):
        if stream not in cursors:
            continue
        for row in syspro.company.tables[table]:
            if wanted(str(row[key])):
                check(stream, str(row[key]), int(row["TimeStamp"]) <= int(cursors[stream]))
    return passed


# -- faults ---------------------------------------------------------------------------------
async def test_flaky_systems_lose_nothing_and_post_nothing_twice(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Under 429s, 503s, timeouts, resets and answers lost after SYSPRO committed (every kind
    of post at least once), cycles converge with each document landed once; every in-doubt
    write was settled by a lookup, never written blind."""
    env = await start(tmp_path, contractor(invoices=10, orders=4, adjustments=3))
    st, syspro = sims(env)
    try:
        await demo.admin(st, "POST", "faults", {**FAULTS, "seed": 21})
        await demo.admin(syspro, "POST", "faults", {**FAULTS, "seed": 21, "script": SYSPRO_SCRIPT})
        app = await App.open(env.config)
        try:
            runner = await app.runner(NAME)
            unfinished: list[str] = []
            cycles = 0
            while cycles < MAX_CYCLES:
                cycles += 1
                report = await runner.cycle()
                entries = await app.store.ledger_by_state(
                    NAME, [State.PENDING, State.IN_FLIGHT, State.IN_DOUBT]
                )
                unfinished = [f"{e.key} {e.state}: {e.last_error}" for e in entries]
                if report.ok and not unfinished:
                    break
            in_doubt, unverified = await in_doubt_records(app)
            refused = await parked(app)
        finally:
            await app.aclose()
        final = tally(env)
        injected = st.counters["injected"] + syspro.counters["injected"]
    finally:
        await env.stop()
    show_figures(
        Figures(
            "faults servicetitan-syspro", cycles, final.expected, len(final.lost),
            len(final.duplicated), len(refused),
            f"{injected} faults injected, {len(in_doubt)} in-doubt writes settled by lookup",
        )
    )
    assert unfinished == [], unfinished[:5]
    assert final.lost == [] and final.duplicated == []
    assert refused == [], "a retryable fault was treated as the record's fault"
    assert len(in_doubt) >= 4, "the scripted lost answers left too few records in doubt"
    assert unverified == []


async def in_doubt_records(app: App) -> tuple[list[str], list[str]]:
    """Records ever in doubt, and those not looked up in the target after their last doubt."""
    rows = await app.store.db.fetchall(
        "SELECT DISTINCT source_id FROM audit WHERE flow = ? AND step = 'in_doubt'", (NAME,)
    )
    in_doubt, unverified = [], []
    for row in rows:
        source_id = str(row[0])
        steps = [e.step for e in await app.store.audit_history(NAME, source_id)]
        in_doubt.append(source_id)
        last = len(steps) - 1 - steps[::-1].index("in_doubt")
        if "verified" not in steps[last:] and "written" not in steps[last:]:
            unverified.append(source_id)
    return in_doubt, unverified


# -- state lost -----------------------------------------------------------------------------
async def test_a_lost_state_database_creates_nothing_again(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """After a full sync, a new state database (vault restored) adopts everything: the next
    sync creates no document in SYSPRO or ServiceTitan."""
    env = await start(tmp_path, contractor(invoices=20, orders=6, adjustments=4))
    st, syspro = sims(env)
    try:
        app = await App.open(env.config)
        try:
            first = await (await app.runner(NAME)).cycle()
        finally:
            await app.aclose()
        assert first.ok and first.total("failed") == 0, first.error

        def counts() -> dict[str, int]:
            tables = {f"syspro.{t}": len(rows) for t, rows in syspro.company.tables.items()}
            for name in ("vendors", "purchase_orders", "invoices", "adjustments"):
                tables[f"servicetitan.{name}"] = len(st.store.table(name).all())
            return tables

        before = counts()
        await restore_vault_only(env.state_dir / "connector.db")
        app = await App.open(env.config)
        try:
            again = await (await app.runner(NAME)).cycle()
        finally:
            await app.aclose()
        after = counts()
        final = tally(env)
    finally:
        await env.stop()
    new = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    show_figures(
        Figures(
            "state lost servicetitan-syspro", 2, final.expected, len(final.lost),
            len(final.duplicated), again.total("failed"),
            f"{sum(new.values())} new documents after the state database was lost",
        )
    )
    assert again.ok and new == {}
    assert again.total("created") + again.total("updated") == 0
    assert final.lost == [] and final.duplicated == []
