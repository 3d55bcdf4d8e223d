"""Reconciling ifs-servicetitan: invoice and job vouchers read back from IFS external loads."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.flows.ifs_servicetitan import INVOICES, JOBS, NAME
from connector.sandbox.ifs.simulator import IfsSimulator
from tests.flows.reconcile_support import agrees_with_documents, reconciled, synced
from tests.flows.test_ifs_servicetitan import IFS_COUNTS, ST_COUNTS

COUNTS = {"servicetitan": ST_COUNTS, "ifs": IFS_COUNTS}


def voucher_rows(env: Any) -> Any:
    sim = env.simulators["ifs"]
    assert isinstance(sim, IfsSimulator)
    return next(t for t in sim.store.tables.values() if t.spec.name == "ExternalVouchersSet")


async def test_vouchers_agree_then_an_amount_changed_and_a_foreign_load_are_each_listed(
    tmp_path: Path,
) -> None:
    """After a sync each invoice's and job's load agrees with ServiceTitan (count and debit
    total); a debit changed in IFS is listed alone under its load id with both amounts, and
    a load named like ours that no ServiceTitan invoice accounts for is listed as extra."""
    async with synced(tmp_path / "state", NAME, COUNTS) as (env, app):
        clean = await reconciled(app, NAME)
        agrees_with_documents(clean, INVOICES)
        assert any(t.stream == JOBS for t in clean.streams)

        table = voucher_rows(env)
        debit = next(row for row in table.rows.values()
                     if row.values["LoadId"].startswith("ST-INV-")
                     and row.values.get("DebetAmount"))
        load = debit.values["LoadId"]
        debit.values["DebetAmount"] += 1.5
        [difference] = (await reconciled(app, NAME)).differences
        assert (difference.stream, difference.source_id, difference.target_id) == (
            INVOICES, load.removeprefix("ST-INV-"), load)
        assert difference.source_amount is not None and difference.target_amount is not None
        assert difference.target_amount - difference.source_amount == Decimal("1.50")
        debit.values["DebetAmount"] -= 1.5

        foreign = dict(debit.values, LoadId="ST-INV-1", RecordNo=1)
        table.rows[table.key_of(foreign)] = type(debit)(foreign, "AAASFXFFFFFFFFFFFF", "1")
        [difference] = (await reconciled(app, NAME)).differences
        assert (difference.source_id, difference.target_id, difference.source_amount) == (
            "1", "ST-INV-1", None)
        assert difference.issue.startswith("extra in target")
