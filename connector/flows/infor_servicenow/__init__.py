"""Flow ``infor-servicenow``: Infor CloudSuite M3 → ServiceNow Source-to-Pay, as a declaration.

Streams, in the order a cycle runs them (reference data before the documents that cite it):

===============  =========================================  ====================================
stream           from → to (ServiceNow staging table)       natural key in ServiceNow
===============  =========================================  ====================================
suppliers        CRS620MI suppliers → sn_fin_supplier       erp_supplier_id = SUNO, else name
gl_accounts      CRS630MI AIT1 → sn_fin_gl_account          number = AITM
cost_centers     CRS630MI AIT<n> → cmn_cost_center          code = AITM
purchase_orders  PPS200MI orders → sn_shop_purchase_order   erp_po_number = PUNO (+ line no.)
invoices         posted APS450 batches → sn_shop_invoice    DIVI/SUNO/SINO (+ voucher line no.)
===============  =========================================  ====================================

M3 is read with its polling-by-date lists: purchase orders with ``PPS200MI/SearchHead``
(``LMDT:[day TO *]``), posted supplier invoices with ``EXPORTMI/Select`` on FAPIBH
(``E5LMDT >= day``) and their GL coding with ``GLS200MI/LstVoucherLines``
(:mod:`connector.systems.infor.ledger`). Each poll starts the day before the stream's cursor
(an ``LMDT`` date with no time zone); rows read again are "unchanged" in the ledger.
Suppliers and accounting dimensions are short lists, read whole every cycle.

Accounting dimensions are aligned both ways by code: M3's accounts and cost centers are
created in ServiceNow where missing, and a ServiceNow record with the same code (entered
there) is adopted as M3's; codes that differ are mapped in ``[mappings.servicenow_gl_account]``
/ ``[mappings.servicenow_cost_center]``. The mappers are in ``mapping.py``, the targets in
``targets.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from connector.config import FlowConfig
from connector.errors import ConfigurationError
from connector.flows import common
from connector.flows.infor_servicenow import mapping, reconcile
from connector.flows.infor_servicenow.targets import (
    COST_CENTERS,
    GL_ACCOUNTS,
    PURCHASE_ORDERS,
    SUPPLIERS,
    DimensionTarget,
    InvoiceTarget,
    PurchaseOrderTarget,
    SupplierTarget,
)
from connector.registry import CheckResult, FlowRequest, PairingSpec, register_pairing
from connector.runtime.flow import BuiltFlow, CursorMark, Envelope, Flow, MapContext, Stream
from connector.systems.infor import M3Client, ledger
from connector.systems.infor.ledger import PostedInvoiceWithLines
from connector.systems.infor.models import AccountingId, PurchaseOrder, Supplier
from connector.systems.servicenow import ServiceNowClient

NAME = "infor-servicenow"
INVOICES = "invoices"
#: The streams in the order a cycle runs them (what the flow's ``streams`` key may name).
STREAMS = (SUPPLIERS, GL_ACCOUNTS, COST_CENTERS, PURCHASE_ORDERS, INVOICES)
#: The M3 accounting dimension of GL accounts.
ACCOUNT_AIT = 1


def parse_options(config: FlowConfig, flow_name: str) -> mapping.Options:
    options = common.parse_options(config, flow_name, mapping.Options)
    if not 2 <= options.cost_center_ait <= 7:
        raise ConfigurationError(
            f"flows.{flow_name}.options.cost_center_ait = {options.cost_center_ait}: the cost "
            "center is one of the dimensions AIT2..AIT7 (AIT1 is the account)"
        )
    if options.supplier_coalesce not in ("yes", "no"):
        raise ConfigurationError(
            f'flows.{flow_name}.options.supplier_coalesce must be "yes" or "no"'
        )
    for key in ("legal_entity", "gl_account_type"):
        if not getattr(options, key).strip():
            raise ConfigurationError(f"flows.{flow_name}.options.{key} must not be empty")
    return options


def build(flow_name: str, config: FlowConfig, m3: M3Client, sn: ServiceNowClient) -> BuiltFlow:
    """Declare the flow's streams over the two clients (no I/O happens here)."""
    options = parse_options(config, flow_name)

    async def suppliers(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[Supplier] | CursorMark]:
        async for supplier in m3.suppliers():
            if supplier.SUNO != options.supplier_template:
                yield Envelope(supplier.SUNO, supplier)

    def dimension(ait: int) -> Any:
        async def extract(
            cursor: str | None, full: bool
        ) -> AsyncIterator[Envelope[AccountingId] | CursorMark]:
            for value in await m3.accounting_ids(ait):
                yield Envelope(value.AITM, value)

        async def fetch(code: str) -> AccountingId | None:
            return next((v for v in await m3.accounting_ids(ait) if v.AITM == code), None)

        return extract, fetch

    async def purchase_orders(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[PurchaseOrder] | CursorMark]:
        newest = cursor
        async for head in m3.purchase_order_heads(changed_since=_since(cursor, full)):
            newest = max(newest or "", head.LMDT) or None
            lines = tuple(await m3.purchase_order_lines(head.PUNO))
            yield Envelope(head.PUNO, PurchaseOrder(head=head, lines=lines))
        if newest:
            yield CursorMark(newest)

    async def invoices(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[PostedInvoiceWithLines] | CursorMark]:
        newest = cursor
        async for head in ledger.posted_invoices(m3, _since(cursor, full)):
            newest = max(newest or "", head.LMDT) or None
            yield Envelope(
                mapping.invoice_source_id(head.DIVI, head.SUNO, head.SINO),
                await ledger.with_lines(m3, head),
            )
        if newest:
            yield CursorMark(newest)

    async def fetch_supplier(suno: str) -> Supplier | None:
        return await m3.get_supplier(suno)

    async def fetch_purchase_order(puno: str) -> PurchaseOrder | None:
        return await m3.purchase_order(puno)

    async def fetch_invoice(source_id: str) -> PostedInvoiceWithLines | None:
        _, suno, sino = source_id.split("/", 2)
        head = await ledger.find_posted_invoice(m3, suno, sino)
        return None if head is None else await ledger.with_lines(m3, head)

    def map_invoice(invoice: PostedInvoiceWithLines, ctx: MapContext) -> mapping.InvoiceCommand:
        return mapping.map_invoice(invoice, ctx, options, m3.company)

    accounts_extract, accounts_fetch = dimension(ACCOUNT_AIT)
    centers_extract, centers_fetch = dimension(options.cost_center_ait)
    streams: tuple[Stream[Any, Any], ...] = (
        Stream(
            name=SUPPLIERS,
            extract=suppliers,
            fetch=fetch_supplier,
            decode=common.decoder(Supplier),
            encode=msgspec.json.encode,
            map=mapping.map_supplier,
            target=SupplierTarget(sn, options),
            reference=True,
            source_id=lambda s: s.SUNO,
            description="M3 suppliers → ServiceNow suppliers",
        ),
        Stream(
            name=GL_ACCOUNTS,
            extract=accounts_extract,
            fetch=accounts_fetch,
            decode=common.decoder(AccountingId),
            encode=msgspec.json.encode,
            map=mapping.map_dimension,
            target=DimensionTarget(sn, options, cost_center=False),
            reference=True,
            source_id=lambda v: v.AITM,
            description="M3 accounts → ServiceNow GL accounts",
        ),
        Stream(
            name=COST_CENTERS,
            extract=centers_extract,
            fetch=centers_fetch,
            decode=common.decoder(AccountingId),
            encode=msgspec.json.encode,
            map=mapping.map_dimension,
            target=DimensionTarget(sn, options, cost_center=True),
            reference=True,
            source_id=lambda v: v.AITM,
            description="M3 cost centers → ServiceNow",
        ),
        Stream(
            name=PURCHASE_ORDERS,
            extract=purchase_orders,
            fetch=fetch_purchase_order,
            decode=common.decoder(PurchaseOrder),
            encode=msgspec.json.encode,
            map=mapping.map_purchase_order,
            target=PurchaseOrderTarget(sn),
            workers=config.workers,
            source_id=lambda o: o.head.PUNO,
            description="M3 purchase orders → S2P order staging",
        ),
        Stream(
            name=INVOICES,
            extract=invoices,
            fetch=fetch_invoice,
            decode=common.decoder(PostedInvoiceWithLines),
            encode=msgspec.json.encode,
            map=map_invoice,
            target=InvoiceTarget(sn),
            workers=config.workers,
            reconcile=reconcile.invoices(sn, m3),
            source_id=lambda i: mapping.invoice_source_id(i.head.DIVI, i.head.SUNO, i.head.SINO),
            description="M3 posted supplier invoices → S2P invoice staging",
        ),
    )
    return BuiltFlow(Flow(flow_name, streams))


