"""The spec-driven ServiceTitan endpoints: consistent with the seeded tenant, agreeing
between list, export and get-by-id, and failing with ServiceTitan's problem JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect

PROBLEM_KEYS = {"type", "title", "status", "traceId", "errors", "data"}


@pytest.fixture
async def st(start_simulator: StartSimulator) -> AsyncIterator[ST]:
    """A seeded simulator with the rate limit off (these tests make many calls)."""
    async with connect(start_simulator) as client:
        await client.seed()
        await client.knobs(rate_limit_per_s=0)
        yield client


async def every(st: ST, module: str, path: str, **params: str) -> list[dict[str, Any]]:
    body = await st.get(module, path, pageSize=5000, **params)
    return list(body["data"])


async def feed(st: ST, module: str, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    while True:
        body = await st.get(module, f"export/{path}", **params)
        rows.extend(body["data"])
        if not body["hasMore"]:
            return rows
        params = {"from": body["continueFrom"]}


async def test_invoice_items_feed_lists_the_items_of_the_invoices(st: ST) -> None:
    """export/invoice-items holds exactly the seeded invoices' items, each on its invoice."""
    invoices = await every(st, "accounting", "invoices", activeState="All")
    on_invoices = {(inv["id"], item["id"]) for inv in invoices for item in inv["items"]}
    items = await feed(st, "accounting", "invoice-items")
    assert {(item["invoiceId"], item["id"]) for item in items} == on_invoices


async def test_appointments_belong_to_seeded_jobs(st: ST) -> None:
    """Each job's first appointment is listed, for the job's customer and location."""
    jobs = {job["id"]: job for job in await every(st, "jpm", "jobs")}
    appointments = await every(st, "jpm", "appointments")
    assert {a["id"] for a in appointments} == {j["firstAppointmentId"] for j in jobs.values()}
    for appointment in appointments:
        job = jobs[appointment["jobId"]]
        assert appointment["customerId"] == job["customerId"]
    one = await st.get("jpm", f"appointments/{appointments[0]['id']}")
    assert one["jobId"] == appointments[0]["jobId"]


async def test_locations_and_contacts_belong_to_seeded_customers(st: ST) -> None:
    """Locations name seeded customers; a customer's contacts are served under it."""
    customers = {c["id"] for c in await every(st, "crm", "customers")}
    locations = await every(st, "crm", "locations")
    assert locations and {loc["customerId"] for loc in locations} <= customers
    location = await st.get("crm", f"locations/{locations[0]['id']}")
    assert location["customerId"] == locations[0]["customerId"]
    mine = await every(st, "crm", "locations")
    owner = mine[0]["customerId"]
    contacts = await every(st, "crm", f"customers/{owner}/contacts")
    everyone = await every(st, "crm", "customers/contacts")
    assert {c["id"] for c in contacts} == {c["id"] for c in everyone if c["customerId"] == owner}


async def test_generated_resource_agrees_between_list_by_id_and_feed(st: ST) -> None:
    """A generated resource (bookings) has the same ids in its list, feed and by-id reads."""
    listed = await every(st, "crm", "bookings")
    fed = await feed(st, "crm", "bookings")
    assert listed and {b["id"] for b in listed} == {b["id"] for b in fed}
    one = await st.get("crm", f"bookings/{listed[0]['id']}")
    assert one == listed[0]
    assert await every(st, "crm", "bookings") == listed


async def test_generated_rows_point_at_seeded_records(st: ST) -> None:
    """Generated leads name seeded customers; technicians include those invoice items name."""
    customers = {c["id"] for c in await every(st, "crm", "customers")}
    leads = await every(st, "crm", "leads")
    assert {lead["customerId"] for lead in leads if lead["customerId"]} <= customers
    technicians = {t["id"] for t in await every(st, "settings", "technicians")}
    invoices = await every(st, "accounting", "invoices")
    named = {i["technicianId"] for inv in invoices for i in inv["items"] if i["technicianId"]}
    assert named <= technicians


async def test_sub_resource_of_missing_parent_is_404_problem(st: ST) -> None:
    """jobs/{id}/notes answers for a seeded job and 404s with problem JSON for a missing one."""
    job = (await every(st, "jpm", "jobs"))[0]
    assert "data" in await st.get("jpm", f"jobs/{job['id']}/notes")
    status, body = await st.call("GET", "jpm", "jobs/987654321/notes")
    assert status == 404 and set(body) == PROBLEM_KEYS


@pytest.mark.parametrize(
    ("module", "path"),
    [
        ("jpm", "jobs/-5"),
        ("jpm", "jobs/abc"),
        ("crm", "customers/1.5"),
        ("accounting", "payment-types/-1"),
        ("crm", "no-such-resource"),
        ("settings", "technicians/99999999999999999999999"),
    ],
)
async def test_bad_paths_are_problem_json_404(st: ST, module: str, path: str) -> None:
    """Unknown paths and negative or malformed ids answer ServiceTitan's JSON problem 404."""
    async with st.session.get(st.url(module, path), headers=st.headers()) as reply:
        assert reply.status == 404
        assert reply.content_type == "application/json"
        assert set(await reply.json()) == PROBLEM_KEYS


async def test_services_feed_omits_single_service_fields(st: ST) -> None:
    """export/services leaves out calculatedPrice and useStaticPrices (GET by id has them)."""
    services = await feed(st, "pricebook", "services")
    assert services
    assert not {"calculatedPrice", "useStaticPrices"} & set().union(*map(set, services))


async def test_locations_found_by_the_external_data_of_their_create(st: ST) -> None:
    """A location created with externalData is found by it and shows it for that app only."""
    guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    address = {"street": "1 Main St", "city": "Denver", "state": "CO", "zip": "80202"}
    external = {"applicationGuid": guid, "externalData": [{"key": "erp", "value": "LOC-9"}]}
    body = {
        "name": "Ada Lovelace",
        "type": "Residential",
        "address": address | {"country": "USA"},
        "locations": [
            {"name": "Home", "address": address | {"country": "USA"}, "externalData": external}
        ],
    }
    status, created = await st.call("POST", "crm", "customers", json=body)
    assert status == 200, created
    params = {"externalDataApplicationGuid": guid, "externalDataKey": "erp"}
    found = await every(st, "crm", "locations", **params, externalDataValues="LOC-9")
    assert [loc["customerId"] for loc in found] == [created["id"]]
    assert found[0]["externalData"] == [{"key": "erp", "value": "LOC-9"}]
    assert await every(st, "crm", "locations", **params, externalDataValues="LOC-1") == []
    plain = await st.get("crm", f"locations/{found[0]['id']}")
    assert plain["externalData"] == []
