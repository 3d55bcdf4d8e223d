"""Reconciling servicetitan-syspro: AP invoices read back through SYSPRO's OData service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.flows.servicetitan_syspro import INVOICES, NAME
from connector.sandbox.syspro.simulator import SysproSimulator
from tests.flows.reconcile_support import agrees_with_documents, reconciled, synced
from tests.flows.test_servicetitan_syspro import ST_COUNTS

COUNTS = {"servicetitan": ST_COUNTS}


def ap_invoices(env: Any) -> list[dict[str, Any]]:
    sim = env.simulators["syspro"]
    assert isinstance(sim, SysproSimulator)
    rows: list[dict[str, Any]] = sim.company.tables["ApInvoice"]
    return rows


async def test_ap_invoices_agree_then_the_one_deleted_in_syspro_is_listed_missing(
    tmp_path: Path,
) -> None:
    """After a sync the job invoices agree with SYSPRO's AP invoices (count and value); an
    AP invoice removed from SYSPRO is listed alone as missing, by its SYSPRO number; an
    amount changed there is listed alone with both amounts."""
    async with synced(tmp_path / "state", NAME, COUNTS) as (env, app):
        agrees_with_documents(await reconciled(app, NAME), INVOICES)

        ours = [r for r in ap_invoices(env) if r["Reference"].startswith("ST invoice ")]
        gone = ours[0]
        ap_invoices(env).remove(gone)
        [difference] = (await reconciled(app, NAME)).differences
        assert (difference.stream, difference.source_id, difference.number) == (
            INVOICES, gone["Reference"].removeprefix("ST invoice "), gone["Invoice"])
        assert difference.target_id is None and difference.issue == "missing in target"
        ap_invoices(env).append(gone)

        changed = ours[-1]
        changed["OrigInvValue"] += 5
        [difference] = (await reconciled(app, NAME)).differences
        assert difference.target_id == f"{changed['Supplier']}/{changed['Invoice']}"
        assert difference.target_amount == changed["OrigInvValue"]
        assert difference.source_amount == changed["OrigInvValue"] - 5
