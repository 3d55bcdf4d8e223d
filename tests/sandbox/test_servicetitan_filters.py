"""Documented filters whose field the vendor's model does not show narrow the results.

Each test computes, from what the API itself shows (a job's invoice items name its
technician, a project lists its jobs, a credit memo its applications…), which records a
filter should return, then checks the filter returns exactly those, and that a value
matching nothing returns nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect

NOBODY = 987654321


@pytest.fixture
async def st(start_simulator: StartSimulator) -> AsyncIterator[ST]:
    """A seeded tenant with every purchase order received (some partially)."""
    async with connect(start_simulator) as client:
        await client.seed(3, purchase_orders=30, received_purchase_orders=30)
        await client.knobs(rate_limit_per_s=0)
        yield client


async def rows(st: ST, module: str, path: str, **params: Any) -> list[dict[str, Any]]:
    body = await st.get(module, path, pageSize=5000, **params)
    data = body["data"] if isinstance(body, dict) else body
    assert isinstance(data, list)
    return data


async def ids(st: ST, module: str, path: str, **params: Any) -> set[int]:
    return {row["id"] for row in await rows(st, module, path, **params)}


async def test_jobs_filter_by_their_appointments_technician_status_and_use(st: ST) -> None:
    """jobs technicianId/appointmentStatus/hasUnusedAppointments follow the job's appointment."""
    jobs = await rows(st, "jpm", "jobs")
    items = await rows(st, "accounting", "export/invoice-items")
    technician_of = {item["invoiceId"]: item.get("technicianId") for item in items}
    by_tech: dict[int, set[int]] = {}
    for job in jobs:
        by_tech.setdefault(technician_of[job["invoiceId"]], set()).add(job["id"])
    technician, expected = sorted(by_tech.items(), key=lambda kv: len(kv[1]))[0]
    assert await ids(st, "jpm", "jobs", technicianId=technician) == expected
    assert await ids(st, "jpm", "jobs", technicianId=NOBODY) == set()
    appointments = await rows(st, "jpm", "appointments")
    done = {a["jobId"] for a in appointments if a["status"] == "Done"}
    assert done and await ids(st, "jpm", "jobs", appointmentStatus="Done") == done
    assert await ids(st, "jpm", "jobs", appointmentStatus="Dispatched") == set()
    unused = {a["jobId"] for a in appointments if a["unused"]}
    assert await ids(st, "jpm", "jobs", hasUnusedAppointments="true") == unused
    assert await ids(st, "jpm", "jobs", hasUnusedAppointments="false") == {j["id"] for j in jobs}


async def test_projects_and_appointments_filter_through_the_projects_jobs(st: ST) -> None:
    """projects jobId/invoiceId/appointmentId/technicianId and appointments projectId agree."""
    jobs = {job["id"]: job for job in await rows(st, "jpm", "jobs")}
    projects = await rows(st, "jpm", "projects")
    held = [p for p in projects if p["jobIds"]]
    assert held, "some seeded jobs belong to projects"
    for project in projects:
        assert all(jobs[j]["projectId"] == project["id"] for j in project["jobIds"])
    project = held[0]
    job = jobs[project["jobIds"][0]]
    wanted = {project["id"]}
    assert await ids(st, "jpm", "projects", jobId=job["id"]) == wanted
    assert await ids(st, "jpm", "projects", invoiceId=job["invoiceId"]) == wanted
    assert await ids(st, "jpm", "projects", appointmentId=job["firstAppointmentId"]) == wanted
    assert await ids(st, "jpm", "projects", jobId=NOBODY) == set()
    in_project = {a["id"] for a in await rows(st, "jpm", "appointments")
                  if jobs[a["jobId"]]["projectId"] == project["id"]}
    assert await ids(st, "jpm", "appointments", projectId=project["id"]) == in_project
    items = await rows(st, "accounting", "export/invoice-items")
    technician_of = {item["invoiceId"]: item.get("technicianId") for item in items}
    technician = technician_of[job["invoiceId"]]
    worked = {a["id"] for a in await rows(st, "jpm", "appointments")
              if technician_of[jobs[a["jobId"]]["invoiceId"]] == technician}
    assert await ids(st, "jpm", "appointments", technicianId=technician) == worked
    assert await ids(st, "jpm", "appointments", technicianId=NOBODY) == set()
    staffed = {p["id"] for p in projects
               if any(technician_of[jobs[j]["invoiceId"]] == technician for j in p["jobIds"])}
    assert project["id"] in staffed
    assert await ids(st, "jpm", "projects", technicianId=technician) == staffed
    assert await ids(st, "jpm", "projects", technicianId=NOBODY) == set()
    done_before = await ids(st, "jpm", "projects", completedBefore="2000-01-01")
    assert done_before == set()
    completed = {p["id"] for p in projects if p["jobIds"]}
    assert await ids(st, "jpm", "projects", completedOnOrAfter="2000-01-01") == completed


