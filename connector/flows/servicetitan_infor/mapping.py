"""ServiceTitan ↔ Infor M3: every mapping of this pairing, as pure functions.

Field ownership, so an update never ping-pongs between the systems:

* A **supplier/vendor** pair is linked once (by code: an ``ST…`` supplier number or the
  vendor's ``m3.suno`` external data; else by name). ServiceTitan → M3 only ever *creates*
  missing suppliers; M3 owns supplier master data afterwards, so M3 → ServiceTitan carries
  the name and active flag of linked vendors and ServiceTitan never writes them back.
* **Items** likewise: ServiceTitan → M3 creates missing items (``ITNO`` = the pricebook
  code); M3 → ServiceTitan creates missing materials only.
* **Purchase orders** move both ways, each created once on the other side and owned by the
  side it was entered on. A ServiceTitan PO becomes M3 order ``ST<id>``; an M3 PO becomes a
  ServiceTitan PO whose memo says ``M3 PO <PUNO>``. Those two marks are what stop a copy
  from travelling back as a new order (a ping-pong). Later edits are not carried over:
  M3 keeps the lines it was sent, ServiceTitan the lines it was created with.
* **AP documents** (AP bills, job invoices) move one way, ServiceTitan → M3, and nothing
  financial is ever written back.

Mappers read the mapping tables through :class:`MapContext` and raise ``MappingError`` (the
record waits in review) or ``SourceDataError`` (dead letter). They do no I/O: references to
vendors and items are carried as ServiceTitan ids and resolved by the loader.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import msgspec

from connector.errors import MappingError, SourceDataError
from connector.flows import common
from connector.runtime.flow import MapContext
from connector.systems.infor.lines import LineInvoice, LineInvoiceLine, LineItem, LineSupplier
from connector.systems.infor.models import Item as M3Item
from connector.systems.infor.models import PurchaseOrder as M3PurchaseOrder
from connector.systems.infor.models import Supplier
from connector.systems.servicetitan import models as st

#: Mapping table: ServiceTitan business unit id → M3 cost center (AIT of `cost_center_ait`).
BU_COST_CENTER = "business_unit_cost_center"
#: Mapping table: ServiceTitan GL account number → M3 account (AIT1).
GL_ACCOUNT = "gl_account"
#: Mapping table: ServiceTitan inventory location id → M3 warehouse (WHLO) of its POs.
ST_LOCATION_WAREHOUSE = "st_location_warehouse"
#: Mapping table: M3 warehouse (WHLO) → ServiceTitan inventory location id of its POs.
M3_WAREHOUSE_LOCATION = "m3_warehouse_location"
#: Mapping table: M3 warehouse (WHLO) → ServiceTitan business unit id of its POs.
M3_WAREHOUSE_BUSINESS_UNIT = "m3_warehouse_business_unit"
#: The memo of a ServiceTitan PO made from an M3 one starts with this, then the PUNO.
M3_PO_MEMO = "M3 PO"
_M3_PO_MEMO = re.compile(rf"\b{M3_PO_MEMO} ([0-9A-Za-z]{{1,10}})\b")
#: M3 keeps purchase prices to six decimals (PUPR N17,6) and quantities likewise (ORQA).
_SIX_PLACES = Decimal("0.000001")


class Options(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
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
    #: Facility, warehouse and order type of the M3 POs made from ServiceTitan ones; the
    #: warehouse may instead come per inventory location from ``st_location_warehouse``.
    po_facility: str = "F01"
    po_warehouse: str = "W01"
    po_order_type: str = "PP1"
    #: ServiceTitan PO type, business unit and inventory location of the POs made from M3
    #: ones (business unit and location may come per M3 warehouse from the mapping tables
    #: ``m3_warehouse_business_unit`` / ``m3_warehouse_location``). The defaults are the
    #: sandbox tenant's ("Standard", the first business unit, the main warehouse): set them
    #: for a real tenant. The type must not receive automatically, or every M3 order would
    #: turn into a ServiceTitan bill at once.
    st_po_type_id: int = 5001
    st_po_business_unit_id: int = 1001
    st_po_location_id: int = 4001


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
    #: The ServiceTitan PO a bill was received against (None for job invoices).
    purchase_order_id: int | None = None


class M3PoLine(msgspec.Struct, frozen=True):
    """One line of a ServiceTitan PO on its way to M3; ``sku`` is resolved to an ITNO."""

    number: int  # PNLI: 10, 20, … — sent, so M3 refuses a repeat instead of adding it twice
    sku: str  # pricebook source id ("material:12")
    quantity: Decimal
    price: Decimal
    description: str


class M3PurchaseOrderCommand(msgspec.Struct, frozen=True):
    """Make ServiceTitan PO ``source_id`` exist in M3 as order ``puno``, unless it is one of
    the two kinds that are never written: a copy of an M3 order (``mirrors``) or canceled."""

    source_id: str
    puno: str
    mirrors: str | None = None  # the M3 PUNO this ServiceTitan PO was made from
    canceled: bool = False
    vendor_id: int = 0
    order_date: str = ""  # yyyyMMdd
    delivery_date: str = ""  # yyyyMMdd
    currency: str = ""
    facility: str = ""
    warehouse: str = ""
    order_type: str = ""
    lines: tuple[M3PoLine, ...] = ()


class StPoLine(msgspec.Struct, frozen=True):
    """One line of an M3 PO on its way to ServiceTitan; ``itno`` is resolved to a sku id."""

    itno: str
    description: str
    quantity: Decimal
    cost: Decimal


class StPurchaseOrderCommand(msgspec.Struct, frozen=True):
    """Make M3 purchase order ``puno`` exist in ServiceTitan (created once, never updated)."""

    puno: str
    suno: str
    type_id: int
    business_unit_id: int
    location_id: int
    ship_to: str
    date: str  # ISO 8601
    required_on: str  # ISO 8601
    memo: str
    lines: tuple[StPoLine, ...]


# -- vendors and suppliers ------------------------------------------------------------------
def _code_from_id(source_id: int) -> str:
    """An A10 M3 key for a ServiceTitan id: ``ST`` + id, or ``S`` + 9 base-36 digits."""
    digits = str(source_id)
    if len(digits) <= 8:
        return f"ST{digits}"
    return "S" + _base36(source_id).rjust(9, "0")[-9:]


def supplier_number(vendor_id: int) -> str:
    """The SUNO of a supplier created from a ServiceTitan vendor (A10: ``ST`` + id)."""
    return _code_from_id(vendor_id)


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
    """An AP bill (from a received PO) → an M3 supplier invoice on the bill's vendor.

    The command carries the bill's PO: when that PO is a copy of an M3 order, M3 matches the
    supplier's invoice to its own order, and the loader posts nothing (no double AP).
    """
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
    document = _document(
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
    return msgspec.structs.replace(document, purchase_order_id=bill.purchase_order_id)


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


def cori_prefix(kind: str) -> str:
    """The start of the correlation id (M3 CORI, a line's reference) a document of ``kind``
    ("bill" | "invoice") carries: ``st:bill:`` + the ServiceTitan id. Reconciliation lists a
    period's documents of ours by it."""
    return f"st:{kind}:"


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
        cori_prefix(kind) + str(source_id),
        cost_center,
        tuple(lines),
    )


