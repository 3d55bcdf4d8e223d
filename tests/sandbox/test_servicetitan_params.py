"""Documented query parameters of the ServiceTitan simulator filter, sort and refuse as the
vendor documents them; undocumented ones are ignored. Uses the ``st`` helper of
``test_servicetitan.py`` over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect


@pytest.fixture
async def st(start_simulator: StartSimulator) -> AsyncIterator[ST]:
    """A seeded simulator with the rate limit off (these tests make many calls)."""
    async with connect(start_simulator) as client:
        await client.seed()
        await client.knobs(rate_limit_per_s=0)
        yield client


async def rows(st: ST, module: str, path: str, **params: object) -> list[dict[str, object]]:
    body = await st.get(module, path, pageSize=5000, **params)
    assert isinstance(body, dict)
    data = body["data"]
    assert isinstance(data, list)
    return data


async def test_invoices_filter_by_invoice_date_range(st: ST) -> None:
    """invoicedOnOrAfter/invoicedOnBefore bound invoiceDate (inclusive, exclusive)."""
    everything = await rows(st, "accounting", "invoices")
    dates = sorted(str(row["invoiceDate"]) for row in everything)
    middle = dates[len(dates) // 2]
    later = await rows(st, "accounting", "invoices", invoicedOnOrAfter=middle)
    earlier = await rows(st, "accounting", "invoices", invoicedOnBefore=middle)
    assert later and all(str(row["invoiceDate"]) >= middle for row in later)
    assert all(str(row["invoiceDate"]) < middle for row in earlier)
    assert len(later) + len(earlier) == len(everything)


async def test_invoices_order_by_and_review_statuses(st: ST) -> None:
    """orderBy/orderByDirection sort invoices; reviewStatuses keeps only those statuses."""
    ordered = await rows(st, "accounting", "invoices", orderBy="total", orderByDirection="desc")
    totals = [float(str(row["total"])) for row in ordered]
    assert totals == sorted(totals, reverse=True)
    reviewed = await rows(st, "accounting", "invoices", reviewStatuses="Reviewed")
    assert reviewed and all(row["reviewStatus"] == "Reviewed" for row in reviewed)
    status, body = await st.call("GET", "accounting", "invoices", reviewStatuses="Bogus")
    assert status == 400 and "reviewStatuses" in body["errors"]


async def test_invoices_batch_id_matches_no_unbatched_invoice(st: ST) -> None:
    """batchId filters on the invoice's batch; seeded invoices have none, so none match."""
    assert await rows(st, "accounting", "invoices", batchId=123) == []