async def test_leads_filter_by_their_customer(st: ST) -> None:
    """leads customerCity/withoutCustomer/isProspect/isCaptureSourceForm read the customer."""
    leads = await rows(st, "crm", "leads")
    customers = {c["id"]: c for c in await rows(st, "crm", "customers", active="Any")}
    with_customer = [lead for lead in leads if lead["customerId"] in customers]
    city = customers[with_customer[0]["customerId"]]["address"]["city"]
    in_city = {lead["id"] for lead in with_customer
               if customers[lead["customerId"]]["address"]["city"] == city}
    assert await ids(st, "crm", "leads", customerCity=city) == in_city
    assert await ids(st, "crm", "leads", customerCity="Nowhere City") == set()
    state = customers[with_customer[0]["customerId"]]["address"]["state"]
    in_state = {lead["id"] for lead in with_customer
                if customers[lead["customerId"]]["address"]["state"] == state}
    assert await ids(st, "crm", "leads", customerState=state) == in_state
    assert await ids(st, "crm", "leads", customerZip="00000") == set()
    modified = await ids(st, "crm", "leads", customerModifiedOnOrAfter="2099-01-01")
    assert modified == set()
    without = {lead["id"] for lead in leads
               if lead["customerId"] is None or lead["locationId"] is None}
    assert without and await ids(st, "crm", "leads", withoutCustomer="true") == without
    assert without <= await ids(st, "crm", "leads", isProspect="true")
    forms = {lead["id"] for lead in leads if lead["captureSource"] == "Form"}
    assert forms and await ids(st, "crm", "leads", isCaptureSourceForm="true") == forms
    created = await ids(st, "crm", "leads", customerCreatedOnOrAfter="2000-01-01")
    assert created == {lead["id"] for lead in with_customer}
    assert await ids(st, "crm", "leads", customerCreatedBefore="2000-01-01") == set()


async def test_credit_memos_filter_by_their_applications(st: ST) -> None:
    """credit-memos appliedToInvoiceIds/appliedToReferenceNumber/applied dates read appliedTo."""
    memos = await rows(st, "accounting", "credit-memos")
    invoices = {inv["id"]: inv for inv in await rows(st, "accounting", "invoices")}
    applied = [m for m in memos if m["appliedTo"]]
    assert applied and len(applied) < len(memos)
    memo = applied[0]
    application = memo["appliedTo"][0]
    invoice = invoices[application["appliedTo"]]
    assert invoice["customer"]["id"] == memo["customer"]["id"]
    assert application["appliedToReferenceNumber"] == invoice["referenceNumber"]
    same = {m["id"] for m in applied if m["appliedTo"][0]["appliedTo"] == invoice["id"]}
    assert await ids(st, "accounting", "credit-memos", appliedToInvoiceIds=invoice["id"]) == same
    assert await ids(
        st, "accounting", "credit-memos", appliedToReferenceNumber=invoice["referenceNumber"]
    ) == same
    assert await ids(st, "accounting", "credit-memos", appliedToInvoiceIds=NOBODY) == set()
    everything = {m["id"] for m in applied}
    assert await ids(st, "accounting", "credit-memos", appliedOnOrAfter="2000-01-01") == everything
    assert await ids(st, "accounting", "credit-memos", appliedBefore="2000-01-01") == set()


async def test_bills_filter_by_three_way_match_and_bill_type(st: ST) -> None:
    """threeWayMatchDiscrepancy is a partial receipt; inventory bills are Procurement bills."""
    orders = {po["id"]: po for po in await rows(st, "inventory", "purchase-orders")}
    bills = await rows(st, "accounting", "ap-bills")
    partial = {b["id"] for b in bills
               if any(i["quantityReceived"] < i["quantity"]
                      for i in orders[b["purchaseOrderId"]]["items"])}
    assert partial and len(partial) < len(bills)
    for path in ("ap-bills", "inventory-bills"):
        found = await ids(st, "accounting", path, threeWayMatchDiscrepancy="Discrepancy")
        assert found == partial
        clean = await ids(st, "accounting", path, threeWayMatchDiscrepancy="NoDiscrepancy")
        assert clean == {b["id"] for b in bills} - partial
    every = {b["id"] for b in bills}
    assert await ids(st, "accounting", "inventory-bills", billType="Procurement") == every
    assert await ids(st, "accounting", "inventory-bills", billType="RecurringBill") == set()


