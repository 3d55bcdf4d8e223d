"""Reconciling servicetitan-acumatica: invoices, payments and bills read back from Acumatica."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from connector.flows.servicetitan_acumatica import BILLS, INVOICES, NAME, PAYMENTS
from connector.sandbox.acumatica.simulator import AcumaticaSimulator
from tests.flows.reconcile_support import (
    agrees_with_documents,
    reconciled,
    stream_totals,
    synced,
)

COUNTS = {
    "servicetitan": {
        "business_units": 3, "vendors": 4, "materials": 4, "equipment": 2, "services": 3,
        "customers": 5, "jobs": 6, "invoices": 6, "payments": 4, "purchase_orders": 4,
        "received_purchase_orders": 3, "adjustments": 0,
    },
    "acumatica": {"vendors": 3, "customers": 3},
}


def tables(env: Any) -> Any:
    sim = env.simulators["acumatica"]
    assert isinstance(sim, AcumaticaSimulator)
    return sim.tenant.tables


def record_where(env: Any, entity: str, field: str, value: str) -> Any:
    return next(r for r in tables(env)[entity].ordered() if r.values.get(field) == value)


async def test_each_stream_agrees_then_lists_exactly_the_document_edited_in_acumatica(
    tmp_path: Path,
) -> None:
    """After a sync invoices, payments and bills agree with Acumatica, over all time and
    over a single day (only that day's documents counted); an invoice amount
    changed there, a bill deleted there and an invoice of ours no ServiceTitan invoice
    accounts for are each listed alone, by document, with Acumatica's RefNbr."""
    async with synced(tmp_path / "state", NAME, COUNTS) as (env, app):
        agrees_with_documents(await reconciled(app, NAME), INVOICES, PAYMENTS, BILLS)
        day = dt.date.fromisoformat(str(tables(env)["Invoice"].ordered()[-1].values["Date"])[:10])
        one_day = await reconciled(app, NAME, (day, day))
        assert one_day.agrees, one_day.differences
        dated = [r for r in tables(env)["Invoice"].ordered()
                 if str(r.values["Date"]).startswith(day.isoformat())]
        assert stream_totals(one_day, INVOICES).target_count == len(dated) > 0

        invoice = next(r for r in tables(env)["Invoice"].ordered()
                       if str(r.values.get("CustomerOrder", "")).startswith("ST-INV-"))
        invoice.values["Amount"] = float(invoice.values["Amount"]) + 10
        report = await reconciled(app, NAME)
        [difference] = report.differences
        order = invoice.values["CustomerOrder"]
        assert (difference.stream, difference.source_id, difference.number) == (
            INVOICES, order.removeprefix("ST-INV-"), order)
        assert difference.target_id == invoice.values["ReferenceNbr"]
        assert difference.issue == "amount differs by -10.00", difference.issue
        invoice.values["Amount"] = float(invoice.values["Amount"]) - 10

        bill = next(r for r in tables(env)["Bill"].ordered()
                    if str(r.values.get("Description", "")).startswith("ServiceTitan bill "))
        tables(env)["Bill"].delete(bill)
        [difference] = (await reconciled(app, NAME)).differences
        assert (difference.stream, difference.number, difference.issue) == (
            BILLS, bill.values["VendorRef"], "missing in target")
        tables(env)["Bill"].put(bill)

        copy = type(invoice)("extra-invoice-id", dict(invoice.values, CustomerOrder="ST-INV-9"),
                             invoice.created)
        copy.values.update(id="extra-invoice-id", ReferenceNbr="999999")
        tables(env)["Invoice"].put(copy)
        report = await reconciled(app, NAME)
        [difference] = report.differences
        assert (difference.stream, difference.source_id, difference.target_id) == (
            INVOICES, "9", "999999")
        assert difference.source_amount is None and difference.issue.startswith("extra")
