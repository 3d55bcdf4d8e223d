"""The LN line client against the simulated LN OData services, over real loopback HTTP:
lookups by natural key, ETag updates, next-link paging, incremental reads, writes that
resume after a cut, and the company header."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.errors import ConfigurationError, ConflictError, InDoubtError
from connector.systems.infor.lines import (
    InforLine,
    LineInvoice,
    LineItem,
    LineOrder,
    LineOrderLine,
    LineSupplier,
)
from connector.systems.infor.ln import LnLine
from tests.systems.infor.conftest import InforSandbox
from tests.systems.infor.line_contract import (
    assert_order_resumes,
    assert_period_listing,
    line_invoice,
)


async def open_ln(infor: InforSandbox, **seed: Any) -> LnLine:
    """Seed LN company 100 (30 partners, 12 items, pages of 7) and connect with product ln."""
    await infor.admin(
        "POST",
        "seed",
        {"line": "LN", "seed": 5, "suppliers": 30, "items": 12, "page_size": 7, **seed},
    )
    line = infor.connect(product="ln").line
    assert isinstance(line, LnLine)
    return line


async def ln_rows(infor: InforSandbox, entity_set: str, company: str = "100") -> list[Any]:
    rows: list[Any] = (await infor.state())["lines"]["LN"]["companies"][company][entity_set]
    return rows


def invoice(lines: int = 3, number: str = "ST-9001") -> LineInvoice:
    return line_invoice(
        "BP0000002", number, Decimal("30.00"), lines=lines, reference="st-inv-9001"
    )


async def test_open_connection_gives_an_ln_line(infor: InforSandbox) -> None:
    """product = "ln" in the config opens the LN client, which satisfies InforLine."""
    line: InforLine = await open_ln(infor)
    assert line.product == "ln" and line.supplier_code_length == 9
    await line.validate()


async def test_validate_names_an_inactive_company(infor: InforSandbox) -> None:
    """A company whose LN services are not activated is a ConfigurationError naming it."""
    await open_ln(infor)
    line = infor.connect(product="ln", company="4242").line
    assert line is not None
    with pytest.raises(ConfigurationError, match="activated for company 4242"):
        await line.validate()


async def test_supplier_lookup_create_and_update_with_etag(infor: InforSandbox) -> None:
    """Absent → created; found with its ETag; changed with If-Match; row count stays one."""
    line = await open_ln(infor)
    assert await line.get_supplier("ST10042") is None
    await line.write_supplier(LineSupplier(code="ST10042", name="Fresh Air HVAC"), None)
    found = await line.get_supplier("ST10042")
    assert found is not None and found.name == "Fresh Air HVAC" and found.version
    await line.write_supplier(LineSupplier(code="ST10042", name="Fresh Air Ltd"), found)
    again = await line.get_supplier("ST10042")
    assert again is not None and again.name == "Fresh Air Ltd" and again.version != found.version
    rows = [
        r for r in await ln_rows(infor, "BusinessPartners") if r["BusinessPartner"] == "ST10042"
    ]
    assert len(rows) == 1


async def test_stale_etag_is_a_conflict(infor: InforSandbox) -> None:
    """An update with an ETag read before someone else's change raises ConflictError."""
    line = await open_ln(infor)
    first = await line.get_supplier("BP0000001")
    assert first is not None
    await line.write_supplier(LineSupplier(code="BP0000001", name="Changed elsewhere"), first)
    with pytest.raises(ConflictError):
        await line.write_supplier(LineSupplier(code="BP0000001", name="Mine"), first)


async def test_suppliers_page_through_next_links(infor: InforSandbox) -> None:
    """All 30 partners arrive once, in key order, over pages of 7 (5 requests)."""
    line = await open_ln(infor)
    before = line.requests
    codes = [s.code async for s in line.suppliers()]
    assert codes == [f"BP{n:07d}" for n in range(1, 31)]
    assert line.requests - before == 5


async def test_incremental_read_returns_only_what_changed(infor: InforSandbox) -> None:
    """suppliers/items(changed_since) return only the rows changed at or after that time."""
    line = await open_ln(infor)
    seeded = [s.changed async for s in line.suppliers()] + [i.changed async for i in line.items()]
    cursor = max(seeded)
    await line.write_item(LineItem(code="NEW-1", description="Coil", kind="equipment"), None)
    await line.write_supplier(LineSupplier(code="ST1", name="One"), None)
    changed = [s.code async for s in line.suppliers(changed_since=cursor)]
    assert changed == ["ST1"]
    items = [i async for i in line.items(changed_since=cursor)]
    # "at or after": the row read last at the cursor comes again, then the new one.
    assert [(i.code, i.kind) for i in items] == [("ITM000012", "material"), ("NEW-1", "equipment")]


async def test_invoice_is_created_with_lines_and_found_complete(infor: InforSandbox) -> None:
    """write_invoice posts the header and 3 lines; find_invoice sees 3 lines."""
    line = await open_ln(infor)
    assert await line.find_invoice("BP0000002", "ST-9001") is None
    written = await line.write_invoice(invoice(3), None)
    found = await line.find_invoice("BP0000002", "ST-9001")
    assert found is not None
    assert (found.document, found.line_count, found.amount) == (written.document, 3, Decimal(90))


async def test_invoice_cut_after_the_header_is_finished_not_duplicated(
    infor: InforSandbox,
) -> None:
    """A reply lost on line 1 leaves a partial invoice; the next write adds only the rest."""
    line = await open_ln(infor)
    # The first line commits, then its reply is lost.
    cut = {"fault": "timeout_after_commit", "match": "write", "path_contains": "InvoiceLines"}
    await infor.knobs(hang_s=0.05, script=[cut])
    with pytest.raises(InDoubtError):
        await line.write_invoice(invoice(3), None)
    partial = await line.find_invoice("BP0000002", "ST-9001")
    assert partial is not None and partial.line_count == 1
    finished = await line.write_invoice(invoice(3), partial)
    assert finished.line_count == 3 and finished.document == partial.document
    assert len(await ln_rows(infor, "Invoices")) == 1
    assert len(await ln_rows(infor, "InvoiceLines")) == 3


async def test_invoices_in_a_date_range_carry_their_line_counts(infor: InforSandbox) -> None:
    """invoices(from, to) lists the period's invoices with the lines each holds."""
    line = await open_ln(infor)
    await assert_period_listing(line, invoice, "st-inv-9001")


async def test_purchase_order_resumes_missing_lines(infor: InforSandbox) -> None:
    """A PO found with line 10 only gets line 20 added; lines are never posted twice."""
    line = await open_ln(infor)
    order = LineOrder(
        number="ST777",
        supplier="BP0000003",
        order_date="2024-06-12",
        currency="USD",
        lines=(
            LineOrderLine(number=10, item="ITM000001", quantity=Decimal(2), price=Decimal("4.5")),
            LineOrderLine(number=20, item="ITM000002", quantity=Decimal(1), price=Decimal(9)),
        ),
    )
    await assert_order_resumes(line, order)
    assert [r["Line"] for r in await ln_rows(infor, "Lines")] == [10, 20]


async def test_company_header_keeps_writes_in_the_configured_company(infor: InforSandbox) -> None:
    """Writes land in company 100, never in the service user's default company 200."""
    line = await open_ln(infor)
    await line.write_item(LineItem(code="CO-1", description="Filter"), None)
    assert "CO-1" in [r["Item"] for r in await ln_rows(infor, "Items")]
    assert await ln_rows(infor, "Items", "200") == []