async def test_journal_entries_filter_by_the_transactions_they_post(st: ST) -> None:
    """journal-entries transaction filters and empty keep entries with such a transaction."""
    entries = await rows(st, "accounting", "journal-entries")
    full = {e["id"] for e in entries if not e["isEmpty"]}
    empty = {e["id"] for e in entries} - full
    assert full and empty
    # Every non-empty entry posts an invoice; only some post a bill.
    assert await ids(st, "accounting", "journal-entries", transactionTypes="Invoice") == full
    bills = await ids(st, "accounting", "journal-entries", transactionTypes="Bill")
    assert bills and bills < full
    assert await ids(st, "accounting", "journal-entries", transactionTypes="Manual") == set()
    assert await ids(st, "accounting", "journal-entries", empty="Exclude") == full
    assert await ids(st, "accounting", "journal-entries", empty="Include") == full | empty
    asked = ",".join(str(i) for i in empty)
    assert await ids(st, "accounting", "journal-entries", ids=asked, empty="Exclude") == empty
    invoice = (await rows(st, "accounting", "invoices"))[0]
    by_ref = await ids(st, "accounting", "journal-entries",
                       refNumber=f"{invoice['referenceNumber']},NO-SUCH")
    by_name = await ids(st, "accounting", "journal-entries",
                        customerName=invoice["customer"]["name"])
    assert by_ref and by_ref <= by_name <= full
    assert await ids(st, "accounting", "journal-entries", vendorName="No Such Vendor") == set()
    assert await ids(st, "accounting", "journal-entries",
                     businessUnitIds=invoice["businessUnit"]["id"]) <= full
    assert await ids(st, "accounting", "journal-entries",
                     transactionPostedFrom="2099-01-01") == set()
    assert await ids(st, "accounting", "journal-entries", serviceAgreementIds=NOBODY) == set()


async def test_list_filters_named_after_other_fields(st: ST) -> None:
    """Payments, adjustments, transfers, budget codes, tags and rate sheets filter by the
    field the parameter means, though it has another name in the model."""
    payments = await rows(st, "accounting", "payments")
    pending = {p["id"] for p in payments if p["syncStatus"] == "Pending"}
    assert pending and await ids(st, "accounting", "payments", statuses="Pending") == pending
    reference = payments[0]["appliedTo"][0]["appliedToReferenceNumber"]
    assert payments[0]["id"] in await ids(
        st, "accounting", "payments", appliedToReferenceNumber=reference)
    adjustments = {a["id"] for a in await rows(st, "inventory", "adjustments")}
    assert await ids(st, "inventory", "adjustments", adjustmentTypes="Adjustment") == adjustments
    assert await ids(st, "inventory", "adjustments", adjustmentTypes="Transfer") == set()
    transfers = await rows(st, "inventory", "transfers")
    to_truck = {t["id"] for t in transfers if t["transferType"] == "Warehouse to Truck"}
    assert to_truck and await ids(st, "inventory", "transfers", transferTypeIds="1") == to_truck
    codes = await rows(st, "jpm", "work-breakdown-structure/budget-codes")
    code = codes[0]
    assert await ids(st, "jpm", "work-breakdown-structure/budget-codes",
                     budgetCodeIds=code["id"]) == {code["id"]}
    if code["segments"]:
        segment = code["segments"][0]["segmentId"]
        holding = {c["id"] for c in codes
                   if any(s["segmentId"] == segment for s in c["segments"])}
        assert await ids(st, "jpm", "work-breakdown-structure/budget-codes",
                         segmentIds=segment) == holding
    tags = await rows(st, "crm", "booking-provider-tags")
    tag = tags[0]["tagName"]
    assert tags[0]["id"] in await ids(st, "crm", "booking-provider-tags", name=tag)
    assert await ids(st, "crm", "booking-provider-tags", name="No such tag") == set()
    sheets = await ids(st, "pricebook", "clientspecificpricing", searchTerm="Property")
    assert len(sheets) == 1
    assert await ids(st, "pricebook", "clientspecificpricing", searchTerm="zzz") == set()
    statuses = {s["id"] for s in await rows(st, "jpm", "project-statuses")}
    assert await ids(st, "jpm", "project-statuses", createdOnOrAfter="2000-01-01") == statuses
    assert await ids(st, "jpm", "project-statuses", createdBefore="2000-01-01") == set()


async def test_every_documented_sort_field_is_accepted(st: ST) -> None:
    """A documented sort field the model lacks (discounts' Price) sorts as equal: 200."""
    plain = await rows(st, "pricebook", "discounts-and-fees")
    by_price = await rows(st, "pricebook", "discounts-and-fees", sort="-Price")
    assert [row["id"] for row in by_price] == [row["id"] for row in plain]
    status, _ = await st.call("GET", "pricebook", "discounts-and-fees", sort="-NoSuchField")
    assert status == 400


async def test_segment_items_include_children_only_when_asked(st: ST) -> None:
    """includeChildren=false lists a segment's root items; true lists their children too."""
    # The segments list is a generated object; items are generated per segment id.
    for segment in range(1, 40):
        path = f"work-breakdown-structure/segments/{segment}/items"
        every = await rows(st, "jpm", path, includeChildren="true")
        if len(every) > 1:
            break
    else:
        pytest.fail("no segment has items with children")
    roots = {item["id"] for item in every if item["parentId"] is None}
    assert roots and len(roots) < len(every)
    assert all(item["parentId"] in roots for item in every if item["id"] not in roots)
    assert await ids(st, "jpm", path, includeChildren="false") == roots
