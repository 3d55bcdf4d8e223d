"""Every pure mapper of ``ifs-servicetitan``: IFS records → ServiceTitan commands, and
ServiceTitan invoices and jobs → IFS external voucher loads.

Mapping tables (``[mappings.<kind>]``) an implementer fills once; a missing entry is a
:class:`MappingError`, so the record waits in review until the entry exists:

=================================  ==================================  ========================
kind                               key → value                         used by
=================================  ==================================  ========================
``ifs_supplier_vendor``            IFS ``SupplierId`` → ST vendor id   purchase orders
``ifs_part_sku``                   IFS ``PartNo`` → ST pricebook sku   purchase order lines
``ifs_tax_zone``                   IFS ``TaxLiability`` → ST tax zone  purchase orders (tax)
``business_unit_ifs_cost_center``  ST business unit id → IFS CodeB     vouchers (cost center)
``gl_account_ifs``                 ST GL account number → IFS account  voucher revenue rows
``ifs_account_type``               IFS ``AccntType`` → ST GL type      GL accounts (optional)
=================================  ==================================  ========================
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

import msgspec

from connector.errors import MappingError, SourceDataError
from connector.flows import common
from connector.runtime.flow import MapContext
from connector.systems.ifs import models as ifs
from connector.systems.servicetitan import models as st

SUPPLIER_VENDOR = "ifs_supplier_vendor"
PART_SKU = "ifs_part_sku"
TAX_ZONE = "ifs_tax_zone"
BU_COST_CENTER = "business_unit_ifs_cost_center"
GL_ACCOUNT = "gl_account_ifs"
ACCOUNT_TYPE = "ifs_account_type"

#: ServiceTitan GL account type for IFS's logical account types (asset, liability, revenue,
#: cost, statistical, other) when ``ifs_account_type`` does not say otherwise.
DEFAULT_ACCOUNT_TYPES = {
    "A": "Other Current Asset",
    "L": "Other Current Liability",
    "R": "Income",
    "C": "Expense",
    "S": "Expense",
    "O": "Expense",
}
#: How a ServiceTitan PO made from an IFS order carries the order number (its natural key).
_IFS_PO_MEMO = re.compile(r"\bIFS PO (\S+)")
#: How each voucher row names its document and its place in it (the marker that lets an
#: unfinished load be completed without posting a row twice).
_ROW_MARKER = re.compile(r"#(\d+)\b")


class Options(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The pairing's settings (``[flows.ifs-servicetitan.options]``)."""

    currency: str = "USD"
    #: IFS voucher type of the loads posted for ServiceTitan documents (≤ 3 characters).
    voucher_type: str = "K"
    #: IFS accounts of the invoice vouchers: receivable (debit) and sales tax (credit).
    receivable_account: str = "1200"
    sales_tax_account: str = "2610"
    #: IFS accounts of a completed job not yet invoiced: unbilled receivable (debit) and
    #: accrued revenue (credit). The invoice posts the revenue; the accrual's reversal is a
    #: person's decision (the job's change goes to review).
    unbilled_account: str = "1200"
    accrued_revenue_account: str = "4000"
    #: IFS revenue account for invoice lines whose GL account is not in ``gl_account``;
    #: empty = such an invoice waits in review.
    default_revenue_account: str = ""
    #: ServiceTitan PO type, business unit and inventory location of the POs made from IFS
    #: orders (the defaults are the sandbox tenant's: set them for a real tenant). The type
    #: must not receive automatically, or every IFS order would become a bill at once.
    st_po_type_id: int = 5001
    st_po_business_unit_id: int = 1001
    st_po_location_id: int = 4001
    #: Days the IFS purchase order read reaches back before the newest order date seen
    #: (IFS has no last-modified column: a changed ETag inside the window is a change).
    window_days: int = 14


