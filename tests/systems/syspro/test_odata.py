"""SYSPRO client, OData polling over loopback HTTP: timestamp filters, typed records, paging
by $top/$skip and nextLink, and the errors an operator must act on."""

from __future__ import annotations

import datetime as dt

import pytest

from connector.errors import AuthError, ConfigurationError
from connector.systems.syspro.models import ApInvoiceRecord, Supplier, SupplierRecord
from connector.systems.syspro.odata import odata_literal, odata_string
from tests.systems.syspro.conftest import SysproSandbox


@pytest.fixture
async def seeded(syspro: SysproSandbox) -> SysproSandbox:
    """The simulator seeded with 30 suppliers and 150 AP invoices."""
    await syspro.admin("POST", "seed", {"seed": 5, "counts": {"suppliers": 30, "invoices": 150}})
    return syspro


async def test_changed_since_invoice_date_returns_typed_records_in_order(
    seeded: SysproSandbox,
) -> None:
    """InvoiceDate ge a date yields ApInvoiceRecord rows on or after it, oldest first."""
    odata = seeded.connect(page_size=40).odata
    since = dt.date(2024, 4, 1)
    rows = [row async for row in odata.changed_since(ApInvoiceRecord, "InvoiceDate", since)]
    expected = [r for r in await seeded.rows("ApInvoice") if r["InvoiceDate"] >= "2024-04-01"]
    assert len(rows) == len(expected) > 40
    assert all(row.invoice_date is not None and row.invoice_date >= since for row in rows)
    dates = [row.invoice_date for row in rows]
    assert dates == sorted(dates)  # type: ignore[type-var]


async def test_changed_since_the_row_version_sees_a_new_post(seeded: SysproSandbox) -> None:
    """TimeStamp ge the last seen version returns what changed since, the cursor row included."""
    connection = seeded.connect()
    suppliers = [row async for row in connection.odata.changed_since(SupplierRecord,
                                                                     "TimeStamp", None)]
    cursor = max(row.time_stamp for row in suppliers)
    async with connection.session() as client:
        await client.add_supplier(Supplier(code="NEW1", name="New supplier"))
    changed = [row async for row in connection.odata.changed_since(SupplierRecord, "TimeStamp",
                                                                   cursor)]
    assert [row.supplier for row in changed][-1] == "NEW1" and len(changed) == 2


async def test_paging_follows_the_next_link_of_a_capped_page(seeded: SysproSandbox) -> None:
    """When the server caps a page below $top, the reader follows @odata.nextLink to the end."""
    await seeded.knobs(odata_row_cap=25)
    odata = seeded.connect(page_size=100).odata
    rows = [row async for row in odata.rows(ApInvoiceRecord)]
    assert len({(r.supplier, r.invoice) for r in rows}) == 150


async def test_paging_by_skip_without_next_links(seeded: SysproSandbox) -> None:
    """Without nextLinks, full pages continue with $skip until a short page."""
    await seeded.knobs(odata_next_link=False)
    odata = seeded.connect(page_size=50).odata
    rows = [row async for row in odata.rows(ApInvoiceRecord, order_by="Invoice")]
    assert len(rows) == 150 and len({r.invoice for r in rows}) == 150


async def test_a_string_filter_is_quoted_not_pasted(seeded: SysproSandbox) -> None:
    """odata_string doubles quotes, so a supplier name with ' filters as data."""
    connection = seeded.connect()
    async with connection.session() as client:
        await client.add_supplier(Supplier(code="OB1", name="O'Brien Heating"))
    condition = "SupplierName eq " + odata_string("O'Brien Heating")
    found = [row async for row in connection.odata.rows(SupplierRecord, condition)]
    assert [row.supplier for row in found] == ["OB1"]


async def test_wrong_operator_password_on_odata_is_an_auth_error(seeded: SysproSandbox) -> None:
    """401 from the OData service is AuthError."""
    connection = seeded.connect(seeded.credential(operator_password="bad"))
    with pytest.raises(AuthError):
        _ = [row async for row in connection.odata.rows(SupplierRecord)]


async def test_polling_without_an_odata_url_is_a_configuration_error(
    syspro: SysproSandbox,
) -> None:
    """A system configured without odata_url says which key to set."""
    with pytest.raises(ConfigurationError, match="odata_url"):
        _ = syspro.connect(odata_url=None).odata


def test_literals_are_odata_v4() -> None:
    """Aware datetimes become UTC 'Z' literals, dates plain dates, versions integers."""
    moment = dt.datetime(2024, 6, 12, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert odata_literal(moment) == "2024-06-12T08:00:00Z"
    assert odata_literal(dt.date(2024, 6, 12)) == "2024-06-12"
    assert odata_literal(42) == "42"
    with pytest.raises(ValueError, match="no time zone"):
        odata_literal(dt.datetime(2024, 6, 12))
