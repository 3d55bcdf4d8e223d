"""Every pure mapper of ``infor-servicenow``: M3 records → what the ServiceNow targets import.

Mappers read the mapping tables through :class:`MapContext` and nothing else. Accounting
dimensions are aligned **by code**: an M3 account or cost center stands for the ServiceNow GL
account or cost center with the same code, unless the tables ``servicenow_gl_account`` /
``servicenow_cost_center`` map it to another code (a chart that differs on the two sides).
Whether that ServiceNow record exists is asked of ServiceNow when the invoice is written
(``targets.py``): a code with no counterpart sends the invoice to review, naming the mapping
kind and the M3 code — unless it is M3's own code whose import the flow began and has not
finished (a lost reply left it in doubt): then the invoice waits for it and is taken again.

The natural keys the targets look up by:

* supplier — ``erp_supplier_id`` = M3 ``SUNO``, else the supplier's name;
* GL account / cost center — number / code;
* purchase order — ``erp_po_number`` = ``PUNO``; its lines by ``erp_po_line_number``;
* invoice — ``external_invoice_number`` = ``DIVI/SUNO/SINO``, the M3 identity of a supplier
  invoice (division + supplier + supplier invoice number). Invoice lines find their header
  by that number and the ERP source alone, so it must be unique across suppliers, which the
  supplier invoice number by itself is not.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec

from connector.errors import SourceDataError
from connector.flows import common
from connector.runtime.flow import MapContext
from connector.systems.infor.ledger import PostedInvoiceWithLines, VoucherLine
from connector.systems.infor.models import AccountingId, PurchaseOrder, Supplier

#: Mapping kinds: M3 code → ServiceNow code, where the two charts differ.
GL_ACCOUNT = "servicenow_gl_account"
COST_CENTER = "servicenow_cost_center"


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[flows.infor-servicenow.options]`` (documented in connector.example.toml)."""

    #: ServiceNow legal entity (code or name) of the GL accounts and cost centers created.
    legal_entity: str = "US01"
    #: ``type`` of the GL accounts created in ServiceNow.
    gl_account_type: str = "expense"
    #: Which M3 accounting dimension (AIT1..AIT7) holds the cost center.
    cost_center_ait: int = 2
    #: M3 supplier used as a template for new suppliers: never sent to ServiceNow.
    supplier_template: str = "TEMPLATE"
    #: "yes" when the instance's supplier transform map coalesces on ``erp_supplier_id``, so
    #: a renamed M3 supplier can be imported again (it updates); "no" = it would insert a
    #: second supplier, so a rename is dead-lettered for a person instead.
    supplier_coalesce: str = "no"


class SupplierCommand(msgspec.Struct, frozen=True):
    suno: str
    name: str


class DimensionCommand(msgspec.Struct, frozen=True):
    """A GL account (AIT1) or cost center value to have in ServiceNow, by code."""

    code: str
    name: str


class InvoiceLineCommand(msgspec.Struct, frozen=True):
    line_number: str
    description: str
    #: The M3 codes (named in review) and the ServiceNow codes they align with.
    m3_account: str
    m3_cost_center: str
    gl_account: str
    cost_center: str
    amount: str


class InvoiceCommand(msgspec.Struct, frozen=True):
    #: ``DIVI/SUNO/SINO``: the natural key in ServiceNow (external invoice number).
    key: str
    #: ``M3 <CONO>/<DIVI>``: the external invoice source.
    source: str
    suno: str
    sino: str
    invoice_date: str
    subtotal: str
    other_charges: str
    currency: str
    puno: str
    lines: tuple[InvoiceLineCommand, ...]


class PurchaseOrderLineCommand(msgspec.Struct, frozen=True):
    line_number: str
    quantity: str
    unit_price: str


class PurchaseOrderCommand(msgspec.Struct, frozen=True):
    puno: str
    suno: str
    amount: str
    currency: str
    lines: tuple[PurchaseOrderLineCommand, ...]


def invoice_source_id(divi: str, suno: str, sino: str) -> str:
    """The ledger key and ServiceNow natural key of an M3 supplier invoice."""
    return f"{divi}/{suno}/{sino}"


def map_supplier(supplier: Supplier, ctx: MapContext) -> SupplierCommand:
    record = f"supplier {supplier.SUNO}"
    if not supplier.SUNO:
        raise SourceDataError("an M3 supplier has no number", record=record, field="SUNO")
    name = common.text(supplier.SUNM, 80)
    if not name:
        raise SourceDataError(
            f"{record} has no name (SUNM); enter it in M3 (CRS620)", record=record, field="SUNM"
        )
    return SupplierCommand(supplier.SUNO, name)


