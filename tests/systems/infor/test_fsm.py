"""The FSM line client against the simulated Landmark REST lists and actions, over real
loopback HTTP: lookups by natural key, stamp-guarded updates, _links paging, incremental
reads, one batch per document's lines, and writes that resume after a cut."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.errors import ConflictError, InDoubtError, RejectedError
from connector.systems.infor.fsm import FsmLine
from connector.systems.infor.lines import (
    InforLine,
    LineInvoice,
    LineInvoiceLine,
    LineItem,
    LineOrder,
    LineOrderLine,
    LineSupplier,
)
from tests.systems.infor.conftest import InforSandbox
from tests.systems.infor.line_contract import (
    assert_order_resumes,
    assert_period_listing,
    line_invoice,
)


async def open_fsm(infor: InforSandbox) -> FsmLine:
    """Seed FSM company 100 (23 vendors, 6 items) and connect with product fsm, pages of 10."""
    await infor.admin("POST", "seed", {"line": "FSM", "seed": 4, "vendors": 23, "items": 6})
    line = infor.connect(product="fsm", page_size=10).line
    assert isinstance(line, FsmLine)
    return line


async def fsm_rows(infor: InforSandbox, business_class: str) -> list[Any]:
    rows: list[Any] = (await infor.state())["lines"]["FSM"]["classes"][business_class]
    return rows


def invoice(lines: int = 3, number: str = "ST-5001") -> LineInvoice:
    return line_invoice("V000002", number, Decimal("20.00"), lines=lines, reference="st-inv-5001")


async def test_open_connection_gives_an_fsm_line(infor: InforSandbox) -> None:
    """product = "fsm" opens the FSM client, which satisfies InforLine and validates."""
    line: InforLine = await open_fsm(infor)
    assert line.product == "fsm"
    await line.validate()


async def test_vendor_lookup_create_and_update(infor: InforSandbox) -> None:
    """Absent → Create; found with its stamp; Update changes it; one record in FSM."""
    line = await open_fsm(infor)
    assert await line.get_supplier("ST10042") is None
    await line.write_supplier(LineSupplier(code="ST10042", name="Fresh Air HVAC"), None)
    found = await line.get_supplier("ST10042")
    assert found is not None and found.name == "Fresh Air HVAC" and found.version
    await line.write_supplier(LineSupplier(code="ST10042", name="Fresh Air Ltd"), found)
    again = await line.get_supplier("ST10042")
    assert again is not None and again.name == "Fresh Air Ltd"
    assert [v["Vendor"] for v in await fsm_rows(infor, "Vendor")].count("ST10042") == 1


async def test_update_after_someone_elses_change_is_a_conflict(infor: InforSandbox) -> None:
    """An Update whose stamp was read before another change raises ConflictError."""
    line = await open_fsm(infor)
    first = await line.get_supplier("V000001")
    assert first is not None
    await line.write_supplier(LineSupplier(code="V000001", name="Changed elsewhere"), first)
    with pytest.raises(ConflictError):
        await line.write_supplier(LineSupplier(code="V000001", name="Mine"), first)


async def test_vendors_page_through_links(infor: InforSandbox) -> None:
    """All 23 vendors arrive once in key order over pages of 10 (3 requests)."""
    line = await open_fsm(infor)
    before = line.requests
    codes = [v.code async for v in line.suppliers()]
    assert codes == [f"V{n:06d}" for n in range(1, 24)]
    assert line.requests - before == 3


async def test_incremental_reads_use_the_update_stamp(infor: InforSandbox) -> None:
    """changed_since returns the records stamped at or after it, nothing older."""
    line = await open_fsm(infor)
    seeded = [v.changed async for v in line.suppliers()] + [i.changed async for i in line.items()]
    cursor = max(seeded)
    await line.write_supplier(LineSupplier(code="ST1", name="One"), None)
    await line.write_item(LineItem(code="NEW-1", description="Coil", kind="equipment"), None)
    assert [v.code async for v in line.suppliers(changed_since=cursor)] == ["ST1"]
    items = [(i.code, i.kind) async for i in line.items(changed_since=cursor)]
    assert items == [("I000006", "material"), ("NEW-1", "equipment")]


async def test_invoice_lines_go_in_one_batch(infor: InforSandbox) -> None:
    """An invoice of 5 lines costs two writes (header, one batch of lines) and is found whole."""
    line = await open_fsm(infor)
    assert await line.find_invoice("V000002", "ST-5001") is None
    before = line.requests
    await line.write_invoice(invoice(5), None)
    assert line.requests - before == 2
    found = await line.find_invoice("V000002", "ST-5001")
    assert found is not None and (found.line_count, found.amount) == (5, Decimal(100))
    assert found.invoice_date == "2024-06-12"


async def test_invoice_cut_after_the_header_is_finished_not_duplicated(
    infor: InforSandbox,
) -> None:
    """The lines' batch reply is lost after commit: the invoice is found whole, never doubled;
    a header alone gets its lines on the next write."""
    line = await open_fsm(infor)
    cut = {"fault": "timeout_after_commit", "match": "write", "path_contains": "Distribution"}
    await infor.knobs(hang_s=0.05, script=[cut])
    with pytest.raises(InDoubtError):
        await line.write_invoice(invoice(3), None)
    found = await line.find_invoice("V000002", "ST-5001")
    assert found is not None and found.line_count == 3
    # A header whose lines never arrived (a refused batch) is finished by the next write.
    refused = "NOT-A-VALID-ACCOUNT-BECAUSE-TOO-LONG"
    bad = invoice(2, "ST-5002")
    bad = LineInvoice(
        **{
            **_fields(bad),
            "lines": tuple(
                LineInvoiceLine(**{**_fields(x), "account": refused}) for x in bad.lines
            ),
        }
    )
    with pytest.raises(RejectedError, match="record 1 of 2"):
        await line.write_invoice(bad, None)
    header_only = await line.find_invoice("V000002", "ST-5002")
    assert header_only is not None and header_only.line_count == 0
    finished = await line.write_invoice(invoice(2, "ST-5002"), header_only)
    assert finished.line_count == 2
    assert len(await fsm_rows(infor, "PayablesInvoice")) == 2
    assert len(await fsm_rows(infor, "PayablesInvoiceDistribution")) == 5


async def test_invoices_in_a_date_range_carry_their_line_counts(infor: InforSandbox) -> None:
    """invoices(from, to) lists the period's invoices with their distribution counts."""
    line = await open_fsm(infor)
    await assert_period_listing(line, invoice, "st-inv-5001")


