"""Crash: `ml-connector sync` killed with SIGKILL at random moments loses nothing, posts
nothing twice, and never moves a cursor past an unfinished record.

Modelled on Kafka Connect's exactly-once system tests: stamped records, hard kills of the
worker, restarts, then "none missing, none twice". Each round starts ``ml-connector sync`` as
its own process against the simulators (which run in this test's event loop) and kills it
after a random number of M3 requests, so the kill lands at any step of the protocol: before
AddHead's reply, between lines, between a write and the ledger commit, inside a group commit.
After every kill the dead process's database is checked against M3. Halfway, a sync is let
finish (so cursors exist) and new stamped records arrive after them; at the end the sync is
restarted until nothing is left unfinished.

Sizes: the normal run syncs about 300 seeded + 50 new documents over 10 rounds; the soak
run 5,000 + 375 over 50 rounds (5,000 documents take over a minute per pass: too slow for
``make test``).
Set ``ML_CONNECTOR_CRASH_SEED`` to replay a run's kill moments; the figures line prints it.
"""

from __future__ import annotations

import os
import random
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from connector import demo
from connector.sandbox.infor import InforSimulator
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    FLOW,
    UNFINISHED,
    Figures,
    Stamped,
    batches_by_cori,
    contractor,
    done_but_absent,
    infor,
    overtaken,
    read_cursors,
    read_ledger,
    read_parked,
    servicetitan,
    stamped_records,
    start_tenant,
    stray_batches,
    tally,
)


@dataclass(frozen=True)
class Size:
    """How many documents and kill rounds one variant runs."""

    label: str
    invoices: int
    bills: int
    rounds: int
    #: Stamped invoices and received POs generated after the halfway sync.
    added_invoices: int
    added_bills: int


NORMAL = Size(
    "make test size: fewer records than the 5,000 of make soak, whose passes take minutes",
    invoices=240,
    bills=60,
    rounds=10,
    added_invoices=40,
    added_bills=10,
)
SOAK = Size("soak size", invoices=4000, bills=1000, rounds=50, added_invoices=300, added_bills=75)
#: The PostgreSQL variant of the normal run: the same kills over fewer documents, since the
#: SQLite variant already spends the suite's share of time on the full normal size.
PG_SIZES = {
    NORMAL.label: Size(
        "make test size on PostgreSQL: a fifth of the SQLite run's documents",
        invoices=48, bills=12, rounds=6, added_invoices=10, added_bills=3,
    )
}

#: M3 requests one document costs (supplier check, head, lines, validation, reads; about 9.4
#: measured). A round's kill is drawn up to twice its share of what is still unfinished, so
#: the kills spread over the whole sync and most rounds end in one.
REQUESTS_PER_DOCUMENT = 10
#: Uninterrupted syncs allowed to finish what the killed ones left.
MAX_RESTARTS = 5
#: No single sync of the soak size takes anywhere near this; it only bounds a hang.
SYNC_DEADLINE_S = 900


