"""Acumatica simulator: items and item classes, sales orders, GL batches, checks, terms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

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
        yield handle


def v(data: Any) -> dict[str, Any]:
    return {"value": data}


async def test_seeded_items_list_filter_select_top_skip(acu: Acu) -> None:
    """Stock items are seeded and listed with $filter, $select, $top and $skip."""
    status, items = await acu.call("GET", "/StockItem?$select=InventoryID,ItemClass&$top=3"
                                   "&$skip=1")
    assert status == 200
    assert [value(i, "InventoryID") for i in items] == ["P30002", "P30003", "P30004"]
    assert set(items[0]) >= {"InventoryID", "ItemClass"} and "Description" not in items[0]
    query = quote("ItemClass eq 'SERVICES'")
    status, services = await acu.call("GET", f"/NonStockItem?$filter={query}")
    assert status == 200 and services
    assert {value(s, "ItemClass") for s in services} == {"SERVICES"}


async def test_stock_item_upsert_checks_item_class_and_accounts(acu: Acu) -> None:
    """A stock item's ItemClass and posting accounts must exist; PUT twice updates one."""
    body = {"InventoryID": v("p-new"), "Description": v("Compressor"),
            "ItemClass": v("NOPE"), "COGSAccount": v("99999")}
    status, refused = await acu.call("PUT", "/StockItem", body)
    assert status == 422
    assert "cannot be found" in refused["ItemClass"]["error"]
    assert "cannot be found" in refused["COGSAccount"]["error"]
    body |= {"ItemClass": v("equipment"), "COGSAccount": v("50000")}
    first = await acu.call("PUT", "/StockItem", body)
    second = await acu.call("PUT", "/StockItem", body | {"Description": v("Scroll compressor")})
    assert first[0] == second[0] == 200
    assert first[1]["id"] == second[1]["id"]
    assert value(second[1], "InventoryID") == "P-NEW"
    assert value(second[1], "ItemClass") == "EQUIPMENT"
    assert value(second[1], "ItemStatus") == "Active"


async def test_item_class_is_created_and_read_by_key(acu: Acu) -> None:
    """ItemClass upserts by ClassID and is read back at /ItemClass/{ClassID}."""
    status, _ = await acu.call("PUT", "/ItemClass", {"ClassID": v("filters"),
                                                     "Description": v("Air filters")})
    assert status == 200
    status, found = await acu.call("GET", "/ItemClass/FILTERS")
    assert status == 200
    assert value(found, "StockItem") is True


async def test_sales_order_is_numbered_totalled_and_checks_lines(acu: Acu) -> None:
    """A sales order gets the next OrderNbr, line amounts and total; unknown items are 422."""
    line = {"InventoryID": v("P30001"), "OrderQty": v(2.0), "UnitPrice": v(50.0)}
    body = {"CustomerID": v("C20001"), "Details": [line]}
    status, order = await acu.call("PUT", "/SalesOrder?$expand=Details", body)
    assert status == 200, order
    assert value(order, "OrderType") == "SO"
    assert value(order, "OrderNbr") == "000001"
    assert value(order, "OrderTotal") == 100.0
    assert value(order["Details"][0], "Amount") == 100.0
    assert value(order, "Status") == "Open"
    status, found = await acu.call("GET", "/SalesOrder/SO/000001")
    assert status == 200 and found["id"] == order["id"]
    bad = {"CustomerID": v("C20001"), "Details": [line | {"InventoryID": v("GHOST")}]}
    status, refused = await acu.call("PUT", "/SalesOrder", bad)
    assert status == 422
    assert "GHOST" in refused["Details"][0]["InventoryID"]["error"]


def batch(debit: float, credit: float) -> dict[str, Any]:
    return {"Description": v("Accrual"), "Details": [
        {"Account": v("61000"), "Subaccount": v("HVAC-NORTH"), "DebitAmount": v(debit)},
        {"Account": v("21000"), "Subaccount": v("HVAC-NORTH"), "CreditAmount": v(credit)}]}


