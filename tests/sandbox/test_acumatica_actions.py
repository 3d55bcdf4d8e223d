"""Acumatica simulator: every documented action of the served entities, and files.

Each test drives one screen's actions over HTTP and checks what Acumatica's help says they
do: reversing and voiding documents, card transactions, the sales order life cycle,
contacts, standard costs, custom (screen) actions, and the inquiry's record operations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_acumatica_support import Acu, bill, value


@pytest.fixture
async def acu(start_simulator: StartSimulator) -> AsyncIterator[Acu]:
    sim = await start_simulator("acumatica")
    async with aiohttp.ClientSession() as http:
        handle = Acu(sim, http)
        await handle.seed()
        await handle.knobs(action_pending_polls=0)
        yield handle


def v(data: Any) -> dict[str, Any]:
    return {"value": data}


async def act(acu: Acu, path: str, entity: dict[str, Any], **parameters: Any) -> tuple[int, Any]:
    body: dict[str, Any] = {"entity": entity}
    if parameters:
        body["parameters"] = {name: v(data) for name, data in parameters.items()}
    return await acu.call("POST", path, body)


async def finished(acu: Acu, path: str, entity: dict[str, Any], **parameters: Any) -> str:
    """Run an action to its end; the URL of the record its operation points at."""
    sent = {"Authorization": f"Bearer {await acu.token()}"}
    body: dict[str, Any] = {"entity": entity}
    if parameters:
        body["parameters"] = {name: v(data) for name, data in parameters.items()}
    url = f"{await acu.instance()}/entity/Default/24.200.001{path}"
    async with acu.http.post(url, json=body, headers=sent) as reply:
        assert reply.status == 202, await reply.text()
        location = reply.headers["Location"]
    async with acu.http.get(location, headers=sent) as reply:
        assert reply.status == 204
        return str(reply.headers["Location"])


async def _released_bill(acu: Acu, amount: float) -> dict[str, Any]:
    body = bill()
    body["Details"][0] |= {"Qty": v(1.0), "UnitCost": v(amount)}
    _, created = await acu.call("PUT", "/Bill", body)
    entity = {"Type": v("Bill"), "ReferenceNbr": created["ReferenceNbr"]}
    assert (await act(acu, "/Bill/ReleaseBill", entity))[0] == 202
    return entity


async def test_files_attach_to_a_record_and_are_listed_and_read(acu: Acu) -> None:
    """PUT …/files/{name} attaches; $expand=files lists it; its href returns the content."""
    status, _ = await acu.call("PUT", "/Vendor/V10001/files/w9.pdf", raw=b"%PDF-1.4 w9")
    assert status == 204
    await acu.call("PUT", "/Vendor/V10001/files/w9.pdf", raw=b"%PDF-1.4 w9 v2")
    _, vendor = await acu.call("GET", "/Vendor/V10001?$expand=files")
    [link] = vendor["files"]
    assert link["filename"] == "Vendors (V10001)\\w9.pdf"
    async with acu.http.get(link["href"],
                            headers={"Authorization": f"Bearer {await acu.token()}"}) as reply:
        assert await reply.read() == b"%PDF-1.4 w9 v2"
    _, plain = await acu.call("GET", "/Vendor/V10001")
    assert "files" not in plain
    status, missing = await acu.call("PUT", "/Vendor/NOPE/files/a.txt", raw=b"x")
    assert status == 500 and "NoEntitySatisfiesTheCondition" in missing["exceptionType"]


async def test_reverse_bill_makes_a_debit_adjustment_of_a_released_bill(acu: Acu) -> None:
    """ReverseBill: only released bills; the result is an unreleased Debit Adj. alike."""
    _, draft = await acu.call("PUT", "/Bill", bill(vendor_ref="R-0"))
    unreleased = {"Type": v("Bill"), "ReferenceNbr": draft["ReferenceNbr"]}
    assert (await act(acu, "/Bill/ReverseBill", unreleased))[0] == 422
    entity = await _released_bill(acu, 75.0)
    where = await finished(acu, "/Bill/ReverseBill", entity)
    assert "/Bill/" in where
    _, adjustments = await acu.call("GET", "/Bill?$filter=Type eq 'Debit Adj.'")
    [reversal] = adjustments
    assert (value(reversal, "Vendor"), value(reversal, "Amount")) == ("V10001", 75.0)
    assert value(reversal, "Status") == "Balanced"
    status, body = await act(acu, "/Bill/ReleaseRetainage", entity, AmtToRelease=10.0)
    assert status == 422 and "no unreleased retainage" in body["error"]


async def test_void_check_restores_the_balance_of_the_bills_it_paid(acu: Acu) -> None:
    """VoidCheck: the check is Voided, a Voided Check records it, the bill is open again."""
    entity = await _released_bill(acu, 80.0)
    number = entity["ReferenceNbr"]["value"]
    body = {"Vendor": v("V10001"), "CashAccount": v("10100"),
            "Details": [{"ReferenceNbr": v(number)}]}
    _, check = await acu.call("PUT", "/Check", body)
    keys = {"Type": check["Type"], "ReferenceNbr": check["ReferenceNbr"]}
    assert (await act(acu, "/Check/VoidCheck", keys))[0] == 422  # not released yet
    await act(acu, "/Check/ReleaseCheck", keys)
    assert value((await acu.call("GET", f"/Bill/Bill/{number}"))[1], "Status") == "Closed"
    await finished(acu, "/Check/VoidCheck", keys)
    _, paid = await acu.call("GET", f"/Bill/Bill/{number}")
    assert (value(paid, "Balance"), value(paid, "Status")) == (80.0, "Open")
    nbr = check["ReferenceNbr"]["value"]
    assert value((await acu.call("GET", f"/Check/Payment/{nbr}"))[1], "Status") == "Voided"
    _, voiding = await acu.call("GET", f"/Check/Voided Check/{nbr}")
    assert value(voiding, "PaymentAmount") == -80.0
    status, _ = await acu.call("PUT", "/Check", {**keys, "Description": v("edit")})
    assert status == 422


async def _payment(acu: Acu, amount: float) -> tuple[dict[str, Any], str]:
    invoice = {"Customer": v("C20001"), "Details": [
        {"Account": v("40000"), "Subaccount": v("HVAC-NORTH"), "Qty": v(1.0),
         "UnitPrice": v(amount)}]}
    _, created = await acu.call("PUT", "/Invoice", invoice)
    number = str(value(created, "ReferenceNbr"))
    await act(acu, "/Invoice/ReleaseInvoice", {"Type": v("Invoice"), "ReferenceNbr": v(number)})
    payment = {"CustomerID": v("C20001"), "CashAccount": v("10100"),
               "DocumentsToApply": [{"ReferenceNbr": v(number)}]}
    _, paid = await acu.call("PUT", "/Payment", payment)
    return {"Type": paid["Type"], "ReferenceNbr": paid["ReferenceNbr"]}, number


async def test_void_payment_reopens_the_invoices_it_paid(acu: Acu) -> None:
    """VoidPayment: a released payment is Voided and its invoice's balance comes back."""
    keys, invoice = await _payment(acu, 120.0)
    await act(acu, "/Payment/ReleasePayment", keys)
    assert value((await acu.call("GET", f"/Invoice/Invoice/{invoice}"))[1], "Balance") == 0.0
    await finished(acu, "/Payment/VoidPayment", keys)
    _, reopened = await acu.call("GET", f"/Invoice/Invoice/{invoice}")
    assert (value(reopened, "Balance"), value(reopened, "Status")) == (120.0, "Open")
    assert (await act(acu, "/Payment/VoidPayment", keys))[0] == 422


