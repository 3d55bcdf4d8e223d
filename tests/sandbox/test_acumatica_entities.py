"""Acumatica simulator: value objects, strict 422s, upsert by key, numbering, reads, actions."""

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


async def test_put_customer_twice_with_same_key_updates_one_record(acu: Acu) -> None:
    """PUT upserts by CustomerID: the second PUT (any case) updates the same record."""
    first = await acu.call("PUT", "/Customer", {"CustomerID": {"value": "C90001"},
                                                "CustomerName": {"value": "Acme HVAC"}})
    second = await acu.call("PUT", "/Customer", {"CustomerID": {"value": "c90001"},
                                                 "CustomerName": {"value": "Acme Heating"}})
    assert first[0] == second[0] == 200
    assert first[1]["id"] == second[1]["id"]
    assert value(second[1], "CreatedDateTime") == value(first[1], "CreatedDateTime")
    assert value(second[1], "LastModifiedDateTime") > value(first[1], "LastModifiedDateTime")
    customers = [c for c in (await acu.state())["entities"]["Customer"]
                 if c["CustomerID"] == "C90001"]
    assert len(customers) == 1
    assert customers[0]["CustomerName"] == "Acme Heating"


async def test_list_returns_records_in_value_object_shape(acu: Acu) -> None:
    """GET list answers an array of records with id, rowNumber, note, value objects, _links."""
    status, records = await acu.call("GET", "/Customer")
    assert status == 200
    first = records[0]
    assert first["rowNumber"] == 1
    assert first["note"] == {"value": ""}
    assert value(first, "CustomerID") == "C20001"
    assert first["custom"] == {}
    assert first["_links"]["self"].endswith(f"/Customer/{first['id']}")
    assert "MainContact" not in first


async def test_plain_value_is_422_with_the_error_inside_the_field(acu: Acu) -> None:
    """A plain value instead of {"value": ...} is echoed back wrapped, with its error inside."""
    status, body = await acu.call("PUT", "/Customer", {"CustomerID": "C90002",
                                                       "CustomerName": {"value": "X"}})
    assert status == 422
    assert body["CustomerID"]["value"] == "C90002"
    assert "value object" in body["CustomerID"]["error"]
    assert "CustomerID" in body["error"]


async def test_unknown_field_is_422(acu: Acu) -> None:
    """A field the entity does not define is rejected inside that field's object."""
    status, body = await acu.call("PUT", "/Bill", bill(VendorInvoiceNumber={"value": "X"}))
    assert status == 422
    assert "not a field of the Bill entity" in body["VendorInvoiceNumber"]["error"]


@pytest.mark.parametrize(
    ("field", "wrong"),
    [("Hold", "yes"), ("Date", 20260115), ("Description", 12.5), ("Amount", "100.00")],
)
async def test_wrong_value_type_is_422(acu: Acu, field: str, wrong: Any) -> None:
    """A value of the wrong kind (bool, datetime, string, decimal) is refused in its field."""
    status, body = await acu.call("PUT", "/Bill", bill() | {field: {"value": wrong}})
    assert status == 422
    assert "expects a" in body[field]["error"]


async def test_missing_vendor_on_bill_is_422_naming_vendor(acu: Acu) -> None:
    """A bill for a vendor that does not exist says 'Vendor' cannot be found."""
    status, body = await acu.call("PUT", "/Bill", bill(vendor="NOPE"))
    assert status == 422
    assert body["Vendor"]["error"].startswith("'Vendor' cannot be found in the system.")
    assert (await acu.state())["counts"]["Bill"] == 0


async def test_missing_customer_on_invoice_is_422_naming_customer(acu: Acu) -> None:
    """An invoice for an unknown customer is refused on its Customer field."""
    status, body = await acu.call("PUT", "/Invoice", {"Customer": {"value": "C99999"}})
    assert status == 422
    assert "'Customer' cannot be found" in body["Customer"]["error"]