async def test_journal_transaction_releases_only_when_balanced(acu: Acu) -> None:
    """A GL batch keyed Module/BatchNbr releases when debits equal credits, else 422."""
    _, unbalanced = await acu.call("PUT", "/JournalTransaction", batch(100.0, 90.0))
    assert value(unbalanced, "Module") == "GL"
    assert value(unbalanced, "BranchID") == "HQ"
    keys = {"Module": v("GL"), "BatchNbr": unbalanced["BatchNbr"]}
    status, refused = await acu.call("POST", "/JournalTransaction/ReleaseJournalTransaction",
                                     {"entity": keys})
    assert status == 422
    assert "out of balance" in refused["error"]
    _, balanced = await acu.call("PUT", "/JournalTransaction", batch(100.0, 100.0))
    keys = {"Module": v("GL"), "BatchNbr": balanced["BatchNbr"]}
    status, _ = await acu.call("POST", "/JournalTransaction/ReleaseJournalTransaction",
                               {"entity": keys})
    assert status == 202
    number = value(balanced, "BatchNbr")
    _, posted = await acu.call("GET", f"/JournalTransaction/GL/{number}")
    assert value(posted, "Status") == "Posted"


async def _released_bill(acu: Acu, amount: float) -> str:
    body = bill()
    body["Details"][0] |= {"Qty": v(1.0), "UnitCost": v(amount)}
    _, created = await acu.call("PUT", "/Bill", body)
    number = str(value(created, "ReferenceNbr"))
    entity = {"Type": v("Bill"), "ReferenceNbr": v(number)}
    assert (await acu.call("POST", "/Bill/ReleaseBill", {"entity": entity}))[0] == 202
    return number


async def test_check_pays_released_bills_of_its_vendor(acu: Acu) -> None:
    """A check pays released bills of its vendor (amount defaults to their total); once it
    is released the bill is closed and cannot be paid again."""
    number = await _released_bill(acu, 80.0)
    body = {"Vendor": v("V10001"), "CashAccount": v("10100"),
            "Details": [{"ReferenceNbr": v(number)}]}
    status, check = await acu.call("PUT", "/Check?$expand=Details", body)
    assert status == 200, check
    assert value(check, "PaymentAmount") == 80.0
    assert value(check, "UnappliedBalance") == 0.0
    assert value(check["Details"][0], "DocType") == "Bill"
    status, refused = await acu.call("PUT", "/Check", body | {"Vendor": v("V10002")})
    assert status == 422
    assert "belongs to vendor V10001" in refused["Details"][0]["ReferenceNbr"]["error"]
    entity = {"Type": check["Type"], "ReferenceNbr": check["ReferenceNbr"]}
    assert (await acu.call("POST", "/Check/ReleaseCheck", {"entity": entity}))[0] == 202
    _, paid = await acu.call("GET", f"/Bill/Bill/{number}")
    assert (value(paid, "Balance"), value(paid, "Status")) == (0.0, "Closed")
    status, again = await acu.call("PUT", "/Check", body)
    assert status == 422
    assert "is closed" in again["Details"][0]["ReferenceNbr"]["error"]


async def test_bill_takes_terms_and_due_date_from_the_vendor(acu: Acu) -> None:
    """A bill without Terms takes the vendor's (30D): DueDate is Date plus 30 days."""
    status, created = await acu.call("PUT", "/Bill", bill())
    assert status == 200, created
    assert value(created, "Terms") == "30D"
    assert value(created, "DueDate").startswith("2026-02-14")
    _, explicit = await acu.call("PUT", "/Bill", bill(vendor_ref="INV-2", Terms=v("15D")))
    assert value(explicit, "DueDate").startswith("2026-01-30")
    _, kept = await acu.call("PUT", "/Bill", bill(vendor_ref="INV-3",
                                                   DueDate=v("2026-03-01T00:00:00+00:00")))
    assert value(kept, "DueDate").startswith("2026-03-01")
    status, refused = await acu.call("PUT", "/Bill", bill(vendor_ref="INV-4",
                                                          Terms=v("NET99")))
    assert status == 422
    assert "cannot be found" in refused["Terms"]["error"]
