"""ServiceTitan ↔ SYSPRO: every mapping of this pairing, as pure functions.

Field ownership, so an update never ping-pongs between the systems:

* **Vendors and suppliers** are linked by code. A ServiceTitan vendor becomes SYSPRO
  supplier ``ST<id>``; ServiceTitan owns it, so a renamed or deactivated vendor renames the
  supplier or puts it on hold. A SYSPRO supplier becomes a ServiceTitan vendor stamped with
  its code in ``externalData`` (``syspro.supplier``); SYSPRO owns it, so name and active
  flag travel SYSPRO → ServiceTitan only, and the vendor never writes back. Suppliers coded
  ``ST…`` are ServiceTitan's and never travel back as new vendors.
* **Purchase orders** move both ways, each created once on the other side and owned by the
  side it was entered on. A ServiceTitan PO becomes SYSPRO PO ``ST<id>`` (PORTOI); a SYSPRO
  PO becomes a ServiceTitan PO whose memo says ``SYSPRO PO <number>``. Those two marks stop a
  copy from returning as a new order.
* **Job invoices** move ServiceTitan → SYSPRO AP (APSTIN) on the supplier named by
  ``options.invoice_supplier``; nothing financial is written back.
* **Inventory adjustments** move ServiceTitan → SYSPRO (INVTMA), one SYSPRO movement per
  adjustment line, referenced ``STADJ<id>/<line>``.

Mapping tables (``[mappings.<kind>]``; a missing entry puts the record in review):

* :data:`GL_ACCOUNT` ServiceTitan GL account number → SYSPRO ledger code;
* :data:`BRANCH` ServiceTitan business unit id → SYSPRO AP branch;
* :data:`STOCK_CODE` ServiceTitan pricebook code (services, materials, equipment) → SYSPRO
  stock code;
* :data:`STOCK_TO_ST` SYSPRO stock code → ServiceTitan pricebook code (material/equipment)
  of the ServiceTitan POs made from SYSPRO ones;
* :data:`WAREHOUSE` ServiceTitan inventory location id → SYSPRO warehouse (else
  ``options.default_warehouse``).

Mappers read the tables through :class:`MapContext` and raise ``MappingError`` (review) or
``SourceDataError`` (dead letter). They do no I/O: vendors are carried as ServiceTitan ids
and supplier codes, resolved by the loader.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import msgspec

from connector.errors import MappingError, SourceDataError
from connector.flows import common
from connector.runtime.flow import MapContext
from connector.systems.servicetitan import models as st
from connector.systems.syspro.models import (
    ApInvoice,
    ApInvoiceRecord,
    LedgerLine,
    PurchaseOrderLineRecord,
    PurchaseOrderRecord,
    SupplierRecord,
)

#: Mapping table: ServiceTitan GL account number → SYSPRO ledger code.
GL_ACCOUNT = "syspro_gl_account"
#: Mapping table: ServiceTitan business unit id → SYSPRO AP branch.
BRANCH = "syspro_branch"
#: Mapping table: ServiceTitan pricebook code → SYSPRO stock code.
STOCK_CODE = "syspro_stock_code"
#: Mapping table: SYSPRO stock code → ServiceTitan pricebook code (POs made from SYSPRO ones).
STOCK_TO_ST = "syspro_stock_to_st"
#: Mapping table: ServiceTitan inventory location id → SYSPRO warehouse.
WAREHOUSE = "syspro_warehouse"

#: Where a ServiceTitan vendor made from a SYSPRO supplier carries the supplier code.
SUPPLIER_KEY = "syspro.supplier"
#: The memo of a ServiceTitan PO made from a SYSPRO one starts with this, then the number.
SYSPRO_PO_MEMO = "SYSPRO PO"
_SYSPRO_PO_MEMO = re.compile(rf"\b{SYSPRO_PO_MEMO} ([0-9A-Za-z\-]{{1,20}})\b")
#: ``TransactionReference`` of an AP invoice posted from a ServiceTitan invoice.
_INVOICE_REFERENCE = re.compile(r"^ST invoice (\d{1,18})$")
#: SYSPRO key lengths: supplier 15, AP invoice number 20, PO number 20, stock code 30.
SUPPLIER_LEN, INVOICE_LEN = 15, 20
#: Invoice items that name a pricebook sku, so they carry a SYSPRO stock code.
SKU_TYPES = ("Service", "Material", "Equipment")


class Options(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The pairing's settings (``[flows.servicetitan-syspro.options]``)."""

    #: SYSPRO supplier that ServiceTitan job invoices are posted against (a clearing supplier;
    #: it must exist in SYSPRO).
    invoice_supplier: str = "STCLEAR"
    #: Ledger code for an invoice line whose GL account has no mapping; blank = review.
    default_ledger_code: str = ""
    #: APSTIN ``TaxCode`` of the posted invoices (blank = the supplier's default).
    tax_code: str = ""
    #: APSTIN ``PostingPeriod``: C current, P previous, B by invoice date.
    posting_period: str = "C"
    #: SYSPRO warehouse of POs and adjustments whose inventory location has no mapping.
    default_warehouse: str = "FG"
    #: APSSSP fields of new suppliers made from ServiceTitan vendors (blank = SYSPRO's default).
    supplier_branch: str = ""
    supplier_terms_code: str = ""
    supplier_currency: str = ""
    #: ServiceTitan PO type, business unit and inventory location of POs made from SYSPRO
    #: ones. The defaults are the sandbox tenant's: set them for a real tenant. The type must
    #: not receive automatically, or every SYSPRO order would become a ServiceTitan bill.
    st_po_type_id: int = 5001
    st_po_business_unit_id: int = 1001
    st_po_location_id: int = 4001