async def test_card_operations_record_capture_and_void_card_transactions(acu: Acu) -> None:
    """CardOperation records AUT; Capture releases the payment; VoidCardPayment voids it."""
    keys, invoice = await _payment(acu, 60.0)
    assert (await act(acu, "/Payment/CaptureCreditCardPayment", keys))[0] == 422
    assert (await act(acu, "/Payment/CardOperation", keys, TranType="XXX", TranNbr="1"))[0] == 422
    await finished(acu, "/Payment/CardOperation", keys, TranType="AUT", TranNbr="T1",
                   AuthNumber="A1", Amount=60.0)
    await finished(acu, "/Payment/CaptureCreditCardPayment", keys)
    nbr = keys["ReferenceNbr"]["value"]
    _, captured = await acu.call("GET", f"/Payment/Payment/{nbr}?$expand=CreditCardTransactionInfo")
    kinds = [value(row, "TranType") for row in captured["CreditCardTransactionInfo"]]
    assert kinds == ["Authorize Only", "Capture Authorized"]
    assert value(captured, "Status") == "Closed"
    await finished(acu, "/Payment/VoidCardPayment", keys)
    assert value((await acu.call("GET", f"/Payment/Payment/{nbr}"))[1], "Status") == "Voided"
    assert value((await acu.call("GET", f"/Invoice/Invoice/{invoice}"))[1], "Balance") == 60.0


