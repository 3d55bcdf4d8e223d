"""The ServiceNow targets of ``infor-servicenow``: live lookups by natural key, imports.

Every ``find`` asks ServiceNow's target tables (never the staging rows, which are purged on a
schedule, and never our ledger), so a replay, a crash or a rebuilt state database adopts
what is already there. Writes go through the Import Set API, which inserts on every call
unless the transform map coalesces: the runtime calls ``find`` before every write, and a
document is imported header first, then only the lines ServiceNow does not hold yet.

A document is **complete** when its header and every line are in ServiceNow; a header
without all its lines (a crash or a lost reply between two imports) is ``Found(complete=
False)`` and ``write`` imports only the missing lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from connector.errors import MappingError, PermanentError, RejectedError, clause
from connector.flows.infor_servicenow.mapping import (
    COST_CENTER,
    GL_ACCOUNT,
    DimensionCommand,
    InvoiceCommand,
    InvoiceLineCommand,
    Options,
    PurchaseOrderCommand,
    SupplierCommand,
)
from connector.runtime.flow import Found, LoadContext, Outcome, Written
from connector.systems.servicenow import ServiceNowClient
from connector.systems.servicenow.models import (
    CostCenterImport,
    GlAccountImport,
    InvoiceImport,
    InvoiceLineImport,
    PurchaseOrderImport,
    PurchaseOrderLineImport,
    Supplier,
    SupplierImport,
)

SUPPLIERS = "suppliers"
GL_ACCOUNTS, COST_CENTERS = "gl_accounts", "cost_centers"
PURCHASE_ORDERS = "purchase_orders"


class SupplierTarget:
    """``sn_fin_supplier`` by ``erp_supplier_id``, else by name (a supplier entered by hand)."""

    def __init__(self, sn: ServiceNowClient, options: Options) -> None:
        self.sn = sn
        self.options = options

    async def find(self, command: SupplierCommand) -> Found | None:
        supplier = await self.sn.find_supplier(command.suno)
        if supplier is not None:
            return Found(supplier.sys_id, matches=supplier.name == command.name)
        named = await self.sn.find_supplier_named(command.name)
        if named is None:
            return None
        if named.erp_supplier_id not in ("", command.suno):
            raise RejectedError(
                f"M3 supplier {command.suno} is named {command.name!r}, like ServiceNow "
                f"supplier {named.sys_id} of M3 supplier {named.erp_supplier_id}: invoices "
                "find suppliers by name, so two of that name cannot be told apart. Rename one "
                "of them in M3, then replay the record",
                system="servicenow",
                record=f"supplier {command.suno}",
            )
        # Entered by hand under the same name: adopted as it is.
        return Found(named.sys_id, matches=True)

    async def write(
        self, command: SupplierCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        if existing is not None and self.options.supplier_coalesce != "yes":
            raise RejectedError(
                f"M3 supplier {command.suno} is now named {command.name!r} but ServiceNow "
                f"supplier {existing.target_id} has another name, and the supplier transform "
                "map does not coalesce: importing it again would create a second supplier. "
                "Rename it in ServiceNow, or make the map coalesce on erp_supplier_id and set "
                'options.supplier_coalesce = "yes"; then replay the record',
                system="servicenow",
                record=f"supplier {command.suno}",
            )
        imported = await self.sn.import_row(
            SupplierImport(
                company=command.name, erp_source=self.sn.erp_source, erp_supplier_id=command.suno
            )
        )
        outcome = Outcome.CREATED if existing is None else Outcome.UPDATED
        return Written(outcome, imported.target_sys_id, {"import_set": imported.import_set})


class DimensionTarget:
    """``sn_fin_gl_account`` by number or ``cmn_cost_center`` by code; an existing one with
    the same code is the aligned record, whatever its name (codes are the identity)."""

    def __init__(self, sn: ServiceNowClient, options: Options, *, cost_center: bool) -> None:
        self.sn = sn
        self.options = options
        self.cost_center = cost_center

    async def find(self, command: DimensionCommand) -> Found | None:
        found = await (
            self.sn.find_cost_center(command.code)
            if self.cost_center
            else self.sn.find_gl_account(command.code)
        )
        return None if found is None else Found(found.sys_id, matches=True)

    async def write(
        self, command: DimensionCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        source, entity = self.sn.erp_source, self.options.legal_entity
        row: CostCenterImport | GlAccountImport
        if self.cost_center:
            row = CostCenterImport(
                code=command.code, name=command.name, legal_entity=entity, erp_source=source
            )
        else:
            row = GlAccountImport(
                number=command.code,
                account_name=command.name,
                entity=entity,
                type=self.options.gl_account_type,
                erp_source=source,
            )
        imported = await self.sn.import_row(row)
        return Written(Outcome.CREATED, imported.target_sys_id, {"import_set": imported.import_set})


class PurchaseOrderTarget:
    """``sn_shop_purchase_order`` by ``erp_po_number``, lines by ``erp_po_line_number``."""

    def __init__(self, sn: ServiceNowClient) -> None:
        self.sn = sn

    async def find(self, command: PurchaseOrderCommand) -> Found | None:
        order = await self.sn.find_purchase_order(command.puno)
        if order is None:
            return None
        held = {
            line.erp_po_line_number for line in await self.sn.purchase_order_lines(order.sys_id)
        }
        complete = all(_same_number(line.line_number, held) for line in command.lines)
        return Found(
            order.sys_id,
            complete=complete,
            matches=complete and _same_amount(order.total_amount, command.amount),
        )

    async def write(
        self, command: PurchaseOrderCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        supplier = await _supplier_name(
            self.sn, ctx, command.suno, f"purchase order {command.puno}"
        )
        source = self.sn.erp_source
        if existing is None:
            imported = await self.sn.import_row(
                PurchaseOrderImport(
                    erp_po_number=command.puno,
                    erp_source=source,
                    supplier_company_name=supplier,
                    po_amount=command.amount,
                    po_amount_currency=command.currency,
                )
            )
            order_id, held = imported.target_sys_id, set[str]()
            ctx.note("header_imported", {"target_id": order_id, "number": imported.number})
        else:
            order_id = existing.target_id
            held = {
                line.erp_po_line_number for line in await self.sn.purchase_order_lines(order_id)
            }
        for line in command.lines:
            if _same_number(line.line_number, held):
                continue
            await self.sn.import_row(
                PurchaseOrderLineImport(
                    erp_source=source,
                    erp_po_number=command.puno,
                    erp_po_line_number=line.line_number,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
            )
        return Written(Outcome.CREATED, order_id, {"lines": str(len(command.lines))})


class InvoiceTarget:
    """``sn_shop_invoice`` by ``external_invoice_number`` (``DIVI/SUNO/SINO``), lines by
    ``erp_line_number``. Before anything is imported, every line's GL account and cost
    center must exist in ServiceNow: a code without one sends the invoice to review, unless
    it is M3's own code whose import is unfinished (in doubt): then the invoice waits."""

    def __init__(self, sn: ServiceNowClient) -> None:
        self.sn = sn

    async def find(self, command: InvoiceCommand) -> Found | None:
        invoice = await self.sn.find_invoice(command.key)
        if invoice is None:
            return None
        held = {line.erp_line_number for line in await self.sn.invoice_lines(invoice.sys_id)}
        complete = all(_same_number(line.line_number, held) for line in command.lines)
        return Found(
            invoice.sys_id,
            complete=complete,
            matches=complete and _same_amount(invoice.subtotal, command.subtotal),
        )

    async def write(
        self, command: InvoiceCommand, existing: Found | None, ctx: LoadContext
    ) -> Written:
        record = f"invoice {command.sino} of supplier {command.suno}"
        await self._check_dimensions(command.lines, record, ctx)
        supplier = await _supplier_name(self.sn, ctx, command.suno, record)
        if command.puno:
            await ctx.ensure(PURCHASE_ORDERS, command.puno)
        source = self.sn.erp_source
        if existing is None:
            imported = await self.sn.import_row(
                InvoiceImport(
                    erp_source=source,
                    external_invoice_number=command.key,
                    external_invoice_source=command.source,
                    invoice_date=command.invoice_date,
                    other_charges=command.other_charges,
                    subtotal=command.subtotal,
                    supplier=supplier,
                    supplier_invoice_number=command.sino,
                    purchase_order=command.puno,
                    currency=command.currency,
                )
            )
            invoice_id, held = imported.target_sys_id, set[str]()
            ctx.note("header_imported", {"target_id": invoice_id, "number": imported.number})
        else:
            invoice_id = existing.target_id
            held = {line.erp_line_number for line in await self.sn.invoice_lines(invoice_id)}
        for line in command.lines:
            if _same_number(line.line_number, held):
                continue
            await self.sn.import_row(
                InvoiceLineImport(
                    erp_source=source,
                    external_invoice_number=command.key,
                    external_invoice_source=command.source,
                    erp_line_number=line.line_number,
                    line_description=line.description,
                    line_quantity="1",
                    line_unit_price=line.amount,
                    subtotal=line.amount,
                    gl_account=line.gl_account,
                    cost_center=line.cost_center,
                    currency=command.currency,
                )
            )
        return Written(Outcome.CREATED, invoice_id, {"lines": str(len(command.lines))})

    async def _check_dimensions(
        self, lines: Iterable[InvoiceLineCommand], record: str, ctx: LoadContext
    ) -> None:
        """MappingError for the first account or cost center ServiceNow does not hold;
        DeferredError while one is only our own import of it left unfinished."""
        accounts = {line.gl_account: line.m3_account for line in lines}
        centers = {line.cost_center: line.m3_cost_center for line in lines}
        for sn_code, m3_code in sorted(accounts.items()):
            if await self.sn.find_gl_account(sn_code) is None:
                await _unfinished_or_missing(ctx, record, _ACCOUNT, sn_code, m3_code)
        for sn_code, m3_code in sorted(centers.items()):
            if await self.sn.find_cost_center(sn_code) is None:
                await _unfinished_or_missing(ctx, record, _CENTER, sn_code, m3_code)


