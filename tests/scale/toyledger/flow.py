"""``toyledger-bills``: each invoice becomes one bill, natural key ``ref`` = invoice id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from connector.registry import FlowRequest, PairingSpec
from connector.runtime.flow import (
    BuiltFlow,
    CursorMark,
    Envelope,
    Flow,
    Found,
    LoadContext,
    MapContext,
    Outcome,
    Stream,
    Written,
)
from tests.scale.toyledger.system import KIND, Invoice, ToyLedgerClient

NAME = "toyledger-bills"
BILLS = "bills"


class PostBill(msgspec.Struct, frozen=True):
    ref: str
    amount: int


def map_invoice(invoice: Invoice, ctx: MapContext) -> PostBill:
    return PostBill(ref=invoice.id, amount=invoice.amount)


class BillTarget:
    """Natural key: ``ref``; a POST always creates a new bill, so only ``find`` prevents a
    second one."""

    def __init__(self, client: ToyLedgerClient) -> None:
        self.client = client

    async def find(self, command: PostBill) -> Found | None:
        bills = await self.client.bills_by_ref(command.ref)
        if not bills:
            return None
        return Found(bills[0].id, matches=bills[0].amount == command.amount)

    async def write(self, command: PostBill, existing: Found | None, ctx: LoadContext) -> Written:
        if existing is not None:
            return Written(Outcome.UNCHANGED, existing.target_id)
        bill = await self.client.create_bill(command.ref, command.amount)
        return Written(Outcome.CREATED, bill.id)


async def build_flow(request: FlowRequest) -> BuiltFlow:
    source: ToyLedgerClient = request.source.connection.client
    target: ToyLedgerClient = request.target.connection.client

    async def extract(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[Invoice] | CursorMark]:
        page = 0
        while True:
            listed = await source.invoices(page)
            for invoice in listed.data:
                yield Envelope(invoice.id, invoice)
            if not listed.hasMore:
                return
            page += 1

    stream: Stream[Invoice, PostBill] = Stream(
        name=BILLS,
        extract=extract,
        fetch=source.invoice,
        decode=lambda payload: msgspec.json.decode(payload, type=Invoice),
        encode=msgspec.json.encode,
        map=map_invoice,
        target=BillTarget(target),
        workers=request.flow_config.workers,
    )
    return BuiltFlow(Flow(request.name, (stream,)), {"invoice": BILLS})


PAIRING = PairingSpec(
    name=NAME, source_kind=KIND, target_kind=KIND, streams=(BILLS,), build=build_flow
)
