"""The LN line: suppliers (buy-from business partners), items, AP invoices, POs over OData.

Natural keys and where they live: a supplier is ``BusinessPartners(BusinessPartner)``, an
item ``Items(Item)``, a purchase order ``Orders(PurchaseOrder)`` with ``Lines(PurchaseOrder,
Line, Sequence)``. An AP invoice is found by ``InvoicefromBusinessPartner`` +
``SupplierInvoice``; LN numbers it (``TransactionType`` PIN + ``Document``) on create, and its
distribution lines are ``InvoiceLines`` numbered by us 1..N, so a header whose lines were
cut short is finished line by line and never created again.

Lookups go through collection queries with ``$filter`` rather than a GET by key: an empty
answer then means "absent", while a 404 can only mean a wrong service or company — which
must stop the flow, not make it create a record that exists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from connector.systems.infor.lines import (
    FoundInvoice,
    FoundOrder,
    LineInvoice,
    LineInvoiceLine,
    LineItem,
    LineOrder,
    LineSupplier,
)
from connector.systems.infor.ln.documents import DocumentWriter
from connector.systems.infor.ln.odata import NextLinkReader, ODataService, literal
from connector.systems.infor.paging import ListQuery

PARTNERS = ("tcapi.comBusinessPartner", "BusinessPartners")
ITEMS = ("tcapi.ibdItem", "Items")
INVOICES = ("tfapi.acpInvoice", "Invoices")
INVOICE_LINES = ("tfapi.acpInvoice", "InvoiceLines")
ORDERS = ("tdapi.purPurchaseOrder", "Orders")
ORDER_LINES = ("tdapi.purPurchaseOrder", "Lines")
MODIFIED = "LastModificationDateTime"
#: Navigation from a header to its lines, expanded so a lookup is one request.
LINE_REFS = "LineRefs"
#: LN's transaction type of purchase invoices.
PURCHASE_INVOICE = "PIN"
_KIND_GROUP = {"material": "MAT", "equipment": "EQP"}
_GROUP_KIND = {group: kind for kind, group in _KIND_GROUP.items()}


class LnCalls:
    """The OData service of one LN company, its reader, and the lookup helpers."""

    def __init__(self, service: ODataService, write_mode: str = "auto") -> None:
        self.service = service
        self.reader = NextLinkReader(service)
        self.writer = DocumentWriter(service, write_mode)

    @property
    def requests(self) -> int:
        """Requests sent to LN (every page and every line counts)."""
        return self.service.requests

    @requests.setter
    def requests(self, value: int) -> None:
        self.service.requests = value

    # -- helpers ------------------------------------------------------------------------
    async def _query(
        self,
        target: tuple[str, str],
        flt: str | None,
        *,
        record: str,
        select: Sequence[str] | None = None,
        expand: str | None = None,
    ) -> list[dict[str, Any]]:
        """One page of a filtered collection: lookups by key never need a second one."""
        params: dict[str, str] = {}
        if expand:
            params["$expand"] = expand
        if flt:
            params["$filter"] = flt
        if select:
            params["$select"] = ",".join(select)
        if record == "company check":
            params["$top"] = "1"
        page = await self.service.get(self.service.url(f"{target[0]}/{target[1]}"), params, record)
        rows: list[dict[str, Any]] = page.get("value", [])
        return rows

    async def _changed(
        self, target: tuple[str, str], key: str, changed_since: str | None
    ) -> AsyncIterator[dict[str, Any]]:
        inputs: dict[str, str] = {}
        if changed_since:
            inputs["$filter"] = f"{MODIFIED} ge {_odata_time(changed_since)}"
            inputs["$orderby"] = f"{MODIFIED},{key}"
        query = ListQuery(target[0], target[1], (key,), inputs or None)
        async for row in self.reader.entities(query):
            yield row


class LnDocuments(LnCalls):
    """AP invoices and purchase orders: found by natural key, written so they resume."""

    # -- AP invoices --------------------------------------------------------------------
    async def find_invoice(self, supplier: str, invoice_number: str) -> FoundInvoice | None:
        record = f"invoice {supplier}/{invoice_number}"
        headers = await self._query(
            INVOICES,
            f"InvoicefromBusinessPartner eq {literal(supplier)} and "
            f"SupplierInvoice eq {literal(invoice_number)}",
            record=record,
            expand=f"{LINE_REFS}($select=LineNumber)",
        )
        if not headers:
            return None
        # Two headers would be a duplicate made outside the connector; the first is ours to
        # finish, and the reconciliation report shows the other.
        header = min(headers, key=lambda h: int(h["Document"]))
        return _found_invoice(header, len(header.get(LINE_REFS, [])))

    async def write_invoice(
        self, invoice: LineInvoice, existing: FoundInvoice | None
    ) -> FoundInvoice:
        record = f"invoice {invoice.supplier}/{invoice.invoice_number}"
        lines = [_invoice_line(number, line) for number, line in enumerate(invoice.lines, 1)]
        if existing is None:
            # LN numbers the document, so the lines leave Document out: a deep insert or a
            # batch gives them the new header's, one by one they get it from the answer.
            header, _ = await self.writer.create(
                INVOICES,
                INVOICE_LINES[1],
                _invoice_body(invoice),
                lines,
                ("TransactionType", "Document"),
                record,
            )
            return _found_invoice(header, len(invoice.lines))
        document = int(existing.document)
        present = await self._line_numbers(document, record)
        missing = [
            {"Document": document, **line} for line in lines if line["LineNumber"] not in present
        ]
        await self.writer.add_lines(INVOICE_LINES[0], INVOICE_LINES[1], missing, record)
        return msgspec.structs.replace(existing, line_count=len(invoice.lines))

    async def invoices(self, date_from: str, date_to: str) -> AsyncIterator[FoundInvoice]:
        query = ListQuery(
            INVOICES[0],
            INVOICES[1],
            ("TransactionType", "Document"),
            {
                "$filter": f"InvoiceDate ge {date_from} and InvoiceDate le {date_to}",
                "$expand": f"{LINE_REFS}($select=LineNumber)",
            },
        )
        async for header in self.reader.entities(query):
            yield _found_invoice(header, len(header.get(LINE_REFS, [])))

    async def _line_numbers(self, document: int, record: str) -> set[int]:
        rows = await self._query(
            INVOICE_LINES,
            f"TransactionType eq {literal(PURCHASE_INVOICE)} and Document eq {document}",
            select=("LineNumber",),
            record=record,
        )
        return {int(row["LineNumber"]) for row in rows}

    # -- purchase orders ----------------------------------------------------------------
    async def find_order(self, number: str) -> FoundOrder | None:
        record = f"purchase order {number}"
        headers = await self._query(
            ORDERS,
            f"PurchaseOrder eq {literal(number)}",
            record=record,
            expand=f"{LINE_REFS}($select=Line)",
        )
        if not headers:
            return None
        lines = sorted(int(line["Line"]) for line in headers[0].get(LINE_REFS, []))
        return FoundOrder(number=number, lines=tuple(lines), version=str(headers[0]["@odata.etag"]))

    async def write_order(self, order: LineOrder, existing: FoundOrder | None) -> FoundOrder:
        record = f"purchase order {order.number}"
        present: set[int] = set()
        lines = [
            {
                "Line": line.number,
                "Sequence": 0,
                "Item": line.item,
                "OrderedQuantity": line.quantity,
                "Price": line.price,
                "Description": line.description[:30],
            }
            for line in order.lines
        ]
        if existing is None:
            header, _ = await self.writer.create(
                ORDERS,
                ORDER_LINES[1],
                {
                    "PurchaseOrder": order.number,
                    "BuyfromBusinessPartner": order.supplier,
                    "OrderDate": order.order_date,
                    "Currency": order.currency,
                },
                lines,
                ("PurchaseOrder",),
                record,
            )
            version = str(header.get("@odata.etag", ""))
        else:
            version = existing.version
            # Read live by find_order just before; lines are never removed in between.
            present = set(existing.lines)
            missing = [
                {"PurchaseOrder": order.number, **line}
                for line in lines
                if line["Line"] not in present
            ]
            await self.writer.add_lines(ORDER_LINES[0], ORDER_LINES[1], missing, record)
        numbers = present | {line.number for line in order.lines}
        return FoundOrder(number=order.number, lines=tuple(sorted(numbers)), version=version)


class LnLine(LnDocuments):
    """:class:`~connector.systems.infor.lines.InforLine` for Infor LN."""

    product: ClassVar[str] = "ln"
    supplier_code_length: ClassVar[int] = 9

    async def validate(self) -> None:
        await self._query(PARTNERS, None, select=("BusinessPartner",), record="company check")

    # -- suppliers ----------------------------------------------------------------------
    async def get_supplier(self, code: str) -> LineSupplier | None:
        rows = await self._query(
            PARTNERS, f"BusinessPartner eq {literal(code)}", record=f"supplier {code}"
        )
        return _supplier(rows[0]) if rows else None

    async def write_supplier(self, supplier: LineSupplier, existing: LineSupplier | None) -> None:
        body = {
            "Name": supplier.name[:35],
            "BusinessPartnerStatus": "Active" if supplier.active else "Inactive",
            "Currency": supplier.currency,
        }
        path = f"{PARTNERS[0]}/{PARTNERS[1]}"
        record = f"supplier {supplier.code}"
        if existing is None:
            await self.service.post(path, {"BusinessPartner": supplier.code, **body}, record)
            return
        etag = existing.version or await self._etag_of_supplier(supplier.code)
        await self.service.patch(f"{path}({literal(supplier.code)})", body, etag, record)

    async def _etag_of_supplier(self, code: str) -> str:
        found = await self.get_supplier(code)
        return found.version if found is not None else "*"

    async def suppliers(self, changed_since: str | None = None) -> AsyncIterator[LineSupplier]:
        async for row in self._changed(PARTNERS, "BusinessPartner", changed_since):
            yield _supplier(row)

    # -- items --------------------------------------------------------------------------
    async def get_item(self, code: str) -> LineItem | None:
        rows = await self._query(ITEMS, f"Item eq {literal(code)}", record=f"item {code}")
        return _item(rows[0]) if rows else None

    async def write_item(self, item: LineItem, existing: LineItem | None) -> None:
        body = {
            "Description": item.description[:30],
            "ItemGroup": _KIND_GROUP.get(item.kind, "MAT"),
            "InventoryUnit": item.unit,
            "ItemStatus": "Active" if item.active else "Inactive",
        }
        path = f"{ITEMS[0]}/{ITEMS[1]}"
        record = f"item {item.code}"
        if existing is None:
            await self.service.post(path, {"Item": item.code, **body}, record)
            return
        etag = existing.version
        if not etag:
            current = await self.get_item(item.code)
            etag = current.version if current is not None else "*"
        await self.service.patch(f"{path}({literal(item.code)})", body, etag, record)

    async def items(self, changed_since: str | None = None) -> AsyncIterator[LineItem]:
        async for row in self._changed(ITEMS, "Item", changed_since):
            yield _item(row)


def _odata_time(text: str) -> str:
    """An ISO 8601 time as an OData DateTimeOffset literal in UTC (``…Z``)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _supplier(row: dict[str, Any]) -> LineSupplier:
    return LineSupplier(
        code=str(row["BusinessPartner"]),
        name=str(row.get("Name") or ""),
        active=row.get("BusinessPartnerStatus") == "Active",
        currency=str(row.get("Currency") or "USD"),
        changed=str(row.get(MODIFIED) or ""),
        version=str(row.get("@odata.etag") or ""),
    )


