"""The SYSPRO business API the flows use: post, set up, and find by natural key.

Contract:

* Every write is one document with one item, sent with ``ApplyIfEntireDocumentValid`` Y, so
  an answer is all or nothing for that record. A refusal — an ``ERROR:`` text or per-field
  errors inside the XMLOUT, both with HTTP 200 — raises ``RejectedError`` naming the record,
  the field blamed and SYSPRO's error number. Nothing was posted then.
* A write whose answer is lost raises ``InDoubtError`` (the HTTP kit never resends it). The
  caller settles it with the matching ``find_*``: a live COMFND query on the natural key
  (supplier + invoice, supplier code, PO number, adjustment reference), never a cache.
  SYSPRO posts a document atomically, so a record that is found is complete.
* Calls on one client run one at a time (one UserId); run one client per worker for
  parallelism, each from its own ``connection.session()``.
"""

from __future__ import annotations

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import TypeVar

import msgspec

from connector.errors import InDoubtError, RejectedError
from connector.systems.syspro import documents, xmlout
from connector.systems.syspro.documents import Condition
from connector.systems.syspro.enet import EnetSession
from connector.systems.syspro.models import (
    ApInvoice,
    ApInvoiceRecord,
    InventoryAdjustment,
    InventoryMovementRecord,
    LogonProfile,
    PostedAdjustment,
    PostedApInvoice,
    PostOptions,
    PurchaseOrder,
    PurchaseOrderRecord,
    Supplier,
    SupplierRecord,
)
from connector.systems.syspro.xmlout import SYSTEM

log = logging.getLogger(__name__)

T = TypeVar("T", bound=msgspec.Struct)
DEFAULT_OPTIONS = PostOptions()


