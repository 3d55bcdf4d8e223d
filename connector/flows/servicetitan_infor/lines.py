"""ServiceTitan ↔ SyteLine, LN or FSM: the servicetitan-infor flow on the other CloudSuite lines.

The same records travel as with M3 (see the package docstring), under stream names that do
not say M3:

=========================  ====================================  ===========================
stream                     from → to                             natural key in the target
=========================  ====================================  ===========================
vendors_to_infor           ServiceTitan vendors → suppliers      supplier code (``ST<id>``)
suppliers_to_st            line suppliers → ServiceTitan vendors  external data, name
materials_to_infor         pricebook materials → items           item code = pricebook code
equipment_to_infor         pricebook equipment → items           item code = pricebook code
items_to_st                line items → pricebook materials      code
purchase_orders_to_infor   ServiceTitan POs → purchase orders    order number (``ST<id>``)
ap_bills_to_infor          AP bills → AP invoices                supplier + invoice number
invoices_to_infor          job invoices → AP invoices            supplier + invoice number
=========================  ====================================  ===========================

The targets here speak only :class:`~connector.systems.infor.lines.InforLine`; each line's
client turns that into its API (IDO updates, OData requests, Landmark actions). What differs
between lines in the *mapping* (code lengths, dates) is in ``mapping.py``. The M3-only
features (the recode path, M3 → ServiceTitan purchase orders) do not exist on these lines.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from connector.config import FlowConfig
from connector.errors import ConfigurationError
from connector.flows import common
from connector.flows.common import LedgerLink
from connector.flows.servicetitan_infor import mapping
from connector.flows.servicetitan_infor.mapping import (
    ApDocument,
    ItemCommand,
    M3PurchaseOrderCommand,
    Options,
    SupplierCommand,
    vendor_id_from_suno,
)
from connector.flows.servicetitan_infor.targets import JUST_READ_S, MaterialTarget, VendorTarget
from connector.flows.sources import servicetitan_fetch, servicetitan_incremental
from connector.runtime.flow import (
    BuiltFlow,
    CursorMark,
    Envelope,
    Flow,
    Found,
    LoadContext,
    MapContext,
    Outcome,
    Reconciliation,
    Stream,
    TargetDocument,
    Written,
)
from connector.store import Store
from connector.systems.infor.lines import (
    FoundInvoice,
    FoundOrder,
    InforLine,
    LineItem,
    LineOrder,
    LineOrderLine,
    LineSupplier,
)
from connector.systems.servicetitan import ServiceTitanClient, ServiceTitanSystem
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.resources import RESOURCES

#: Every stream of the flow on a non-M3 line, in the order a cycle runs them.
LINE_STREAMS = (
    "vendors_to_infor",
    "suppliers_to_st",
    "materials_to_infor",
    "equipment_to_infor",
    "items_to_st",
    "purchase_orders_to_infor",
    "ap_bills_to_infor",
    "invoices_to_infor",
)
LINE_WEBHOOK_STREAMS = {"invoice": "invoices_to_infor"}


class LineSupplierTarget:
    """Suppliers for ServiceTitan vendors, by code. A supplier created from a vendor
    (``ST<id>``) follows the vendor's name and active flag; one the line already had (linked
    through the vendor's external data) belongs to the line and is never changed."""

    def __init__(self, line: InforLine, options: Options) -> None:
        self.line = line
        self.options = options
        self._read: dict[str, tuple[float, LineSupplier]] = {}

    async def find(self, command: SupplierCommand) -> Found | None:
        for code in filter(None, (command.linked_suno, command.suno)):
            supplier = await self.line.get_supplier(code)
            if supplier is not None:
                self._read[code] = (time.monotonic(), supplier)
                owned = command.linked_suno is None and vendor_id_from_suno(code) is not None
                in_step = (supplier.name, supplier.active) == (command.name, command.active)
                return Found(code, matches=not owned or in_step)
        return None

    async def write(
        self, command: SupplierCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        wanted = LineSupplier(
            code=existing.target_id if existing is not None else command.suno,
            name=command.name,
            active=command.active,
            currency=self.options.currency,
        )
        if existing is None:
            await self.line.write_supplier(wanted, None)
            return Written(Outcome.CREATED, wanted.code)
        seen = self._read.pop(existing.target_id, None)
        current = (
            seen[1]
            if seen is not None and time.monotonic() - seen[0] < JUST_READ_S
            else await self.line.get_supplier(existing.target_id)
        )
        await self.line.write_supplier(wanted, current)
        return Written(Outcome.UPDATED if current is not None else Outcome.CREATED, wanted.code)


class LineItemTarget:
    """Items for ServiceTitan pricebook items, by code; an existing item is linked as is."""

    def __init__(self, line: InforLine) -> None:
        self.line = line

    async def find(self, command: ItemCommand) -> Found | None:
        item = await self.line.get_item(command.itno)
        return Found(command.itno, matches=True) if item is not None else None

    async def write(
        self, command: ItemCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        kind = command.source_id.partition(":")[0]
        item = LineItem(code=command.itno, description=command.description, kind=kind)
        await self.line.write_item(item, None)
        return Written(Outcome.CREATED, command.itno)


def _item_stream(sku: str) -> tuple[str, str]:
    """The stream and source id of a pricebook reference (``material:12``)."""
    kind, _, source_id = sku.partition(":")
    return ("equipment_to_infor" if kind == "equipment" else "materials_to_infor"), source_id


class LineApTarget:
    """AP invoices for AP bills and job invoices, by supplier + supplier invoice number.

    An invoice with fewer lines than the document is an attempt cut short: ``find`` answers
    it unfinished and ``write`` adds the rest (the line's client resumes), so a header whose
    reply was lost never becomes a second invoice.
    """

    def __init__(self, line: InforLine, link: LedgerLink, vendor_stream: str, length: int) -> None:
        self.line = line
        self.link = link
        self.vendor_stream = vendor_stream
        self.length = length
        self._read: dict[str, tuple[float, FoundInvoice | None]] = {}

    async def _supplier(self, command: ApDocument) -> str | None:
        if command.fixed_suno:
            return command.fixed_suno
        if command.vendor_id is None:
            return None
        # A lost ledger must not hide the invoice: the supplier code is also derived.
        linked = await self.link(self.vendor_stream, str(command.vendor_id))
        return linked or mapping.line_code(command.vendor_id, self.length)

    async def find(self, command: ApDocument) -> Found | None:
        supplier = await self._supplier(command)
        if supplier is None:
            return None
        found = await self.line.find_invoice(supplier, command.sino)
        self._read[command.cori] = (time.monotonic(), found)
        if found is None:
            return None
        complete = found.line_count >= len(command.lines)
        if complete:
            self._read.pop(command.cori, None)
        return Found(found.document, matches=True, complete=complete)

    async def write(self, command: ApDocument, existing: Found | None, ctx: LoadContext) -> Written:
        seen = self._read.pop(command.cori, None)
        if existing is not None and existing.complete:
            return Written(Outcome.UNCHANGED, existing.target_id)
        supplier = command.fixed_suno or await ctx.ensure(
            self.vendor_stream, str(command.vendor_id)
        )
        found = (
            seen[1]
            if seen is not None and time.monotonic() - seen[0] < JUST_READ_S
            else await self.line.find_invoice(supplier, command.sino)
        )
        if found is not None and found.line_count >= len(command.lines):
            return Written(Outcome.UNCHANGED, found.document)
        items: list[str | None] = []
        for line in command.lines:
            if line.sku is None:
                items.append(None)
            else:
                items.append(await ctx.ensure(*_item_stream(line.sku)))
        written = await self.line.write_invoice(
            mapping.line_invoice(command, supplier, items), found
        )
        return Written(Outcome.CREATED, written.document, {"document": written.document})

    async def read_back(self, command: ApDocument) -> TargetDocument | None:
        """The invoice by supplier + invoice number with the amount the line holds."""
        supplier = await self._supplier(command)
        if supplier is None:
            return None
        found = await self.line.find_invoice(supplier, command.sino)
        return TargetDocument(found.document, found.amount) if found is not None else None

    def reconciliation(self, kind: str) -> Reconciliation[ApDocument]:
        """AP documents of ``kind`` by invoice number and amount: the period's invoices are
        listed once (``InforLine.invoices``) and matched by the reference we stamp; only a
        document the list lacks is looked up by its key."""
        prefix = mapping.cori_prefix(kind)

        async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
            return [
                TargetDocument(
                    found.document,
                    found.amount,
                    source_id=found.reference.removeprefix(prefix),
                    date=found.invoice_date,
                    number=found.invoice_number,
                )
                async for found in self.line.invoices(start.isoformat(), end.isoformat())
                if found.reference.startswith(prefix)
            ]

        return Reconciliation(
            date=lambda c: mapping.iso_date(c.invoice_date),
            amount=lambda c: c.amount,
            number=lambda c: c.sino,
            read_back=self.read_back,
            listing=listing,
        )


class LineOrderTarget:
    """Purchase orders for ServiceTitan POs, by number; lines added once each (by number)."""

    def __init__(self, line: InforLine, vendor_stream: str, currency: str) -> None:
        self.line = line
        self.vendor_stream = vendor_stream
        self.currency = currency
        #: What ``find`` read, by order number, for the ``write`` that follows it at once.
        self._read: dict[str, tuple[float, FoundOrder | None]] = {}

    async def find(self, command: M3PurchaseOrderCommand) -> Found | None:
        if command.mirrors is not None:
            return Found(command.mirrors, matches=True)
        order = await self.line.find_order(command.puno)
        self._read[command.puno] = (time.monotonic(), order)
        if order is None:
            return None
        missing = {line.number for line in command.lines} - set(order.lines)
        if command.canceled or not missing:
            self._read.pop(command.puno, None)
            return Found(command.puno, matches=True)
        return None  # a head without all its lines: the doubt stays open until write

    async def write(
        self, command: M3PurchaseOrderCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if command.mirrors is not None:
            return Written(Outcome.UNCHANGED, command.mirrors)
        # The live read find made moments ago stands for this write (as for AP invoices):
        # reading the order again would cost a request per PO and learn nothing new.
        seen = self._read.pop(command.puno, None)
        order = (
            seen[1]
            if seen is not None and time.monotonic() - seen[0] < JUST_READ_S
            else await self.line.find_order(command.puno)
        )
        if command.canceled:
            reason = "canceled in ServiceTitan" + (
                "" if order is None else " after the line had it: cancel it there by hand"
            )
            ctx.note("not_written", {"reason": reason})
            return Written(Outcome.UNCHANGED, order.number if order is not None else "")
        missing = {line.number for line in command.lines} - set(order.lines if order else ())
        if not missing:
            return Written(Outcome.UNCHANGED, command.puno)
        supplier = await ctx.ensure(self.vendor_stream, str(command.vendor_id))
        lines = [
            LineOrderLine(
                number=line.number,
                item=await ctx.ensure(*_item_stream(line.sku)),
                quantity=line.quantity,
                price=line.price,
                description=line.description,
            )
            for line in command.lines
        ]
        await self.line.write_order(
            LineOrder(
                number=command.puno,
                supplier=supplier,
                order_date=mapping.iso_date(command.order_date) if command.order_date else "",
                currency=command.currency or self.currency,
                lines=tuple(lines),
            ),
            order,
        )
        created = order is None or existing is None
        return Written(Outcome.CREATED if created else Outcome.UPDATED, command.puno)


def build_line(
    flow_name: str,
    config: FlowConfig,
    source_config: ServiceTitanSystem,
    servicetitan: ServiceTitanClient,
    line: InforLine,
    store: Store,
) -> BuiltFlow:
    """Declare the flow's streams over ServiceTitan and a non-M3 line (no I/O here)."""
    options = common.parse_options(config, flow_name, Options)
    if options.ap_coding != "addline":
        # Left to run, the option would be ignored without a word: the operator asked for
        # recode batches and would get invoices coded on their lines.
        raise ConfigurationError(
            f'flows.{flow_name}.options.ap_coding = "{options.ap_coding}" is for M3 (APS450MI '
            f"recode batches); {line.product} takes each invoice line's account and cost "
            "center as it is written: remove ap_coding from the flow's options"
        )
    overlap = source_config.overlap_s
    length = line.supplier_code_length
    link = common.ledger_link(store, flow_name)
    vendors = VendorTarget(servicetitan)
    materials = MaterialTarget(servicetitan)
    documents = LineApTarget(line, link, "vendors_to_infor", length)
    items = LineItemTarget(line)

    def from_st(
        name: str, resource: str, model: type[Any], map_: Callable[[Any, MapContext], Any]
    ) -> dict[str, Any]:
        return {
            "name": name,
            "extract": servicetitan_incremental(
                servicetitan, RESOURCES[resource], overlap_s=overlap
            ),
            "fetch": servicetitan_fetch(servicetitan, RESOURCES[resource]),
            "decode": common.decoder(model),
            "encode": msgspec.json.encode,
            "map": map_,
        }

    def pricebook(kind: str, resource: str) -> Stream[st.PricebookItem, ItemCommand]:
        return Stream(
            **from_st(
                f"{resource}_to_infor",
                resource,
                st.PricebookItem,
                lambda item, ctx: mapping.map_pricebook_to_item(item, kind, options),
            ),
            target=items,
            reference=True,
        )

    # Neither the clearing supplier job invoices are booked against nor the template is
    # anyone's vendor: sent to ServiceTitan, a technician could buy from them.
    internal = {options.supplier_template, options.invoice_supplier}

    async def line_suppliers(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[LineSupplier] | CursorMark]:
        newest = cursor
        async for supplier in line.suppliers(None if full else cursor):
            newest = max(newest or "", supplier.changed) or None
            if supplier.code not in internal:
                yield Envelope(supplier.code, supplier)
        if newest:
            yield CursorMark(newest)

    async def line_items(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[LineItem] | CursorMark]:
        newest = cursor
        async for item in line.items(None if full else cursor):
            newest = max(newest or "", item.changed) or None
            yield Envelope(item.code, item)
        if newest:
            yield CursorMark(newest)

    streams: tuple[Stream[Any, Any], ...] = (
        Stream(
            **from_st(
                "vendors_to_infor",
                "vendors",
                st.Vendor,
                lambda vendor, ctx: mapping.map_vendor_to_line_supplier(vendor, ctx, length),
            ),
            target=LineSupplierTarget(line, options),
            reference=True,
        ),
        Stream(
            name="suppliers_to_st",
            extract=line_suppliers,
            fetch=line.get_supplier,
            decode=common.decoder(LineSupplier),
            encode=msgspec.json.encode,
            map=mapping.map_line_supplier_to_vendor,
            target=vendors,
            reference=True,
            source_id=lambda s: s.code,
            prepare=vendors.prepare,
        ),
        pricebook("material", "materials"),
        pricebook("equipment", "equipment"),
        Stream(
            name="items_to_st",
            extract=line_items,
            fetch=line.get_item,
            decode=common.decoder(LineItem),
            encode=msgspec.json.encode,
            map=mapping.map_line_item_to_material,
            target=materials,
            reference=True,
            source_id=lambda i: i.code,
            prepare=materials.prepare,
        ),
        Stream(
            **from_st(
                "purchase_orders_to_infor",
                "purchase_orders",
                st.PurchaseOrder,
                lambda po, ctx: mapping.map_po_to_line(po, ctx, options, length),
            ),
            target=LineOrderTarget(line, "vendors_to_infor", options.currency),
            workers=config.workers,
        ),
        Stream(
            **from_st(
                "ap_bills_to_infor",
                "ap_bills",
                st.ApBill,
                lambda bill, ctx: mapping.map_bill(bill, ctx, options),
            ),
            target=documents,
            workers=config.workers,
            reconcile=documents.reconciliation("bill"),
        ),
        Stream(
            **from_st(
                "invoices_to_infor",
                "invoices",
                st.Invoice,
                lambda invoice, ctx: mapping.map_invoice(invoice, ctx, options),
            ),
            target=documents,
            workers=config.workers,
            reconcile=documents.reconciliation("invoice"),
        ),
    )
    return BuiltFlow(Flow(flow_name, streams), dict(LINE_WEBHOOK_STREAMS))