# -- source records read from SYSPRO ----------------------------------------------------
class SysproOrder(msgspec.Struct, frozen=True):
    """A SYSPRO purchase order as read by OData: its header and its lines."""

    head: PurchaseOrderRecord
    lines: tuple[PurchaseOrderLineRecord, ...]


# -- commands -----------------------------------------------------------------------------
class SupplierCommand(msgspec.Struct, frozen=True):
    """Make ServiceTitan vendor ``vendor_id`` exist in SYSPRO as supplier ``code``.

    ``linked``: the vendor was made from SYSPRO supplier ``code`` (SYSPRO owns it)."""

    vendor_id: int
    code: str
    name: str
    active: bool
    linked: bool


class VendorCommand(msgspec.Struct, frozen=True):
    """Make SYSPRO supplier ``code`` exist in ServiceTitan; SYSPRO owns name and active."""

    code: str
    name: str
    active: bool


class SysproPoLine(msgspec.Struct, frozen=True):
    line: int
    stock_code: str
    quantity: Decimal
    price: Decimal


class SysproPurchaseOrderCommand(msgspec.Struct, frozen=True):
    """Make ServiceTitan PO ``source_id`` exist in SYSPRO as PO ``number``, unless it is a
    copy of a SYSPRO order (``mirrors``) or canceled: those are never written."""

    source_id: str
    number: str
    mirrors: str | None = None
    canceled: bool = False
    vendor_id: int = 0
    order_date: dt.date | None = None
    warehouse: str = ""
    lines: tuple[SysproPoLine, ...] = ()


class StPoLine(msgspec.Struct, frozen=True):
    """One SYSPRO PO line for ServiceTitan; ``code`` is resolved to a pricebook sku."""

    code: str
    description: str
    quantity: Decimal
    cost: Decimal


class StPurchaseOrderCommand(msgspec.Struct, frozen=True):
    """Make SYSPRO PO ``number`` exist in ServiceTitan (created once, never updated)."""

    number: str
    supplier: str
    type_id: int
    business_unit_id: int
    location_id: int
    date: str  # ISO 8601
    memo: str
    lines: tuple[StPoLine, ...]


class AdjustmentLine(msgspec.Struct, frozen=True):
    """One INVTMA movement; ``reference`` is its natural key with stock code and warehouse."""

    reference: str
    warehouse: str
    stock_code: str
    quantity: Decimal
    notation: str


class AdjustmentCommand(msgspec.Struct, frozen=True):
    """Make ServiceTitan adjustment ``source_id`` exist in SYSPRO, one movement per line."""

    source_id: str
    lines: tuple[AdjustmentLine, ...]


class ExportedCommand(msgspec.Struct, frozen=True):
    """Mark ServiceTitan invoice ``invoice_id`` exported: SYSPRO AP holds it."""

    invoice_id: int
    supplier: str
    invoice: str