def _since(cursor: str | None, full: bool) -> str | None:
    """Where a poll starts: the day before an ``LMDT`` cursor (M3 dates carry no time zone,
    so a change made "yesterday" in M3's zone may be dated after our cursor day); None (all)
    for a full run or a cursor that is not a yyyyMMdd date."""
    if full or not cursor:
        return None
    try:
        day = dt.datetime.strptime(cursor, "%Y%m%d").date()
    except ValueError:
        return None
    return (day - dt.timedelta(days=1)).strftime("%Y%m%d")


async def build_flow(request: FlowRequest) -> BuiltFlow:
    """The registry's build: check the M3 company (CONO) and that ServiceNow has
    Source-to-Pay, then :func:`build`."""
    m3: M3Client = request.source.connection.client
    await m3.validate_company()
    sn: ServiceNowClient = request.target.connection.client
    await sn.check_plugin()
    return build(request.name, request.flow_config, m3, sn)


async def check_flow(request: FlowRequest) -> list[CheckResult]:
    """``ml-connector check``: the cost-center dimension the flow reads has values in M3."""
    streams = request.flow_config.streams or STREAMS
    if COST_CENTERS not in streams:
        return []
    try:
        options = parse_options(request.flow_config, request.name)
    except ConfigurationError as exc:
        return [CheckResult("options", False, exc.message)]
    m3: M3Client = request.source.connection.client
    ait = f"AIT{options.cost_center_ait}"
    centers = await m3.accounting_ids(options.cost_center_ait)
    if centers:
        return [CheckResult("cost center dimension", True, f"{len(centers)} values in {ait}")]
    table = f"[flows.{request.name}.options]"
    return [
        CheckResult(
            "cost center dimension",
            False,
            f"accounting dimension {ait} (cost_center_ait in {table}) has no values in M3 "
            f"company {m3.company}, so no cost center would reach ServiceNow: set "
            f"cost_center_ait in {table} to the dimension that holds cost centers "
            "(CRS630MI/LstAccountID?AITP=2..7 lists each)",
        )
    ]


register_pairing(
    PairingSpec(
        name=NAME,
        source_kind="infor",
        target_kind="servicenow",
        streams=STREAMS,
        build=build_flow,
        options=mapping.Options,
        check=check_flow,
    )
)
