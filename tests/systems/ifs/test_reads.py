"""IFS client reads: nextLink paging, windows and ETag maps, look-ups by natural key."""

from __future__ import annotations

import datetime as dt

import pytest

from connector.systems.ifs import IfsConnection
from connector.systems.ifs import models as m
from connector.systems.ifs.odata import literal
from tests.systems.ifs.conftest import Sandbox


async def test_list_follows_next_link_until_absent(sandbox: Sandbox, ifs: IfsConnection) -> None:
    """With 3-row server pages, pages() follows every relative nextLink and loses no row."""
    await sandbox.knobs(page_size=3)
    pages = [page async for page in ifs.client.pages(m.PurchaseOrderLine)]
    rows = [row for page in pages for row in page]
    assert len(pages) > 2 and all(len(page) <= 3 for page in pages)
    assert len(rows) == len(await sandbox.records("PurchaseOrderLineSet"))
    assert len({row.keyref for row in rows}) == len(rows)
    assert all(row.etag.startswith('W/"') for row in rows)


async def test_since_filters_on_the_entitys_date_with_select_and_expand(
    ifs: IfsConnection,
) -> None:
    """since= keeps rows on or after the date; select and expand reach the wire."""
    orders = await ifs.client.list(
        m.PurchaseOrder, since=dt.date(2025, 3, 2), filter="Objstate eq 'Released'",
        select=["OrderNo", "VendorNo", "OrderDate", "Objstate"], expand=["VendorNoRef"])
    assert orders and all(o.order_date and o.order_date >= dt.date(2025, 3, 2) for o in orders)
    assert all(o.objstate == "Released" and o.currency_code is None for o in orders)
    assert all(o.vendor_no_ref and o.vendor_no_ref.supplier_id == o.vendor_no for o in orders)


async def test_changed_yields_only_rows_whose_etag_moved(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """changed() against the previous {keyref: etag} map returns just the edited row."""
    since = dt.date(2025, 3, 1)
    known = {o.keyref: o.etag for o in await ifs.client.list(m.PurchaseOrder, since=since)}
    await sandbox.other_user_patch(
        "PurchaseOrderHandling.svc/PurchaseOrderSet(OrderNo='P100232')", {"NoteText": "rush"})
    changed = [o async for o in ifs.client.changed(m.PurchaseOrder, since=since, known=known)]
    assert [o.order_no for o in changed] == ["P100232"]
    assert changed[0].note_text == "rush"


async def test_find_by_natural_key_asks_ifs_each_time(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """find_* read IFS by key: found rows carry ETags, absent ones are None, quotes are safe."""
    client = ifs.client
    order = await client.find_purchase_order("P100231")
    assert order is not None and order.vendor_no_ref is not None and order.etag
    assert [line.line_no for line in await client.purchase_order_lines("P100231")] == [
        str(n) for n in range(1, len(await client.purchase_order_lines("P100231")) + 1)]
    assert (await client.find_supplier("SUP1001")) is not None
    assert await client.find_supplier("O'BRIEN/1") is None
    account = await client.find_account("4000")
    assert account is not None and account.description == "Service Revenue"
    cost_center = await client.find_code_part("B", "CC10")
    assert cost_center is not None and cost_center.value == "CC10"
    assert await client.find_code_part("B", "CC99") is None
    assert (await client.find_load("ML-LOAD-1")) is not None
    assert await client.find_voucher_rows("ML-LOAD-1") == []
    before = sandbox.sim.counters["requests"]
    await client.find_supplier("SUP1001")
    assert sandbox.sim.counters["requests"] == before + 1


async def test_code_part_values_list_every_cost_center_across_pages(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """code_part_values("B") lists the company's cost centers, following server paging."""
    await sandbox.knobs(page_size=2)
    centers = await ifs.client.code_part_values("B")
    assert [c.value for c in centers] == ["CC10", "CC20", "CC30"]
    assert [c.value for c in await ifs.client.code_part_values("c")] == ["P1000", "P2000"]
    with pytest.raises(ValueError, match="B to J"):
        await ifs.client.code_part_values("A")


async def test_gl_rows_are_read_by_voucher_date(ifs: IfsConnection) -> None:
    """VoucherRow lists by company and voucher date, with their cost centers (CodeB)."""
    rows = await ifs.client.list(m.VoucherRow, since=dt.date(2025, 3, 1),
                                 filter=f"Company eq {literal('10')}")
    assert rows and {row.account for row in rows} == {"5000", "2400"}
    assert any(row.code_b for row in rows)


async def test_metadata_change_on_a_read_is_retried(sandbox: Sandbox, ifs: IfsConnection) -> None:
    """A read answered MI_MODIFIED_ERROR succeeds on the repeat."""
    await sandbox.knobs(mi_modified_errors=1)
    assert await ifs.client.find_supplier("SUP1002") is not None


async def test_throttled_read_waits_and_succeeds(sandbox: Sandbox, ifs: IfsConnection) -> None:
    """A 429 with Retry-After pauses the limiter and the read succeeds after it."""
    await sandbox.knobs(retry_after_s=1, script=[{"fault": "429"}])
    assert await ifs.client.find_supplier("SUP1003") is not None
    assert ifs.client.http.status_429_total == 1