# -- vendors and suppliers ----------------------------------------------------------------
def supplier_code(vendor_id: int) -> str:
    """The SYSPRO code of a supplier made from a ServiceTitan vendor."""
    return f"ST{vendor_id}"


def vendor_id_from_code(code: str) -> int | None:
    """Inverse of :func:`supplier_code` (a supplier ServiceTitan owns), else None."""
    if code.startswith("ST") and code[2:].isdigit():
        return int(code[2:])
    return None


def map_vendor_to_supplier(vendor: st.Vendor, ctx: MapContext) -> SupplierCommand:
    record = f"vendor {vendor.id}"
    name = common.text(vendor.name, 50)
    if not name:
        raise SourceDataError(f"{record} has no name", record=record, field="name")
    linked = next((d.value for d in vendor.external_data or () if d.key == SUPPLIER_KEY), None)
    code = linked or supplier_code(vendor.id)
    if len(code) > SUPPLIER_LEN:
        raise SourceDataError(
            f"{record}: supplier code {code!r} is longer than SYSPRO's {SUPPLIER_LEN} characters",
            record=record,
            field="id",
        )
    return SupplierCommand(vendor.id, code, name, vendor.active, linked is not None)


def map_supplier_to_vendor(supplier: SupplierRecord, ctx: MapContext) -> VendorCommand:
    record = f"supplier {supplier.supplier}"
    name = common.text(supplier.supplier_name, 100)
    if not name:
        raise SourceDataError(f"{record} has no name", record=record, field="SupplierName")
    return VendorCommand(supplier.supplier, name, supplier.on_hold.upper() != "Y")


# -- job invoices → AP invoices -----------------------------------------------------------
def invoice_reference(invoice_id: int) -> str:
    """``TransactionReference`` of the AP invoice made from a ServiceTitan invoice."""
    return f"ST invoice {invoice_id}"


def invoice_id_from_reference(reference: str) -> int | None:
    """Inverse of :func:`invoice_reference`: the ServiceTitan invoice an AP invoice came from."""
    match = _INVOICE_REFERENCE.match(reference.strip())
    return int(match[1]) if match else None


def _ledger_code(ref: st.GLAccountRef | None, ctx: MapContext, options: Options, where: str) -> str:
    number = (ref.number or "").strip() if ref else ""
    mapped = ctx.lookup(GL_ACCOUNT, number) if number else None
    if mapped is not None:
        return mapped
    if options.default_ledger_code:
        return options.default_ledger_code
    shown = number or "(none)"
    raise MappingError(
        f"{where}: ServiceTitan GL account {shown} has no SYSPRO ledger code. Add it: "
        f"ml-connector review resolve --mapping {GL_ACCOUNT} {shown}=<SYSPRO ledger code>",
        record=where,
        mapping_kind=GL_ACCOUNT,
        mapping_key=number,
    )


def stock_code(code: str | None, ctx: MapContext, where: str) -> str:
    """The SYSPRO stock code of a ServiceTitan pricebook code (review when unmapped)."""
    key = (code or "").strip()
    if not key:
        raise SourceDataError(f"{where} names no pricebook code", record=where, field="code")
    mapped = ctx.lookup(STOCK_CODE, key)
    if mapped is None:
        raise MappingError(
            f"{where}: ServiceTitan pricebook item {key} has no SYSPRO stock code. Add it: "
            f"ml-connector review resolve --mapping {STOCK_CODE} {key}=<SYSPRO stock code>",
            record=where,
            mapping_kind=STOCK_CODE,
            mapping_key=key,
        )
    return mapped


def _branch(unit: st.NamedField | None, ctx: MapContext, record: str) -> str:
    if unit is None:
        raise SourceDataError(f"{record} has no business unit", record=record, field="businessUnit")
    branch = ctx.lookup(BRANCH, str(unit.id))
    if branch is None:
        raise MappingError(
            f"{record}: business unit {unit.id} ({unit.name or 'unnamed'}) has no SYSPRO AP "
            f"branch. Add it: ml-connector review resolve --mapping {BRANCH} {unit.id}=<branch>",
            record=record,
            mapping_kind=BRANCH,
            mapping_key=str(unit.id),
        )
    return branch