# -- purchase orders ------------------------------------------------------------------------
def purchase_order_number(po_id: int) -> str:
    """The PUNO (A10) of the M3 order made from ServiceTitan PO ``po_id``: ``ST`` + id."""
    return _code_from_id(po_id)


def is_servicetitan_order(puno: str) -> bool:
    """Whether M3 order ``puno`` has the shape of :func:`purchase_order_number`.

    M3 numbers its own orders from a numeric series, so ``ST`` + digits, or ``S`` + nine
    base-36 digits starting with ``0`` (ids of nine digits or more), is one of ours.
    """
    if puno.startswith("ST") and puno[2:].isdigit():
        return True
    return len(puno) == 10 and puno.startswith("S0") and puno[1:].isalnum()


def mirrored_puno(memo: str | None) -> str | None:
    """The M3 order a ServiceTitan PO was made from, read from its memo (``M3 PO <PUNO>``)."""
    match = _M3_PO_MEMO.search(memo or "")
    return match[1] if match else None


def map_po_to_m3(po: st.PurchaseOrder, ctx: MapContext, options: Options) -> M3PurchaseOrderCommand:
    """A ServiceTitan PO → an M3 order ``ST<id>`` with one line per item.

    A copy of an M3 order and a canceled PO map to commands that write nothing (the loader
    answers "unchanged"): the first already is in M3, the second is not wanted there. Tax and
    shipping are not PO lines in M3; they arrive with the supplier's invoice (the AP bill).
    """
    record = f"purchase order {po.id}"
    puno = purchase_order_number(po.id)
    mirrors = mirrored_puno(po.summary)
    if mirrors is not None:
        return M3PurchaseOrderCommand(str(po.id), puno, mirrors=mirrors)
    if po.status == "Canceled":
        return M3PurchaseOrderCommand(str(po.id), puno, canceled=True)
    if not po.items:
        raise SourceDataError(f"{record} has no items", record=record, field="items")
    lines: list[M3PoLine] = []
    for number, item in enumerate(po.items, start=1):
        where = f"{record} item {item.id}"
        kind = (item.sku_type or "").lower()
        if kind not in ("material", "equipment"):
            raise SourceDataError(
                f"{where} is a {item.sku_type or 'sku of unknown type'}; M3 orders take only "
                "pricebook materials and equipment",
                record=where,
                field="skuType",
            )
        quantity = _decimal(item.quantity, where, "quantity")
        if quantity <= 0:
            raise SourceDataError(
                f"{where} orders {quantity}; an M3 order line needs a quantity above zero",
                record=where,
                field="quantity",
            )
        lines.append(
            M3PoLine(
                10 * number,
                pricebook_source_id(kind, item.sku_id),
                quantity,
                _decimal(item.cost, where, "cost"),
                common.text(item.description or item.sku_name, 30),
            )
        )
    return M3PurchaseOrderCommand(
        source_id=str(po.id),
        puno=puno,
        vendor_id=po.vendor_id,
        order_date=_yyyymmdd(po.date, record, "date"),
        delivery_date=_yyyymmdd(po.required_on or po.date, record, "requiredOn"),
        currency=options.currency,
        facility=options.po_facility,
        warehouse=_table_or_default(
            ctx, ST_LOCATION_WAREHOUSE, po.inventory_location_id, options.po_warehouse
        ),
        order_type=options.po_order_type,
        lines=tuple(lines),
    )


