"""ServiceTitan ↔ Infor M3: every mapping of this pairing, as pure functions.

Field ownership, so an update never ping-pongs between the systems:

* A **supplier/vendor** pair is linked once (by code: an ``ST…`` supplier number or the
  vendor's ``m3.suno`` external data; else by name). ServiceTitan → M3 only ever *creates*
  missing suppliers; M3 owns supplier master data afterwards, so M3 → ServiceTitan carries
  the name and active flag of linked vendors and ServiceTitan never writes them back.
* **Items** likewise: ServiceTitan → M3 creates missing items (``ITNO`` = the pricebook
  code); M3 → ServiceTitan creates missing materials only.
* **AP documents** (AP bills, job invoices) move one way, ServiceTitan → M3, and nothing
  financial is ever written back.

Mappers read the mapping tables through :class:`MapContext` and raise ``MappingError`` (the
record waits in review) or ``SourceDataError`` (dead letter). They do no I/O: references to
vendors and items are carried as ServiceTitan ids and resolved by the loader.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from connector.errors import MappingError, SourceDataError
from connector.flows import common
from connector.runtime.flow import MapContext
from connector.systems.infor.models import Item as M3Item
from connector.systems.infor.models import Supplier
from connector.systems.servicetitan import models as st

#: Mapping table: ServiceTitan business unit id → M3 cost center (AIT of `cost_center_ait`).
BU_COST_CENTER = "business_unit_cost_center"
#: Mapping table: ServiceTitan GL account number → M3 account (AIT1).
GL_ACCOUNT = "gl_account"


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """The pairing's settings (``[flows.servicetitan-infor.options]``)."""

    currency: str = "USD"
    #: Supplier whose fields new suppliers copy (CRS620MI/AddSupplier needs ~25 of them).
    supplier_template: str = "TEMPLATE"
    #: M3 supplier that ServiceTitan job invoices are booked against (a clearing account).
    invoice_supplier: str = "STCLEAR"
    #: Item type for new M3 items by pricebook kind.
    item_type_material: str = "PRT"
    item_type_equipment: str = "HVA"
    #: The AIT position that holds the cost center in this company (1–7).
    cost_center_ait: int = 2
    #: "addline": accounting on AddLine (versions that take AIT there); "recode": post,
    #: then move each line to its account and cost center with a recode batch.
    ap_coding: str = "addline"
    #: Account used when a line carries no GL account (else the record goes to review).
    default_account: str = ""
    #: APS450MI/AddLine record type for the cost lines we post.
    ap_line_type: str = "8"


# -- commands -------------------------------------------------------------------------------
class SupplierCommand(msgspec.Struct, frozen=True):
    """Make ServiceTitan vendor ``vendor_id`` exist in M3 as supplier ``suno``."""

    vendor_id: int
    suno: str
    name: str
    linked_suno: str | None  # from the vendor's m3.suno external data, when it has one
    active: bool


class VendorCommand(msgspec.Struct, frozen=True):
    """Make M3 supplier ``suno`` exist in ServiceTitan; M3 owns name and active."""

    suno: str
    name: str
    active: bool


class ItemCommand(msgspec.Struct, frozen=True):
    """Make a ServiceTitan pricebook item exist in M3 as item ``itno``."""

    source_id: str
    itno: str
    description: str
    full_description: str
    item_type: str


class MaterialCommand(msgspec.Struct, frozen=True):
    """Make M3 item ``itno`` exist in ServiceTitan's pricebook as a material."""

    itno: str
    description: str
    active: bool


class ApLine(msgspec.Struct, frozen=True):
    amount: Decimal
    text: str
    account: str
    cost_center: str
    sku: str | None = None  # pricebook source id ("material:12") to resolve to an ITNO


class ApDocument(msgspec.Struct, frozen=True):
    """One supplier invoice batch in M3: head, lines, coding. ``cori`` traces it back."""

    kind: str  # "bill" | "invoice"
    source_id: str
    vendor_id: int | None  # ServiceTitan vendor to resolve to a SUNO (bills)
    fixed_suno: str | None  # supplier named by config (job invoices)
    sino: str
    invoice_date: str  # yyyyMMdd
    due_date: str  # yyyyMMdd
    amount: Decimal
    currency: str
    cori: str
    cost_center: str
    lines: tuple[ApLine, ...]


