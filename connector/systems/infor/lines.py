"""CloudSuite product lines other than M3 (SyteLine, LN, FSM), behind one interface.

The seed pages promise that the connector "uses the appropriate list operation and filtering
method for each" line. Each line speaks its own API over the same ION API gateway and token
(sheet §2): SyteLine Mongoose IDO REST, LN OData v4, FSM Landmark REST. What the
servicetitan-infor flow needs from a line is small and the same for all three, so each line
package (``connector.systems.infor.<product>``) implements :class:`InforLine` in the line's
own terms — paging style, optimistic concurrency, document numbering — and the flow's
generic targets (``connector.flows.servicetitan_infor.lines``) stay line-agnostic.

M3 keeps its own client and targets (MI programs, AP batches, the recode path); it does not
go through this interface.

The exactly-once contract holds per line: every ``get_*``/``find_*`` is a **live** read by
the natural key (supplier code, item code, supplier + supplier invoice number, PO number),
and every ``write_*`` resumes from what the matching read found (a header without all its
lines is finished, never created again).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, Protocol

import msgspec

from connector.errors import ConfigurationError

if TYPE_CHECKING:
    from connector.http.client import HttpClient
    from connector.systems.infor.config import InforSystem

__all__ = [
    "LINE_MODULES",
    "FoundInvoice",
    "FoundOrder",
    "InforLine",
    "LineInvoice",
    "LineInvoiceLine",
    "LineItem",
    "LineOrder",
    "LineOrderLine",
    "LineSupplier",
    "open_line",
]


class LineSupplier(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier (SyteLine vendor, LN buy-from business partner, FSM vendor)."""

    code: str
    name: str
    active: bool = True
    currency: str = "USD"
    #: When the line last changed it, ISO 8601 UTC (sortable; the incremental cursor).
    changed: str = ""
    #: The line's concurrency token (``_ItemId``, ETag…) as read; "" when written.
    version: str = ""


class LineItem(msgspec.Struct, frozen=True, kw_only=True):
    """An item (SyteLine item, LN item, FSM item/service)."""

    code: str
    description: str
    #: "material" or "equipment" (the ServiceTitan pricebook kind it came from).
    kind: str = "material"
    unit: str = "EA"
    active: bool = True
    changed: str = ""
    version: str = ""


class LineInvoiceLine(msgspec.Struct, frozen=True, kw_only=True):
    """One distribution line of an AP invoice: amount, text, GL account and cost center."""

    amount: Decimal
    text: str
    account: str
    cost_center: str
    item: str | None = None


class LineInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """An AP invoice (SyteLine voucher, LN purchase invoice, FSM payables invoice).

    The natural key is ``(supplier, invoice_number)``; ``reference`` is our correlation id
    (``st-inv-<id>``), stored where the line has a free reference field.
    """

    supplier: str
    invoice_number: str
    invoice_date: str  # YYYY-MM-DD
    due_date: str  # YYYY-MM-DD
    currency: str
    amount: Decimal
    reference: str
    lines: tuple[LineInvoiceLine, ...]
    purchase_order: str | None = None


class FoundInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """An AP invoice as the line holds it, read live by its natural key."""

    #: The line's own document number (voucher, invoice id…), what a person searches by.
    document: str
    supplier: str
    invoice_number: str
    amount: Decimal
    #: Distribution lines present: fewer than the command's means a write was interrupted.
    line_count: int
    invoice_date: str = ""
    version: str = ""
    #: Our correlation id as the line stores it (``LineInvoice.reference``); "" on an
    #: invoice keyed by hand, or where the line answer did not carry it.
    reference: str = ""


class LineOrderLine(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    item: str
    quantity: Decimal
    price: Decimal
    description: str = ""


class LineOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A purchase order; the natural key is its number (``ST<id>`` for ServiceTitan POs)."""

    number: str
    supplier: str
    order_date: str  # YYYY-MM-DD
    currency: str
    lines: tuple[LineOrderLine, ...]


class FoundOrder(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    #: Line numbers present: a missing one means a write was interrupted.
    lines: tuple[int, ...]
    version: str = ""


class InforLine(Protocol):
    """What the servicetitan-infor flow needs from a non-M3 product line."""

    #: ``syteline`` | ``ln`` | ``fsm`` (the config's ``product``).
    product: ClassVar[str]
    #: Longest supplier code the line accepts (SyteLine VendNum 7, LN BP 9, FSM 9).
    supplier_code_length: ClassVar[int]
    #: Requests made, for tests and the benchmark (a batch request counts once).
    requests: int

    async def validate(self) -> None:
        """Check the configured company/site exists and is reachable (``check``, startup);
        raise ConfigurationError naming the config key to fix."""
        ...

    async def get_supplier(self, code: str) -> LineSupplier | None: ...

    async def write_supplier(self, supplier: LineSupplier, existing: LineSupplier | None) -> None:
        """Create it when ``existing`` is None, else change it (with the line's optimistic
        concurrency token from ``existing.version`` where the line has one)."""
        ...

    def suppliers(self, changed_since: str | None = None) -> AsyncIterator[LineSupplier]:
        """Every supplier (changed at or after ``changed_since``, an ISO 8601 time, when
        given), in the line's own paging style."""
        ...

    async def get_item(self, code: str) -> LineItem | None: ...

    async def write_item(self, item: LineItem, existing: LineItem | None) -> None: ...

    def items(self, changed_since: str | None = None) -> AsyncIterator[LineItem]: ...

    async def find_invoice(self, supplier: str, invoice_number: str) -> FoundInvoice | None: ...

    async def write_invoice(
        self, invoice: LineInvoice, existing: FoundInvoice | None
    ) -> FoundInvoice:
        """Create the invoice, or finish the one ``existing`` found (add missing lines);
        the result as a fresh ``find_invoice`` would read it."""
        ...

    def invoices(self, date_from: str, date_to: str) -> AsyncIterator[FoundInvoice]:
        """AP invoices dated in [from, to] (YYYY-MM-DD), each with its ``reference``, for
        reconciliation."""
        ...

    async def find_order(self, number: str) -> FoundOrder | None: ...

    async def write_order(self, order: LineOrder, existing: FoundOrder | None) -> FoundOrder: ...


#: product → module exposing ``open_line(http, gateway_base, config) -> InforLine``.
#: Imported on first use, so a line's code is loaded only by tenants that run it.
LINE_MODULES: dict[str, str] = {
    "syteline": "connector.systems.infor.syteline",
    "ln": "connector.systems.infor.ln",
    "fsm": "connector.systems.infor.fsm",
}

LineFactory = Callable[["HttpClient", str, "InforSystem"], InforLine]


def open_line(http: HttpClient, gateway_base: str, config: InforSystem) -> InforLine:
    """The client of ``config.product`` over the gateway's authenticated HTTP client."""
    module_name = LINE_MODULES.get(config.product)
    if module_name is None:
        raise ConfigurationError(
            f"Infor product {config.product!r} has no line client; set product to one of "
            f"m3, {', '.join(sorted(LINE_MODULES))}"
        )
    factory: LineFactory = importlib.import_module(module_name).open_line
    return factory(http, gateway_base, config)
