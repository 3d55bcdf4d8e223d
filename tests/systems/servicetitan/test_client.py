"""ServiceTitan client against the simulator: paging, incremental reads, export feeds, tokens,
the shared rate limit, throttling and writes (issue 3)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import msgspec
import pytest

from connector.errors import ConfigurationError, PermanentError, RejectedError
from connector.systems.servicetitan import ServiceTitanConnection
from connector.systems.servicetitan.models import (
    ExternalData,
    ExternalDataUpdate,
    VendorAddress,
    VendorCreate,
    VendorUpdate,
)
from connector.systems.servicetitan.resources import RESOURCES
from tests.systems.servicetitan.conftest import Connect, Sandbox

#: An application guid of our own, so the tests do not depend on the product's constant.
GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
ADDRESS = VendorAddress(
    street="4410 Brighton Blvd", unit="B", city="Denver", state="CO", zip="80216", country="USA"
)


class Summary(msgspec.Struct, frozen=True):
    """An invoice PATCH that changes only the summary."""

    summary: str


class Activity(msgspec.Struct, frozen=True):
    """A PATCH that (de)activates a record."""

    active: bool


class VendorWithoutAddress(msgspec.Struct, frozen=True, rename="camel"):
    """A vendor create body lacking the required address."""

    name: str
    active: bool
    is_truck_replenishment: bool
    tax_rate: float
    restricted_mobile_creation: bool


def new_vendor(name: str, *, tax_rate: float = 0.0, key: str | None = None) -> VendorCreate:
    external = (
        ExternalDataUpdate(application_guid=GUID, external_data=[ExternalData(key="m3", value=key)])
        if key
        else None
    )
    return VendorCreate(
        name=name,
        active=True,
        is_truck_replenishment=False,
        tax_rate=tax_rate,
        restricted_mobile_creation=False,
        address=ADDRESS,
        external_data=external,
    )


async def read_ids(connection: ServiceTitanConnection, name: str, **kw: Any) -> list[int]:
    return [record.id async for record in connection.client.records(RESOURCES[name], **kw)]


def ids_of(rows: list[dict[str, Any]]) -> list[int]:
    return sorted(row["id"] for row in rows)


# -- reading ------------------------------------------------------------------------------


async def test_full_read_returns_every_record_of_every_resource_once(
    sandbox: Sandbox, st: ServiceTitanConnection
) -> None:
    """Paging 37 rows at a time reads every record of every resource once, inactive included."""
    client = st.client
    for name, record_id in (("customers", 100_001), ("materials", 20_001), ("gl_accounts", 3_001)):
        await client.update(
            RESOURCES[name], record_id, Activity(False), record=f"{name} {record_id}"
        )
    state = await sandbox.state()
    pages_before = client.http.requests_total
    for name in RESOURCES:
        expected = ids_of(state["entities"][name])
        got = await read_ids(st, name)
        assert sorted(got) == expected, name
        assert len(got) == state["counts"][name], name
    inactive = {
        name: sum(1 for row in state["entities"][name] if row.get("active") is False)
        for name in ("customers", "materials", "gl_accounts", "vendors", "invoices")
    }
    assert all(inactive.values()), inactive
    pages = sum(max(1, math.ceil(state["counts"][name] / 37)) for name in RESOURCES)
    assert client.http.requests_total - pages_before == pages


async def test_incremental_read_returns_only_records_changed_since_the_watermark(
    sandbox: Sandbox, st: ServiceTitanConnection
) -> None:
    """After an update, reading from the last modifiedOn seen returns it plus the boundary rows."""
    changes: list[tuple[str, msgspec.Struct, str, str]] = [
        ("invoices", Summary("Rechecked by ml-connector"), "summary", "Rechecked by ml-connector"),
        ("vendors", VendorUpdate(memo="Net 30 from May"), "memo", "Net 30 from May"),
    ]
    for name, change, attribute, value in changes:
        resource = RESOURCES[name]
        before = [record async for record in st.client.records(resource)]
        watermark = max(record.modified_on for record in before)
        boundary = {record.id for record in before if record.modified_on == watermark}
        target = before[len(before) // 2].id
        assert target not in boundary
        await st.client.update(resource, target, change, record=resource.describe(target))
        since = [
            record async for record in st.client.records(resource, modified_on_or_after=watermark)
        ]
        assert sorted(record.id for record in since) == sorted(boundary | {target}), name
        [changed] = [record for record in since if record.id == target]
        assert changed.modified_on > watermark and getattr(changed, attribute) == value


async def test_incremental_read_keeps_every_row_sharing_the_boundary_timestamp(
    sandbox: Sandbox, connect: Connect
) -> None:
    """With one modifiedOn for all rows, reading from it returns them all once, across pages."""
    await sandbox.knobs(same_modified_on=True)
    await sandbox.seed()
    connection = connect(page_size=7)
    vendors = [record async for record in connection.client.records(RESOURCES["vendors"])]
    stamps = {vendor.modified_on for vendor in vendors}
    assert len(stamps) == 1
    [stamp] = stamps
    since = await read_ids(connection, "vendors", modified_on_or_after=stamp)
    assert len(since) == len(set(since)) == len(vendors) == 80


async def test_export_resumes_from_continue_from_without_gaps_or_duplicates(
    sandbox: Sandbox, st: ServiceTitanConnection
) -> None:
    """Stopping after two chunks and resuming from the kept token covers each invoice once;
    the final token then yields exactly the invoices changed since, in change order."""
    await sandbox.knobs(export_chunk=7)
    invoices = RESOURCES["invoices"]
    # Two chunks read, then the reader "crashes": only the kept token survives.
    feed = st.client.export(invoices, None)
    first, second = await anext(feed), await anext(feed)
    seen = [row.id for chunk in (first, second) for row in chunk.data]
    token = second.continue_from
    assert len(seen) == 14
    async for chunk in st.client.export(invoices, token):
        seen += [row.id for row in chunk.data]
        token = chunk.continue_from
    assert len(seen) == len(set(seen))
    assert sorted(seen) == ids_of(await sandbox.rows("invoices"))
    for invoice_id in (400_031, 400_007):
        await st.client.update(
            invoices, invoice_id, Summary("late fix"), record=invoices.describe(invoice_id)
        )
    later = [chunk async for chunk in st.client.export(invoices, token)]
    assert [row.id for chunk in later for row in chunk.data] == [400_031, 400_007]
    assert later[-1].has_more is False


async def test_every_export_feed_decodes_and_covers_its_table(
    sandbox: Sandbox, st: ServiceTitanConnection
) -> None:
    """Each resource's export feed decodes into its model and returns every row once."""
    await sandbox.knobs(export_chunk=50)
    state = await sandbox.state()
    feeds = [name for name, resource in RESOURCES.items() if resource.export_path]
    assert len(feeds) >= 10
    for name in feeds:
        ids = [
            row.id async for chunk in st.client.export(RESOURCES[name], None) for row in chunk.data
        ]
        assert sorted(ids) == ids_of(state["entities"][name]), name


