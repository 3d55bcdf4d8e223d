"""The ServiceTitan incremental extractor against the simulator over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from connector.config import ServiceTitanSystem
from connector.flows.sources import servicetitan_incremental
from connector.http.limiter import LimiterRegistry
from connector.runtime.flow import CursorMark, Envelope
from connector.systems.servicetitan import ServiceTitanConnection, open_connection
from connector.systems.servicetitan.models import VendorUpdate
from connector.systems.servicetitan.resources import RESOURCES
from connector.vault import Credential
from tests.conftest import StartSimulator

#: Three pages of vendors at 10 rows a page (business units and the rest kept tiny).
COUNTS = {"vendors": 25, "materials": 1, "equipment": 1, "services": 1, "customers": 1}


@pytest.fixture
async def st(start_simulator: StartSimulator) -> AsyncIterator[ServiceTitanConnection]:
    """A seeded ServiceTitan simulator and a connection reading 10 rows per page."""
    sim = await start_simulator("servicetitan")
    async with aiohttp.ClientSession() as http:
        base = f"{sim.base_url}/_sandbox"
        async with http.post(f"{base}/seed", json={"seed": 3, "counts": COUNTS}) as answer:
            assert answer.status == 200, await answer.text()
        async with http.get(f"{base}/credentials") as answer:
            creds = await answer.json()
    settings = ServiceTitanSystem(
        credential="st",
        tenant=creds["tenant"],
        api_url=sim.base_url,
        auth_url=sim.base_url,
        page_size=10,
    )
    fields = {name: creds[name] for name in ("client_id", "client_secret", "app_key")}
    connection = open_connection(
        settings, Credential("st", "servicetitan", fields), LimiterRegistry()
    )
    yield connection
    await connection.aclose()


async def rename(st: ServiceTitanConnection, vendor_id: int, name: str) -> None:
    await st.client.update(
        RESOURCES["vendors"], vendor_id, VendorUpdate(name=name), record=f"vendor {vendor_id}"
    )


async def test_a_row_changed_during_a_paused_read_is_read_by_the_next_one(
    st: ServiceTitanConnection,
) -> None:
    """A row on a page already read, changed while the extractor waits, is read by the next read."""
    # No overlap: the cursor alone must be right (the overlap is for late commits).
    extract = servicetitan_incremental(st.client, RESOURCES["vendors"], overlap_s=0)
    read = extract(None, True)
    first = await anext(read)
    assert isinstance(first, Envelope)
    ids = sorted([v.id async for v in st.client.records(RESOURCES["vendors"])])
    early, late = ids[0], ids[-1]
    # Paused after page 1: the loader is busy. Meanwhile a vendor already read changes,
    # then one on the last page does.
    await rename(st, early, "Changed during the read")
    await rename(st, late, "Changed later during the read")
    rest: list[Any] = [item async for item in read]
    [mark] = [item for item in rest if isinstance(item, CursorMark)]
    assert rest[-1] is mark  # the resume point comes after every record
    again = [item async for item in extract(mark.cursor, False)]
    names = {item.source_id: item.record.name for item in again if isinstance(item, Envelope)}
    assert names.get(str(early)) == "Changed during the read"
    assert names.get(str(late)) == "Changed later during the read"


def test_server_time_is_read_from_the_date_header_or_absent() -> None:
    """The watermark comes from the HTTP Date header; a missing or garbled one gives None."""
    import datetime as dt

    from connector.http.client import HttpResponse
    from connector.systems.servicetitan.client import server_time

    dated = HttpResponse(200, {"Date": "Sun, 06 Dec 2026 20:19:01 GMT"}, b"")
    assert server_time(dated) == dt.datetime(2026, 12, 6, 20, 19, 1, tzinfo=dt.UTC)
    assert server_time(HttpResponse(200, {}, b"")) is None
    assert server_time(HttpResponse(200, {"Date": "yesterday-ish"}, b"")) is None


async def test_fetch_many_reads_up_to_fifty_records_in_one_request(
    st: ServiceTitanConnection, start_simulator: StartSimulator
) -> None:
    """A drain's re-read of many events' records is one `ids=` request per 50 records, and a
    record the source no longer has is simply absent from the answer."""
    from connector.flows.sources import servicetitan_fetch

    fetch = servicetitan_fetch(st.client, RESOURCES["vendors"])
    ids = [str(v.id) async for v in _vendors(st)]
    assert len(ids) == 25
    before = st.client.http.requests_total
    found = await fetch.many([*ids, "999999999"])
    assert sorted(found) == sorted(ids)
    assert all(str(record.id) == key for key, record in found.items())
    assert st.client.http.requests_total - before == 1
    assert await fetch(ids[0]) == found[ids[0]]


async def _vendors(st: ServiceTitanConnection) -> AsyncIterator[Any]:
    async for page in st.client.pages(RESOURCES["vendors"]):
        for vendor in page:
            yield vendor