async def test_missing_account_subaccount_and_branch_on_detail_are_422(acu: Acu) -> None:
    """Detail references are each checked and reported inside their own field."""
    body = bill()
    line = body["Details"][0]
    line["Account"], line["Subaccount"], line["Branch"] = (
        {"value": "99999"}, {"value": "NOPE-NOPE"}, {"value": "WEST"})
    status, answer = await acu.call("PUT", "/Bill", body)
    assert status == 422
    row = answer["Details"][0]
    for field in ("Account", "Subaccount", "Branch"):
        assert f"'{field}' cannot be found" in row[field]["error"]
        assert f"Details[0].{field}" in answer["error"]


async def test_header_branch_of_bill_is_checked(acu: Acu) -> None:
    """A bill's BranchID must be a branch of the company."""
    status, body = await acu.call("PUT", "/Bill", bill(BranchID={"value": "WEST"}))
    assert status == 422
    assert "'BranchID' cannot be found" in body["BranchID"]["error"]


async def test_new_bill_without_reference_nbr_twice_creates_two_bills(acu: Acu) -> None:
    """A blind retry of a new bill creates a second bill with the next number."""
    first = await acu.call("PUT", "/Bill", bill())
    second = await acu.call("PUT", "/Bill", bill())
    assert first[0] == second[0] == 200
    numbers = [value(first[1], "ReferenceNbr"), value(second[1], "ReferenceNbr")]
    assert numbers == ["000001", "000002"]
    assert (await acu.state())["counts"]["Bill"] == 2


async def test_bill_totals_come_from_details_and_header_branch_defaults(acu: Acu) -> None:
    """ExtendedCost = Qty x UnitCost, Amount sums the lines, new bills are Balanced in HQ."""
    status, body = await acu.call("PUT", "/Bill?$expand=Details", bill())
    assert status == 200
    assert value(body, "Amount") == 251.0
    assert value(body, "Balance") == 251.0
    assert value(body, "Status") == "Balanced"
    assert value(body, "BranchID") == "HQ"
    assert value(body["Details"][0], "ExtendedCost") == 251.0


async def test_if_none_match_star_on_existing_record_is_412(acu: Acu) -> None:
    """Insert-only PUT (If-None-Match: *) on an existing key answers 412 and changes nothing."""
    status, _ = await acu.call("PUT", "/Vendor", {"VendorID": {"value": "V10001"},
                                                  "VendorName": {"value": "Renamed"}},
                               headers={"If-None-Match": "*"})
    assert status == 412
    vendor = next(v for v in (await acu.state())["entities"]["Vendor"]
                  if v["VendorID"] == "V10001")
    assert vendor["VendorName"] != "Renamed"


async def test_if_match_star_on_missing_record_is_412(acu: Acu) -> None:
    """Update-only PUT (If-Match: *) for a key that does not exist answers 412."""
    status, _ = await acu.call("PUT", "/Vendor", {"VendorID": {"value": "V77777"},
                                                  "VendorName": {"value": "New"}},
                               headers={"If-Match": "*"})
    assert status == 412
    assert (await acu.state())["counts"]["Vendor"] == 5


async def test_last_modified_is_bumped_and_filter_gt_returns_only_newer(acu: Acu) -> None:
    """Every change moves LastModifiedDateTime forward; filtering gt it returns later changes."""
    _, created = await acu.call("PUT", "/Bill", bill(vendor_ref="A"))
    mark = value(created, "LastModifiedDateTime")
    _, updated = await acu.call("PUT", "/Bill", {
        "ReferenceNbr": created["ReferenceNbr"], "Description": {"value": "changed"}})
    assert value(updated, "LastModifiedDateTime") > mark
    literal = quote(f"datetimeoffset'{mark}'")
    status, newer = await acu.call("GET", f"/Bill?$filter=LastModifiedDateTime%20gt%20{literal}")
    assert status == 200
    assert [value(b, "ReferenceNbr") for b in newer] == [value(created, "ReferenceNbr")]
    _, later = await acu.call(
        "GET", "/Bill?$filter=" + quote(
            f"LastModifiedDateTime gt datetimeoffset'{value(updated, 'LastModifiedDateTime')}'"))
    assert later == []


