"""Flow ``ifs-servicetitan``: IFS Cloud ↔ ServiceTitan, as a declaration.

Streams, in the order a cycle runs them (reference data before the documents that cite it):

=====================  ==========================================  ===========================
stream                 from → to                                   natural key in the target
=====================  ==========================================  ===========================
gl_accounts_to_st      IFS accounts → ServiceTitan GL accounts     GL account ``number``
purchase_orders_to_st  IFS released POs → ServiceTitan POs         memo ``IFS PO <OrderNo>``
invoices_to_ifs        ServiceTitan invoices → IFS voucher loads   load ``ST-INV-<id>`` rows
jobs_to_ifs            completed, uninvoiced jobs → accrual loads  load ``ST-JOB-<id>`` rows
=====================  ==========================================  ===========================

What ServiceTitan can hold of IFS's accounting dimensions: **GL accounts** have a write API
(``gl-accounts`` POST/PATCH) and are carried. **Code parts** (cost centers, projects) have
none: business units are read-and-PATCH only and cannot be created, so the cost center of
each business unit is the implementer's mapping table ``business_unit_ifs_cost_center``, which
the voucher streams read (a missing row waits in review). **IFS GL postings**
(``VoucherRowSet``) are not written to ServiceTitan: its journal entries are ServiceTitan's
own export batches of its own transactions, not a ledger another system posts to.

Vendors, parts and tax zones of IFS purchase orders come from the mapping tables listed in
:mod:`.mapping` (ServiceTitan POs need a vendor id and pricebook skus; they take a tax
amount, not a zone, so the mapped zone's rate prices the tax).

Reading IFS: no last-modified column and no webhooks (sheet §3). Purchase orders are read in
a window on ``OrderDate`` reaching ``window_days`` back from the newest order date seen, and
an order is sent on when its ETag differs from the one the cursor remembers
(``{"since": day, "etags": {keyref: etag}}``); a full run reads every released order. The
ETag is the order head's: a change to its lines alone, if IFS leaves the head's ETag as it
was, is seen by the next full run (``sync --full``).
Accounts are read whole (a chart is small). ServiceTitan invoices and jobs are read
incrementally on ``modifiedOn`` and by webhook (``invoice.*``, ``job.*``) through the inbox.

IFS external loads: sheet §9 leaves open how a load is created through the API. This flow
posts each document under its own load id and needs a tenant where the first row of an
unknown load creates it (the sandbox knob ``create_unknown_loads``); where IFS answers
``ExtLoadInfo.FND_RECORD_NOT_EXIST`` instead, the document is dead-lettered with that reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from connector.config import FlowConfig
from connector.errors import ConfigurationError
from connector.flows import common
from connector.flows.ifs_servicetitan import mapping, reconcile
from connector.flows.ifs_servicetitan.targets import (
    GlAccountTarget,
    PurchaseOrderTarget,
    VoucherTarget,
)
from connector.flows.sources import servicetitan_incremental
from connector.registry import FlowRequest, PairingSpec, register_pairing
from connector.runtime.flow import BuiltFlow, CursorMark, Envelope, Flow, Stream
from connector.store import Store
from connector.systems.ifs import IfsClient
from connector.systems.ifs import models as ifs
from connector.systems.ifs.odata import literal
from connector.systems.servicetitan import ServiceTitanClient, ServiceTitanSystem
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.resources import RESOURCES

NAME = "ifs-servicetitan"
GL_ACCOUNTS = "gl_accounts_to_st"
PURCHASE_ORDERS = "purchase_orders_to_st"
INVOICES = "invoices_to_ifs"
JOBS = "jobs_to_ifs"
#: Every stream, in the order a cycle runs them (what ``[flows.X].streams`` may name).
STREAMS = (GL_ACCOUNTS, PURCHASE_ORDERS, INVOICES, JOBS)
WEBHOOK_STREAMS = {"invoice": INVOICES, "job": JOBS}
#: The IFS purchase orders ServiceTitan receives: released ones (planned ones may change).
RELEASED = "Objstate eq 'Released'"


class OrderCursor(msgspec.Struct, frozen=True):
    """The resume point of ``purchase_orders_to_st`` (sheet §3: a window plus ETags)."""

    since: dt.date | None = None
    etags: dict[str, str] = msgspec.field(default_factory=dict)


def parse_options(config: FlowConfig, flow_name: str) -> mapping.Options:
    options = common.parse_options(config, flow_name, mapping.Options)
    if not 1 <= len(options.voucher_type) <= 3:
        raise ConfigurationError(
            f"flows.{flow_name}.options.voucher_type = {options.voucher_type!r}: IFS voucher "
            'types are 1 to 3 characters (e.g. "K")'
        )
    if options.window_days < 1:
        raise ConfigurationError(f"flows.{flow_name}.options.window_days must be 1 or more")
    for key in (
        "receivable_account",
        "sales_tax_account",
        "unbilled_account",
        "accrued_revenue_account",
        "currency",
    ):
        common.option(config.options, key, getattr(options, key), flow_name)
    return options


def build(
    flow_name: str,
    config: FlowConfig,
    st_config: ServiceTitanSystem,
    ifs_client: IfsClient,
    servicetitan: ServiceTitanClient,
    store: Store,
) -> BuiltFlow:
    """Declare the flow's streams over the two clients (no I/O happens here)."""
    options = parse_options(config, flow_name)
    overlap = st_config.overlap_s
    company = f"Company eq {literal(ifs_client.company)}"
    orders = PurchaseOrderTarget(servicetitan)

    async def ifs_accounts(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[ifs.Account] | CursorMark]:
        async for page in ifs_client.pages(ifs.Account, filter=company):
            for account in page:
                yield Envelope(account.account, account)

    async def ifs_orders(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[mapping.IfsOrder] | CursorMark]:
        previous = OrderCursor() if full or not cursor else _order_cursor(cursor)
        since = previous.since - dt.timedelta(days=options.window_days) if previous.since else None
        newest = previous.since
        etags: dict[str, str] = {}
        async for page in ifs_client.pages(ifs.PurchaseOrder, filter=RELEASED, since=since):
            for head in page:
                etags[head.keyref] = head.etag
                if head.order_date and (newest is None or head.order_date > newest):
                    newest = head.order_date
                if previous.etags.get(head.keyref) == head.etag:
                    continue  # unchanged since the last read (sheet §3)
                lines = tuple(await ifs_client.purchase_order_lines(head.order_no))
                yield Envelope(head.order_no, mapping.IfsOrder(head, lines))
        yield CursorMark(msgspec.json.encode(OrderCursor(newest, etags)).decode())

    async def fetch_account(number: str) -> ifs.Account | None:
        return await ifs_client.find_account(number)

    async def fetch_order(order_no: str) -> mapping.IfsOrder | None:
        head = await ifs_client.find_purchase_order(order_no)
        if head is None:
            return None
        return mapping.IfsOrder(head, tuple(await ifs_client.purchase_order_lines(order_no)))

    def st_fetch(resource_name: str) -> Any:
        async def fetch(source_id: str) -> Any:
            return await servicetitan.get(RESOURCES[resource_name], int(source_id))

        return fetch

    vouchers = VoucherTarget(ifs_client)
    streams: tuple[Stream[Any, Any], ...] = (
        Stream(
            name=GL_ACCOUNTS,
            extract=ifs_accounts,
            fetch=fetch_account,
            decode=msgspec.json.Decoder(ifs.Account).decode,
            encode=msgspec.json.encode,
            map=mapping.map_account,
            target=GlAccountTarget(servicetitan),
            source_id=lambda account: account.account,
            reference=True,
            description="IFS accounts → ServiceTitan GL accounts",
        ),
        Stream(
            name=PURCHASE_ORDERS,
            extract=ifs_orders,
            fetch=fetch_order,
            decode=msgspec.json.Decoder(mapping.IfsOrder).decode,
            encode=msgspec.json.encode,
            map=lambda order, ctx: mapping.map_purchase_order(order, ctx, options),
            target=orders,
            source_id=lambda order: order.head.order_no,
            # Always looked up first (in an index built per pass): ServiceTitan has no other
            # way to tell an IFS order it already holds. Created once; IFS owns it after.
            reference=True,
            on_change="review",
            workers=config.workers,
            prepare=orders.prepare,
            description="IFS purchase orders → ServiceTitan purchase orders",
        ),
        Stream(
            name=INVOICES,
            extract=servicetitan_incremental(
                servicetitan, RESOURCES["invoices"], overlap_s=overlap
            ),
            fetch=st_fetch("invoices"),
            decode=msgspec.json.Decoder(st.Invoice).decode,
            encode=msgspec.json.encode,
            map=lambda invoice, ctx: mapping.map_invoice(invoice, ctx, options),
            target=vouchers,
            workers=config.workers,
            reconcile=reconcile.vouchers(ifs_client, mapping.load_id("INV", "")),
            description="ServiceTitan invoices → IFS external voucher loads",
        ),
        Stream(
            name=JOBS,
            extract=servicetitan_incremental(servicetitan, RESOURCES["jobs"], overlap_s=overlap),
            fetch=st_fetch("jobs"),
            decode=msgspec.json.Decoder(st.Job).decode,
            encode=msgspec.json.encode,
            map=lambda job, ctx: mapping.map_job(job, ctx, options),
            target=vouchers,
            workers=config.workers,
            reconcile=reconcile.vouchers(ifs_client, mapping.load_id("JOB", "")),
            description="completed ServiceTitan jobs not yet invoiced → IFS accrual loads",
        ),
    )
    return BuiltFlow(Flow(flow_name, streams), dict(WEBHOOK_STREAMS))


def _order_cursor(cursor: str) -> OrderCursor:
    """The stored cursor, or a fresh one when it is not ours (then the read is full)."""
    try:
        return msgspec.json.decode(cursor, type=OrderCursor)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return OrderCursor()


async def build_flow(request: FlowRequest) -> BuiltFlow:
    """The registry's build: check the IFS company has accounts, then :func:`build`."""
    target_config = common.servicetitan_system(request, "target")
    ifs_client: IfsClient = request.source.connection.client
    await ifs_client.check()
    servicetitan: ServiceTitanClient = request.target.connection.client
    return build(
        request.name, request.flow_config, target_config, ifs_client, servicetitan, request.store
    )


register_pairing(
    PairingSpec(
        name=NAME,
        source_kind="ifs",
        target_kind="servicetitan",
        streams=STREAMS,
        build=build_flow,
        options=mapping.Options,
    )
)