async def test_get_by_ids_splits_more_than_fifty_ids(st: ServiceTitanConnection) -> None:
    """Asking for 80 vendors by id makes two calls of at most 50 ids and returns all 80."""
    wanted = list(range(10_001, 10_081))
    found = await st.client.get_by_ids(RESOURCES["vendors"], wanted)
    assert sorted(vendor.id for vendor in found) == wanted
    assert await st.client.get(RESOURCES["vendors"], 99_999) is None


# -- tokens -------------------------------------------------------------------------------


async def test_token_expiring_mid_read_is_renewed_before_the_server_refuses_it(
    sandbox: Sandbox, connect: Connect
) -> None:
    """With 2 s tokens and a slow read the token is renewed mid-read and no call meets a 401."""
    await sandbox.knobs(token_lifetime_s=2, latency_ms=150)
    connection = connect(page_size=5)
    assert len(await read_ids(connection, "vendors")) == 80
    counters = await sandbox.counters()
    assert connection.tokens.refresh_total >= 2
    assert counters["token_requests"] == connection.tokens.refresh_total
    # Every API call the sim saw was one the client sent once: no 401 and no retry after one.
    assert (
        counters["requests"] - counters["token_requests"] == connection.client.http.requests_total
    )
    assert connection.client.http.retries_total == 0


async def test_token_the_server_forgot_is_replaced_once_and_the_call_succeeds(
    sandbox: Sandbox, st: ServiceTitanConnection
) -> None:
    """A 401 for a token the client still trusts triggers one refresh and one retry."""
    assert len(await read_ids(st, "business_units")) == 6
    await sandbox.admin("POST", "reset")  # forgets every token the sim issued
    await sandbox.seed()
    assert len(await read_ids(st, "business_units")) == 6
    assert st.tokens.refresh_total == 2 and st.client.http.retries_total == 1


async def test_wrong_client_secret_is_a_configuration_error_without_the_secret(
    connect: Connect,
) -> None:
    """A refused grant names the vault credential to fix and never shows the secret."""
    connection = connect(secret="cs1.definitely-not-the-secret")
    with pytest.raises(ConfigurationError) as caught:
        await read_ids(connection, "vendors")
    message = str(caught.value)
    assert "invalid_client" in message and "client_secret" in message
    assert "definitely-not-the-secret" not in message


