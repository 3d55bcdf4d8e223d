"""A synthetic stream: invoice-shaped records in, nothing remote out.

The pipeline-overhead and memory stages measure what the connector itself costs per record
(extract → map → ledger check → in_flight → write → done + audit + cursor), so the source
and the target must cost nothing: the extractor generates records in memory as it is read
(never a list of all of them, or the memory stage would measure the list), the mapper does
the kind of work a real mapper does (parse, sum, look up a mapping table) and the target
answers at once without I/O.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec

from connector.runtime.flow import (
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

FLOW = "bench-synthetic"
STREAM = "invoices"
#: Business units the synthetic records cycle through (and the mapping table covers).
BUSINESS_UNITS = 8
#: Records between two cursor values, like one page of a ServiceTitan read.
PAGE = 500


class Line(msgspec.Struct, frozen=True):
    sku: str
    quantity: str
    unit_price: str
    gl_account: str


class Invoice(msgspec.Struct, frozen=True):
    """Roughly the size and shape of a ServiceTitan invoice as the client decodes it."""

    id: int
    number: str
    invoice_date: str
    modified_on: str
    customer_id: int
    business_unit_id: int
    summary: str
    lines: tuple[Line, ...]


class Command(msgspec.Struct, frozen=True):
    supplier: str
    invoice_number: str
    invoice_date: str
    cost_center: str
    total: str
    lines: tuple[tuple[str, str, str], ...]


def mappings() -> dict[str, dict[str, str]]:
    """The mapping table the synthetic mapper reads (business unit → cost center)."""
    return {"business_unit_cost_center": {str(n): f"CC{n:03d}" for n in range(BUSINESS_UNITS)}}


def make_invoice(n: int) -> Invoice:
    return Invoice(
        id=n,
        number=f"INV-{n:07d}",
        invoice_date="2026-01-05T14:00:00.0000000Z",
        modified_on=f"2026-01-05T14:{(n // 60) % 60:02d}:{n % 60:02d}.0000000Z",
        customer_id=10_000 + n % 997,
        business_unit_id=n % BUSINESS_UNITS,
        summary=f"Service call {n}: replaced condenser fan motor and capacitor",
        lines=tuple(
            Line(f"SKU-{(n + i) % 400:04d}", str(1 + i), f"{12 + i}.50", f"40{10 + i}")
            for i in range(3)
        ),
    )


def map_invoice(invoice: Invoice, ctx: MapContext) -> Command:
    cost_center = ctx.lookup("business_unit_cost_center", str(invoice.business_unit_id)) or ""
    lines = tuple(
        (line.gl_account, line.sku, str(Decimal(line.quantity) * Decimal(line.unit_price)))
        for line in invoice.lines
    )
    total = sum((Decimal(amount) for _, _, amount in lines), Decimal(0))
    return Command(
        supplier="STCLEAR",
        invoice_number=invoice.number,
        invoice_date=invoice.invoice_date[:10],
        cost_center=cost_center,
        total=str(total),
        lines=lines,
    )


class NullTarget:
    """A target that is never asked twice and writes nowhere."""

    async def find(self, command: Command) -> Found | None:
        return None

    async def write(self, command: Command, existing: Found | None, ctx: LoadContext) -> Written:
        return Written(Outcome.CREATED, f"T-{command.invoice_number}")


def flow(records: int, *, workers: int = 4) -> Flow:
    """A one-stream flow over ``records`` generated invoices (ids 1..records)."""

    async def extract(
        cursor: str | None, full: bool
    ) -> AsyncIterator[Envelope[Invoice] | CursorMark]:
        for n in range(1, records + 1):
            invoice = make_invoice(n)
            last_of_page = n % PAGE == 0 or n == records
            yield Envelope(str(n), invoice, cursor=invoice.modified_on if last_of_page else None)

    async def fetch(source_id: str) -> Invoice | None:
        return make_invoice(int(source_id))

    decoder = msgspec.json.Decoder(Invoice)
    stream: Stream[Invoice, Command] = Stream(
        name=STREAM,
        extract=extract,
        fetch=fetch,
        decode=decoder.decode,
        encode=msgspec.json.encode,
        map=map_invoice,
        target=NullTarget(),
        workers=workers,
    )
    return Flow(FLOW, (stream,))
