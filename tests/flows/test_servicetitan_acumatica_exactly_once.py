"""servicetitan-acumatica keeps exactly once outside one process (issue 12, items 2–11).

Each test reproduces one way the first version duplicated a document or lost a change,
against both simulators over loopback.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from connector.flows.servicetitan_acumatica import BILLS, CUSTOMERS, INVOICES, NAME, VENDORS
from connector.store import RecordKey, State, Store, Unit
from tests.flows import test_servicetitan_acumatica as base
from tests.flows.test_servicetitan_acumatica import Env, documents

env = base.env  # the seeded two-simulator environment, shared with the main flow tests


async def _acumatica(env: Env, entity: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (await env.state("acumatica"))["entities"][entity]
    return records


async def _counts(env: Env) -> dict[str, int]:
    """Documents in Acumatica per kind (invoices, payments, bills)."""
    return {kind: sum(map(len, docs.values())) for kind, docs in (await documents(env)).items()}


def _st_table(env: Env, name: str) -> Any:
    sim: Any = env.servicetitan
    return sim.store, sim.store.table(name)


async def test_a_rebuilt_state_database_creates_no_document_again(env: Env, tmp_path: Any) -> None:
    """Item 2: after a full sync, a new empty state database over the same systems adopts
    every customer, vendor, invoice, payment and bill: not one document is created again."""
    first = await (await env.runner()).cycle()
    assert first.ok, first.error
    before = await _counts(env)
    mappings = await env.app.store.all_mappings()
    old_store = env.app.store
    rebuilt = await Store.open(tmp_path / "rebuilt.db")
    try:
        for kind, values in mappings.items():
            await rebuilt.set_mappings(kind, values)
        env.app.store = rebuilt
        again = await (await env.runner()).cycle()
    finally:
        env.app.store = old_store
        await rebuilt.close()
    assert again.ok, again.error
    assert again.total("created") == 0, again.counts()
    assert await _counts(env) == before
    every = (await documents(env)).values()
    assert all(len(found) == 1 for kind in every for found in kind.values())


async def test_an_in_doubt_invoice_of_a_customer_not_done_is_not_sent_again(env: Env) -> None:
    """Item 4: an invoice whose write is in doubt is looked up by its own reference, even
    when its customer's ledger row is not done; it is adopted, never posted twice."""
    runner = await env.runner()
    assert (await runner.cycle()).ok
    invoice = next(iter((await documents(env))["invoices"].values()))[0]
    source_id = invoice["CustomerOrder"].removeprefix("ST-INV-")
    _, invoices = _st_table(env, "invoices")
    customer_id = str(invoices.get(int(source_id))["customer"]["id"])
    await env.app.store.commit(
        Unit()
        .ledger(RecordKey(NAME, INVOICES, source_id), State.IN_DOUBT)
        .ledger(RecordKey(NAME, CUSTOMERS, customer_id), State.PENDING)
    )
    # The invoices stream alone (a webhook drain, a replay): the customer is not redone first.
    again = await runner.cycle(streams=[INVOICES], full=True)
    assert again.ok, again.error
    assert len((await documents(env))["invoices"][invoice["CustomerOrder"]]) == 1
    entry = await env.app.store.ledger_entry(RecordKey(NAME, INVOICES, source_id))
    assert entry is not None and entry.state == State.DONE
    assert entry.target_id == invoice["ReferenceNbr"]


async def test_a_late_webhook_payload_never_rolls_the_target_back(env: Env) -> None:
    """Item 8: an old customer payload delivered after a newer change was synced is a hint:
    the drain re-reads the customer and Acumatica keeps the newer name."""
    runner = await env.runner()
    assert (await runner.cycle()).ok
    store, customers = _st_table(env, "customers")
    record = customers.all()[0]
    old_payload = msgspec.json.encode(record)
    record["name"] = "Renamed After The Event Ltd"
    store.touch("customers", record, notify=False)
    assert (await runner.cycle()).ok
    code = await env.link(CUSTOMERS, record["id"])
    await env.app.store.put_inbox_event("late-1", NAME, "customer.updated", old_payload)
    drained = await runner.drain_inbox()
    assert drained.ok, drained.error
    [account] = [c for c in await _acumatica(env, "Customer") if c["CustomerID"] == code]
    assert account["CustomerName"] == "Renamed After The Event Ltd"


