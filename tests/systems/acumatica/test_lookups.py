"""Natural-key look-ups for many records in one request (issue 18, "fewer calls")."""

from __future__ import annotations

from connector.systems.acumatica import AcumaticaConnection
from connector.systems.acumatica import models as m
from tests.systems.acumatica.conftest import Sandbox
from tests.systems.acumatica.test_entities import new_bill, new_invoice


async def test_many_invoices_are_found_with_one_request_each_by_its_own_key(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """Three references in one $filter: one request; each key gets its own invoice whatever
    its case, and a reference Acumatica does not hold is simply absent."""
    client = acumatica.client
    saved = {o: await client.put(m.Invoice, new_invoice(order=o)) for o in ("A-1", "B-2")}
    before = (await sandbox.counters())["requests"]
    found = await client.find_invoices(["A-1", "b-2", "NONE-3"])
    assert (await sandbox.counters())["requests"] - before == 1
    assert {k: v.reference_nbr for k, v in found.items()} == {
        "A-1": saved["A-1"].reference_nbr,
        "b-2": saved["B-2"].reference_nbr,
    }


async def test_bills_are_found_by_vendor_and_reference_together_and_quotes_stay_quoted(
    acumatica: AcumaticaConnection,
) -> None:
    """Bill pairs (vendor, VendorRef) in one request: a reference of another vendor is not a
    match, and an apostrophe in a reference cannot widen the filter to other bills."""
    client = acumatica.client
    mine = await client.put(m.Bill, new_bill(vendor_ref="O'NEIL-7"))
    await client.put(m.Bill, new_bill(vendor="V10002", vendor_ref="SHARED-1"))
    injected = "X') or (VendorRef ne 'Y"
    found = await client.find_bills(
        [("V10001", "O'NEIL-7"), ("V10001", "SHARED-1"), ("V10001", injected)]
    )
    assert {k: v.reference_nbr for k, v in found.items()} == {
        ("V10001", "O'NEIL-7"): mine.reference_nbr
    }


async def test_customers_and_vendors_are_found_together(acumatica: AcumaticaConnection) -> None:
    """Reference-data look-ups for several codes at once, case-insensitive like the instance."""
    customers = await acumatica.client.find_customers(["c20001", "C20002", "C99999"])
    vendors = await acumatica.client.find_vendors(["V10002"])
    assert {k: v.customer_id for k, v in customers.items()} == {
        "c20001": "C20001",
        "C20002": "C20002",
    }
    assert {k: v.vendor_id for k, v in vendors.items()} == {"V10002": "V10002"}
