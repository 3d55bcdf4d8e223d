"""IFS simulator, reads: OData query options, server paging, keys, timestamps."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_ifs_support import API, LINES, PO, VOUCHER_ROWS, Ifs


@pytest.fixture
async def ifs(start_simulator: StartSimulator) -> AsyncIterator[Ifs]:
    sim = await start_simulator("ifs")
    async with aiohttp.ClientSession() as http:
        handle = Ifs(sim, http)
        await handle.seed(counts={"suppliers": 4, "purchase_orders": 25, "vouchers": 3})
        yield handle


async def all_pages(ifs: Ifs, path: str, params: dict[str, str]) -> tuple[list[Any], int]:
    status, body, _ = await ifs.call("GET", path, params=params)
    assert status == 200, body
    rows, pages = list(body["value"]), 1
    while "@odata.nextLink" in body:
        link = body["@odata.nextLink"]
        assert not link.startswith(("http", "/")), link
        async with ifs.http.get(f"{ifs.sim.base_url}{API}/{link}", headers={
                "Authorization": f"Bearer {await ifs.token()}"}) as resp:
            body = await resp.json()
        rows += body["value"]
        pages += 1
    return rows, pages


async def test_rule8_server_pages_with_relative_next_link_and_skiptoken(ifs: Ifs) -> None:
    """Rule 8: pages of page_size rows, each but the last with a relative $skiptoken link."""
    await ifs.knobs(page_size=10)
    rows, pages = await all_pages(ifs, PO, {"$filter": "Contract eq 'M1'"})
    assert pages == 3 and len(rows) == 25
    assert len({r["OrderNo"] for r in rows}) == 25
    _, body, _ = await ifs.call("GET", PO, params={"$filter": "Contract eq 'M1'"})
    assert body["@odata.nextLink"].startswith("PurchaseOrderHandling.svc/PurchaseOrderSet?")
    assert "$skiptoken=10" in body["@odata.nextLink"]


async def test_rule8_top_and_skip_are_honoured(ifs: Ifs) -> None:
    """Rule 8: $top/$skip with $orderby slice the ordered result; $count adds the total."""
    _, body, _ = await ifs.call("GET", PO, params={
        "$orderby": "OrderNo desc", "$top": "3", "$skip": "2", "$count": "true"})
    assert [r["OrderNo"] for r in body["value"]] == ["P100253", "P100252", "P100251"]
    assert body["@odata.count"] == 25 and "@odata.nextLink" not in body


async def test_rule8_unsupported_options_are_400(ifs: Ifs) -> None:
    """Rule 8: $expand of a collection, has, mod and lambdas are refused with 400."""
    for params in ({"$expand": "PurchaseOrderLineArray"},
                   {"$filter": "Objstate has 'Released'"},
                   {"$filter": "BuyQtyDue mod 2 eq 0"},
                   {"$filter": "PurchaseOrderLineArray/any(l: l/LineNo eq '1')"}):
        status, body, _ = await ifs.call("GET", PO, params=params)
        assert status == 400, params
        assert body["error"]["message"]


async def test_rule9_timestamps_are_site_wall_clock_suffixed_z(ifs: Ifs) -> None:
    """Rule 9: timestamps show site time with a Z; a knob writes the true offset instead."""
    _, body, _ = await ifs.call("GET", f"{PO}(OrderNo='P100231')")
    assert body["DateEntered"].endswith("Z")
    await ifs.knobs(timestamps_say_utc=False, site_utc_offset_h=-5)
    _, body2, _ = await ifs.call("GET", f"{PO}(OrderNo='P100231')")
    assert body2["DateEntered"] == body["DateEntered"][:-1] + "-05:00"


async def test_filter_compares_timestamps_dates_and_strings(ifs: Ifs) -> None:
    """$filter: ge/lt on a datetime literal, le on a date, and/or, contains and startswith."""
    _, body, _ = await ifs.call("GET", PO, params={
        "$filter": "DateEntered ge 2025-03-02T00:00:00Z and DateEntered lt 2025-03-03T00:00:00Z",
        "$select": "OrderNo,DateEntered"})
    stamps = [r["DateEntered"] for r in body["value"]]
    assert stamps and all(s.startswith("2025-03-02") for s in stamps)
    _, body, _ = await ifs.call("GET", PO, params={
        "$filter": "(startswith(OrderNo,'P10023') or contains(OrderNo,'250')) "
                   "and OrderDate le 2025-03-05 and OrderNo ne 'P100232'"})
    assert {r["OrderNo"] for r in body["value"]} == {
        "P100231", "P100233", "P100234", "P100235", "P100236", "P100237", "P100238", "P100239"}


async def test_select_keeps_row_metadata_and_expand_follows_a_reference(ifs: Ifs) -> None:
    """$select returns only the named attributes plus the row metadata; $expand nests one."""
    _, body, _ = await ifs.call("GET", PO, params={
        "$select": "OrderNo,VendorNo", "$expand": "VendorNoRef", "$top": "1"})
    row = body["value"][0]
    assert set(row) == {"@odata.etag", "luname", "keyref", "Objgrants", "OrderNo", "VendorNo",
                        "VendorNoRef"}
    assert row["VendorNoRef"]["SupplierId"] == row["VendorNo"]
    assert body["@odata.context"].endswith("#PurchaseOrderSet(OrderNo,VendorNo)")


async def test_rule4_every_row_carries_etag_luname_keyref_objgrants(ifs: Ifs) -> None:
    """Rule 4: rows carry a base64 W/"OBJID:OBJVERSION" ETag, luname, keyref, Objgrants."""
    _, body, _ = await ifs.call("GET", LINES, params={"$top": "1"})
    row = body["value"][0]
    assert row["luname"] == "PurchaseOrderLine" and "Objgrants" in row
    assert row["keyref"] == f"ORDER_NO={row['OrderNo']}^LINE_NO=1^RELEASE_NO=1^"
    etag = row["@odata.etag"]
    assert etag.startswith('W/"') and etag.endswith('"')
    inner = base64.b64decode(etag[3:-1]).decode()
    objid, objversion = inner[3:-1].split(":")
    assert inner.startswith('W/"') and len(objid) == 18 and len(objversion) == 14


async def test_entity_by_compound_key_and_navigation_to_lines(ifs: Ifs) -> None:
    """Set(Key='..',...) reads one row (404 when absent); Set(..)/Array lists its lines."""
    status, body, headers = await ifs.call(
        "GET", f"{LINES}(OrderNo='P100231',LineNo='1',ReleaseNo='1')")
    assert status == 200 and headers["ETag"] == body["@odata.etag"]
    status, body, _ = await ifs.call("GET", f"{PO}(OrderNo='NOPE')")
    assert status == 404 and body["error"]["code"] == "ODP_RESOURCE_NOTFOUND"
    _, lines, _ = await ifs.call("GET", f"{PO}(OrderNo='P100231')/PurchaseOrderLineArray")
    assert lines["value"] and {r["OrderNo"] for r in lines["value"]} == {"P100231"}


async def test_gl_rows_filter_by_company_and_voucher_date(ifs: Ifs) -> None:
    """VoucherRowSet answers Company and VoucherDate ge … filters (the postings poll)."""
    _, body, _ = await ifs.call("GET", VOUCHER_ROWS, params={
        "$filter": "Company eq '10' and VoucherDate ge 2025-03-02"})
    assert body["value"] and all(r["VoucherDate"] >= "2025-03-02" for r in body["value"])


async def test_metadata_document_lists_entity_sets(ifs: Ifs) -> None:
    """{Projection}.svc/$metadata answers an EDMX naming the sets and keys."""
    async with ifs.http.get(f"{ifs.sim.base_url}{API}/ExternalVouchers.svc/$metadata", headers={
            "Authorization": f"Bearer {await ifs.token()}"}) as resp:
        text = await resp.text()
    assert '<EntitySet Name="ExternalVouchersSet"' in text
    assert '<PropertyRef Name="RecordNo"/>' in text


async def test_maxpagesize_preference_is_a_hint_only_honoured_by_knob(ifs: Ifs) -> None:
    """Prefer: odata.maxpagesize is ignored by default (unverified on IFS); a knob obeys it."""
    prefer = {"Prefer": "odata.maxpagesize=5"}
    _, body, _ = await ifs.call("GET", PO, headers=prefer)
    assert len(body["value"]) == 25
    await ifs.knobs(honour_maxpagesize=True)
    _, body, _ = await ifs.call("GET", PO, headers=prefer)
    assert len(body["value"]) == 5 and "$skiptoken=5" in body["@odata.nextLink"]


async def test_int_path_serves_the_same_projections(ifs: Ifs) -> None:
    """/int/ifsapplications/projection/v1/… answers like /main/…."""
    status, body, _ = await ifs.call("GET", PO.replace("/main/", "/int/"), params={"$top": "1"})
    assert status == 200 and body["value"][0]["OrderNo"] == "P100231"
