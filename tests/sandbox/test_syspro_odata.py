"""SYSPRO simulator, the read-only OData service: Basic auth, 405 on writes, $metadata,
$filter/$select/$orderby/$top/$skip, the 5,000-row cap and nextLink paging (sheet rule 5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.syspro_company import SysproCompany, open_company


@pytest.fixture
async def company(start_simulator: StartSimulator) -> AsyncIterator[SysproCompany]:
    """A SYSPRO simulator seeded with 40 suppliers and 120 AP invoices."""
    async with aiohttp.ClientSession() as session:
        handle = await open_company(start_simulator, session)
        await handle.admin("POST", "seed", {"seed": 3, "counts": {"suppliers": 40,
                                                                  "invoices": 120}})
        yield handle


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_odata_is_read_only_and_answers_405_to_a_write(
    company: SysproCompany, method: str
) -> None:
    """Rule 5: any write method on an entity set answers 405."""
    status, _, headers = await company.odata(method, "ApSupplier")
    assert status == 405 and headers["Allow"] == "GET"
    assert len(await company.rows("ApSupplier")) == 42


async def test_odata_requires_basic_auth(company: SysproCompany) -> None:
    """Rule 5: no or wrong Basic credentials answer 401 with a Basic challenge."""
    status, _, headers = await company.odata("GET", "ApSupplier", headers={})
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
    status, _, _ = await company.odata("GET", "ApSupplier", headers=company.basic_auth("nope"))
    assert status == 401


async def test_odata_caps_a_page_at_5000_rows_and_links_the_next(
    company: SysproCompany,
) -> None:
    """Rule 5: a request returns at most 5,000 rows, with @odata.nextLink to the rest."""
    await company.admin("POST", "seed", {"seed": 1, "counts": {"invoices": 5003}})
    status, body, _ = await company.odata("GET", "ApInvoice", **{"$select": "Invoice"})
    assert status == 200 and len(body["value"]) == 5000
    async with company.session.get(body["@odata.nextLink"], headers=company.basic_auth()) as r:
        rest = await r.json()
    assert len(rest["value"]) == 3 and "@odata.nextLink" not in rest


async def test_odata_serves_metadata(company: SysproCompany) -> None:
    """Rule 5: $metadata is CSDL naming every entity set and its property types."""
    status, body, _ = await company.odata("GET", "$metadata")
    assert status == 200
    assert '<EntitySet Name="ApInvoice"' in body
    assert '<Property Name="PostDate" Type="Edm.DateTimeOffset"/>' in body


async def test_odata_filters_on_dates_and_selects_columns(company: SysproCompany) -> None:
    """$filter on InvoiceDate ranges with $select returns only matching rows and columns."""
    status, body, _ = await company.odata(
        "GET", "ApInvoice",
        **{"$filter": "InvoiceDate ge 2024-03-01 and InvoiceDate lt 2024-04-01T00:00:00Z",
           "$select": "Supplier,Invoice,InvoiceDate"},
    )
    assert status == 200 and body["value"]
    for row in body["value"]:
        assert set(row) == {"Supplier", "Invoice", "InvoiceDate"}
        assert row["InvoiceDate"].startswith("2024-03-")


async def test_odata_filters_on_the_row_version(company: SysproCompany) -> None:
    """TimeStamp gt N returns exactly the rows written after version N."""
    _, everything, _ = await company.odata("GET", "ApInvoice", **{"$select": "TimeStamp"})
    stamps = sorted(row["TimeStamp"] for row in everything["value"])
    _, newer, _ = await company.odata(
        "GET", "ApInvoice", **{"$filter": f"TimeStamp gt {stamps[99]}", "$select": "TimeStamp"}
    )
    assert sorted(row["TimeStamp"] for row in newer["value"]) == stamps[100:]


async def test_odata_pages_with_top_skip_and_orderby(company: SysproCompany) -> None:
    """$orderby with $top/$skip pages through a set without gaps or repeats."""
    seen: list[str] = []
    for skip in range(0, 120, 50):
        _, page, _ = await company.odata(
            "GET", "ApInvoice",
            **{"$orderby": "Invoice desc", "$top": "50", "$skip": str(skip), "$select": "Invoice"},
        )
        seen.extend(row["Invoice"] for row in page["value"])
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 120


async def test_odata_refuses_an_unknown_property_with_400(company: SysproCompany) -> None:
    """A $filter naming a property the entity lacks answers 400 with an OData error body."""
    status, body, _ = await company.odata("GET", "ApInvoice", **{"$filter": "Nope eq 1"})
    assert status == 400 and "Nope" in body["error"]["message"]


async def test_odata_orders_numbers_as_numbers(company: SysproCompany) -> None:
    """$orderby on a decimal column sorts by value (not text): 99 before 100 ascending."""
    await company.admin("POST", "seed", {"seed": 3, "counts": {"stock": 40}})
    status, body, _ = await company.odata(
        "GET", "InvWarehouse", **{"$orderby": "QtyOnHand desc,StockCode"}
    )
    quantities = [row["QtyOnHand"] for row in body["value"]]
    assert status == 200 and quantities == sorted(quantities, reverse=True)


async def test_odata_counts_and_refuses_unsupported_options(company: SysproCompany) -> None:
    """$count=true adds @odata.count of the filtered set; an unknown $ option answers 400."""
    _, body, _ = await company.odata("GET", "ApInvoice", **{"$count": "true", "$top": "5"})
    assert body["@odata.count"] == 120 and len(body["value"]) == 5
    status, _, _ = await company.odata("GET", "ApInvoice", **{"$expand": "Supplier"})
    assert status == 400


async def test_seeding_is_deterministic_by_seed(company: SysproCompany) -> None:
    """The same seed body gives the same rows; another seed gives others."""
    body = {"seed": 9, "counts": {"suppliers": 5, "invoices": 20}}
    await company.admin("POST", "seed", body)
    first = await company.rows("ApInvoice")
    await company.admin("POST", "seed", body)
    assert await company.rows("ApInvoice") == first
    await company.admin("POST", "seed", body | {"seed": 10})
    assert await company.rows("ApInvoice") != first


async def test_seeded_purchase_orders_carry_stock_lines(company: SysproCompany) -> None:
    """A seeded PO has one to three PorMasterDetail lines on stock codes on file, as PORTOI
    would leave it (a PO without lines is one still being entered)."""
    await company.admin("POST", "seed", {"seed": 3, "counts": {"stock": 4, "purchase_orders": 6}})
    heads = await company.rows("PorMasterHdr")
    lines = await company.rows("PorMasterDetail")
    stock = {row["StockCode"] for row in await company.rows("InvMaster")}
    per_order = Counter(line["PurchaseOrder"] for line in lines)
    assert len(heads) == 6 and all(1 <= per_order[h["PurchaseOrder"]] <= 3 for h in heads)
    assert {line["MStockCode"] for line in lines} <= stock