# -- rate limits --------------------------------------------------------------------------


async def test_burst_of_200_concurrent_calls_stays_under_the_60_per_second_ceiling(
    sandbox: Sandbox, st: ServiceTitanConnection
) -> None:
    """200 concurrent reads all succeed, the sim never throttles, and one token serves all."""
    units = ids_of(await sandbox.rows("business_units"))
    found = await asyncio.gather(
        *(st.client.get(RESOURCES["business_units"], units[i % len(units)]) for i in range(200))
    )
    assert all(unit is not None for unit in found)
    counters = await sandbox.counters()
    assert counters["served_429"] == 0 and counters["token_requests"] == 1
    assert st.client.http.requests_total == 200 and st.client.http.status_429_total == 0


@pytest.mark.parametrize("retry_after_header", [True, False])
async def test_injected_429_on_a_read_is_retried(
    sandbox: Sandbox, st: ServiceTitanConnection, retry_after_header: bool
) -> None:
    """A 429 (with or without Retry-After) pauses the limiter, then the read succeeds."""
    await sandbox.knobs(
        retry_after_header=retry_after_header, script=[{"fault": "429", "match": "read"}]
    )
    assert len(await read_ids(st, "tax_zones")) == 4
    counters = await sandbox.counters()
    assert counters["served_429"] == counters["injected"] == 1
    assert st.client.http.status_429_total == 1 and st.limiter.throttled_total == 1


async def test_injected_429_on_a_create_is_retried_and_creates_once(
    sandbox: Sandbox, st: ServiceTitanConnection
) -> None:
    """A throttled POST was not processed, so it is resent and exactly one vendor exists."""
    await sandbox.knobs(script=[{"fault": "429", "match": "write"}])
    vendor_id = await st.client.create_vendor(new_vendor("Front Range Filters"))
    named = [row for row in await sandbox.rows("vendors") if row["name"] == "Front Range Filters"]
    assert [row["id"] for row in named] == [vendor_id]
    assert st.client.http.status_429_total == 1


# -- writes -------------------------------------------------------------------------------


async def test_created_vendor_is_found_again_by_its_external_data(
    st: ServiceTitanConnection,
) -> None:
    """create_vendor returns the new id, and our externalData key finds exactly that vendor."""
    vendor_id = await st.client.create_vendor(new_vendor("Summit Sheet Metal", key="V-10042"))
    vendors = RESOURCES["vendors"]
    [found] = await st.client.find_by_external_data(vendors, GUID, "m3", ["V-10042", "V-404"])
    assert found.id == vendor_id and found.name == "Summit Sheet Metal"
    assert found.external_data == [ExternalData(key="m3", value="V-10042")]
    assert found.address is not None and found.address.city == "Denver"
    other_app = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    assert await st.client.find_by_external_data(vendors, other_app, "m3", ["V-10042"]) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_vendor("   "), "name"),
        (new_vendor("Alpine Supply", tax_rate=-0.05), "taxRate"),
        (VendorWithoutAddress("Alpine Supply", True, False, 0.0, False), "address"),
    ],
)
async def test_invalid_vendor_create_is_rejected_naming_the_field(
    sandbox: Sandbox, st: ServiceTitanConnection, body: msgspec.Struct, field: str
) -> None:
    """A 400 on vendor create is a RejectedError whose .field and message name the culprit."""
    before = (await sandbox.state())["counts"]["vendors"]
    with pytest.raises(RejectedError) as caught:
        await st.client.create(RESOURCES["vendors"], body, record="vendor SUP-7")
    error = caught.value
    assert error.field == field and error.record == "vendor SUP-7"
    assert f"{field}:" in error.message and "HTTP 400" in error.message
    assert (await sandbox.state())["counts"]["vendors"] == before


@pytest.mark.parametrize("name", ["ap_bills", "inventory_bills"])
async def test_bill_writes_are_refused_before_any_request(
    sandbox: Sandbox, st: ServiceTitanConnection, name: str
) -> None:
    """update or create on a bill raises at once, saying bills are read-only; nothing is sent."""
    resource = RESOURCES[name]
    before = (await sandbox.counters())["requests"]
    with pytest.raises(PermanentError, match="read-only") as caught:
        await st.client.update(resource, 900_001, Summary("x"), record="bill 900001")
    assert caught.value.record == "bill 900001"
    with pytest.raises(PermanentError, match="read-only"):
        await st.client.create(resource, Summary("x"), record="bill new")
    assert (await sandbox.counters())["requests"] == before
    assert st.client.http.requests_total == 0