async def test_unencoded_plus_in_datetimeoffset_is_refused(acu: Acu) -> None:
    """A bare '+' in the offset arrives as a space; the read fails with the documented 500."""
    bare_plus = "LastModifiedDateTime%20gt%20datetimeoffset'2026-01-15T10:00:00+00:00'"
    status, body = await acu.call("GET", f"/Bill?$filter={bare_plus}")
    assert status == 500
    assert "%2B" in body["exceptionMessage"]


async def test_filter_eq_on_strings_combined_with_and(acu: Acu) -> None:
    """VendorRef eq 'X' and Vendor eq 'V' finds exactly that vendor's bill."""
    await acu.call("PUT", "/Bill", bill(vendor="V10001", vendor_ref="INV-7"))
    await acu.call("PUT", "/Bill", bill(vendor="V10002", vendor_ref="INV-7"))
    await acu.call("PUT", "/Bill", bill(vendor="V10001", vendor_ref="INV-8"))
    query = quote("VendorRef eq 'INV-7' and Vendor eq 'V10001'")
    status, found = await acu.call("GET", f"/Bill?$filter={query}")
    assert status == 200
    assert [(value(b, "Vendor"), value(b, "VendorRef")) for b in found] == [("V10001", "INV-7")]


async def test_details_are_returned_only_when_expanded(acu: Acu) -> None:
    """Detail arrays appear with $expand=Details and not without it."""
    _, created = await acu.call("PUT", "/Bill", bill())
    number = value(created, "ReferenceNbr")
    assert "Details" not in created
    _, plain = await acu.call("GET", f"/Bill/Bill/{number}")
    _, expanded = await acu.call("GET", f"/Bill/Bill/{number}?$expand=Details")
    assert "Details" not in plain
    assert value(expanded["Details"][0], "Account") == "50000"


async def test_get_by_keys_by_id_and_missing_record(acu: Acu) -> None:
    """A record is found by its keys or its id; a missing one is 500 NoEntitySatisfies…."""
    _, vendor = await acu.call("GET", "/Vendor/V10002")
    _, by_id = await acu.call("GET", f"/Vendor/{vendor['id']}")
    assert value(by_id, "VendorID") == "V10002"
    status, body = await acu.call("GET", "/Vendor/V55555")
    assert status == 500
    assert body["message"] == "No entity satisfies the condition."
    assert body["exceptionType"].endswith("NoEntitySatisfiesTheConditionException")


async def test_top_skip_and_select(acu: Acu) -> None:
    """$skip/$top page through key order; $select keeps only the named fields."""
    status, page = await acu.call("GET", "/Vendor?$skip=1&$top=2&$select=VendorID")
    assert status == 200
    assert [value(v, "VendorID") for v in page] == ["V10002", "V10003"]
    assert "VendorName" not in page[0]


