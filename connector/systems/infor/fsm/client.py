"""The FSM line: vendors, items, payables invoices and purchase orders over Landmark REST.

Natural keys: a vendor is ``Vendor(VendorGroup, Vendor)``, an item ``Item(ItemGroup,
Item)``, a payables invoice ``PayablesInvoice(Company, Vendor, Invoice)`` with its
``PayablesInvoiceDistribution`` lines numbered 1..N by us, a purchase order
``PurchaseOrder(Company, PurchaseOrder)`` with ``PurchaseOrderLine``. The configured
``company`` is the vendor group, item group and company alike.

Landmark has no ETag. A change is guarded by the record's ``update.stamp``: the stamp read
with ``existing`` must still be the current one, else :class:`ConflictError` (re-read,
re-apply) — one extra read instead of a blind last-writer-wins. Lines go in **one** batch
action per document; a batch cut short is finished by sending only the lines still missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

from connector.errors import ConfigurationError, ConflictError
from connector.systems.infor.fsm.landmark import LandmarkService, LinksReader, lpl
from connector.systems.infor.lines import (
    FoundInvoice,
    FoundOrder,
    LineInvoice,
    LineItem,
    LineOrder,
    LineSupplier,
)
from connector.systems.infor.mi import Row
from connector.systems.infor.paging import ListQuery

STAMP = "update.stamp"
_KIND_CLASS = {"material": "MAT", "equipment": "EQP"}
_CLASS_KIND = {code: kind for kind, code in _KIND_CLASS.items()}
_INVOICES_PER_QUERY = 25


class FsmCalls:
    """The Landmark service and reader of one FSM company, and the list helpers."""

    def __init__(self, service: LandmarkService, company: str, page_size: int) -> None:
        self.service = service
        self.company = company
        self.reader = LinksReader(service, page_size)

    @property
    def requests(self) -> int:
        """Requests sent to FSM (every page and every batch counts once)."""
        return self.service.requests

    @requests.setter
    def requests(self, value: int) -> None:
        self.service.requests = value

    async def _list(
        self, business_class: str, condition: str, fields: Sequence[str] | None = None
    ) -> list[Row]:
        query = ListQuery(business_class, "_generic", (), {"_lplFilter": condition}, fields)
        return [row async for row in self.reader.rows(query)]

    async def _checked_stamp(
        self, business_class: str, condition: str, read: str, what: str
    ) -> None:
        """Raise ConflictError when the record changed since ``read`` (its stamp then)."""
        if not read:
            return
        rows = await self._list(business_class, condition, (STAMP,))
        if rows and rows[0][STAMP] != read:
            raise ConflictError(
                f"{what} changed in FSM since it was read ({read} → {rows[0][STAMP]}); "
                "it will be read again and the change re-applied",
                system="infor",
                record=what,
            )


class FsmDocuments(FsmCalls):
    """Payables invoices and purchase orders: found by natural key, finished when cut."""

    async def find_invoice(self, supplier: str, invoice_number: str) -> FoundInvoice | None:
        headers = await self._list("PayablesInvoice", self._invoice_where(supplier, invoice_number))
        if not headers:
            return None
        lines = await self._distributions(supplier, invoice_number)
        return _found_invoice(headers[0], len(lines))

    async def write_invoice(
        self, invoice: LineInvoice, existing: FoundInvoice | None
    ) -> FoundInvoice:
        record = f"invoice {invoice.supplier}/{invoice.invoice_number}"
        present: set[int] = set()
        if existing is None:
            header = {
                "Company": self.company,
                "Vendor": invoice.supplier,
                "Invoice": invoice.invoice_number,
                "InvoiceDate": _fsm_date(invoice.invoice_date),
                "DueDate": _fsm_date(invoice.due_date),
                "InvoiceAmount": str(invoice.amount),
                "CurrencyCode": invoice.currency,
                "Description": invoice.reference[:30],
            }
            if invoice.purchase_order:
                header["PurchaseOrder"] = invoice.purchase_order
            await self.service.act("PayablesInvoice", "Create", [header], record)
        else:
            present = await self._distributions(invoice.supplier, invoice.invoice_number)
        missing = [
            {
                "Company": self.company,
                "Vendor": invoice.supplier,
                "Invoice": invoice.invoice_number,
                "DistributionSequence": str(number),
                "DistributionAmount": str(line.amount),
                "DistributionAccount": line.account,
                "AccountingUnit": line.cost_center,
                "Description": line.text[:30],
                **({"Item": line.item} if line.item else {}),
            }
            for number, line in enumerate(invoice.lines, start=1)
            if number not in present
        ]
        if missing:
            await self.service.act("PayablesInvoiceDistribution", "Create", missing, record)
        return FoundInvoice(
            document=invoice.invoice_number,
            supplier=invoice.supplier,
            invoice_number=invoice.invoice_number,
            amount=invoice.amount if existing is None else existing.amount,
            line_count=len(present) + len(missing),
            invoice_date=invoice.invoice_date,
            version=existing.version if existing is not None else "",
        )

    async def invoices(self, date_from: str, date_to: str) -> AsyncIterator[FoundInvoice]:
        condition = (
            f"Company = {lpl(self.company)} and InvoiceDate >= {lpl(_fsm_date(date_from))} "
            f"and InvoiceDate <= {lpl(_fsm_date(date_to))}"
        )
        query = ListQuery("PayablesInvoice", "_generic", (), {"_lplFilter": condition})
        batch: list[Row] = []
        async for header in self.reader.rows(query):
            batch.append(header)
            if len(batch) == _INVOICES_PER_QUERY:
                for found in await self._with_line_counts(batch):
                    yield found
                batch = []
        for found in await self._with_line_counts(batch):
            yield found

    async def _with_line_counts(self, headers: Sequence[Row]) -> list[FoundInvoice]:
        if not headers:
            return []
        either = " or ".join(
            f"(Vendor = {lpl(h['Vendor'])} and Invoice = {lpl(h['Invoice'])})" for h in headers
        )
        lines = await self._list(
            "PayablesInvoiceDistribution",
            f"Company = {lpl(self.company)} and ({either})",
            ("Vendor", "Invoice", "DistributionSequence"),
        )
        counts: dict[tuple[str, str], int] = {}
        for line in lines:
            key = (line["Vendor"], line["Invoice"])
            counts[key] = counts.get(key, 0) + 1
        return [_found_invoice(h, counts.get((h["Vendor"], h["Invoice"]), 0)) for h in headers]

    async def _distributions(self, supplier: str, invoice_number: str) -> set[int]:
        rows = await self._list(
            "PayablesInvoiceDistribution",
            self._invoice_where(supplier, invoice_number),
            ("DistributionSequence",),
        )
        return {int(row["DistributionSequence"]) for row in rows}

    def _invoice_where(self, supplier: str, invoice_number: str) -> str:
        return (
            f"Company = {lpl(self.company)} and Vendor = {lpl(supplier)} and "
            f"Invoice = {lpl(invoice_number)}"
        )

    async def find_order(self, number: str) -> FoundOrder | None:
        where = f"Company = {lpl(self.company)} and PurchaseOrder = {lpl(number)}"
        headers = await self._list("PurchaseOrder", where, ("PurchaseOrder", STAMP))
        if not headers:
            return None
        lines = await self._list("PurchaseOrderLine", where, ("PurchaseOrderLine",))
        return FoundOrder(
            number=number,
            lines=tuple(sorted(int(r["PurchaseOrderLine"]) for r in lines)),
            version=headers[0][STAMP],
        )

    async def write_order(self, order: LineOrder, existing: FoundOrder | None) -> FoundOrder:
        record = f"purchase order {order.number}"
        present = set(existing.lines) if existing is not None else set()
        if existing is None:
            header = {
                "Company": self.company,
                "PurchaseOrder": order.number,
                "Vendor": order.supplier,
                "OrderDate": _fsm_date(order.order_date),
                "CurrencyCode": order.currency,
            }
            await self.service.act("PurchaseOrder", "Create", [header], record)
        missing = [
            {
                "Company": self.company,
                "PurchaseOrder": order.number,
                "PurchaseOrderLine": str(line.number),
                "Item": line.item,
                "Quantity": str(line.quantity),
                "UnitCost": str(line.price),
                "Description": line.description[:30],
            }
            for line in order.lines
            if line.number not in present
        ]
        if missing:
            await self.service.act("PurchaseOrderLine", "Create", missing, record)
        numbers = present | {int(m["PurchaseOrderLine"]) for m in missing}
        return FoundOrder(
            number=order.number,
            lines=tuple(sorted(numbers)),
            version=existing.version if existing is not None else "",
        )


class FsmLine(FsmDocuments):
    """:class:`~connector.systems.infor.lines.InforLine` for Infor FSM."""

    product: ClassVar[str] = "fsm"
    supplier_code_length: ClassVar[int] = 9

    async def validate(self) -> None:
        """The configured company is set up in FSM. A list filtered on a company that does
        not exist answers empty rather than failing, so without this check a wrong company
        would pass and every vendor would be created under it."""
        rows = await self._list(
            "PayablesCompany", f"PayablesCompany = {lpl(self.company)}", ("PayablesCompany",)
        )
        if not rows:
            raise ConfigurationError(
                f"FSM has no payables company {self.company!r}: set company of this Infor "
                "system to the FSM finance company the connector writes to (it is also the "
                "vendor group and item group of what it creates)",
                system="infor",
                record=f"company {self.company}",
            )

    async def get_supplier(self, code: str) -> LineSupplier | None:
        rows = await self._list("Vendor", self._vendor_where(code))
        return _supplier(rows[0]) if rows else None

    async def write_supplier(self, supplier: LineSupplier, existing: LineSupplier | None) -> None:
        fields = {
            "VendorGroup": self.company,
            "Vendor": supplier.code,
            "VendorName": supplier.name[:30],
            "VendorStatus": "Active" if supplier.active else "Inactive",
            "CurrencyCode": supplier.currency,
        }
        record = f"supplier {supplier.code}"
        if existing is None:
            await self.service.act("Vendor", "Create", [fields], record)
            return
        await self._checked_stamp(
            "Vendor", self._vendor_where(supplier.code), existing.version, record
        )
        await self.service.act("Vendor", "Update", [fields], record)

    async def suppliers(self, changed_since: str | None = None) -> AsyncIterator[LineSupplier]:
        condition = f"VendorGroup = {lpl(self.company)}" + _since(changed_since)
        query = ListQuery("Vendor", "_generic", (), {"_lplFilter": condition})
        async for row in self.reader.rows(query):
            yield _supplier(row)

    async def get_item(self, code: str) -> LineItem | None:
        rows = await self._list("Item", self._item_where(code))
        return _item(rows[0]) if rows else None

    async def write_item(self, item: LineItem, existing: LineItem | None) -> None:
        fields = {
            "ItemGroup": self.company,
            "Item": item.code,
            "Description": item.description[:30],
            "ItemClass": _KIND_CLASS.get(item.kind, "MAT"),
            "StockUOM": item.unit,
            "Status": "Active" if item.active else "Inactive",
        }
        record = f"item {item.code}"
        if existing is None:
            await self.service.act("Item", "Create", [fields], record)
            return
        await self._checked_stamp("Item", self._item_where(item.code), existing.version, record)
        await self.service.act("Item", "Update", [fields], record)

    async def items(self, changed_since: str | None = None) -> AsyncIterator[LineItem]:
        condition = f"ItemGroup = {lpl(self.company)}" + _since(changed_since)
        query = ListQuery("Item", "_generic", (), {"_lplFilter": condition})
        async for row in self.reader.rows(query):
            yield _item(row)

    def _vendor_where(self, code: str) -> str:
        return f"VendorGroup = {lpl(self.company)} and Vendor = {lpl(code)}"

    def _item_where(self, code: str) -> str:
        return f"ItemGroup = {lpl(self.company)} and Item = {lpl(code)}"


def _since(changed_since: str | None) -> str:
    if not changed_since:
        return ""
    moment = datetime.fromisoformat(changed_since.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f" and {STAMP} >= {lpl(stamp)}"


def _fsm_date(iso: str) -> str:
    """YYYY-MM-DD → yyyyMMdd (FSM's date format); "" stays ""."""
    return iso.replace("-", "")


def _iso_date(fsm: str) -> str:
    return f"{fsm[:4]}-{fsm[4:6]}-{fsm[6:8]}" if len(fsm) == 8 else fsm


def _supplier(row: Row) -> LineSupplier:
    return LineSupplier(
        code=row["Vendor"],
        name=row.get("VendorName", ""),
        active=row.get("VendorStatus") == "Active",
        currency=row.get("CurrencyCode") or "USD",
        changed=row.get(STAMP, ""),
        version=row.get(STAMP, ""),
    )


def _item(row: Row) -> LineItem:
    return LineItem(
        code=row["Item"],
        description=row.get("Description", ""),
        kind=_CLASS_KIND.get(row.get("ItemClass", ""), "material"),
        unit=row.get("StockUOM") or "EA",
        active=row.get("Status") != "Inactive",
        changed=row.get(STAMP, ""),
        version=row.get(STAMP, ""),
    )


def _found_invoice(header: Row, line_count: int) -> FoundInvoice:
    return FoundInvoice(
        document=header["Invoice"],
        supplier=header["Vendor"],
        invoice_number=header["Invoice"],
        amount=Decimal(header.get("InvoiceAmount") or "0"),
        line_count=line_count,
        invoice_date=_iso_date(header.get("InvoiceDate", "")),
        version=header.get(STAMP, ""),
        reference=header.get("Description", ""),
    )