async def test_a_deactivated_vendor_is_made_inactive_in_acumatica(env: Env) -> None:
    """Item 10: reference data follows its source: a vendor deactivated in ServiceTitan
    becomes Inactive in Acumatica on the next cycle."""
    runner = await env.runner()
    assert (await runner.cycle()).ok
    store, vendors = _st_table(env, "vendors")
    vendor = next(v for v in vendors.all() if v["active"])
    code = await env.link(VENDORS, vendor["id"])
    vendor["active"] = False
    store.touch("vendors", vendor, notify=False)
    report = await runner.cycle()
    assert report.ok and report.total("updated") >= 1, report.counts()
    [account] = [v for v in await _acumatica(env, "Vendor") if v["VendorID"] == code]
    assert account["Status"] == "Inactive"


async def test_an_invoice_edited_after_posting_waits_in_review_with_the_diff(env: Env) -> None:
    """Item 10: an invoice whose line price changes after it was posted is not reported
    unchanged: it waits in review with the field diff and the run needs attention."""
    runner = await env.runner()
    assert (await runner.cycle()).ok
    store, invoices = _st_table(env, "invoices")
    invoice = next(i for i in invoices.all() if i.get("items"))
    line = invoice["items"][0]
    added = Decimal("10.00") * Decimal(str(line["quantity"]))
    line["price"] = str(Decimal(str(line["price"])) + Decimal("10.00"))
    line["total"] = str(Decimal(str(line["total"])) + added)
    invoice["total"] = str(Decimal(str(invoice["total"])) + added)
    store.touch("invoices", invoice, notify=False)
    report = await runner.cycle()
    assert report.total("changed") == 1, report.counts()
    assert report.status == "attention"
    [item] = await env.app.store.review_items(flow=NAME)
    assert item.key == RecordKey(NAME, INVOICES, str(invoice["id"]))
    assert item.mapping_kind == "changed_after_posting"
    assert "lines[0].unit_price" in item.reason and "amount" in item.reason


async def test_unmapped_webhook_types_are_ignored_and_inboxes_are_per_flow(env: Env) -> None:
    """Item 11: an event of a type no stream takes is marked ignored (the drain never wedges
    on it), and one event id is stored once per flow, not once overall."""
    runner = await env.runner()
    store = env.app.store
    assert await store.put_inbox_event("evt-1", NAME, "technician.updated", b"{}")
    assert await store.put_inbox_event("evt-1", "servicetitan-infor", "invoice.created", b"{}")
    assert not await store.put_inbox_event("evt-1", NAME, "technician.updated", b"{}")
    drained = await runner.drain_inbox()
    assert drained.ok, drained.error
    assert await store.pending_inbox(NAME) == []
    assert (await store.inbox_outcomes(NAME)) == {"ignored": 1}
    assert len(await store.pending_inbox("servicetitan-infor")) == 1


async def test_a_bill_is_found_through_its_vendor_code_when_the_ledger_lost_the_vendor(
    env: Env,
) -> None:
    """Item 2: a bill in doubt whose vendor is not in the ledger is looked up under the
    vendor's code in Acumatica and adopted, not posted a second time."""
    runner = await env.runner()
    assert (await runner.cycle()).ok
    bills = (await documents(env))["bills"]
    assert bills, "the seed must post at least one bill"
    ledger = await env.app.store.ledger_by_state(NAME, [State.DONE], stream=BILLS)
    entry = ledger[0]
    command = await env.app.store.ledger_command(entry.key)
    assert command is not None
    vendor_id = str(msgspec.json.decode(command)["vendor_id"])
    await env.app.store.db.write(
        [
            (
                "DELETE FROM ledger WHERE flow = ? AND stream = ? AND source_id = ?",
                (NAME, VENDORS, vendor_id),
            )
        ]
    )
    await env.app.store.commit(Unit().ledger(entry.key, State.IN_DOUBT))
    again = await runner.cycle(streams=[BILLS], full=True)
    assert again.ok, again.error
    after = (await documents(env))["bills"]
    assert {ref: len(found) for ref, found in after.items()} == {
        ref: len(found) for ref, found in bills.items()
    }