async def test_purchase_order_resumes_missing_lines(infor: InforSandbox) -> None:
    """A PO found with line 1 only gets line 2 added in one batch; none is doubled."""
    line = await open_fsm(infor)
    order = LineOrder(
        number="ST777",
        supplier="V000003",
        order_date="2024-06-12",
        currency="USD",
        lines=(
            LineOrderLine(number=1, item="I000001", quantity=Decimal(2), price=Decimal("4.5")),
            LineOrderLine(number=2, item="I000002", quantity=Decimal(1), price=Decimal(9)),
        ),
    )
    await assert_order_resumes(line, order)
    rows = await fsm_rows(infor, "PurchaseOrderLine")
    assert sorted(r["PurchaseOrderLine"] for r in rows) == ["1", "2"]


async def test_a_refused_vendor_says_which_record_and_why(infor: InforSandbox) -> None:
    """An FSM exception in a batch answer (HTTP 200) is a RejectedError naming the record."""
    line = await open_fsm(infor)
    with pytest.raises(RejectedError, match="already exists") as caught:
        await line.write_supplier(LineSupplier(code="V000001", name="Twin"), None)
    assert caught.value.record == "supplier V000001"


def _fields(struct: Any) -> dict[str, Any]:
    return {f: getattr(struct, f) for f in struct.__struct_fields__}
