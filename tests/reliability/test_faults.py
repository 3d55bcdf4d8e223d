"""Faults: a flaky ServiceTitan and a flaky M3 still get every document posted exactly once.

Both simulators inject, per request: 10 % 429 with ``Retry-After``, 5 % 503, 2 % timeouts,
2 % timeout-after-commit (the write happens, the reply never comes), 1 % connection resets.
Every token both identity servers issued is revoked mid-run. On top of the rates, scripted
faults make sure each kind of in-doubt M3 write happens at least once: AddHead, AddLine and
ValidByBatchNo applied but unanswered, and an AddHead whose connection is reset.

The clients' ``timeout_s`` is 1 s and the simulators hang 1.5 s, so a timeout costs a second,
not a minute. A cycle stopped by an outage leaves its records for the next one, so cycles run
until nothing is pending or in doubt (bounded). In-doubt writes must be settled by looking
the document up in M3, never by writing it again: each record with an ``in_doubt`` audit
event has a later ``verified`` one, and M3 holds one batch per document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from connector import demo
from connector.app import App
from connector.store import State
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    FLOW,
    Figures,
    batches_by_cori,
    contractor,
    infor,
    revoke_every_token,
    servicetitan,
    stamped_records,
    start_tenant,
    stray_batches,
    tally,
    tune_systems,
)

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
M3_SCRIPT = [
    {"fault": "timeout_after_commit", "match": "write", "path_contains": "AddHead"},
    {"fault": "timeout_after_commit", "match": "write", "path_contains": "AddLine"},
    {"fault": "timeout_after_commit", "match": "write", "path_contains": "ValidByBatchNo"},
    {"fault": "reset", "match": "write", "path_contains": "AddHead"},
]
#: Cycles allowed to converge; each one resumes what an outage stopped.
MAX_CYCLES = 12


@dataclass(frozen=True)
class Size:
    """How many documents one variant posts, and the seed of its fault rolls."""

    invoices: int
    bills: int
    seed: int


NORMAL = Size(invoices=8, bills=4, seed=11)
SOAK = Size(invoices=120, bills=30, seed=12)
#: The PostgreSQL variant of the normal run: half the documents (the scripted in-doubt
#: writes still all happen), since each injected hang costs the suite a second or more.
PG_NORMAL = Size(invoices=4, bills=2, seed=11)


@pytest.mark.parametrize(
    "size",
    [NORMAL, pytest.param(SOAK, marks=[pytest.mark.soak, pytest.mark.timeout(1800)])],
    ids=["normal", "soak"],
)
async def test_flaky_systems_and_a_revoked_token_lose_nothing_and_post_nothing_twice(
    size: Size, store_url: str | None, tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Under 429s, 503s, timeouts, timeouts after commit, resets and a mid-run revocation of
    every token, cycles converge with each document in M3 once; in-doubt writes are settled
    by a lookup in M3, not by a second write (on the SQLite state and on PostgreSQL)."""
    if store_url is not None and size == NORMAL:
        size = PG_NORMAL
    counts = contractor(size.invoices, size.bills, lean=True)
    env = await start_tenant(tmp_path / "state", counts, store_url)
    st, m3 = servicetitan(env), infor(env)
    try:
        tune_systems(
            env.config_path,
            {
                "servicetitan": {"timeout_s": CLIENT_TIMEOUT_S},
                "infor": {"timeout_s": CLIENT_TIMEOUT_S},
            },
        )
        records = stamped_records(st)
        await demo.admin(st, "POST", "faults", {**FAULTS, "seed": size.seed})
        await demo.admin(m3, "POST", "faults", {**FAULTS, "seed": size.seed, "script": M3_SCRIPT})
        tokens_before = st.counters["token_requests"] + m3.counters["token_requests"]
        app = await App.open(env.config)
        try:
            revoked: list[int] = []
            async with anyio.create_task_group() as tg:
                tg.start_soon(_revoke_when_posting, env, revoked)
                cycles, unfinished = await _cycle_until_settled(app)
                tg.cancel_scope.cancel()
            in_doubt, unverified = await _in_doubt_records(app)
            parked = [
                f"{p.key}: {p.reason}"
                for p in (
                    *await app.store.dead_letters(flow=FLOW),
                    *await app.store.review_items(flow=FLOW),
                )
            ]
        finally:
            await app.aclose()
        batches = batches_by_cori(m3)
        final = tally(records.values(), batches)
        injected = st.counters["injected"] + m3.counters["injected"]
        tokens_after = st.counters["token_requests"] + m3.counters["token_requests"]
    finally:
        await env.stop()
    show_figures(
        Figures(
            "faults" if store_url is None else "faults (postgresql)",
            cycles,
            len(records),
            len(final.lost),
            len(final.duplicated),
            len(parked),
            f"{injected} faults injected, {len(in_doubt)} in-doubt writes settled by lookup, "
            f"{sum(revoked)} tokens revoked mid-run",
        )
    )
    assert unfinished == [], f"still unfinished after {MAX_CYCLES} cycles: {unfinished[:5]}"
    assert final.lost == [] and final.duplicated == [] and final.garbled == []
    assert stray_batches(records, batches) == 0
    assert parked == [], "a retryable fault was treated as the record's fault"
    assert in_doubt, "the scripted timeouts after commit left no record in doubt"
    assert unverified == [], "in-doubt records were written again without a lookup first"
    assert revoked and revoked[0] > 0 and tokens_after > tokens_before + 1


async def _revoke_when_posting(env: demo.DemoEnvironment, revoked: list[int]) -> None:
    """Revoke every token once M3 has opened its first AP batch: documents are being posted
    when the tokens die. (Counted by transaction, not by request: a bulk request carries
    many documents' steps, so a request count says little about how far a cycle is.)"""
    m3 = infor(env)
    while m3.counters.get("APS450MI/AddHead", 0) < 1:
        await anyio.sleep(0.01)
    revoked.append(revoke_every_token(servicetitan(env), m3))


async def _cycle_until_settled(app: App) -> tuple[int, list[str]]:
    """Cycles until one completes with nothing pending, in flight or in doubt."""
    runner = await app.runner(FLOW)
    unfinished: list[str] = []
    for cycle in range(1, MAX_CYCLES + 1):
        report = await runner.cycle()
        entries = await app.store.ledger_by_state(
            FLOW, [State.PENDING, State.IN_FLIGHT, State.IN_DOUBT]
        )
        unfinished = [f"{e.key} {e.state}: {e.last_error}" for e in entries]
        if report.ok and not unfinished:
            return cycle, []
    return MAX_CYCLES, unfinished


async def _in_doubt_records(app: App) -> tuple[list[str], list[str]]:
    """Records that were ever in doubt, and those of them never looked up in the target
    after their in-doubt write (they would have been written blind)."""
    rows = await app.store.db.fetchall(
        "SELECT DISTINCT source_id FROM audit WHERE flow = ? AND step = 'in_doubt'", (FLOW,)
    )
    in_doubt, unverified = [], []
    for row in rows:
        source_id = str(row[0])
        steps = [e.step for e in await app.store.audit_history(FLOW, source_id)]
        in_doubt.append(source_id)
        last_doubt = len(steps) - 1 - steps[::-1].index("in_doubt")
        if "verified" not in steps[last_doubt:]:
            unverified.append(source_id)
    return in_doubt, unverified