def map_dimension(value: AccountingId, ctx: MapContext) -> DimensionCommand:
    record = f"accounting dimension {value.AITP} value {value.AITM}"
    if not value.AITM:
        raise SourceDataError(f"{record} has no code", record=record, field="AITM")
    return DimensionCommand(value.AITM, common.text(value.TX40 or value.AITM, 80))


def map_purchase_order(order: PurchaseOrder, ctx: MapContext) -> PurchaseOrderCommand:
    head = order.head
    record = f"purchase order {head.PUNO}"
    if not head.SUNO:
        raise SourceDataError(f"{record} has no supplier", record=record, field="SUNO")
    lines: list[PurchaseOrderLineCommand] = []
    total = Decimal(0)
    for line in order.lines:
        where = f"{record} line {line.PNLI}"
        quantity = common.quantity(line.ORQA, record=where, field="ORQA")
        price = common.money(line.PUPR, record=where, field="PUPR", allow_negative=False)
        total += (quantity * price).quantize(common.CENT)
        lines.append(
            PurchaseOrderLineCommand(
                _po_line_number(line.PNLI, line.PNLS), _plain(quantity), str(price)
            )
        )
    return PurchaseOrderCommand(head.PUNO, head.SUNO, str(total), head.CUCD, tuple(lines))


def map_invoice(
    invoice: PostedInvoiceWithLines, ctx: MapContext, options: Options, company: str
) -> InvoiceCommand:
    head = invoice.head
    record = f"invoice {head.SINO or '?'} of supplier {head.SUNO} (batch {head.INBN})"
    if not head.SINO:
        raise SourceDataError(
            f"{record} has no supplier invoice number", record=record, field="SINO"
        )
    if not invoice.lines:
        raise SourceDataError(
            f"{record}: its voucher {head.VSER}/{head.VONO} has no cost "
            "lines (GL transaction code 41); check the posting in GLS200",
            record=record,
            field="VONO",
        )
    total = common.money(head.CUAM, record=record, field="CUAM")
    lines = tuple(_invoice_line(line, ctx, options, record) for line in invoice.lines)
    subtotal = sum((Decimal(line.amount) for line in lines), Decimal(0))
    return InvoiceCommand(
        key=invoice_source_id(head.DIVI, head.SUNO, head.SINO),
        source=f"M3 {company}/{head.DIVI}",
        suno=head.SUNO,
        sino=head.SINO,
        invoice_date=_iso_date(head.IVDT, record, "IVDT"),
        subtotal=str(subtotal),
        other_charges=str(total - subtotal),
        currency=head.CUCD,
        puno=head.PUNO,
        lines=lines,
    )


def _invoice_line(
    line: VoucherLine, ctx: MapContext, options: Options, record: str
) -> InvoiceLineCommand:
    where = f"{record} voucher line {line.JSNO}"
    account = line.AIT1
    center = line.dimension(options.cost_center_ait)
    if not account:
        raise SourceDataError(f"{where} has no account (AIT1)", record=where, field="AIT1")
    if not center:
        raise SourceDataError(
            f"{where} has no cost center (AIT{options.cost_center_ait})",
            record=where,
            field=f"AIT{options.cost_center_ait}",
        )
    amount = common.money(line.NLAM, record=where, field="NLAM")
    return InvoiceLineCommand(
        line_number=line.JSNO,
        description=common.text(line.VTXT, 160) or f"M3 voucher line {line.JSNO}",
        m3_account=account,
        m3_cost_center=center,
        gl_account=ctx.lookup(GL_ACCOUNT, account) or account,
        cost_center=ctx.lookup(COST_CENTER, center) or center,
        amount=str(amount),
    )


def _iso_date(value: str, record: str, field: str) -> str:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date().isoformat()
    except ValueError:
        raise SourceDataError(
            f"{record} has an unreadable {field} {value!r} (yyyyMMdd)", record=record, field=field
        ) from None


def _po_line_number(pnli: str, pnls: str) -> str:
    """M3 line ``PNLI``, with the subline when there is one (``20.1``)."""
    return pnli if pnls in ("", "0") else f"{pnli}.{pnls}"


def _plain(value: Decimal) -> str:
    """A quantity without trailing zeros: ``4``, ``2.5``."""
    return format(value.normalize(), "f")
