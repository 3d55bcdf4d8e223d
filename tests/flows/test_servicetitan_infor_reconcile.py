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
from tests.flows.infor_line_support import FLOW, line_app
from tests.flows.reconcile_support import WIDE, agrees_with_documents, reconciled, synced

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


LN_SEED = {"line": "LN", "seed": 9, "suppliers": 3, "items": 3, "page_size": 10}
LN_BILLS, LN_INVOICES = "ap_bills_to_infor", "invoices_to_infor"


def ln_invoices(env: Any) -> dict[Any, Any]:
    """LN company 100's purchase invoices, by key, as the simulator holds them."""
    invoices: dict[Any, Any] = m3(env).lines["LN"].companies[100].tables["Invoices"]  # type: ignore[attr-defined]
    return invoices


async def test_ln_reconcile_lists_the_period_and_names_exactly_the_changed_invoice(
    tmp_path: Path,
) -> None:
    """On LN, bills and job invoices agree after a sync in a few paged OData reads (fewer
    requests than documents); an amount changed in LN and an invoice deleted there are each
    listed alone, with LN's document number for the changed one."""
    async with line_app(tmp_path, "ln", LN_SEED) as (app, env):
        first = await (await app.runner(FLOW)).cycle()
        assert first.ok and first.total("failed") == first.total("review") == 0, first
        built = await app.built_flow(FLOW)
        requests = m3(env).counters["requests"]
        report = await reconcile(built.flow, await app.store.all_mappings(), *WIDE)
        agrees_with_documents(report, LN_BILLS, LN_INVOICES)
        documents = sum(t.source_count for t in report.streams)
        # Each stream reads the period's pages (10 invoices a page) and their line counts;
        # one look-up per document would cost at least one request each.
        assert m3(env).counters["requests"] - requests < documents / 2, documents

        def ours(prefix: str) -> Any:
            return next(r for r in ln_invoices(env).values()
                        if str(r.values.get("Reference", "")).startswith(prefix))

        invoice = ours("st:invoice:")
        amount = invoice.values["InvoiceAmount"]
        invoice.values["InvoiceAmount"] = amount + type(amount)(10)
        [difference] = (await reconciled(app, FLOW)).differences
        assert (difference.stream, difference.source_id, difference.target_id) == (
            LN_INVOICES, invoice.values["Reference"].removeprefix("st:invoice:"),
            str(invoice.values["Document"]))
        assert difference.issue == "amount differs by -10.00", difference.issue
        invoice.values["InvoiceAmount"] = amount

        bill = ours("st:bill:")
        key = next(k for k, r in ln_invoices(env).items() if r is bill)
        del ln_invoices(env)[key]
        [difference] = (await reconciled(app, FLOW)).differences
        assert (difference.stream, difference.source_id, difference.issue) == (
            LN_BILLS, bill.values["Reference"].removeprefix("st:bill:"), "missing in target")
        assert difference.number == bill.values["SupplierInvoice"]