# -- vendors and suppliers ------------------------------------------------------------------
def supplier_number(vendor_id: int) -> str:
    """The SUNO of a supplier created from a ServiceTitan vendor (A10: ``ST`` + id)."""
    digits = str(vendor_id)
    if len(digits) <= 8:
        return f"ST{digits}"
    return "S" + _base36(vendor_id).rjust(9, "0")[-9:]


def vendor_id_from_suno(suno: str) -> int | None:
    """Inverse of :func:`supplier_number` for decimal ids (the link by code)."""
    if suno.startswith("ST") and suno[2:].isdigit():
        return int(suno[2:])
    return None


def map_vendor_to_supplier(vendor: st.Vendor, ctx: MapContext) -> SupplierCommand:
    record = f"vendor {vendor.id}"
    name = common.text(vendor.name, 36)
    if not name:
        raise SourceDataError(f"{record} has no name", record=record, field="name")
    linked = next((d.value for d in vendor.external_data or () if d.key == "m3.suno"), None)
    return SupplierCommand(
        vendor.id, linked or supplier_number(vendor.id), name, linked, vendor.active
    )


def map_supplier_to_vendor(supplier: Supplier, ctx: MapContext) -> VendorCommand:
    record = f"supplier {supplier.SUNO}"
    name = common.text(supplier.SUNM, 100)
    if not name:
        raise SourceDataError(f"{record} has no name (SUNM)", record=record, field="SUNM")
    # M3 supplier status 20 = approved/active; anything else is not usable in ServiceTitan.
    return VendorCommand(supplier.SUNO, name, supplier.STAT in ("", "20"))


# -- items ----------------------------------------------------------------------------------
def pricebook_source_id(kind: str, item_id: int) -> str:
    return f"{kind}:{item_id}"


def map_pricebook_to_item(item: st.PricebookItem, kind: str, options: Options) -> ItemCommand:
    record = f"{kind} {item.id}"
    code = (item.code or "").strip().upper()
    if not code:
        raise SourceDataError(f"{record} has no code", record=record, field="code")
    if len(code) > 15:
        raise SourceDataError(
            f"{record} code {code!r} is longer than M3's 15-character item number; shorten "
            "it in the pricebook",
            record=record,
            field="code",
        )
    description = item.display_name or item.description or code
    item_type = options.item_type_equipment if kind == "equipment" else options.item_type_material
    return ItemCommand(
        pricebook_source_id(kind, item.id),
        code,
        common.text(description, 30),
        common.text(item.description or description, 60),
        item_type,
    )


def map_item_to_material(item: M3Item, ctx: MapContext) -> MaterialCommand:
    record = f"item {item.ITNO}"
    if not item.ITNO:
        raise SourceDataError(f"{record} has no item number", record=record, field="ITNO")
    return MaterialCommand(
        item.ITNO, common.text(item.ITDS or item.ITNO, 255), item.STAT in ("", "20")
    )


# -- AP documents ---------------------------------------------------------------------------
def _cost_center(unit: st.NamedField | None, ctx: MapContext, record: str) -> str:
    if unit is None:
        raise SourceDataError(f"{record} has no business unit", record=record, field="businessUnit")
    center = ctx.lookup(BU_COST_CENTER, str(unit.id))
    if center is None:
        raise MappingError(
            f"{record}: business unit {unit.id} ({unit.name or 'unnamed'}) has no M3 cost "
            f"center. Add it: ml-connector review resolve --mapping {BU_COST_CENTER} "
            f"{unit.id}=<cost center>",
            record=record,
            mapping_kind=BU_COST_CENTER,
            mapping_key=str(unit.id),
        )
    return center


def _account(ref: st.GLAccountRef | None, ctx: MapContext, options: Options, record: str) -> str:
    number = (ref.number or "").strip() if ref else ""
    if number:
        mapped = ctx.lookup(GL_ACCOUNT, number)
        if mapped is not None:
            return mapped
    if options.default_account:
        return options.default_account
    shown = number or "(none)"
    raise MappingError(
        f"{record}: ServiceTitan GL account {shown} has no M3 account. Add it: "
        f"ml-connector review resolve --mapping {GL_ACCOUNT} {shown}=<M3 account>",
        record=record,
        mapping_kind=GL_ACCOUNT,
        mapping_key=number,
    )


def _charge_account(lines: list[ApLine], ctx: MapContext, options: Options, record: str) -> str:
    """Tax and freight follow the document's first line (its main expense) when it has one."""
    return lines[0].account if lines else _account(None, ctx, options, record)