@pytest.mark.parametrize(
    "size",
    [NORMAL, pytest.param(SOAK, marks=[pytest.mark.soak, pytest.mark.timeout(3600)])],
    ids=["normal", "soak"],
)
async def test_sigkill_at_random_moments_loses_nothing_and_posts_nothing_twice(
    size: Size, store_url: str | None, tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Syncs SIGKILLed at random moments, then restarted until done, leave every stamped
    record in M3 exactly once; no cursor ever passed a record that was not terminal (on the
    SQLite state and on PostgreSQL)."""
    seed = int(os.environ.get("ML_CONNECTOR_CRASH_SEED") or random.randrange(2**32))
    if store_url is not None:
        size = PG_SIZES.get(size.label, size)
    env = await start_tenant(
        tmp_path / "state", contractor(size.invoices, size.bills), store_url
    )
    try:
        crash = CrashRounds(env, tmp_path / "sync.log", random.Random(seed))
        killed = await crash.run(size)
        refused = read_parked(crash.db)
        final = tally(crash.records.values(), batches_by_cori(crash.m3))
    finally:
        await env.stop()
    show_figures(
        Figures(
            "crash" if store_url is None else "crash (postgresql)",
            size.rounds,
            len(crash.records),
            len(final.lost),
            len(final.duplicated),
            refused,
            f"{killed} SIGKILLs, seed {seed}; {size.label}",
        )
    )
    assert not crash.violations, f"seed {seed}, sync output in {crash.log}: {crash.violations}"
    assert final.lost == [] and final.duplicated == [] and final.garbled == []
    assert refused == 0, "clean seed data was dead-lettered or sent to review"
    unfinished = [k for k, row in read_ledger(crash.db).items() if row.state in UNFINISHED]
    assert unfinished == []


class CrashRounds:
    """Runs the rounds and checks the invariants after each kill."""

    def __init__(self, env: demo.DemoEnvironment, log: Path, rng: random.Random) -> None:
        self.env = env
        self.st = servicetitan(env)
        self.m3: InforSimulator = infor(env)
        self.db = env.config.store.location
        self.log = log
        self.rng = rng
        self.command = [
            sys.executable,
            "-m",
            "connector",
            "--config",
            str(env.config_path),
            "sync",
            "--flow",
            FLOW,
        ]
        self.records: dict[str, Stamped] = stamped_records(self.st)
        self.violations: list[str] = []

    async def run(self, size: Size) -> int:
        """All rounds, the halfway completion and the final one; returns the kills made."""
        killed = 0
        halfway = size.rounds // 2
        for number in range(1, size.rounds + 1):
            if number == halfway + 1:
                await self.sync_until_done()
                await self.add_records(size)
            left_in_half = (halfway if number <= halfway else size.rounds) - number + 1
            code = await self.sync_once(kill_after=self.rng.randint(1, self.share(left_in_half)))
            killed += code is None
            self.check(f"after round {number}")
        await self.sync_until_done()
        self.check("at the end")
        return killed

    async def add_records(self, size: Size) -> None:
        """New stamped records, modified after the cursors the finished sync left."""
        assert read_cursors(self.db), "a finished sync left no cursor"
        for entity, count in (
            ("invoices", size.added_invoices),
            ("received_purchase_orders", size.added_bills),
        ):
            await demo.admin(self.st, "POST", "generate", {"entity": entity, "count": count})
        self.records = stamped_records(self.st)

    def share(self, rounds_left: int) -> int:
        """Twice a round's share of the M3 requests the unfinished records still need."""
        ledger = read_ledger(self.db)
        unfinished = sum(
            1
            for r in self.records.values()
            if (row := ledger.get((r.stream, r.source_id))) is None or row.state != "done"
        )
        return max(50, 2 * REQUESTS_PER_DOCUMENT * unfinished // rounds_left)

    async def sync_once(self, *, kill_after: int | None) -> int | None:
        """One ``sync`` process, SIGKILLed after ``kill_after`` more M3 requests if it is still
        running then. Its exit code, or None when it was killed."""
        start = self.m3.counters["requests"]
        with self.log.open("ab") as output:
            process = await anyio.open_process(self.command, stdout=output, stderr=output)
        try:
            with anyio.fail_after(SYNC_DEADLINE_S):
                while process.returncode is None:
                    made = self.m3.counters["requests"] - start
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

    async def sync_until_done(self) -> None:
        for _ in range(MAX_RESTARTS):
            code = await self.sync_once(kill_after=None)
            unfinished = [k for k, r in read_ledger(self.db).items() if r.state in UNFINISHED]
            if code == 0 and not unfinished:
                return
        raise AssertionError(
            f"{MAX_RESTARTS} uninterrupted syncs did not finish the flow; see {self.log}"
        )

    def check(self, when: str) -> None:
        """The invariants that must hold at any instant, even right after a SIGKILL."""
        ledger, cursors = read_ledger(self.db), read_cursors(self.db)
        batches = batches_by_cori(self.m3)
        found = tally(self.records.values(), batches, landed=False)
        problems = {
            "posted twice": found.duplicated,
            "posted with another amount": found.garbled,
            "cursor passed an unfinished record": overtaken(self.records.values(), cursors, ledger),
            "ledger says done but M3 has no such batch": done_but_absent(
                self.records, ledger, batches
            ),
        }
        for what, coris in problems.items():
            if coris:
                self.violations.append(f"{when}: {what}: {len(coris)}, e.g. {coris[:3]}")
        strays = stray_batches(self.records, batches)
        if strays:
            self.violations.append(f"{when}: {strays} batches stamped with no source record")
