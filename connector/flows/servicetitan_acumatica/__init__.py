"""Flow ``servicetitan-acumatica``: ServiceTitan → Acumatica, as a declaration.

Streams, in the order a cycle runs them (reference data before the documents that cite it):

======================  ===================================  ================================
stream                  from → to                            natural key in Acumatica
======================  ===================================  ================================
customers_to_acumatica  customers → Customer                 CustomerID ``STC<id>``, else name
vendors_to_acumatica    vendors → Vendor                     VendorID ``STV<id>``, else name
invoices_to_acumatica   job invoices → AR Invoice            customer + ``CustomerOrder``
payments_to_acumatica   payments → Payment (applied)         customer + ``PaymentRef``
bills_to_acumatica      inventory bills → AP Bill            vendor + ``VendorRef``
======================  ===================================  ================================

Documents resolve what they cite on demand (``ctx.ensure``): an invoice its customer, a
payment its customer and the invoices it pays, a bill its vendor — so a webhook for a new
invoice of a new customer lands both, in order. ServiceTitan's invoice, payment and customer
webhooks feed their streams; inventory bills have no webhook and come from the scheduled
poll. The mappers are in ``mapping.py``, the targets in ``targets.py``.

Invoices are saved, not released (the client has no ``ReleaseInvoice`` action), and payments
are applied to them as saved. A company that applies payments to released invoices only
refuses such a payment with a message naming the invoice: it becomes a dead letter, and
``ml-connector replay`` lands it once the invoice is released in Acumatica.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec

from connector.config import FlowConfig
from connector.errors import ConfigurationError
from connector.flows import common
from connector.flows.servicetitan_acumatica import mapping, reconcile
from connector.flows.servicetitan_acumatica.targets import (
    BillTarget,
    CustomerTarget,
    InvoiceTarget,
    PaymentTarget,
    VendorTarget,
)
from connector.flows.sources import servicetitan_fetch, servicetitan_incremental
from connector.registry import CheckResult, FlowRequest, PairingSpec, register_pairing
from connector.runtime.flow import BuiltFlow, Flow, MapContext, Stream, Target
from connector.store import State, Store
from connector.systems.acumatica import AcumaticaClient
from connector.systems.servicetitan import ServiceTitanClient, ServiceTitanSystem
from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.resources import RESOURCES

NAME = "servicetitan-acumatica"
CUSTOMERS = "customers_to_acumatica"
VENDORS = "vendors_to_acumatica"
INVOICES = "invoices_to_acumatica"
PAYMENTS = "payments_to_acumatica"
BILLS = "bills_to_acumatica"
#: Every stream, in the order a cycle runs them (what ``[flows.X].streams`` may name).
STREAMS = (CUSTOMERS, VENDORS, INVOICES, PAYMENTS, BILLS)
WEBHOOK_STREAMS = {"invoice": INVOICES, "payment": PAYMENTS, "customer": CUSTOMERS}

S = TypeVar("S")
C = TypeVar("C")
Mapper = Callable[[S, MapContext, mapping.Options], C]


def parse_options(config: FlowConfig, flow_name: str) -> mapping.Options:
    """The flow's options, or ``ConfigurationError`` naming the key that is wrong."""
    options = common.parse_options(config, flow_name, mapping.Options)
    for key in mapping.Options.__struct_fields__:
        if not getattr(options, key).strip():
            raise ConfigurationError(f"flows.{flow_name}.options.{key} must not be empty")
    if options.release_invoices not in ("yes", "no"):
        raise ConfigurationError(f"flows.{flow_name}.options.release_invoices must be yes or no")
    return options