def _yyyymmdd(value: str | None, record: str, field: str) -> str:
    return common.date(value, record=record, field=field).strftime("%Y%m%d")


def map_bill(bill: st.ApBill, ctx: MapContext, options: Options) -> ApDocument:
    """An AP bill (from a received PO) → an M3 supplier invoice on the bill's vendor."""
    record = f"AP bill {bill.id}"
    if bill.vendor is None:
        raise SourceDataError(f"{record} has no vendor", record=record, field="vendor")
    cost_center = _cost_center(bill.business_unit, ctx, record)
    lines: list[ApLine] = []
    for item in bill.items or ():
        where = f"{record} line {item.order or item.id}"
        qty = common.quantity(item.quantity, record=where, field="quantity")
        cost = common.money(item.cost, record=where, field="cost")
        sku = None
        if item.sku_id and (item.sku_type or "").lower() in ("material", "equipment"):
            sku = pricebook_source_id(
                item.sku_type.lower() if item.sku_type else "material", item.sku_id
            )
        lines.append(
            ApLine(
                (qty * cost).quantize(common.CENT),
                common.text(item.name or item.sku_code or item.description, 40),
                _account(item.general_ledger_account, ctx, options, where),
                cost_center,
                sku,
            )
        )
    charges = (
        ("taxAmount", bill.tax_amount, "Sales tax"),
        ("shippingAmount", bill.shipping_amount, "Freight"),
    )
    for field, value, label in charges:
        amount = common.money(value or "0", record=record, field=field, allow_negative=False)
        if amount:
            lines.append(
                ApLine(amount, label, _charge_account(lines, ctx, options, record), cost_center)
            )
    return _document(
        "bill",
        bill.id,
        record,
        bill.vendor.id,
        None,
        bill.reference_number or f"ST-B{bill.id}",
        bill.bill_date,
        bill.due_date or bill.bill_date,
        bill.bill_amount,
        lines,
        cost_center,
        options,
    )


def map_invoice(invoice: st.Invoice, ctx: MapContext, options: Options) -> ApDocument:
    """A job invoice → an M3 supplier invoice on the configured clearing supplier."""
    record = f"invoice {invoice.id}"
    cost_center = _cost_center(invoice.business_unit, ctx, record)
    lines: list[ApLine] = []
    for item in invoice.items or ():
        where = f"{record} line {item.order or item.id}"
        common.quantity(item.quantity, record=where, field="quantity")
        amount = common.money(item.total, record=where, field="total")
        sku = None
        if item.sku_id and (item.type or "") in ("Material", "Equipment"):
            sku = pricebook_source_id((item.type or "Material").lower(), item.sku_id)
        lines.append(
            ApLine(
                amount,
                common.text(item.sku_name or item.description, 40),
                _account(item.general_ledger_account, ctx, options, where),
                cost_center,
                sku,
            )
        )
    tax = common.money(invoice.sales_tax or "0", record=record, field="salesTax")
    if tax:
        lines.append(
            ApLine(tax, "Sales tax", _charge_account(lines, ctx, options, record), cost_center)
        )
    return _document(
        "invoice",
        invoice.id,
        record,
        None,
        options.invoice_supplier,
        f"ST-{invoice.reference_number or invoice.id}",
        invoice.invoice_date,
        invoice.due_date or invoice.invoice_date,
        invoice.total,
        lines,
        cost_center,
        options,
    )


def _document(
    kind: str,
    source_id: int,
    record: str,
    vendor_id: int | None,
    fixed_suno: str | None,
    sino: str,
    issued: str | None,
    due: str | None,
    total: str | None,
    lines: list[ApLine],
    cost_center: str,
    options: Options,
) -> ApDocument:
    if not lines:
        raise SourceDataError(f"{record} has no lines to post", record=record, field="items")
    amount = common.money(total, record=record, field="total")
    lines_sum = sum((line.amount for line in lines), Decimal(0))
    if lines_sum != amount:
        raise SourceDataError(
            f"{record} total {amount} differs from the sum of its lines {lines_sum}; correct "
            "the record in ServiceTitan",
            record=record,
            field="total",
        )
    sino = common.text(sino, 24)
    return ApDocument(
        kind,
        str(source_id),
        vendor_id,
        fixed_suno,
        sino,
        _yyyymmdd(issued, record, "date"),
        _yyyymmdd(due, record, "dueDate"),
        amount,
        options.currency,
        f"st:{kind}:{source_id}",
        cost_center,
        tuple(lines),
    )


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"