async def _order(acu: Acu, order_type: str = "SO", qty: float = 2.0) -> dict[str, Any]:
    body = {"OrderType": v(order_type), "CustomerID": v("C20001"), "Details": [
        {"InventoryID": v("P30001"), "OrderQty": v(qty), "UnitPrice": v(20.0)}]}
    status, order = await acu.call("PUT", "/SalesOrder", body)
    assert status == 200, order
    return {"OrderType": order["OrderType"], "OrderNbr": order["OrderNbr"]}


async def test_sales_order_ships_then_is_invoiced_and_completed(acu: Acu) -> None:
    """CreateShipment → Shipping with a shipment; PrepareSalesInvoice → an AR invoice."""
    keys = await _order(acu)
    path = f"/SalesOrder/SO/{keys['OrderNbr']['value']}?$expand=Shipments,Details"
    assert (await act(acu, "/SalesOrder/PrepareSalesInvoice", keys))[0] == 422
    await finished(acu, "/SalesOrder/SalesOrderCreateShipment", keys,
                   ShipmentDate="2026-02-01T00:00:00+00:00", WarehouseID="MAIN")
    _, shipping = await acu.call("GET", path)
    assert value(shipping, "Status") == "Shipping"
    [shipment] = shipping["Shipments"]
    assert (value(shipment, "ShippedQty"), value(shipment, "ShipmentType")) == (2.0, "Shipment")
    assert (await act(acu, "/SalesOrder/SalesOrderCreateShipment", keys))[0] == 422
    assert (await act(acu, "/SalesOrder/CancelSalesOrder", keys))[0] == 422
    where = await finished(acu, "/SalesOrder/PrepareSalesInvoice", keys)
    assert "/Invoice/" in where
    _, done = await acu.call("GET", path)
    assert value(done, "Status") == "Completed"
    number = value(done["Details"][0], "InvoiceNbr")
    _, invoice = await acu.call("GET", f"/Invoice/Invoice/{number}")
    assert (value(invoice, "Customer"), value(invoice, "Amount")) == ("C20001", 40.0)
    assert (await act(acu, "/SalesOrder/SalesOrderCreateReceipt", keys))[0] == 422


async def test_sales_order_cancel_reopen_hold_and_prices(acu: Acu) -> None:
    """Cancel/Reopen, custom putOnHold + OpenSalesOrder, and price recalculation."""
    keys = await _order(acu)
    path = f"/SalesOrder/SO/{keys['OrderNbr']['value']}"
    assert (await act(acu, "/SalesOrder/ReopenSalesOrder", keys))[0] == 422
    await finished(acu, "/SalesOrder/CancelSalesOrder", keys)
    assert value((await acu.call("GET", path))[1], "Status") == "Canceled"
    await finished(acu, "/SalesOrder/ReopenSalesOrder", keys)
    await finished(acu, "/SalesOrder/putOnHold", keys)
    assert value((await acu.call("GET", path))[1], "Status") == "On Hold"
    await finished(acu, "/SalesOrder/OpenSalesOrder", keys)
    assert value((await acu.call("GET", path))[1], "Status") == "Open"
    _, item = await acu.call("GET", "/StockItem/P30001")
    await finished(acu, "/SalesOrder/RecalculatePricesDiscounts", keys)
    await finished(acu, "/SalesOrder/AutoRecalculateDiscounts", keys)
    _, priced = await acu.call("GET", path)
    assert value(priced, "OrderTotal") == round(2 * value(item, "DefaultPrice"), 2)
    status, body = await act(acu, "/SalesOrder/NoSuchAction", keys)
    assert status == 500 and "not found on the SalesOrder screen" in body["exceptionMessage"]


