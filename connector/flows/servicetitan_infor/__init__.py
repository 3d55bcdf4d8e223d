"""Flow ``servicetitan-infor``: ServiceTitan ↔ Infor CloudSuite M3, as a declaration.

Streams, in the order a cycle runs them (reference data before the documents that cite it):

=====================  =====================================  ================================
stream                 from → to                              natural key in the target
=====================  =====================================  ================================
vendors_to_m3          ServiceTitan vendors → M3 suppliers    SUNO (``ST<id>``), else name
suppliers_to_st        M3 suppliers → ServiceTitan vendors    external data ``m3.suno``, name
materials_to_m3        pricebook materials → M3 items         ITNO = pricebook code
equipment_to_m3        pricebook equipment → M3 items         ITNO = pricebook code
items_to_st            M3 items → pricebook materials         code = ITNO
purchase_orders_to_m3  ServiceTitan POs → PPS200MI orders     PUNO (``ST<id>``) + line PNLI
purchase_orders_to_st  M3 POs → ServiceTitan POs              memo ``M3 PO <PUNO>``
ap_bills_to_m3         AP bills → APS450MI batch + lines      supplier + supplier invoice no.
invoices_to_m3         job invoices → APS450MI batch + lines  supplier + supplier invoice no.
=====================  =====================================  ================================

ServiceTitan invoice webhooks feed ``invoices_to_m3``; bills have no webhook event and come
from the scheduled poll. M3 purchase orders are read with ``PPS200MI/SearchHead``, changed
on or after the day before the stream's cursor (an ``LMDT`` date with no time zone); the
orders M3 holds for ServiceTitan (``ST…``) are left out, and so are the ServiceTitan copies
of M3 orders on the way back, so neither side's order returns to it. The mappers are in
``mapping.py``, the targets in ``targets.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from connector.config import FlowConfig
from connector.errors import ConfigurationError
from connector.flows import common
from connector.flows.servicetitan_infor import checks, mapping
from connector.flows.servicetitan_infor.lines import LINE_STREAMS, build_line
from connector.flows.servicetitan_infor.targets import (
    ApTarget,
    ItemTarget,
    M3PurchaseOrderTarget,
    MaterialTarget,
    StPurchaseOrderTarget,
    SupplierTarget,
    VendorTarget,
)
from connector.flows.sources import servicetitan_fetch, servicetitan_incremental
from connector.registry import CheckResult, FlowRequest, PairingSpec, register_pairing
from connector.runtime.flow import BuiltFlow, CursorMark, Envelope, Flow, MapContext, Stream
from connector.store import Store
from connector.systems.infor import M3Client
from connector.systems.infor.lines import InforLine
from connector.systems.infor.models import Item as M3Item
from connector.systems.infor.models import PurchaseOrder as M3PurchaseOrder
from connector.systems.infor.models import Supplier
from connector.systems.servicetitan import ServiceTitanClient, ServiceTitanSystem
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.resources import RESOURCES

NAME = "servicetitan-infor"
#: Every stream on M3, in the order a cycle runs them (what ``[flows.X].streams`` may name).
M3_STREAMS = (
    "vendors_to_m3",
    "suppliers_to_st",
    "materials_to_m3",
    "equipment_to_m3",
    "items_to_st",
    "purchase_orders_to_m3",
    "purchase_orders_to_st",
    "ap_bills_to_m3",
    "invoices_to_m3",
)
WEBHOOK_STREAMS = {"invoice": "invoices_to_m3"}
#: Every stream on any line (SyteLine, LN and FSM name theirs ``…_to_infor``: lines.py);
#: which of them a flow has depends on the target's ``product`` (``streams_for`` below).
STREAMS = M3_STREAMS + tuple(s for s in LINE_STREAMS if s not in M3_STREAMS)


def parse_options(config: FlowConfig, flow_name: str) -> mapping.Options:
    options = common.parse_options(config, flow_name, mapping.Options)
    if options.ap_coding not in ("addline", "recode"):
        raise ConfigurationError(
            f"flows.{flow_name}.options.ap_coding = {options.ap_coding!r} is unknown; use "
            '"addline" (M3 versions that accept AIT1..AIT7 on APS450MI/AddLine) or "recode" '
            "(post, then move each line to its account and cost center with a recode batch)"
        )
    if not 1 <= options.cost_center_ait <= 7:
        raise ConfigurationError(f"flows.{flow_name}.options.cost_center_ait must be 1..7")
    return options


def build(
    flow_name: str,
    config: FlowConfig,
    source_config: ServiceTitanSystem,
    servicetitan: ServiceTitanClient,
    m3: M3Client,
    store: Store,
) -> BuiltFlow:
    """Declare the flow's streams over the two clients (no I/O happens here)."""
    options = parse_options(config, flow_name)
    overlap = source_config.overlap_s

    link = common.ledger_link(store, flow_name)

    def st_fetch(resource_name: str) -> Callable[[str], Awaitable[Any]]:
        return servicetitan_fetch(servicetitan, RESOURCES[resource_name])

    suppliers = SupplierTarget(m3, options)
    vendors = VendorTarget(servicetitan)
    materials = MaterialTarget(servicetitan)

    async def m3_order_of(po_id: int) -> str | None:
        order = await servicetitan.get(RESOURCES["purchase_orders"], po_id)
        return mapping.mirrored_puno(order.summary) if order is not None else None

    documents = ApTarget(m3, options, link, "vendors_to_m3", m3_order_of)
    st_orders = StPurchaseOrderTarget(servicetitan, "suppliers_to_st", "items_to_st")

    def pricebook_stream(
        kind: str, resource_name: str
    ) -> Stream[st.PricebookItem, mapping.ItemCommand]:
        def map_item(item: st.PricebookItem, ctx: MapContext) -> mapping.ItemCommand:
            return mapping.map_pricebook_to_item(item, kind, options)

        return Stream(
            name=f"{resource_name}_to_m3",
            extract=servicetitan_incremental(
                servicetitan, RESOURCES[resource_name], overlap_s=overlap
            ),
            fetch=st_fetch(resource_name),
            decode=common.decoder(st.PricebookItem),
            encode=msgspec.json.encode,
            map=map_item,
            target=ItemTarget(m3),
            reference=True,
        )

    async def m3_suppliers(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[Supplier] | CursorMark]:
        # Neither the template new suppliers copy nor the clearing supplier job invoices are
        # booked against is anyone's vendor: sent to ServiceTitan, a technician could buy
        # from "ServiceTitan job invoices".
        internal = {options.supplier_template, options.invoice_supplier}
        async for supplier in m3.suppliers():
            if supplier.SUNO not in internal:
                yield Envelope(supplier.SUNO, supplier)

    async def m3_items(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[M3Item] | CursorMark]:
        newest = cursor
        source = m3.items() if full or not cursor else m3.items_changed_since(cursor)
        async for item in source:
            if item.LMDT and (newest is None or item.LMDT > newest):
                newest = item.LMDT
            yield Envelope(item.ITNO, item)
        if newest:
            yield CursorMark(newest)

    async def m3_purchase_orders(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[M3PurchaseOrder] | CursorMark]:
        since = None if full or not cursor else _day_before(cursor)
        newest = cursor
        async for head in m3.purchase_order_heads(changed_since=since):
            if head.LMDT and (newest is None or head.LMDT > newest):
                newest = head.LMDT
            if mapping.is_servicetitan_order(head.PUNO):
                continue  # made from a ServiceTitan PO: it must not travel back
            lines = tuple(await m3.purchase_order_lines(head.PUNO))
            yield Envelope(head.PUNO, M3PurchaseOrder(head=head, lines=lines))
        if newest:
            yield CursorMark(newest)

    async def fetch_purchase_order(puno: str) -> M3PurchaseOrder | None:
        return await m3.purchase_order(puno)

    async def fetch_supplier(suno: str) -> Supplier | None:
        return await m3.get_supplier(suno)

    async def fetch_item(itno: str) -> M3Item | None:
        return await m3.get_item(itno)

    streams: tuple[Stream[Any, Any], ...] = (
        Stream(
            name="vendors_to_m3",
            extract=servicetitan_incremental(servicetitan, RESOURCES["vendors"], overlap_s=overlap),
            fetch=st_fetch("vendors"),
            decode=common.decoder(st.Vendor),
            encode=msgspec.json.encode,
            map=mapping.map_vendor_to_supplier,
            target=suppliers,
            reference=True,
            prepare=suppliers.prepare,
        ),
        Stream(
            name="suppliers_to_st",
            extract=m3_suppliers,
            fetch=fetch_supplier,
            decode=common.decoder(Supplier),
            encode=msgspec.json.encode,
            map=mapping.map_supplier_to_vendor,
            target=vendors,
            reference=True,
            source_id=lambda s: s.SUNO,
            prepare=vendors.prepare,
        ),
        pricebook_stream("material", "materials"),
        pricebook_stream("equipment", "equipment"),
        Stream(
            name="items_to_st",
            extract=m3_items,
            fetch=fetch_item,
            decode=common.decoder(M3Item),
            encode=msgspec.json.encode,
            map=mapping.map_item_to_material,
            target=materials,
            reference=True,
            source_id=lambda i: i.ITNO,
            prepare=materials.prepare,
        ),
        Stream(
            name="purchase_orders_to_m3",
            extract=servicetitan_incremental(
                servicetitan, RESOURCES["purchase_orders"], overlap_s=overlap
            ),
            fetch=st_fetch("purchase_orders"),
            decode=common.decoder(st.PurchaseOrder),
            encode=msgspec.json.encode,
            map=lambda po, ctx: mapping.map_po_to_m3(po, ctx, options),
            target=M3PurchaseOrderTarget(m3, "vendors_to_m3"),
            workers=config.workers,
        ),
        Stream(
            name="purchase_orders_to_st",
            extract=m3_purchase_orders,
            fetch=fetch_purchase_order,
            decode=common.decoder(M3PurchaseOrder),
            encode=msgspec.json.encode,
            map=lambda order, ctx: mapping.map_po_to_st(order, ctx, options),
            target=st_orders,
            # Always looked up first (in an index built per pass): ServiceTitan has no other
            # way to tell an M3 order it already holds, and the copy is never updated.
            reference=True,
            workers=config.workers,
            source_id=lambda order: order.head.PUNO,
            prepare=st_orders.prepare,
        ),
        Stream(
            name="ap_bills_to_m3",
            extract=servicetitan_incremental(
                servicetitan, RESOURCES["ap_bills"], overlap_s=overlap
            ),
            fetch=st_fetch("ap_bills"),
            decode=common.decoder(st.ApBill),
            encode=msgspec.json.encode,
            map=lambda bill, ctx: mapping.map_bill(bill, ctx, options),
            target=documents,
            workers=config.workers,
            reconcile=documents.reconciliation("bill"),
            prepare=documents.prepare,
        ),
        Stream(
            name="invoices_to_m3",
            extract=servicetitan_incremental(
                servicetitan, RESOURCES["invoices"], overlap_s=overlap
            ),
            fetch=st_fetch("invoices"),
            decode=common.decoder(st.Invoice),
            encode=msgspec.json.encode,
            map=lambda invoice, ctx: mapping.map_invoice(invoice, ctx, options),
            target=documents,
            workers=config.workers,
            reconcile=documents.reconciliation("invoice"),
            prepare=documents.prepare,
        ),
    )
    return BuiltFlow(Flow(flow_name, streams), dict(WEBHOOK_STREAMS))