class _Dimension(NamedTuple):
    """An accounting dimension an invoice line cites, as review and the runtime name it."""

    what: str
    #: The stream that imports M3's values into ServiceNow.
    stream: str
    #: The mapping kind of an M3 code → another ServiceNow code.
    mapping_kind: str


_ACCOUNT = _Dimension("GL account", GL_ACCOUNTS, GL_ACCOUNT)
_CENTER = _Dimension("cost center", COST_CENTERS, COST_CENTER)


async def _unfinished_or_missing(
    ctx: LoadContext, record: str, dimension: _Dimension, sn_code: str, m3_code: str
) -> None:
    """A dimension value ServiceNow's lookup did not find. Aligned by code (no mapping), it
    may be our own import of M3's left unfinished (a lost reply, an outage): the runtime
    settles that by a lookup, and the invoice waits (DeferredError) while it stays so.
    Otherwise (mapped to another code, never imported, or parked) it is missing: review."""
    what, kind = dimension.what, dimension.mapping_kind
    if sn_code == m3_code:
        try:
            if await ctx.settle(dimension.stream, m3_code) is not None:
                return
        except (MappingError, PermanentError) as exc:
            # Settling it parked our import (review, dead letter) or found it gone from
            # M3: the invoice waits for a person as it would for a missing one, told why.
            raise _unmapped(record, what, kind, m3_code, sn_code, clause(exc)) from exc
    raise _unmapped(record, what, kind, m3_code, sn_code)


