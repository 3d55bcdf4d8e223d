"""Crash with ``ap_coding = "recode"`` (issue 18): syncs SIGKILLed at random moments of the
post-then-recode protocol (invoice head, lines, validation, recode head, recode lines, recode
validation) lose nothing and post or re-code nothing twice.

The rounds are :class:`tests.reliability.test_crash.CrashRounds` over a tenant whose M3
refuses AIT on AddLine and a flow set to recode. On top of its invariants, after every kill
no document has more than one recode batch, and at the end its recode batch, if it needed
one, is validated (the simulator refuses a recode that does not net to zero). Smaller than
the addline round (each document costs about twice the requests), so it stays in seconds.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from pathlib import Path

from connector import demo
from connector.sandbox.infor.data import InvoiceBatch
from tests.flows.test_servicetitan_infor_recode import use_recode
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    UNFINISHED,
    Figures,
    Stamped,
    batches_by_cori,
    contractor,
    read_ledger,
    read_parked,
    start_tenant,
    tally,
)
from tests.reliability.test_crash import CrashRounds, Size

RECODE = Size(
    "recode size: each document is two batches, so fewer than the addline round",
    invoices=60,
    bills=15,
    rounds=6,
    added_invoices=10,
    added_bills=4,
)


def recodes_by_cori(rounds: CrashRounds) -> dict[str, list[InvoiceBatch]]:
    """Recode batches, grouped by the stamp of the invoice batch they re-code (same
    supplier and supplier invoice number: that is how M3 lists them)."""
    by_number = {
        (b.head.get("SUNO"), b.head.get("SINO")): cori
        for cori, found in batches_by_cori(rounds.m3).items()
        for b in found
    }
    grouped: dict[str, list[InvoiceBatch]] = {}
    for batch in rounds.m3.db.batches.values():
        if batch.kind == "recode":
            cori = by_number.get((batch.head.get("SUNO"), batch.head.get("SINO")), "?")
            grouped.setdefault(cori, []).append(batch)
    return grouped


class RecodeRounds(CrashRounds):
    """The crash rounds, plus "one recode batch per document at most" after every kill."""

    def check(self, when: str) -> None:
        super().check(when)
        twice = [c for c, found in recodes_by_cori(self).items() if len(found) > 1 or c == "?"]
        if twice:
            self.violations.append(f"{when}: re-coded twice or stray: {twice[:3]}")


def unrecoded(records: Mapping[str, Stamped], rounds: RecodeRounds) -> list[str]:
    """Stamps re-coded more than once, or by a recode batch left unvalidated or unbalanced
    (two lines per moved line). None is right for a document whose lines the accounting
    rules already put on the mapped string: there was nothing to move."""
    recodes = recodes_by_cori(rounds)
    bad = []
    for cori in records:
        found = recodes.get(cori, [])
        if len(found) > 1 or any(b.status != "validated" or len(b.lines) % 2 for b in found):
            bad.append(cori)
    return bad


async def test_sigkill_during_recode_loses_nothing_and_recodes_nothing_twice(
    tmp_path: Path, show_figures: ShowFigures
) -> None:
    """Syncs SIGKILLed at random moments of post-then-recode, then restarted until done,
    leave every stamped record posted once and re-coded once."""
    seed = int(os.environ.get("ML_CONNECTOR_CRASH_SEED") or random.randrange(2**32))
    env = await start_tenant(tmp_path / "state", contractor(RECODE.invoices, RECODE.bills))
    try:
        await demo.admin(env.simulators["infor"], "POST", "faults", {"addline_ait": False})
        use_recode(env)
        crash = RecodeRounds(env, tmp_path / "sync.log", random.Random(seed))
        killed = await crash.run(RECODE)
        refused = read_parked(crash.db)
        final = tally(crash.records.values(), batches_by_cori(crash.m3))
        not_recoded = unrecoded(crash.records, crash) if not final.lost else []
    finally:
        await env.stop()
    show_figures(
        Figures(
            "crash-recode",
            RECODE.rounds,
            len(crash.records),
            len(final.lost),
            len(final.duplicated),
            refused,
            f"{killed} SIGKILLs, seed {seed}; {RECODE.label}",
        )
    )
    assert not crash.violations, f"seed {seed}, sync output in {crash.log}: {crash.violations}"
    assert final.lost == [] and final.duplicated == [] and final.garbled == []
    assert not_recoded == [], f"seed {seed}: not re-coded exactly once: {not_recoded[:5]}"
    assert refused == 0, "clean seed data was dead-lettered or sent to review"
    unfinished = [k for k, row in read_ledger(crash.db).items() if row.state in UNFINISHED]
    assert unfinished == []
