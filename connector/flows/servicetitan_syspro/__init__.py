"""Flow ``servicetitan-syspro``: ServiceTitan ↔ SYSPRO 8, as a declaration.

Streams, in the order a cycle runs them (reference data before the documents that cite it):

=========================  ==============================================  =====================
stream                     from → to                                       natural key in target
=========================  ==============================================  =====================
vendors_to_syspro          ServiceTitan vendors → SYSPRO suppliers         supplier ``ST<id>``
                           (APSSSP add/update)
suppliers_to_st            SYSPRO suppliers (OData) → ServiceTitan vendors external data
                                                                           ``syspro.supplier``
purchase_orders_to_syspro  ServiceTitan POs → SYSPRO POs (PORTOI)          PO ``ST<id>``
purchase_orders_to_st      SYSPRO POs (OData) → ServiceTitan POs           memo ``SYSPRO PO <n>``
adjustments_to_syspro      ServiceTitan adjustments → movements (INVTMA)   ``STADJ<id>/<line>``
invoices_to_syspro         job invoices → SYSPRO AP invoices (APSTIN)      supplier + invoice no.
ap_invoices_from_syspro    SYSPRO AP invoices (OData) → ServiceTitan       the invoice's
                           invoices marked exported                        ``syncStatus``
=========================  ==============================================  =====================

What is not here, and why:

* **SYSPRO inventory movements → ServiceTitan adjustments**: ServiceTitan's inventory API
  (``inventory-v2``) reads adjustments and PATCHes their external data and custom fields,
  but has no POST: an adjustment cannot be created through the API. SYSPRO's movements stay
  in SYSPRO; ServiceTitan's own adjustments travel to SYSPRO.
* **SYSPRO AP invoices → ServiceTitan AP bills**: ServiceTitan bills are read-only (only
  ``markasexported`` and custom fields can be written) and appear only from received POs.
  So the OData poll of SYSPRO's ``ApInvoice`` table closes the loop instead: an AP invoice
  posted from a ServiceTitan job invoice (its ``TransactionReference`` is
  ``ST invoice <id>``) marks that invoice ``Exported`` in ServiceTitan, with the SYSPRO
  supplier/invoice as its export id — the status an accountant there reads as "in the ERP".
  SYSPRO's own AP invoices have nowhere to go in ServiceTitan and are not extracted.
* **Suppliers made from ServiceTitan vendors (``ST…``) and the clearing supplier** are not
  extracted back as vendors: the first are ServiceTitan's own, the second is bookkeeping.

SYSPRO is polled through OData on the ``TimeStamp`` row version (``ge`` the cursor, so a
row sharing it is read again and the ledger's content hash makes it "unchanged"); the
product's cadence is every 15 minutes (``schedule = "every 15m"``). e.net calls of a run share
one session, logged on at the first call and off when the run ends (:class:`SysproCycle`).
ServiceTitan invoice webhooks feed ``invoices_to_syspro``. The mappers are in ``mapping.py``,
the targets in ``targets.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from connector.config import FlowConfig
from connector.flows import common
from connector.flows.servicetitan_syspro import mapping, reconcile
from connector.flows.servicetitan_syspro.mapping import SysproOrder
from connector.flows.servicetitan_syspro.targets import (
    AdjustmentTarget,
    ApInvoiceTarget,
    ExportedTarget,
    StPurchaseOrderTarget,
    SupplierTarget,
    SysproCycle,
    SysproPurchaseOrderTarget,
    VendorTarget,
)
from connector.flows.sources import servicetitan_incremental
from connector.registry import FlowRequest, PairingSpec, register_pairing
from connector.runtime.flow import BuiltFlow, CursorMark, Envelope, Flow, Stream
from connector.store import Store
from connector.systems.servicetitan import ServiceTitanClient, ServiceTitanSystem
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.resources import RESOURCES
from connector.systems.syspro import SysproConnection
from connector.systems.syspro.models import (
    ApInvoiceRecord,
    PurchaseOrderLineRecord,
    PurchaseOrderRecord,
    SupplierRecord,
)
from connector.systems.syspro.odata import odata_string

NAME = "servicetitan-syspro"
WEBHOOK_STREAMS = {"invoice": "invoices_to_syspro"}
VENDORS, SUPPLIERS = "vendors_to_syspro", "suppliers_to_st"
POS_TO_SYSPRO, POS_TO_ST = "purchase_orders_to_syspro", "purchase_orders_to_st"
ADJUSTMENTS, INVOICES, EXPORTED = (
    "adjustments_to_syspro",
    "invoices_to_syspro",
    "ap_invoices_from_syspro",
)
#: Every stream, in the order a cycle runs them (what ``[flows.X].streams`` may name).
STREAMS = (VENDORS, SUPPLIERS, POS_TO_SYSPRO, POS_TO_ST, ADJUSTMENTS, INVOICES, EXPORTED)


def parse_options(config: FlowConfig, flow_name: str) -> mapping.Options:
    return common.parse_options(config, flow_name, mapping.Options)


def build(
    flow_name: str,
    config: FlowConfig,
    source_config: ServiceTitanSystem,
    servicetitan: ServiceTitanClient,
    syspro: SysproConnection,
    store: Store,
) -> BuiltFlow:
    """Declare the flow's streams over the two systems (no I/O happens here)."""
    options = parse_options(config, flow_name)
    overlap = source_config.overlap_s
    cycle = SysproCycle(syspro)

    def st_stream(resource: str) -> Any:
        return servicetitan_incremental(servicetitan, RESOURCES[resource], overlap_s=overlap)

    def st_fetch(resource: str) -> Callable[[str], Awaitable[Any]]:
        async def fetch(source_id: str) -> Any:
            return await servicetitan.get(RESOURCES[resource], int(source_id))

        return fetch

    async def suppliers(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[SupplierRecord] | CursorMark]:
        newest = _stamp(cursor)
        async for row in syspro.odata.changed_since(
            SupplierRecord, "TimeStamp", None if full else _stamp(cursor)
        ):
            newest = max(newest or 0, row.time_stamp)
            # ServiceTitan's own suppliers and the clearing supplier are not vendors to make.
            if not mapping.vendor_id_from_code(row.supplier) and (
                row.supplier != options.invoice_supplier
            ):
                yield Envelope(row.supplier, row)
        if newest is not None:
            yield CursorMark(str(newest))

    async def fetch_supplier(code: str) -> SupplierRecord | None:
        async for row in syspro.odata.rows(SupplierRecord, f"Supplier eq {odata_string(code)}"):
            return row
        return None

    async def order(head: PurchaseOrderRecord) -> SysproOrder:
        condition = f"PurchaseOrder eq {odata_string(head.purchase_order)}"
        lines = [row async for row in syspro.odata.rows(PurchaseOrderLineRecord, condition)]
        return SysproOrder(head, tuple(sorted(lines, key=lambda line: line.line)))

    async def syspro_orders(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[SysproOrder] | CursorMark]:
        newest = _stamp(cursor)
        async for head in syspro.odata.changed_since(
            PurchaseOrderRecord, "TimeStamp", None if full else _stamp(cursor)
        ):
            newest = max(newest or 0, head.time_stamp)
            if not mapping.is_servicetitan_order(head.purchase_order):
                yield Envelope(head.purchase_order, await order(head))
        if newest is not None:
            yield CursorMark(str(newest))

    async def fetch_order(number: str) -> SysproOrder | None:
        condition = f"PurchaseOrder eq {odata_string(number)}"
        async for head in syspro.odata.rows(PurchaseOrderRecord, condition):
            return await order(head)
        return None

    async def ap_invoices(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[ApInvoiceRecord] | CursorMark]:
        newest = _stamp(cursor)
        async for row in syspro.odata.changed_since(
            ApInvoiceRecord, "TimeStamp", None if full else _stamp(cursor)
        ):
            newest = max(newest or 0, row.time_stamp)
            if mapping.invoice_id_from_reference(row.reference) is not None:
                yield Envelope(_ap_key(row), row)
        if newest is not None:
            yield CursorMark(str(newest))

    async def fetch_ap_invoice(key: str) -> ApInvoiceRecord | None:
        supplier, _, invoice = key.partition("/")
        condition = f"Supplier eq {odata_string(supplier)} and Invoice eq {odata_string(invoice)}"
        async for row in syspro.odata.rows(ApInvoiceRecord, condition):
            return row
        return None

    st_orders = StPurchaseOrderTarget(servicetitan, SUPPLIERS)
    streams: tuple[Stream[Any, Any], ...] = (
        Stream(
            name=VENDORS,
            extract=st_stream("vendors"),
            fetch=st_fetch("vendors"),
            decode=common.decoder(st.Vendor),
            encode=msgspec.json.encode,
            map=mapping.map_vendor_to_supplier,
            target=SupplierTarget(cycle, options),
            reference=True,
            description="ServiceTitan vendors → SYSPRO suppliers",
        ),
        Stream(
            name=SUPPLIERS,
            extract=suppliers,
            fetch=fetch_supplier,
            decode=common.decoder(SupplierRecord),
            encode=msgspec.json.encode,
            map=mapping.map_supplier_to_vendor,
            target=VendorTarget(servicetitan),
            reference=True,
            source_id=lambda row: row.supplier,
            description="SYSPRO suppliers → ServiceTitan vendors",
        ),
        Stream(
            name=POS_TO_SYSPRO,
            extract=st_stream("purchase_orders"),
            fetch=st_fetch("purchase_orders"),
            decode=common.decoder(st.PurchaseOrder),
            encode=msgspec.json.encode,
            map=lambda po, ctx: mapping.map_po_to_syspro(po, ctx, options),
            target=SysproPurchaseOrderTarget(cycle, VENDORS),
            workers=config.workers,
            description="ServiceTitan purchase orders → SYSPRO (PORTOI)",
        ),
        Stream(
            name=POS_TO_ST,
            extract=syspro_orders,
            fetch=fetch_order,
            decode=common.decoder(SysproOrder),
            encode=msgspec.json.encode,
            map=lambda order, ctx: mapping.map_po_to_st(order, ctx, options),
            target=st_orders,
            # Always looked up first (in an index built per pass): ServiceTitan has no other
            # way to tell a SYSPRO order it already holds, and the copy is never updated.
            reference=True,
            workers=config.workers,
            source_id=lambda order: order.head.purchase_order,
            prepare=st_orders.prepare,
            description="SYSPRO purchase orders → ServiceTitan",
        ),
        Stream(
            name=ADJUSTMENTS,
            extract=st_stream("adjustments"),
            fetch=st_fetch("adjustments"),
            decode=common.decoder(st.Adjustment),
            encode=msgspec.json.encode,
            map=lambda adjustment, ctx: mapping.map_adjustment(adjustment, ctx, options),
            target=AdjustmentTarget(cycle),
            workers=config.workers,
            description="ServiceTitan inventory adjustments → SYSPRO (INVTMA)",
        ),
        Stream(
            name=INVOICES,
            extract=st_stream("invoices"),
            fetch=st_fetch("invoices"),
            decode=common.decoder(st.Invoice),
            encode=msgspec.json.encode,
            map=lambda invoice, ctx: mapping.map_invoice(invoice, ctx, options),
            target=ApInvoiceTarget(cycle, options),
            workers=config.workers,
            reconcile=reconcile.ap_invoices(syspro, options.invoice_supplier),
            description="ServiceTitan job invoices → SYSPRO AP invoices (APSTIN)",
        ),
        Stream(
            name=EXPORTED,
            extract=ap_invoices,
            fetch=fetch_ap_invoice,
            decode=common.decoder(ApInvoiceRecord),
            encode=msgspec.json.encode,
            map=mapping.map_exported,
            target=ExportedTarget(servicetitan),
            source_id=_ap_key,
            # Enough workers in flight for the target's batches of 50 (see ExportedTarget).
            workers=ExportedTarget.BATCH,
            # A status, not a document: a change of the SYSPRO row is simply looked at again.
            on_change="update",
            description="SYSPRO AP invoices → ServiceTitan invoices marked exported",
        ),
    )
    return BuiltFlow(Flow(flow_name, streams, session=cycle.run), dict(WEBHOOK_STREAMS))


def _ap_key(row: ApInvoiceRecord) -> str:
    return f"{row.supplier}/{row.invoice}"


def _stamp(cursor: str | None) -> int | None:
    """A ``TimeStamp`` cursor (a row version); None (a full read) when it is not one."""
    return int(cursor) if cursor and cursor.isdigit() else None


async def build_flow(request: FlowRequest) -> BuiltFlow:
    """The registry's build: :func:`build` over the ServiceTitan client and the SYSPRO
    connection. No check here: a SYSPRO check means a logon (a licence seat); `check` does
    it, and the flow's first call in a cycle fails with the same precise error."""
    source_config = common.servicetitan_system(request, "source")
    servicetitan: ServiceTitanClient = request.source.connection.client
    return build(
        request.name,
        request.flow_config,
        source_config,
        servicetitan,
        request.target.connection,
        request.store,
    )


register_pairing(
    PairingSpec(
        name=NAME,
        source_kind="servicetitan",
        target_kind="syspro",
        streams=STREAMS,
        build=build_flow,
        options=mapping.Options,
    )
)