def _unmapped(
    record: str, what: str, kind: str, m3_code: str, sn_code: str, why: str = ""
) -> MappingError:
    because = f"; importing it failed: {why}" if why else ""
    return MappingError(
        f"{record}: M3 {what} {m3_code} has no ServiceNow {what} (looked for {sn_code!r} with "
        f"this ERP source{because}). Align it (the flow's {what} stream creates M3's in "
        f"ServiceNow), or map it: ml-connector review resolve --mapping {kind} "
        f"{m3_code}=<ServiceNow code>",
        record=record,
        mapping_kind=kind,
        mapping_key=m3_code,
    )


async def _supplier_name(sn: ServiceNowClient, ctx: LoadContext, suno: str, record: str) -> str:
    """The ServiceNow name of M3 supplier ``suno`` (imports refer to suppliers by name),
    after making sure the supplier is there."""
    supplier_id = await ctx.ensure(SUPPLIERS, suno)
    supplier = await sn.get(Supplier, supplier_id)
    if supplier is None or not supplier.name:
        raise RejectedError(
            f"{record}: ServiceNow supplier {supplier_id} (M3 supplier {suno}) cannot be read "
            "or has no name; check the integration user's read access to sn_fin_supplier, "
            "then replay the record",
            system="servicenow",
            record=record,
        )
    return supplier.name


def _same_number(number: str, held: set[str]) -> bool:
    """Whether line ``number`` is among ``held`` (ServiceNow may render ``10`` as ``10.0``)."""
    if number in held:
        return True
    try:
        wanted = Decimal(number)
        return any(_decimal(h) == wanted for h in held)
    except InvalidOperation:
        return False


def _same_amount(held: str, wanted: str) -> bool:
    return _decimal(held) == _decimal(wanted)


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError):
        return None