def _day_before(cursor: str) -> str | None:
    """The scan start for an ``LMDT`` cursor: M3 dates carry no time zone, so a change made
    "yesterday" in M3's zone may be dated after our cursor day; None (a full scan) when the
    cursor is not a yyyyMMdd date."""
    try:
        day = dt.datetime.strptime(cursor, "%Y%m%d").date()
    except ValueError:
        return None
    return (day - dt.timedelta(days=1)).strftime("%Y%m%d")


async def build_flow(request: FlowRequest) -> BuiltFlow:
    """The registry's build: check the company exists, then :func:`build` on M3 or
    :func:`~connector.flows.servicetitan_infor.lines.build_line` on another line."""
    source_config = common.servicetitan_system(request, "source")
    client: ServiceTitanClient = request.source.connection.client
    line: InforLine | None = request.target.connection.line
    if line is not None:
        await line.validate()
        parse_options(request.flow_config, request.name)
        return build_line(
            request.name, request.flow_config, source_config, client, line, request.store
        )
    m3: M3Client = request.target.connection.client
    await m3.validate_company()
    return build(request.name, request.flow_config, source_config, client, m3, request.store)


async def check_flow(request: FlowRequest) -> list[CheckResult]:
    """``ml-connector check``: the clearing supplier and AIT support (:mod:`.checks`), for
    the streams this flow runs on M3."""
    try:
        options = parse_options(request.flow_config, request.name)
    except ConfigurationError as exc:
        return [CheckResult("options", False, exc.message)]
    if request.target.connection.line is not None:
        return []  # SyteLine, LN, FSM: no APS450MI, CRS620MI or CRS630MI to ask
    m3: M3Client = request.target.connection.client
    streams = request.flow_config.streams or M3_STREAMS
    results: list[CheckResult] = []
    if "invoices_to_m3" in streams:
        results.append(await checks.clearing_supplier(m3, request.name, options))
    if {"ap_bills_to_m3", "invoices_to_m3"} & set(streams):
        results += await checks.accounting(m3, request.name, options, request.config, request.store)
    return results


register_pairing(
    PairingSpec(
        name=NAME,
        source_kind="servicetitan",
        target_kind="infor",
        streams=STREAMS,
        build=build_flow,
        options=mapping.Options,
        check=check_flow,
        streams_for=lambda source, target: (
            M3_STREAMS if getattr(target, "product", "m3") == "m3" else LINE_STREAMS
        ),
    )
)
