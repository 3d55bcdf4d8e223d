"""infor-servicenow under crashes, a flaky ServiceNow and a lost state database.

The records are M3's posted supplier invoices and purchase orders; ServiceNow is checked by
their M3 identity (``DIVI/SUNO/SINO``, ``PUNO``): *lost* when it holds none, *duplicated*
when it holds two or a line twice (:mod:`tests.flows.servicenow_support`). The import API
inserts on every call, so each scenario is a test of the live lookup before every write.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import anyio

from connector import demo
from connector.app import App
from connector.flows.infor_servicenow import NAME
from connector.store import State
from connector.vault import Vault, locate_key
from tests.flows.servicenow_support import (
    post_invoices,
    servicenow,
    staged_rows,
    start,
    tally,
)
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import Figures, tune_systems

#: Extra posted invoices, so kills and faults land among documents, not only reference data.
EXTRA_INVOICES = 24
KILL_ROUNDS = 4
#: Invoices M3 posts before each kill round, so every round has documents to be killed in.
INVOICES_PER_ROUND = 5
#: ServiceNow requests one invoice costs (lookups, supplier read, header and line imports).
REQUESTS_PER_INVOICE = 8
MAX_CYCLES = 10
FAULTS = {
    "rate_429": 0.02,
    "retry_after_s": 1,
    "rate_5xx": 0.04,
    "status_5xx": 503,
    "rate_timeout": 0.01,
    "rate_timeout_after_commit": 0.03,
    "hang_s": 0.3,
}
#: Each kind of in-doubt import happens at least once, whatever the rolls.
SCRIPT = [
    {"fault": "timeout_after_commit", "match": "write", "path_contains": path}
    for path in ("sn_fcms_intg_imp_supplier", "sn_fcms_intg_imp_order",
                 "sn_fcms_intg_imp_order_line", "sn_spend_intg_imp_invoice",
                 "sn_spend_intg_imp_invoice_line")
]


async def test_sigkilled_syncs_then_a_rerun_lose_nothing_and_stage_nothing_twice(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Syncs SIGKILLed mid-run, then a rerun, leave every M3 document in SN exactly once."""
    seed = int(os.environ.get("ML_CONNECTOR_CRASH_SEED") or random.randrange(2**32))
    rng = random.Random(seed)  # noqa: S311 - kill moments, replayable by seed
    env = await start(tmp_path / "state")
    sn = servicenow(env)
    command = [sys.executable, "-m", "connector", "--config", str(env.config_path), "sync",
               "--flow", NAME]
    log = tmp_path / "sync.log"
    killed, violations = 0, []
    try:
        await post_invoices(env, EXTRA_INVOICES, seed=3)
        for round_number in range(1, KILL_ROUNDS + 2):
            kill_after = None
            if round_number <= KILL_ROUNDS:
                await post_invoices(env, INVOICES_PER_ROUND, seed=100 + round_number)
                kill_after = rng.randint(5, INVOICES_PER_ROUND * REQUESTS_PER_INVOICE)
            start_requests = sn.counters["requests"]
            with log.open("ab") as output:
                process = await anyio.open_process(command, stdout=output, stderr=output)
            with anyio.fail_after(120):
                while process.returncode is None:
                    made = sn.counters["requests"] - start_requests
                    if kill_after is not None and made >= kill_after:
                        process.send_signal(signal.SIGKILL)
                        killed += 1
                        break
                    await anyio.sleep(0.002)
                code = await process.wait()
            await process.aclose()
            violations += _done_but_absent(env, round_number)
            if kill_after is None:
                assert code == 0, log.read_text()[-2000:]
        final = tally(env)
        unfinished = _unfinished(env)
    finally:
        await env.stop()
    show_figures(Figures("infor-servicenow crash", KILL_ROUNDS + 1, final.records,
                         len(final.lost), len(final.duplicated), 0,
                         f"{killed} SIGKILLs, seed {seed}"))
    assert violations == []
    assert final.lost == [] and final.duplicated == [] and unfinished == []