async def test_credit_hold_and_return_receipts(acu: Acu) -> None:
    """An order over the credit limit is on Credit Hold until released; RM takes receipts."""
    await acu.call("PUT", "/Customer", {"CustomerID": v("C20001"), "CreditLimit": v(10.0)})
    keys = await _order(acu)
    path = f"/SalesOrder/SO/{keys['OrderNbr']['value']}"
    assert value((await acu.call("GET", path))[1], "Status") == "Credit Hold"
    await finished(acu, "/SalesOrder/ReleaseFromCreditHoldSalesOrder", keys)
    assert value((await acu.call("GET", path))[1], "Status") == "Open"
    assert (await act(acu, "/SalesOrder/ReleaseFromCreditHoldSalesOrder", keys))[0] == 422
    await acu.call("PUT", "/Customer", {"CustomerID": v("C20001"), "CreditLimit": v(0.0)})
    ret = await _order(acu, "RM", 1.0)
    await finished(acu, "/SalesOrder/SalesOrderCreateReceipt", ret)
    rm = f"/SalesOrder/RM/{ret['OrderNbr']['value']}?$expand=Shipments"
    _, received = await acu.call("GET", rm)
    assert value(received["Shipments"][0], "ShipmentType") == "Receipt"
    where = await finished(acu, "/SalesOrder/PrepareSalesInvoice", ret)
    _, memo = await acu.call("GET", where.split("/24.200.001", 1)[1])
    assert value(memo, "Type") == "Credit Memo"


async def test_contacts_costs_and_hold_actions(acu: Acu) -> None:
    """CreateContactFrom*, UpdateStandardCost*, and Hold/RemoveHold as custom actions."""
    customer = {"CustomerID": v("C20001")}
    assert (await act(acu, "/Customer/CreateContactFromCustomer", customer,
                      FirstName="Ana"))[0] == 422
    await finished(acu, "/Customer/CreateContactFromCustomer", customer, FirstName="Ana",
                   LastName="Diaz", Email="ana@example.com")
    _, read = await acu.call("GET", "/Customer/C20001?$expand=Contacts/Contact")
    assert value(read["Contacts"][0]["Contact"], "DisplayName") == "Ana Diaz"
    await finished(acu, "/Vendor/CreateContactFromVendor", {"VendorID": v("V10001")},
                   LastName="Lee")
    item = {"InventoryID": v("P30001")}
    assert (await act(acu, "/StockItem/UpdateStandardCostStockItem", item))[0] == 422
    await acu.call("PUT", "/StockItem", item | {"ValuationMethod": v("Standard"),
                                                "PendingStdCost": v(12.5)})
    await finished(acu, "/StockItem/UpdateStandardCostStockItem", item)
    _, costed = await acu.call("GET", "/StockItem/P30001")
    assert (value(costed, "CurrentStdCost"), value(costed, "PendingStdCost")) == (12.5, None)
    _, services = await acu.call("GET", "/NonStockItem?$top=1")
    service = {"InventoryID": services[0]["InventoryID"]}
    assert (await act(acu, "/NonStockItem/UpdateStandardCostNonStockItem", service))[0] == 422
    _, draft = await acu.call("PUT", "/Bill", bill(vendor_ref="H-1"))
    keys = {"Type": v("Bill"), "ReferenceNbr": draft["ReferenceNbr"]}
    await finished(acu, "/Bill/putOnHold", keys)
    assert (await act(acu, "/Bill/ReleaseBill", keys))[0] == 422
    await finished(acu, "/Bill/releaseFromHold", keys)
    assert (await act(acu, "/Account/Hold", {"AccountCD": v("10100")}))[0] == 500


async def test_inquiry_is_read_by_its_id_and_refuses_the_rest(acu: Acu) -> None:
    """CompaniesStructure GET by its id answers the form; delete, files, actions are 500."""
    _, form = await acu.call("PUT", "/CompaniesStructure?$expand=Results", {})
    status, again = await acu.call("GET", f"/CompaniesStructure/{form['id']}?$expand=Results")
    assert status == 200 and again["Results"] == form["Results"]
    for method, path in (("GET", "/CompaniesStructure/HQ"),
                         ("DELETE", f"/CompaniesStructure/{form['id']}"),
                         ("PUT", "/CompaniesStructure/HQ/files/a.txt"),
                         ("POST", "/CompaniesStructure/Anything")):
        status, body = await acu.call(method, path, {"entity": {}})
        assert status == 500, (method, path, body)