class SysproClient:
    """Business objects of one SYSPRO company over one e.net session (module contract)."""

    def __init__(self, session: EnetSession) -> None:
        self.session = session

    def __repr__(self) -> str:
        return f"SysproClient(session={self.session!r})"

    async def logon_profile(self) -> LogonProfile:
        """The session's company, operator and company date (``GetLogonProfile``): a cheap
        check that the e.net service, the credentials and the company all work."""
        body = await self.session.call(
            "GetLogonProfile", [], write=False, record="logon profile", what="GetLogonProfile"
        )
        root = xmlout.parse(body, what="GetLogonProfile", record="logon profile", write=False)
        date = (root.findtext("companydate") or "").strip()
        try:
            company_date = dt.date.fromisoformat(date) if date else None
        except ValueError:
            company_date = None
        return LogonProfile(
            company_name=(root.findtext("companyname") or "").strip(),
            operator_code=(root.findtext("operatorcode") or "").strip(),
            company_date=company_date,
            local_currency=(root.findtext("localcurrencycode") or "").strip(),
        )

    # -- writes ---------------------------------------------------------------------------
    async def post_ap_invoice(
        self, invoice: ApInvoice, options: PostOptions = DEFAULT_OPTIONS
    ) -> PostedApInvoice:
        """Post an AP invoice with APSTIN; its journal and period (zeros when validate_only)."""
        params = documents.parameters(documents.AP_INVOICE_ROOT, options, posting_period=True)
        item = await self._post(
            "APSTIN", params, documents.ap_invoice(invoice), invoice.record, options
        )
        return PostedApInvoice(
            journal=_number(item, "journal"),
            year=_number(item, "trnyear"),
            month=_number(item, "trnmonth"),
        )

    async def add_supplier(
        self, supplier: Supplier, options: PostOptions = DEFAULT_OPTIONS
    ) -> None:
        """Create a supplier with APSSSP ``Setup/Add`` (refused if the code exists)."""
        await self._setup("Add", supplier, options)

    async def update_supplier(
        self, supplier: Supplier, options: PostOptions = DEFAULT_OPTIONS
    ) -> None:
        """Change the non-None fields of a supplier with APSSSP ``Setup/Update``."""
        await self._setup("Update", supplier, options)

    async def post_purchase_order(
        self, order: PurchaseOrder, options: PostOptions = DEFAULT_OPTIONS
    ) -> str:
        """Add a purchase order with PORTOI; the PO number SYSPRO answers."""
        params = documents.parameters(documents.PURCHASE_ORDER_ROOT, options)
        item = await self._post(
            "PORTOI", params, documents.purchase_order(order), order.record, options
        )
        return (item.findtext("key/purchaseorder") or order.number).strip()

    async def post_inventory_adjustment(
        self, adjustment: InventoryAdjustment, options: PostOptions = DEFAULT_OPTIONS
    ) -> PostedAdjustment:
        """Post one inventory adjustment with INVTMA; its inventory and GL journals."""
        params = documents.parameters(documents.ADJUSTMENT_ROOT, options)
        item = await self._post(
            "INVTMA",
            params,
            documents.inventory_adjustment(adjustment),
            adjustment.record,
            options,
        )
        return PostedAdjustment(
            journal=_number(item, "journal"), gl_journal=_number(item, "gljournal")
        )

    # -- live look-ups by natural key -----------------------------------------------------
    async def find_ap_invoice(self, supplier: str, invoice: str) -> ApInvoiceRecord | None:
        """The AP invoice ``invoice`` of ``supplier`` as SYSPRO holds it now, or None."""
        rows = await self.query(
            ApInvoiceRecord,
            [Condition("Supplier", supplier), Condition("Invoice", invoice)],
            record=f"AP invoice {invoice} of supplier {supplier}",
        )
        if len(rows) > 1:
            log.warning(
                "syspro: supplier %s has %d invoices numbered %s; using the first",
                supplier,
                len(rows),
                invoice,
            )
        return rows[0] if rows else None

    async def find_supplier(self, code: str) -> SupplierRecord | None:
        rows = await self.query(
            SupplierRecord, [Condition("Supplier", code)], record=f"supplier {code}"
        )
        return rows[0] if rows else None

    async def find_purchase_order(self, number: str) -> PurchaseOrderRecord | None:
        rows = await self.query(
            PurchaseOrderRecord,
            [Condition("PurchaseOrder", number)],
            record=f"purchase order {number}",
        )
        return rows[0] if rows else None

    async def find_inventory_adjustments(
        self, reference: str, *, stock_code: str | None = None, warehouse: str | None = None
    ) -> list[InventoryMovementRecord]:
        """Inventory movements carrying ``reference`` (SYSPRO does not keep them unique)."""
        conditions = [Condition("Reference", reference)]
        if stock_code is not None:
            conditions.append(Condition("StockCode", stock_code))
        if warehouse is not None:
            conditions.append(Condition("Warehouse", warehouse))
        return await self.query(
            InventoryMovementRecord, conditions, record=f"inventory adjustment {reference}"
        )

    async def query(
        self,
        record_type: type[T],
        conditions: Iterable[Condition],
        *,
        record: str,
        return_rows: int = 0,
    ) -> list[T]:
        """Rows of ``record_type``'s table matching every condition, via COMFND."""
        table: str = getattr(record_type, "table")  # noqa: B009 - a ClassVar of the record type
        columns = [f.encode_name for f in msgspec.structs.fields(record_type)]
        body = await self.session.call(
            "Query/Query",
            [
                ("BusinessObject", "COMFND"),
                ("XmlIn", documents.comfnd(table, conditions, columns, return_rows)),
            ],
            write=False,
            record=record,
            what=f"COMFND query of {table}",
        )
        root = xmlout.parse(body, what=f"COMFND query of {table}", record=record, write=False)
        by_lower = {name.lower(): name for name in columns}
        rows = []
        for row in root.iter("row"):
            values = {
                by_lower[cell.tag]: (cell.text or "").strip()
                for cell in row
                if cell.tag in by_lower and (cell.text or "").strip()
            }
            try:
                rows.append(msgspec.convert(values, record_type, strict=False))
            except msgspec.ValidationError as exc:
                raise RejectedError(
                    f"a {table} row SYSPRO returned for {record} does not fit the connector's "
                    f"model ({exc}); report it with this message",
                    system=SYSTEM,
                    record=record,
                    code="unexpected_response",
                ) from None
        return rows

    # -- the common posting path ------------------------------------------------------------
    async def _setup(self, action: str, supplier: Supplier, options: PostOptions) -> None:
        params = documents.parameters(documents.SUPPLIER_ROOT, options)
        what = f"APSSSP Setup/{action}"
        body = await self.session.call(
            f"Setup/{action}",
            [
                ("BusinessObject", "APSSSP"),
                ("XmlParameters", params),
                ("XmlIn", documents.supplier(supplier)),
            ],
            write=True,
            record=supplier.record,
            what=what,
        )
        root = xmlout.parse(body, what=what, record=supplier.record, write=True)
        xmlout.raise_for_field_errors(root, what=what, record=supplier.record)

    async def _post(
        self, business_object: str, params: str, xml_in: str, record: str, options: PostOptions
    ) -> ET.Element:
        what = f"{business_object} post"
        body = await self.session.call(
            "Transaction/Post",
            [("BusinessObject", business_object), ("XmlParameters", params), ("XmlIn", xml_in)],
            write=True,
            record=record,
            what=what,
        )
        root = xmlout.parse(body, what=what, record=record, write=True)
        xmlout.raise_for_field_errors(root, what=what, record=record)
        item = next((child for child in root if child.tag in ("item", "order")), None)
        if item is None or (
            not options.validate_only and xmlout.count(root, "ItemsProcessed") != 1
        ):
            raise InDoubtError(
                f"the {what} answered without one processed item and without an error; it "
                "may or may not have been posted: look the record up in SYSPRO by its natural "
                "key before sending it again, and report this answer",
                system=SYSTEM,
                record=record,
            )
        return item


def _number(item: ET.Element, name: str) -> int:
    text = (item.findtext(name) or "").strip()
    return int(text) if text.isdigit() else 0