def build(
    flow_name: str,
    config: FlowConfig,
    source_config: ServiceTitanSystem,
    servicetitan: ServiceTitanClient,
    acumatica: AcumaticaClient,
    store: Store,
) -> BuiltFlow:
    """Declare the flow's streams over the two clients (no I/O happens here)."""
    options = parse_options(config, flow_name)
    overlap = source_config.overlap_s

    link = common.ledger_link(store, flow_name)

    def linked(stream: str) -> Callable[[], Awaitable[dict[str, str]]]:
        async def owners() -> dict[str, str]:
            entries = await store.ledger_by_state(flow_name, [State.DONE], stream=stream)
            return {e.target_id: e.key.source_id for e in entries if e.target_id}

        return owners

    def st_fetch(resource_name: str) -> Callable[[str], Awaitable[Any]]:
        return servicetitan_fetch(servicetitan, RESOURCES[resource_name])

    def st_stream(
        name: str,
        resource_name: str,
        model: type[S],
        mapper: Mapper[S, C],
        target: Target[C],
        **kw: Any,
    ) -> Stream[S, C]:
        def map_record(record: S, ctx: MapContext) -> C:
            return mapper(record, ctx, options)

        return Stream(
            name=name,
            extract=servicetitan_incremental(
                servicetitan, RESOURCES[resource_name], overlap_s=overlap
            ),
            fetch=st_fetch(resource_name),
            decode=common.decoder(model),
            encode=msgspec.json.encode,
            map=map_record,
            target=target,
            **kw,
        )

    workers = config.workers
    customers = CustomerTarget(acumatica, linked(CUSTOMERS))
    bills = BillTarget(acumatica, link, VENDORS, batch=workers)
    vendors = VendorTarget(acumatica, linked(VENDORS))
    streams: tuple[Stream[Any, Any], ...] = (
        st_stream(
            CUSTOMERS,
            "customers",
            st.Customer,
            mapping.map_customer,
            customers,
            reference=True,
            prepare=customers.prepare,
        ),
        st_stream(
            VENDORS,
            "vendors",
            st.Vendor,
            mapping.map_vendor,
            vendors,
            reference=True,
            prepare=vendors.prepare,
        ),
        st_stream(
            INVOICES,
            "invoices",
            st.Invoice,
            mapping.map_invoice,
            InvoiceTarget(
                acumatica,
                CUSTOMERS,
                release=options.release_invoices == "yes",
                batch=workers,
            ),
            workers=workers,
            reconcile=reconcile.invoices(acumatica),
        ),
        st_stream(
            PAYMENTS,
            "payments",
            st.Payment,
            mapping.map_payment,
            PaymentTarget(acumatica, CUSTOMERS, INVOICES, batch=workers),
            workers=workers,
            reconcile=reconcile.payments(acumatica),
        ),
        st_stream(
            BILLS,
            "inventory_bills",
            st.InventoryBill,
            mapping.map_bill,
            bills,
            workers=workers,
            reconcile=reconcile.bills(acumatica, bills),
        ),
    )
    return BuiltFlow(Flow(flow_name, streams), dict(WEBHOOK_STREAMS))


async def build_flow(request: FlowRequest) -> BuiltFlow:
    """The registry's build: check the endpoint version answers, then :func:`build`."""
    source_config = common.servicetitan_system(request, "source")
    acumatica: AcumaticaClient = request.target.connection.client
    await acumatica.check_endpoint()
    client: ServiceTitanClient = request.source.connection.client
    return build(request.name, request.flow_config, source_config, client, acumatica, request.store)


#: The document each stream creates, as :mod:`connector.systems.acumatica.numbering` names
#: it, and the natural key it is found by (the flow never chooses the ReferenceNbr).
NUMBERED = {
    INVOICES: ("AR invoice", "CustomerOrder"),
    PAYMENTS: ("AR payment", "PaymentRef"),
    BILLS: ("AP bill", "VendorRef"),
}


async def check_flow(request: FlowRequest) -> list[CheckResult]:
    """``ml-connector check``: every document type the flow creates is numbered by
    Acumatica (an automatic sequence), since the flow sends no ReferenceNbr."""
    streams = request.flow_config.streams or STREAMS
    numbering = {n.document: n for n in await request.target.connection.document_numbering()}
    results: list[CheckResult] = []
    for stream, (document, key) in NUMBERED.items():
        if stream not in streams:
            continue
        found = numbering[document]
        if found.manual:
            detail = (
                f"{document}s draw from numbering sequence {found.numbering_id} "
                f"({found.setting}), which is manual; the flow sends no reference number "
                f"(it finds its {document}s by {key}), so Acumatica would refuse each one: "
                f'clear "Manual Numbering" on sequence {found.numbering_id} in Numbering '
                "Sequences (CS201010)"
            )
        else:
            detail = f"{document}s: sequence {found.numbering_id} numbers them automatically"
        results.append(CheckResult("numbering", not found.manual, detail))
    return results


register_pairing(
    PairingSpec(
        name=NAME,
        source_kind="servicetitan",
        target_kind="acumatica",
        streams=STREAMS,
        build=build_flow,
        options=mapping.Options,
        check=check_flow,
    )
)