def map_invoice(invoice: st.Invoice, ctx: MapContext, options: Options) -> ApInvoice:
    """A job invoice → one APSTIN AP invoice on the clearing supplier, one GL line per item.

    The SYSPRO invoice number is ``ST-<reference number>`` (the natural key with the supplier);
    each line's notation names the item's SYSPRO stock code, so the AP distribution says
    which stock item it was.
    """
    record = f"invoice {invoice.id}"
    branch = _branch(invoice.business_unit, ctx, record)
    value = common.money(invoice.total, record=record, field="total")
    if value < 0:
        raise SourceDataError(
            f"{record} is a credit (total {value}); this flow posts job invoices as APSTIN "
            "invoices only: enter the credit note in SYSPRO by hand (this dead letter stays "
            "as the record that it was not posted)",
            record=record,
            field="total",
        )
    tax = common.money(invoice.sales_tax or "0", record=record, field="salesTax")
    lines: list[LedgerLine] = []
    for item in invoice.items or ():
        where = f"{record} line {item.order or item.id}"
        common.quantity(item.quantity, record=where, field="quantity")
        amount = common.money(item.total, record=where, field="total")
        label = common.text(item.description or item.sku_name, 30)
        if item.type in SKU_TYPES:
            label = f"{stock_code(item.sku_name, ctx, where)} {label}"
        lines.append(
            LedgerLine(
                ledger_code=_ledger_code(item.general_ledger_account, ctx, options, where),
                value=amount,
                notation=common.text(label, 50),
            )
        )
    distributed = sum((line.value for line in lines), Decimal(0))
    if lines and distributed != value - tax:
        raise SourceDataError(
            f"{record}: its items add up to {distributed} but total less sales tax is "
            f"{value - tax}; correct the invoice in ServiceTitan",
            record=record,
            field="items",
        )
    number = f"ST-{(invoice.reference_number or str(invoice.id)).strip()}"
    if len(number) > INVOICE_LEN:
        raise SourceDataError(
            f"{record}: SYSPRO invoice number {number!r} is longer than {INVOICE_LEN} "
            "characters; shorten the reference number in ServiceTitan",
            record=record,
            field="referenceNumber",
        )
    invoice_date = common.date(invoice.invoice_date, record=record, field="invoiceDate")
    due = invoice.due_date
    return ApInvoice(
        supplier=options.invoice_supplier,
        invoice=number,
        invoice_date=invoice_date,
        due_date=common.date(due, record=record, field="dueDate") if due else invoice_date,
        value=value,
        tax_value=tax,
        tax_code=options.tax_code,
        branch=branch,
        reference=invoice_reference(invoice.id),
        notation=common.text(f"ServiceTitan invoice {invoice.reference_number or invoice.id}", 50),
        lines=tuple(lines),
    )


# -- purchase orders ----------------------------------------------------------------------
def mirrored_number(memo: str | None) -> str | None:
    """The SYSPRO PO number a ServiceTitan PO's memo says it copies, if any."""
    match = _SYSPRO_PO_MEMO.search(memo or "")
    return match[1] if match else None


def order_number(po_id: int) -> str:
    """The SYSPRO number of a PO made from a ServiceTitan one: ``ST<id>``, never a number
    SYSPRO assigns itself (its own are zero-padded digits)."""
    return f"ST{po_id}"


def is_servicetitan_order(number: str) -> bool:
    """Whether a SYSPRO PO was made from a ServiceTitan one (it must not travel back)."""
    return number.startswith("ST") and number[2:].isdigit()


def _warehouse(location_id: int | None, ctx: MapContext, options: Options) -> str:
    mapped = ctx.lookup(WAREHOUSE, str(location_id)) if location_id is not None else None
    return mapped or options.default_warehouse


