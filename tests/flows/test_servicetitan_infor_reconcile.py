"""Reconciling servicetitan-infor on M3: the period's AP batches of ours are listed in a few
paged EXPORTMI reads (by invoice date and CORI prefix), not looked up one document at a time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.runtime.reconcile import reconcile
from connector.sandbox.infor.data import InvoiceBatch
from connector.sandbox.infor.simulator import InforSimulator
from tests.flows.reconcile_support import WIDE, agrees_with_documents, reconciled, synced

FLOW = "servicetitan-infor"
BILLS, INVOICES = "ap_bills_to_m3", "invoices_to_m3"
COUNTS = {
    "servicetitan": {
        "vendors": 6, "materials": 5, "equipment": 3, "services": 2, "customers": 8,
        "jobs": 24, "invoices": 24, "payments": 0, "purchase_orders": 10,
        "received_purchase_orders": 8,
    },
    "infor": {"suppliers": 3, "items": 4, "purchase_orders": 1},
}


def m3(env: Any) -> InforSimulator:
    sim = env.simulators["infor"]
    assert isinstance(sim, InforSimulator)
    return sim


def batch_of(env: Any, cori_prefix: str) -> InvoiceBatch:
    """The first posted batch whose CORI starts with ``cori_prefix``."""
    return next(
        b for b in m3(env).db.batches.values()
        if b.head.get("CORI", "").startswith(cori_prefix) and b.status == "validated"
    )


@contextmanager
def transactions(env: Any) -> Iterator[dict[str, int]]:
    """The MI transactions M3 ran inside the block, by ``PGM/TRN`` and in all."""
    before = dict(m3(env).counters)
    ran: dict[str, int] = {}
    yield ran
    for key, count in m3(env).counters.items():
        if ("/" in key or key == "mi_transactions") and count != before.get(key, 0):
            ran[key] = count - before.get(key, 0)


@contextmanager
def deleted(env: Any, batch: InvoiceBatch) -> Iterator[None]:
    """The batch gone from M3 (as if reversed and deleted there) inside the block."""
    db = m3(env).db
    del db.batches[batch.inbn]
    keys = [k for k, inbns in db.batches_by_invoice.items() if batch.inbn in inbns]
    for key in keys:
        db.batches_by_invoice[key].remove(batch.inbn)
    try:
        yield
    finally:
        db.add_batch(batch)


async def test_m3_reconcile_lists_the_period_and_names_exactly_the_changed_batch(
    tmp_path: Path,
) -> None:
    """After a sync bills and job invoices agree with M3 in a handful of MI calls (the
    period's batches listed, none looked up one by one); an amount changed in M3 and a batch
    deleted there are each listed alone, by document, with M3's batch number."""
    async with synced(tmp_path / "state", FLOW, COUNTS) as (env, app):
        # Built first: building checks the company (MNS095MI/MNS100MI), reading nothing.
        built = await app.built_flow(FLOW)
        with transactions(env) as ran:
            report = await reconcile(built.flow, await app.store.all_mappings(), *WIDE)
        agrees_with_documents(report, BILLS, INVOICES)
        documents = sum(t.source_count for t in report.streams)
        assert documents >= 25, report.streams
        # Two paged reads (a page, then the restart that ends it) per stream, whatever the
        # number of documents; nothing looked up one by one.
        assert ran == {"mi_transactions": 4, "EXPORTMI/Select": 4}, ran

        invoice = batch_of(env, "st:invoice:")
        invoice.head["CUAM"] = str(Decimal(invoice.head["CUAM"]) + Decimal("12.50"))
        [difference] = (await reconciled(app, FLOW)).differences
        source_id = invoice.head["CORI"].removeprefix("st:invoice:")
        assert (difference.stream, difference.source_id, difference.target_id) == (
            INVOICES, source_id, str(invoice.inbn))
        assert difference.number == invoice.head["SINO"]
        assert difference.issue == "amount differs by -12.50", difference.issue
        invoice.head["CUAM"] = str(Decimal(invoice.head["CUAM"]) - Decimal("12.50"))

        bill = batch_of(env, "st:bill:")
        with deleted(env, bill), transactions(env) as ran:
            [difference] = (await reconciled(app, FLOW)).differences
        assert (difference.stream, difference.source_id, difference.issue) == (
            BILLS, bill.head["CORI"].removeprefix("st:bill:"), "missing in target")
        assert difference.number == bill.head["SINO"] and difference.target_id is None
        # Missing from the list, the bill was still looked up by its key before being called
        # missing (it might be dated otherwise in M3).
        assert ran.get("APS450MI/LstInvBySupInv") == 1, ran
        assert (await reconciled(app, FLOW)).agrees
