"""An in-memory CloudSuite line for the flow's line-agnostic targets (not a simulator).

It keeps what a real line keeps, answers lookups live from that, and can cut a write short
after the target committed part of it (``cut_after_lines``), the way a lost reply or a crash
leaves a real line. The per-line simulators test each API; this tests the flow's contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from connector.errors import InDoubtError
from connector.systems.infor.lines import (
    FoundInvoice,
    FoundOrder,
    LineInvoice,
    LineItem,
    LineOrder,
    LineSupplier,
)

#: The one instance the flow under test talks to (reset by the tests' fixture).
LINES: list[FakeLine] = []


class FakeLine:
    product: ClassVar[str] = "syteline"
    supplier_code_length: ClassVar[int] = 7

    def __init__(self) -> None:
        self.requests = 0
        self.suppliers_by_code: dict[str, LineSupplier] = {}
        self.items_by_code: dict[str, LineItem] = {}
        self.stored_invoices: dict[tuple[str, str], tuple[str, LineInvoice, int]] = {}
        self.orders: dict[str, tuple[LineOrder, set[int]]] = {}
        self.writes: list[str] = []
        #: Stop the next invoice write after this many lines, as a lost reply would.
        self.cut_after_lines: int | None = None
        #: The (supplier, invoice number) that was cut short, once it was.
        self.cut: tuple[str, str] | None = None

    async def validate(self) -> None:
        self.requests += 1

    async def get_supplier(self, code: str) -> LineSupplier | None:
        self.requests += 1
        return self.suppliers_by_code.get(code)

    async def write_supplier(self, supplier: LineSupplier, existing: LineSupplier | None) -> None:
        self.requests += 1
        if existing is None and supplier.code in self.suppliers_by_code:
            raise AssertionError(f"supplier {supplier.code} created twice")
        self.writes.append(f"supplier {supplier.code}")
        self.suppliers_by_code[supplier.code] = supplier

    async def suppliers(self, changed_since: str | None = None) -> AsyncIterator[LineSupplier]:
        self.requests += 1
        for supplier in list(self.suppliers_by_code.values()):
            yield supplier

    async def get_item(self, code: str) -> LineItem | None:
        self.requests += 1
        return self.items_by_code.get(code)

    async def write_item(self, item: LineItem, existing: LineItem | None) -> None:
        self.requests += 1
        if existing is None and item.code in self.items_by_code:
            raise AssertionError(f"item {item.code} created twice")
        self.writes.append(f"item {item.code}")
        self.items_by_code[item.code] = item

    async def items(self, changed_since: str | None = None) -> AsyncIterator[LineItem]:
        self.requests += 1
        for item in list(self.items_by_code.values()):
            yield item

    def _found(self, key: tuple[str, str]) -> FoundInvoice | None:
        if key not in self.stored_invoices:
            return None
        document, invoice, lines = self.stored_invoices[key]
        return FoundInvoice(
            document=document,
            supplier=invoice.supplier,
            invoice_number=invoice.invoice_number,
            amount=sum((line.amount for line in invoice.lines[:lines]), start=0 * invoice.amount),
            line_count=lines,
            invoice_date=invoice.invoice_date,
        )

    async def find_invoice(self, supplier: str, invoice_number: str) -> FoundInvoice | None:
        self.requests += 1
        return self._found((supplier, invoice_number))

    async def write_invoice(
        self, invoice: LineInvoice, existing: FoundInvoice | None
    ) -> FoundInvoice:
        self.requests += 1
        key = (invoice.supplier, invoice.invoice_number)
        if existing is None:
            if key in self.stored_invoices:
                raise AssertionError(f"invoice {key} created twice")
            self.stored_invoices[key] = (f"V{len(self.stored_invoices) + 1:06d}", invoice, 0)
            self.writes.append(f"invoice {invoice.invoice_number}")
        document, _, present = self.stored_invoices[key]
        for done in range(present, len(invoice.lines)):
            if self.cut_after_lines is not None and done >= self.cut_after_lines:
                self.cut_after_lines = None
                self.cut = key
                raise InDoubtError(f"reply lost after line {done} of {invoice.invoice_number}")
            self.stored_invoices[key] = (document, invoice, done + 1)
        found = self._found(key)
        assert found is not None
        return found

    async def invoices(self, date_from: str, date_to: str) -> AsyncIterator[FoundInvoice]:
        for key in list(self.stored_invoices):
            found = self._found(key)
            if found is not None and date_from <= found.invoice_date <= date_to:
                yield found

    async def find_order(self, number: str) -> FoundOrder | None:
        self.requests += 1
        if number not in self.orders:
            return None
        return FoundOrder(number=number, lines=tuple(sorted(self.orders[number][1])))

    async def write_order(self, order: LineOrder, existing: FoundOrder | None) -> FoundOrder:
        self.requests += 1
        if existing is None:
            if order.number in self.orders:
                raise AssertionError(f"order {order.number} created twice")
            self.orders[order.number] = (order, set())
            self.writes.append(f"order {order.number}")
        present = self.orders[order.number][1]
        present.update(line.number for line in order.lines)
        return FoundOrder(number=order.number, lines=tuple(sorted(present)))


def open_line(http: Any, gateway_base: str, config: Any) -> FakeLine:
    """The registry's factory: the instance the test set up."""
    return LINES[0]
