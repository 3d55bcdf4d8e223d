"""Reconciling infor-servicenow: M3's posted invoices read back from ServiceNow's invoices."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connector.flows.infor_servicenow import INVOICES, NAME
from tests.flows.reconcile_support import agrees_with_documents, reconciled, synced
from tests.flows.servicenow_support import COUNTS, servicenow


async def test_invoices_agree_then_the_one_deleted_in_servicenow_is_listed_missing(
    tmp_path: Path,
) -> None:
    """After a sync M3's posted invoices agree with ServiceNow's (count and total), the
    invoices seeded there from another source not counted; an invoice deleted in ServiceNow
    is listed alone as missing, and a subtotal changed there alone with its number."""
    async with synced(tmp_path / "state", NAME, COUNTS) as (env, app):
        agrees_with_documents(await reconciled(app, NAME), INVOICES)

        table = servicenow(env).instance.rows["sn_shop_invoice"]
        ours = [k for k, row in table.items() if row["external_invoice_source"].startswith("M3 ")
                and "/" in row["external_invoice_number"]]
        gone = table.pop(ours[0])
        [difference] = (await reconciled(app, NAME)).differences
        assert (difference.stream, difference.source_id, difference.issue) == (
            INVOICES, gone["external_invoice_number"], "missing in target")
        table[ours[0]] = gone

        changed = table[ours[-1]]
        changed["subtotal"] = str(Decimal(changed["subtotal"]) + 3)
        [difference] = (await reconciled(app, NAME)).differences
        assert (difference.source_id, difference.target_id) == (
            changed["external_invoice_number"], changed["number"])
        assert difference.issue == "amount differs by -3.00", difference.issue