# -- commands -------------------------------------------------------------------------------
class GlAccountCommand(msgspec.Struct, frozen=True):
    """Make IFS account ``number`` exist in ServiceTitan, named ``name``."""

    number: str
    name: str
    type: str


class StPoLine(msgspec.Struct, frozen=True):
    sku_id: int
    description: str
    vendor_part_number: str
    quantity: Decimal
    cost: Decimal


class StPurchaseOrderCommand(msgspec.Struct, frozen=True):
    """Make IFS order ``order_no`` exist in ServiceTitan (created once, never updated)."""

    order_no: str
    vendor_id: int
    tax_zone_id: int
    type_id: int
    business_unit_id: int
    location_id: int
    date: str  # ISO 8601
    required_on: str  # ISO 8601
    memo: str
    lines: tuple[StPoLine, ...]

    @property
    def subtotal(self) -> Decimal:
        return sum((line.quantity * line.cost for line in self.lines), Decimal(0))


class VoucherRowCommand(msgspec.Struct, frozen=True):
    """One external voucher row; ``text`` starts with the document and ``#n`` marker."""

    number: int
    account: str
    cost_center: str | None
    debit: Decimal | None
    credit: Decimal | None
    text: str


class VoucherCommand(msgspec.Struct, frozen=True):
    """Post a ServiceTitan document to IFS as the external load ``load_id`` (its natural
    key), then turn the load into a voucher. No rows: nothing to post for this document."""

    load_id: str
    reference: str
    transaction_date: dt.date | None
    voucher_type: str
    currency: str
    rows: tuple[VoucherRowCommand, ...] = ()


class IfsOrder(msgspec.Struct, frozen=True):
    """An IFS purchase order with its lines: the source record of ``purchase_orders_to_st``."""

    head: ifs.PurchaseOrder
    lines: tuple[ifs.PurchaseOrderLine, ...]


# -- helpers --------------------------------------------------------------------------------
def _required(ctx: MapContext, kind: str, key: str | None, record: str, what: str) -> str:
    value = ctx.lookup(kind, key) if key else None
    if value is None:
        raise MappingError(
            f"{record}: {what} {key!r} has no {kind} mapping. Add it: ml-connector review "
            f"resolve --mapping {kind} {key or '<code>'}=<value>",
            record=record,
            mapping_kind=kind,
            mapping_key=key or "",
        )
    return value