def map_po_to_syspro(
    po: st.PurchaseOrder, ctx: MapContext, options: Options
) -> SysproPurchaseOrderCommand:
    record = f"purchase order {po.id}"
    number = order_number(po.id)
    mirrors = mirrored_number(po.summary)
    if mirrors is not None:
        return SysproPurchaseOrderCommand(str(po.id), number, mirrors=mirrors)
    if po.status == "Canceled":
        return SysproPurchaseOrderCommand(str(po.id), number, canceled=True)
    lines = []
    for index, item in enumerate(po.items, start=1):
        where = f"{record} line {index}"
        quantity = common.quantity(item.quantity, record=where, field="quantity")
        if quantity <= 0:
            raise SourceDataError(
                f"{where} orders nothing (quantity {item.quantity}); SYSPRO needs a quantity "
                "above zero: correct the line in ServiceTitan",
                record=where,
                field="quantity",
            )
        lines.append(
            SysproPoLine(
                index,
                stock_code(item.sku_code, ctx, where),
                quantity,
                common.money(item.cost, record=where, field="cost", allow_negative=False),
            )
        )
    return SysproPurchaseOrderCommand(
        str(po.id),
        number,
        vendor_id=po.vendor_id,
        order_date=common.date(po.date, record=record, field="date"),
        warehouse=_warehouse(po.inventory_location_id, ctx, options),
        lines=tuple(lines),
    )


def map_po_to_st(order: SysproOrder, ctx: MapContext, options: Options) -> StPurchaseOrderCommand:
    head = order.head
    record = f"SYSPRO purchase order {head.purchase_order}"
    if not order.lines:
        raise SourceDataError(
            f"{record} has no lines; ServiceTitan needs at least one: add them in SYSPRO",
            record=record,
            field="lines",
        )
    lines = []
    for line in order.lines:
        where = f"{record} line {line.line}"
        code = ctx.lookup(STOCK_TO_ST, line.m_stock_code)
        if code is None:
            raise MappingError(
                f"{where}: SYSPRO stock code {line.m_stock_code} has no ServiceTitan pricebook "
                f"item. Add it: ml-connector review resolve --mapping {STOCK_TO_ST} "
                f"{line.m_stock_code}=<ServiceTitan material code>",
                record=where,
                mapping_kind=STOCK_TO_ST,
                mapping_key=line.m_stock_code,
            )
        lines.append(StPoLine(code, line.m_stock_code, line.m_order_qty, line.m_price))
    day = head.order_date
    if day is None:
        raise SourceDataError(f"{record} has no order date", record=record, field="OrderDate")
    return StPurchaseOrderCommand(
        number=head.purchase_order,
        supplier=head.supplier,
        type_id=options.st_po_type_id,
        business_unit_id=options.st_po_business_unit_id,
        location_id=options.st_po_location_id,
        date=f"{day.isoformat()}T00:00:00Z",
        memo=f"{SYSPRO_PO_MEMO} {head.purchase_order}",
        lines=tuple(lines),
    )


# -- inventory adjustments ----------------------------------------------------------------
def adjustment_reference(adjustment_id: int, line: int) -> str:
    return f"STADJ{adjustment_id}/{line}"


def map_adjustment(adj: st.Adjustment, ctx: MapContext, options: Options) -> AdjustmentCommand:
    """One INVTMA movement per item; a line of quantity zero moves nothing and is left out."""
    record = f"inventory adjustment {adj.id}"
    warehouse = _warehouse(adj.inventory_location_id, ctx, options)
    lines = []
    for index, item in enumerate(adj.items, start=1):
        where = f"{record} line {index}"
        quantity = Decimal(str(item.quantity))
        if not quantity.is_finite() or abs(quantity) >= common.MAX_AMOUNT:
            raise SourceDataError(
                f"{where} has an invalid quantity {item.quantity}", record=where, field="quantity"
            )
        if quantity == 0 or not item.active:
            continue
        lines.append(
            AdjustmentLine(
                adjustment_reference(adj.id, index),
                warehouse,
                stock_code(item.code, ctx, where),
                quantity,
                common.text(f"ServiceTitan {adj.number or adj.id} {adj.memo or ''}", 50),
            )
        )
    return AdjustmentCommand(str(adj.id), tuple(lines))


# -- SYSPRO AP invoices → ServiceTitan invoices marked exported ----------------------------
def map_exported(row: ApInvoiceRecord, ctx: MapContext) -> ExportedCommand:
    record = f"AP invoice {row.invoice} of supplier {row.supplier}"
    invoice_id = invoice_id_from_reference(row.reference)
    if invoice_id is None:
        raise SourceDataError(
            f"{record} was not posted from ServiceTitan (reference {row.reference!r})",
            record=record,
            field="Reference",
        )
    return ExportedCommand(invoice_id, row.supplier, row.invoice)