async def test_malformed_json_is_400(acu: Acu) -> None:
    """A body that is not JSON answers 400, not 422."""
    status, _ = await acu.call("PUT", "/Bill", raw=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert status == 400


async def test_release_bill_is_accepted_then_polled_to_completion(acu: Acu) -> None:
    """ReleaseBill answers 202 + Location; polling it gives 202 then 204; the bill is Open."""
    _, created = await acu.call("PUT", "/Bill", bill())
    keys = {"Type": {"value": "Bill"}, "ReferenceNbr": created["ReferenceNbr"]}
    token = await acu.token()
    url = f"{await acu.instance()}/entity/Default/24.200.001/Bill/ReleaseBill"
    headers = {"Authorization": f"Bearer {token}"}
    async with acu.http.post(url, json={"entity": keys}, headers=headers) as resp:
        assert resp.status == 202
        location = resp.headers["Location"]
    statuses = []
    for _ in range(2):
        async with acu.http.get(location, headers=headers) as resp:
            statuses.append(resp.status)
    assert statuses == [202, 204]
    _, released = await acu.call("GET", f"/Bill/Bill/{value(created, 'ReferenceNbr')}")
    assert value(released, "Status") == "Open"


async def test_payment_applies_only_to_released_invoices_of_its_customer(acu: Acu) -> None:
    """Payments apply only to released invoices of their customer, within the open balance."""
    invoice = {"Customer": {"value": "C20001"}, "Details": [{
        "Qty": {"value": 1.0}, "UnitPrice": {"value": 300.0}, "Account": {"value": "40000"}}]}
    _, created = await acu.call("PUT", "/Invoice", invoice)
    number = value(created, "ReferenceNbr")

    def payment(customer: str, amount: float) -> dict[str, Any]:
        return {"CustomerID": {"value": customer}, "CashAccount": {"value": "10100"},
                "PaymentAmount": {"value": amount}, "DocumentsToApply": [{
                    "DocType": {"value": "Invoice"}, "ReferenceNbr": {"value": number},
                    "AmountPaid": {"value": amount}}]}

    status, body = await acu.call("PUT", "/Payment", payment("C20001", 100.0))
    assert status == 422
    assert "not released" in body["DocumentsToApply"][0]["ReferenceNbr"]["error"]
    await acu.call("POST", "/Invoice/ReleaseInvoice",
                   {"entity": {"ReferenceNbr": {"value": number}}})
    status, body = await acu.call("PUT", "/Payment", payment("C20002", 100.0))
    assert status == 422
    assert "belongs to customer C20001" in body["DocumentsToApply"][0]["ReferenceNbr"]["error"]
    status, body = await acu.call("PUT", "/Payment", payment("C20001", 400.0))
    assert status == 422
    assert "exceeds the open balance" in body["DocumentsToApply"][0]["AmountPaid"]["error"]
    assert (await acu.call("PUT", "/Payment", payment("C20001", 100.0)))[0] == 200
    _, after = await acu.call("GET", f"/Invoice/Invoice/{number}")
    assert value(after, "Balance") == 200.0


async def test_companies_structure_lists_the_branches(acu: Acu) -> None:
    """The CompaniesStructure inquiry (PUT, $expand=Results) returns the seeded branches."""
    status, body = await acu.call("PUT", "/CompaniesStructure?$expand=Results", {})
    assert status == 200
    assert [value(r, "BranchID") for r in body["Results"]] == ["HQ", "NORTH", "SOUTH"]


async def test_key_field_cannot_change_through_put_by_id(acu: Acu) -> None:
    """Updating by id with a different CustomerID is refused on the key field."""
    _, customer = await acu.call("GET", "/Customer/C20001")
    status, body = await acu.call("PUT", "/Customer", {"id": customer["id"],
                                                       "CustomerID": {"value": "C20999"}})
    assert status == 422
    assert "cannot be changed" in body["CustomerID"]["error"]


async def test_detail_rows_without_id_are_appended_on_update(acu: Acu) -> None:
    """Re-sending a bill's lines without ids adds them again, as the real API does."""
    _, created = await acu.call("PUT", "/Bill", bill())
    resend = bill() | {"ReferenceNbr": created["ReferenceNbr"]}
    _, updated = await acu.call("PUT", "/Bill?$expand=Details", resend)
    assert len(updated["Details"]) == 2
    assert value(updated, "Amount") == 502.0


async def test_delete_by_keys_removes_the_record(acu: Acu) -> None:
    """DELETE /Vendor/{VendorID} answers 204 and the vendor is gone."""
    assert (await acu.call("DELETE", "/Vendor/V10005"))[0] == 204
    assert (await acu.call("GET", "/Vendor/V10005"))[0] == 500


async def test_seeded_branch_codes_are_the_valid_references(acu: Acu) -> None:
    """Branches given to the seed replace the defaults and are what references must name."""
    await acu.admin("POST", "seed", {"seed": 1, "branches": ["WEST", "EAST"]})
    status, _ = await acu.call("PUT", "/Bill", bill())
    assert status == 422
    body = bill(BranchID={"value": "WEST"})
    body["Details"][0]["Branch"] = {"value": "EAST"}
    body["Details"][0]["Subaccount"] = {"value": "HVAC-NORTH"}
    status, created = await acu.call("PUT", "/Bill", body)
    assert status == 200, created
    assert (await acu.state())["branches"] == ["WEST", "EAST"]