def _integer(value: str, kind: str, key: str, record: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise MappingError(
            f"{record}: mapping {kind}[{key!r}] = {value!r} is not a ServiceTitan id (a whole "
            f"number). Correct it: ml-connector review resolve --mapping {kind} {key}=<id>",
            record=record,
            mapping_kind=kind,
            mapping_key=key,
        ) from None


def mirrored_order_no(memo: str | None) -> str | None:
    """The IFS order a ServiceTitan PO was made from, read from its memo (``IFS PO <no>``)."""
    match = _IFS_PO_MEMO.search(memo or "")
    return match[1] if match else None


def row_marker(text: str | None) -> int | None:
    """The row number a voucher row's text carries (its last ``#n``), or None."""
    found = _ROW_MARKER.findall(text or "")
    return int(found[-1]) if found else None


def load_id(kind: str, source_id: int | str) -> str:
    """The external load of a ServiceTitan document: ``ST-INV-88812`` (≤ 20, upper case)."""
    return f"ST-{kind}-{source_id}"


# -- GL accounts ----------------------------------------------------------------------------
def map_account(account: ifs.Account, ctx: MapContext) -> GlAccountCommand:
    """An IFS account → a ServiceTitan GL account ``"<number> <description>"``.

    The number leads the name because ServiceTitan refuses two accounts of one name and IFS
    descriptions repeat across accounts; the type is only set on creation (ServiceTitan's
    defaults hang on it).
    """
    record = f"IFS account {account.account}"
    description = common.text(account.description, 200)
    if not description:
        raise SourceDataError(f"{record} has no description", record=record, field="Description")
    kind = account.accnt_type or ""
    gl_type = ctx.lookup(ACCOUNT_TYPE, kind) or DEFAULT_ACCOUNT_TYPES.get(kind)
    if gl_type is None:
        raise MappingError(
            f"{record}: account type {kind!r} has no ServiceTitan GL type. Add it: "
            f"ml-connector review resolve --mapping {ACCOUNT_TYPE} {kind}=<type>",
            record=record,
            mapping_kind=ACCOUNT_TYPE,
            mapping_key=kind,
        )
    return GlAccountCommand(
        account.account, common.text(f"{account.account} {description}", 255), gl_type
    )


# -- purchase orders ------------------------------------------------------------------------
def map_purchase_order(
    order: IfsOrder, ctx: MapContext, options: Options
) -> StPurchaseOrderCommand:
    """An IFS purchase order → a ServiceTitan PO on the mapped vendor, memo ``IFS PO <no>``.

    Each line needs its part mapped to a pricebook sku; the tax comes from the mapped tax
    zone's rates when the PO is written (ServiceTitan takes a tax amount, not a zone).
    """
    head = order.head
    record = f"IFS purchase order {head.order_no}"
    if not head.vendor_no:
        raise SourceDataError(f"{record} has no supplier", record=record, field="VendorNo")
    if not order.lines:
        raise SourceDataError(
            f"{record} has no lines yet; ServiceTitan needs at least one. It is sent again "
            "once IFS has lines for it",
            record=record,
            field="Lines",
        )
    vendor = _required(ctx, SUPPLIER_VENDOR, head.vendor_no, record, "supplier")
    zone = _required(ctx, TAX_ZONE, head.tax_liability, record, "tax liability")
    lines: list[StPoLine] = []
    for line in order.lines:
        where = f"{record} line {line.line_no}"
        if not line.part_no:
            raise SourceDataError(f"{where} has no part", record=where, field="PartNo")
        sku = _required(ctx, PART_SKU, line.part_no, where, "part")
        quantity = common.quantity(line.buy_qty_due, record=where, field="BuyQtyDue")
        if quantity <= 0:
            raise SourceDataError(
                f"{where} orders {quantity}; ServiceTitan needs a quantity above zero",
                record=where,
                field="BuyQtyDue",
            )
        lines.append(
            StPoLine(
                sku_id=_integer(sku, PART_SKU, line.part_no, where),
                description=common.text(line.description or line.part_no, 255),
                vendor_part_number=line.part_no,
                quantity=quantity,
                cost=common.money(
                    line.fbuy_unit_price, record=where, field="FbuyUnitPrice", allow_negative=False
                ),
            )
        )
    if head.order_date is None:
        raise SourceDataError(f"{record} has no order date", record=record, field="OrderDate")
    wanted = head.wanted_receipt_date or head.order_date
    return StPurchaseOrderCommand(
        order_no=head.order_no,
        vendor_id=_integer(vendor, SUPPLIER_VENDOR, head.vendor_no, record),
        tax_zone_id=_integer(zone, TAX_ZONE, head.tax_liability or "", record),
        type_id=options.st_po_type_id,
        business_unit_id=options.st_po_business_unit_id,
        location_id=options.st_po_location_id,
        date=f"{head.order_date.isoformat()}T00:00:00Z",
        required_on=f"{wanted.isoformat()}T00:00:00Z",
        memo=f"IFS PO {head.order_no}",
        lines=tuple(lines),
    )


# -- vouchers -------------------------------------------------------------------------------
def _rows(
    postings: list[tuple[str, Decimal]], cost_center: str, reference: str
) -> tuple[VoucherRowCommand, ...]:
    """Rows for signed postings (positive = debit); a negative amount goes to the other side."""
    rows: list[VoucherRowCommand] = []
    for account, amount in postings:
        if amount == 0:
            continue
        number = len(rows) + 1
        rows.append(
            VoucherRowCommand(
                number=number,
                account=account,
                cost_center=cost_center,
                debit=amount if amount > 0 else None,
                credit=-amount if amount < 0 else None,
                text=common.text(f"{reference} #{number}", 200),
            )
        )
    return tuple(rows)


def map_invoice(invoice: st.Invoice, ctx: MapContext, options: Options) -> VoucherCommand:
    """A ServiceTitan invoice → load ``ST-INV-<id>``: receivable debit for the total,
    revenue credits per mapped GL account, sales tax credit; every row on the cost center
    of the invoice's business unit. An inactive or zero invoice posts nothing."""
    record = f"invoice {invoice.id}"
    reference = common.text(f"ST invoice {invoice.id} {invoice.reference_number or ''}", 60)
    load = load_id("INV", invoice.id)
    date = common.date(invoice.invoice_date, record=record, field="invoiceDate")
    empty = VoucherCommand(load, reference, date, options.voucher_type, options.currency)
    total = common.money(invoice.total, record=record, field="total")
    if not invoice.active or total == 0:
        return empty
    unit = invoice.business_unit.id if invoice.business_unit else None
    cost_center = _required(
        ctx, BU_COST_CENTER, str(unit) if unit else None, record, "business unit"
    )
    tax = common.money(invoice.sales_tax or "0", record=record, field="salesTax")
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for item in invoice.items or ():
        where = f"{record} item {item.id}"
        amount = common.money(item.total or "0", record=where, field="total")
        if amount == 0:
            continue
        number = item.general_ledger_account.number if item.general_ledger_account else None
        account = (
            (ctx.lookup(GL_ACCOUNT, number) if number else None)
            or options.default_revenue_account
            or None
        )
        if account is None and number is None:
            raise MappingError(
                f"{where} has no GL account, so its revenue has no IFS account. Set "
                "default_revenue_account in the flow's options, or give the item a GL account "
                "in ServiceTitan, then resolve the review",
                record=where,
                mapping_kind=GL_ACCOUNT,
                mapping_key="",
            )
        if account is None:
            account = _required(ctx, GL_ACCOUNT, number, where, "GL account")
        revenue[account] -= amount
    credited = -sum(revenue.values(), Decimal(0))
    if credited + tax != total:
        raise SourceDataError(
            f"{record} does not balance: items {credited} + tax {tax} ≠ total {total}; "
            "correct the invoice in ServiceTitan",
            record=record,
            field="total",
        )
    postings = [
        (options.receivable_account, total),
        *sorted(revenue.items()),
        (options.sales_tax_account, -tax),
    ]
    return msgspec.structs.replace(empty, rows=_rows(postings, cost_center, reference))


def map_job(job: st.Job, ctx: MapContext, options: Options) -> VoucherCommand:
    """A completed ServiceTitan job not yet invoiced → load ``ST-JOB-<id>`` accruing its
    total (unbilled receivable debit, accrued revenue credit) on its region's cost center.

    Any other job posts nothing: its invoice carries the revenue (``invoices_to_ifs``).
    """
    record = f"job {job.id}"
    reference = common.text(f"ST job {job.job_number or job.id}", 60)
    day = (
        common.date(job.completed_on, record=record, field="completedOn")
        if job.completed_on
        else None
    )
    empty = VoucherCommand(
        load_id("JOB", job.id), reference, day, options.voucher_type, options.currency
    )
    if job.job_status != "Completed" or job.invoice_id is not None or day is None:
        return empty
    total = common.money(job.total if job.total is not None else 0, record=record, field="total")
    if total == 0:
        return empty
    cost_center = _required(
        ctx,
        BU_COST_CENTER,
        str(job.business_unit_id) if job.business_unit_id else None,
        record,
        "business unit",
    )
    postings = [(options.unbilled_account, total), (options.accrued_revenue_account, -total)]
    return msgspec.structs.replace(empty, rows=_rows(postings, cost_center, reference))