async def test_payments_paid_on_after_and_total_bounds(st: ST) -> None:
    """paidOnAfter bounds the payment date; totalGreater/totalLess bound the amount."""
    everything = await rows(st, "accounting", "payments")
    dates = sorted(str(row["date"]) for row in everything)
    cut = dates[len(dates) // 2]
    later = await rows(st, "accounting", "payments", paidOnAfter=cut)
    assert later and all(str(row["date"]) >= cut for row in later)
    small = await rows(st, "accounting", "payments", totalLess=200)
    assert all(float(str(row["total"])) < 200 for row in small)


async def test_jobs_filter_by_completion_date_and_location(st: ST) -> None:
    """completedOnOrAfter keeps completed jobs from that date; locationId keeps one place."""
    jobs = await rows(st, "jpm", "jobs")
    completed = sorted(str(job["completedOn"]) for job in jobs if job["completedOn"])
    cut = completed[0]
    done = await rows(st, "jpm", "jobs", completedOnOrAfter=cut)
    assert len(done) == len(completed)
    location = jobs[0]["locationId"]
    at_place = await rows(st, "jpm", "jobs", locationId=location)
    assert at_place and all(job["locationId"] == location for job in at_place)


async def test_customers_filter_by_name_and_phone(st: ST) -> None:
    """name matches by substring, case-insensitively; phone searches the contacts."""
    customers = await rows(st, "crm", "customers")
    name = str(customers[0]["name"])
    found = await rows(st, "crm", "customers", name=name[1:].upper())
    assert customers[0]["id"] in {row["id"] for row in found}
    contacts = await rows(st, "crm", "customers/contacts")
    phone = next(c for c in contacts if "Phone" in str(c["type"]))
    by_phone = await rows(st, "crm", "customers", phone=str(phone["value"]))
    assert [row["id"] for row in by_phone] == [phone["customerId"]]


async def test_pricebook_search_text_and_calculate_prices(st: ST) -> None:
    """searchText finds SKUs by code or name; calculatePrices fills in calculatedPrice."""
    material = (await rows(st, "pricebook", "materials"))[0]
    hits = await rows(st, "pricebook", "materials", searchText=str(material["code"]).lower())
    assert material["id"] in {row["id"] for row in hits}
    priced = await rows(st, "pricebook", "services", calculatePrices="true")
    assert priced and all(row["calculatedPrice"] == row["price"] for row in priced)
    plain = await rows(st, "pricebook", "services")
    assert all(row["calculatedPrice"] is None for row in plain)


async def test_purchase_order_types_sort_by_documented_fields_only(st: ST) -> None:
    """sort=-Id sorts purchase-order types; a field the description does not offer is 400."""
    types = await rows(st, "inventory", "purchase-order-types", sort="-Id")
    assert [row["id"] for row in types] == sorted((row["id"] for row in types), reverse=True)
    status, body = await st.call("GET", "inventory", "purchase-order-types", sort="+Colour")
    assert status == 400 and "sort" in body["errors"]


async def test_inventory_bills_date_range_and_po_number(st: ST) -> None:
    """dateFrom/dateTo bound the bill date; purchaseOrderNumber finds the PO's bill."""
    bills = await st.get("accounting", "inventory-bills", pageSize=5000)
    cut = sorted(str(bill["billDate"]) for bill in bills)[len(bills) // 2]
    later = await st.get("accounting", "inventory-bills", dateFrom=cut)
    assert later and all(str(bill["billDate"]) >= cut for bill in later)
    po = await st.get("inventory", f"purchase-orders/{bills[0]['purchaseOrderId']}")
    found = await st.get("accounting", "inventory-bills", purchaseOrderNumber=po["number"])
    assert [bill["id"] for bill in found] == [bills[0]["id"]]


async def test_vendor_by_id_accepts_external_data_parameters(st: ST) -> None:
    """GET vendors/{id} takes its documented externalData parameters."""
    vendor = (await rows(st, "inventory", "vendors"))[0]
    body = await st.get(
        "inventory",
        f"vendors/{vendor['id']}",
        externalDataApplicationGuid="3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        externalDataKey="erp",
        externalDataValues="V1",
    )
    assert body["id"] == vendor["id"]


async def test_wrong_type_of_documented_parameter_is_problem_json(st: ST) -> None:
    """A documented parameter with a value of the wrong type is a 400 ApiErrorResponse."""
    for path, params in (
        ("invoices", {"invoicedOnOrAfter": "yesterday"}),
        ("payments", {"totalGreater": "lots"}),
        ("invoices", {"jobId": "J-1"}),
    ):
        status, body = await st.call("GET", "accounting", path, **params)
        assert status == 400
        assert set(body) == {"type", "title", "status", "traceId", "errors", "data"}
        assert list(body["errors"]) == list(params)


async def test_custom_field_pairs_filter_with_and_or(st: ST) -> None:
    """customField.Fields[name]=value keeps bills holding the pair; Or widens, And narrows."""
    bills = await st.get("accounting", "inventory-bills", pageSize=5000)
    first, second = bills[0]["id"], bills[1]["id"]
    body = {
        "operations": [
            {"objectId": first, "customFields": [{"name": "Job Costed", "value": "Yes"}]},
            {"objectId": second, "customFields": [{"name": "Approver", "value": "Dana"}]},
        ]
    }
    status, reply = await st.call("PATCH", "accounting", "inventory-bills/custom-fields", json=body)
    assert status == 200, reply
    pairs = {"customField.Fields[Job Costed]": "yes", "customField.Fields[Approver]": "Dana"}
    both = await st.get("accounting", "inventory-bills", **pairs)
    either = await st.get(
        "accounting", "inventory-bills", **pairs, **{"customField.Operator": "Or"}
    )
    assert both == []
    assert sorted(bill["id"] for bill in either) == sorted([first, second])


async def test_batch_number_and_numeric_ranges(st: ST) -> None:
    """batchNumber filters on the batch (none seeded); jobs bound by appointment start."""
    assert await rows(st, "accounting", "payments", batchNumber=7) == []
    jobs = await rows(st, "jpm", "jobs")
    cut = sorted(str(job["createdOn"]) for job in jobs)[len(jobs) // 2]
    later = await rows(st, "jpm", "jobs", firstAppointmentStartsOnOrAfter=cut)
    assert later and all(str(job["createdOn"]) >= cut for job in later)