def map_po_to_st(
    order: M3PurchaseOrder, ctx: MapContext, options: Options
) -> StPurchaseOrderCommand:
    """An M3 purchase order → a ServiceTitan PO on the linked vendor, memo ``M3 PO <PUNO>``."""
    head = order.head
    record = f"M3 purchase order {head.PUNO}"
    if not head.SUNO:
        raise SourceDataError(f"{record} has no supplier", record=record, field="SUNO")
    if not order.lines:
        raise SourceDataError(
            f"{record} has no lines yet; ServiceTitan needs at least one. It is sent again "
            "once M3 has lines for it",
            record=record,
            field="PNLI",
        )
    lines: list[StPoLine] = []
    for line in order.lines:
        where = f"{record} line {line.PNLI}"
        if not line.ITNO:
            raise SourceDataError(f"{where} has no item", record=where, field="ITNO")
        quantity = _decimal(line.ORQA, where, "ORQA")
        if quantity <= 0:
            raise SourceDataError(
                f"{where} orders {quantity}; ServiceTitan needs a quantity above zero",
                record=where,
                field="ORQA",
            )
        lines.append(
            StPoLine(
                line.ITNO,
                common.text(line.PITD or line.ITNO, 255),
                quantity,
                _decimal(line.PUPR or "0", where, "PUPR"),
            )
        )
    ordered = _iso_day(head.PUDT or head.DWDT, record, "PUDT")
    warehouse = head.WHLO
    return StPurchaseOrderCommand(
        puno=head.PUNO,
        suno=head.SUNO,
        type_id=options.st_po_type_id,
        business_unit_id=_st_id(
            ctx, M3_WAREHOUSE_BUSINESS_UNIT, warehouse, options.st_po_business_unit_id, record
        ),
        location_id=_st_id(
            ctx, M3_WAREHOUSE_LOCATION, warehouse, options.st_po_location_id, record
        ),
        ship_to=f"M3 warehouse {warehouse}" if warehouse else "M3",
        date=ordered,
        required_on=_iso_day(head.DWDT, record, "DWDT") if head.DWDT else ordered,
        memo=f"{M3_PO_MEMO} {head.PUNO}",
        lines=tuple(lines),
    )


def _decimal(value: object, record: str, field: str) -> Decimal:
    """A non-negative quantity or unit price to M3's six decimals."""
    try:
        amount = Decimal(str(value)).quantize(_SIX_PLACES)
    except (InvalidOperation, ValueError):
        raise SourceDataError(
            f"{record} has an unreadable {field} {str(value)[:40]!r}; correct it in the source",
            record=record,
            field=field,
        ) from None
    if amount < 0 or amount >= common.MAX_AMOUNT:
        raise SourceDataError(
            f"{record} has an invalid {field} ({value}); it must be zero or more",
            record=record,
            field=field,
        )
    return amount


