"""Checks every CloudSuite line client (SyteLine, LN, FSM) must pass the same way.

The line tests call these with their own client and data; what differs per line (how the
simulator stores a row) stays in each test.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import msgspec

from connector.systems.infor.lines import InforLine, LineInvoice, LineInvoiceLine, LineOrder


def line_invoice(
    supplier: str,
    number: str,
    each: Decimal,
    *,
    lines: int = 3,
    reference: str,
    account: str = "6000",
    cost_center: str = "CC10",
) -> LineInvoice:
    """A June invoice of ``lines`` equal lines of ``each`` (what every line test writes)."""
    return LineInvoice(
        supplier=supplier,
        invoice_number=number,
        invoice_date="2024-06-12",
        due_date="2024-07-12",
        currency="USD",
        amount=each * lines,
        reference=reference,
        lines=tuple(
            LineInvoiceLine(
                amount=each, text=f"line {n}", account=account, cost_center=cost_center
            )
            for n in range(1, lines + 1)
        ),
    )


async def assert_period_listing(
    line: InforLine, invoice: Callable[[int, str], LineInvoice], reference: str
) -> None:
    """invoices(from, to) lists June's two invoices with their line counts and our
    reference (what reconciliation matches by), and nothing for July."""
    await line.write_invoice(invoice(2, "A-1"), None)
    await line.write_invoice(invoice(4, "A-2"), None)
    listed = [
        (f.invoice_number, f.line_count) async for f in line.invoices("2024-06-01", "2024-06-30")
    ]
    assert listed == [("A-1", 2), ("A-2", 4)]
    assert {f.reference async for f in line.invoices("2024-06-01", "2024-06-30")} == {reference}
    assert [f async for f in line.invoices("2024-07-01", "2024-07-31")] == []


async def assert_order_resumes(line: InforLine, order: LineOrder) -> None:
    """An order written with its first line only is found with that line; writing the whole
    order then adds the rest, and the result lists every line once."""
    numbers = tuple(item.number for item in order.lines)
    first = await line.write_order(msgspec.structs.replace(order, lines=order.lines[:1]), None)
    assert first.lines == numbers[:1]
    found = await line.find_order(order.number)
    assert found is not None and found.lines == numbers[:1]
    done = await line.write_order(order, found)
    assert done.lines == numbers