async def test_a_flaky_servicenow_loses_nothing_and_stages_nothing_twice(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Under 429/5xx/timeouts/lost replies each document lands once; doubts settle by lookup."""
    env = await start(tmp_path / "state")
    sn = servicenow(env)
    try:
        await post_invoices(env, EXTRA_INVOICES, seed=4)
        tune_systems(env.config_path, {"servicenow": {"timeout_s": 1.0}})
        # Which requests the random faults hit follows the order requests are sent in (so
        # the workers' timing). With seed 5 (and 7) a fault often lands on a GL account or
        # cost center import and leaves it in doubt: the invoices needing it must wait for
        # it (deferred, settled by lookup next), never go to review, which counts as lost
        # here. Seeds 5, 7 and 8 pass; tests/flows/test_infor_servicenow.py pins that case
        # deterministically.
        await demo.admin(sn, "POST", "faults", {**FAULTS, "seed": 5, "script": SCRIPT})
        app = await App.open(env.config)
        try:
            runner = await app.runner(NAME)
            open_states = [State.PENDING, State.IN_FLIGHT, State.IN_DOUBT]
            cycles = 0
            while cycles < MAX_CYCLES:
                cycles += 1
                report = await runner.cycle()
                if report.ok and not await app.store.ledger_by_state(NAME, open_states):
                    break
            parked = [*await app.store.dead_letters(flow=NAME),
                      *await app.store.review_items(flow=NAME)]
            in_doubt, blind = await _in_doubt(app)
        finally:
            await app.aclose()
        final = tally(env)
        injected = sn.counters["injected"]
    finally:
        await env.stop()
    show_figures(Figures("infor-servicenow faults", cycles, final.records, len(final.lost),
                         len(final.duplicated), len(parked),
                         f"{injected} faults injected, {len(in_doubt)} in-doubt imports "
                         "settled by lookup"))
    assert final.lost == [] and final.duplicated == []
    assert parked == [], "a retryable fault was treated as the record's fault"
    assert len(in_doubt) >= len(SCRIPT) and blind == [], blind


async def test_a_lost_state_database_stages_nothing_again(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """A new state database adopts everything from ServiceNow: 0 new staged rows."""
    env = await start(tmp_path / "state")
    try:
        app = await App.open(env.config)
        try:
            assert (await (await app.runner(NAME)).cycle()).ok
        finally:
            await app.aclose()
        staged = staged_rows(env)
        await _rebuild_state(env)
        app = await App.open(env.config)
        try:
            report = await (await app.runner(NAME)).cycle()
        finally:
            await app.aclose()
        final = tally(env)
        new_rows = staged_rows(env) - staged
    finally:
        await env.stop()
    show_figures(Figures("infor-servicenow state lost", 2, final.records, len(final.lost),
                         len(final.duplicated), report.total("failed") + report.total("review"),
                         f"{new_rows} new staged rows, {report.total('unchanged')} adopted"))
    assert report.ok and report.total("created") + report.total("updated") == 0
    assert new_rows == 0 and final.lost == [] and final.duplicated == []


async def _rebuild_state(env: demo.DemoEnvironment) -> None:
    """A new empty state database with the credentials entered again, as an operator would."""
    config = env.config
    for path in env.state_dir.glob("connector.db*"):
        path.unlink()
    located = locate_key(config.vault)
    vault = Vault.init(config.store.path, located.key, key_source=located.source)
    for name, sim in env.simulators.items():
        credentials = await demo.admin(sim, "GET", "credentials")
        if name == "infor":
            import msgspec

            vault.set("infor", "ionapi", {"ionapi": msgspec.json.encode(credentials).decode()})
        else:
            from connector import demo_servicenow

            vault.set(demo_servicenow.CREDENTIAL, "servicenow-oauth",
                      demo_servicenow.vault_fields(credentials))


def _ledger(env: demo.DemoEnvironment) -> list[tuple[str, str, str]]:
    """``(stream, source_id, state)`` of every record, read-only (the writer may be dead)."""
    db = env.state_dir / "connector.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [tuple(r) for r in conn.execute(
            "SELECT stream, source_id, state FROM ledger WHERE flow = ?", (NAME,))]


def _unfinished(env: demo.DemoEnvironment) -> list[str]:
    return [f"{s} {i}: {st}" for s, i, st in _ledger(env)
            if st in ("pending", "in_flight", "in_doubt")]


def _done_but_absent(env: demo.DemoEnvironment, round_number: int) -> list[str]:
    """Documents the ledger says are done but ServiceNow does not hold (a commit that ran
    ahead of the write): must never happen, even right after a kill."""
    sn = servicenow(env)
    invoices = {r["external_invoice_number"] for r in sn.instance.rows["sn_shop_invoice"].values()}
    orders = {r["erp_po_number"] for r in sn.instance.rows["sn_shop_purchase_order"].values()}
    held = {"invoices": invoices, "purchase_orders": orders}
    return [f"round {round_number}: {stream} {source_id}"
            for stream, source_id, state in _ledger(env)
            if state == "done" and stream in held and source_id not in held[stream]]


async def _in_doubt(app: App) -> tuple[list[str], list[str]]:
    """Records that were ever in doubt, and those written after a doubt with no lookup in
    between (a blind second write: what must never happen)."""
    rows = await app.store.db.fetchall(
        "SELECT DISTINCT source_id FROM audit WHERE flow = ? AND step = 'in_doubt'", (NAME,))
    in_doubt, blind = [], []
    for row in rows:
        source_id = str(row[0])
        events = await app.store.audit_history(NAME, source_id)
        # A lookup shows as "verified" (before a write) or as the settling answer itself.
        steps = ["verified" if e.step == "verified" or "settled" in (e.detail or "") else e.step
                 for e in events]
        in_doubt.append(source_id)
        doubted = False
        for step in steps:
            if step == "in_doubt":
                doubted = True
            elif step == "verified":
                doubted = False
            elif step == "written" and doubted:
                blind.append(f"{source_id}: {' → '.join(steps)}")
                break
    return in_doubt, blind