def _iso_day(value: str, record: str, field: str) -> str:
    """An M3 date (yyyyMMdd) as the ISO date-time ServiceTitan takes (midnight UTC)."""
    try:
        day = dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise SourceDataError(
            f"{record} has no usable {field} ({value!r}); M3 dates are yyyyMMdd",
            record=record,
            field=field,
        ) from None
    return f"{day.isoformat()}T00:00:00Z"


def _table_or_default(ctx: MapContext, kind: str, key: int | None, default: str) -> str:
    mapped = ctx.lookup(kind, str(key)) if key is not None else None
    return mapped or default


def _st_id(ctx: MapContext, kind: str, warehouse: str, default: int, record: str) -> int:
    """A ServiceTitan id from mapping table ``kind`` by M3 warehouse, else ``default``."""
    mapped = ctx.lookup(kind, warehouse) if warehouse else None
    if mapped is None:
        return default
    if not mapped.strip().isdigit():
        raise MappingError(
            f"{record}: mapping {kind} gives {mapped!r} for M3 warehouse {warehouse}, which "
            f"is not a ServiceTitan id. Fix it: ml-connector review resolve --mapping {kind} "
            f"{warehouse}=<id>",
            record=record,
            mapping_kind=kind,
            mapping_key=warehouse,
        )
    return int(mapped)


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


# -- SyteLine, LN and FSM -------------------------------------------------------------------
# The other CloudSuite lines take the same commands as M3; what differs is how long a code
# may be (SyteLine vendor numbers are 7 characters, LN business partners and FSM vendors 9)
# and the date format. Those differences live here, nowhere else in the flow.
def line_code(source_id: int, length: int) -> str:
    """A key of at most ``length`` characters for a ServiceTitan id: ``ST`` + id when it
    fits, else ``S`` + base-36 digits (one-to-one for ids below 36 ** (length - 1))."""
    digits = str(source_id)
    if len(digits) + 2 <= length:
        return f"ST{digits}"
    return "S" + _base36(source_id).rjust(length - 1, "0")[-(length - 1) :]


def map_vendor_to_line_supplier(vendor: st.Vendor, ctx: MapContext, length: int) -> SupplierCommand:
    """As :func:`map_vendor_to_supplier`, with the line's supplier code length."""
    command = map_vendor_to_supplier(vendor, ctx)
    code = command.linked_suno or line_code(vendor.id, length)
    return SupplierCommand(
        command.vendor_id, code, command.name, command.linked_suno, command.active
    )


def map_line_supplier_to_vendor(supplier: LineSupplier, ctx: MapContext) -> VendorCommand:
    record = f"supplier {supplier.code}"
    name = common.text(supplier.name, 100)
    if not name:
        raise SourceDataError(f"{record} has no name", record=record, field="name")
    return VendorCommand(supplier.code, name, supplier.active)


def map_line_item_to_material(item: LineItem, ctx: MapContext) -> MaterialCommand:
    return MaterialCommand(item.code, common.text(item.description or item.code, 255), item.active)


def map_po_to_line(
    po: st.PurchaseOrder, ctx: MapContext, options: Options, length: int
) -> M3PurchaseOrderCommand:
    """As :func:`map_po_to_m3`, numbered within the line's order number length."""
    command = map_po_to_m3(po, ctx, options)
    return msgspec.structs.replace(command, puno=line_code(po.id, length))


def iso_date(yyyymmdd: str) -> str:
    """``20240612`` → ``2024-06-12`` (the commands keep M3's form; the lines take ISO)."""
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:8]}"


def line_invoice(command: ApDocument, supplier: str, items: Sequence[str | None]) -> LineInvoice:
    """The line's AP invoice for ``command``; ``items`` are the resolved item codes by line."""
    return LineInvoice(
        supplier=supplier,
        invoice_number=command.sino,
        invoice_date=iso_date(command.invoice_date),
        due_date=iso_date(command.due_date),
        currency=command.currency,
        amount=command.amount,
        reference=command.cori,
        lines=tuple(
            LineInvoiceLine(
                amount=line.amount,
                text=line.text,
                account=line.account,
                cost_center=line.cost_center,
                item=item,
            )
            for line, item in zip(command.lines, items, strict=True)
        ),
    )