def _item(row: dict[str, Any]) -> LineItem:
    return LineItem(
        code=str(row["Item"]),
        description=str(row.get("Description") or ""),
        kind=_GROUP_KIND.get(str(row.get("ItemGroup")), "material"),
        unit=str(row.get("InventoryUnit") or "EA"),
        active=row.get("ItemStatus") != "Inactive",
        changed=str(row.get(MODIFIED) or ""),
        version=str(row.get("@odata.etag") or ""),
    )


def _invoice_body(invoice: LineInvoice) -> dict[str, Any]:
    body: dict[str, Any] = {
        "TransactionType": PURCHASE_INVOICE,
        "InvoicefromBusinessPartner": invoice.supplier,
        "SupplierInvoice": invoice.invoice_number,
        "InvoiceDate": invoice.invoice_date,
        "DueDate": invoice.due_date,
        "Currency": invoice.currency,
        "InvoiceAmount": invoice.amount,
        "Reference": invoice.reference[:30],
    }
    if invoice.purchase_order:
        body["PurchaseOrder"] = invoice.purchase_order
    return body


def _invoice_line(number: int, line: LineInvoiceLine) -> dict[str, Any]:
    """An invoice line's body without its header's Document (which LN numbers)."""
    body: dict[str, Any] = {
        "TransactionType": PURCHASE_INVOICE,
        "LineNumber": number,
        "Amount": line.amount,
        "LedgerAccount": line.account,
        "CostCenter": line.cost_center,
        "Description": line.text[:30],
    }
    if line.item:
        body["Item"] = line.item
    return body


def _found_invoice(header: dict[str, Any], line_count: int) -> FoundInvoice:
    return FoundInvoice(
        document=str(header["Document"]),
        supplier=str(header["InvoicefromBusinessPartner"]),
        invoice_number=str(header["SupplierInvoice"]),
        amount=Decimal(str(header["InvoiceAmount"])),
        line_count=line_count,
        invoice_date=str(header.get("InvoiceDate") or ""),
        version=str(header.get("@odata.etag") or ""),
        reference=str(header.get("Reference") or ""),
    )
