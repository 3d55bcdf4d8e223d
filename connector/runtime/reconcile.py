"""Reconciliation: do the books agree? Source totals against the target's, per document.

For each stream a flow declares reconcilable (``Stream.reconcile``), every source document
is read afresh and mapped (pure, with today's mapping tables); those dated within the
period are counted and summed, and each is read back from the target by its natural key
(a live look-up, never the ledger: the ledger is what reconciliation checks). A document
the target lacks, or holds with another amount, is listed as a difference.

It only reads, on both sides, so it runs beside the service. Documents that cannot be
mapped have no trustworthy date or amount: they are counted apart (`errors list` and
`review list` say why), never guessed into a period.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anyio

from connector.errors import ConnectorError
from connector.runtime.flow import Envelope, Flow, MapContext, Reconciliation, Stream, Unreadable

#: Target look-ups in flight at once (each waits its turn at the system's rate limiter too).
READ_BACK_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class Difference:
    """One document whose source and target disagree."""

    stream: str
    source_id: str
    number: str
    date: str
    source_amount: Decimal
    target_id: str | None
    target_amount: Decimal | None

    @property
    def issue(self) -> str:
        if self.target_id is None:
            return "missing in target"
        return f"amount differs by {self.source_amount - (self.target_amount or 0)}"


@dataclass
class StreamTotals:
    stream: str
    source_count: int = 0
    source_amount: Decimal = Decimal(0)
    target_count: int = 0
    target_amount: Decimal = Decimal(0)
    #: Source documents (of any date) that could not be mapped.
    unmapped: int = 0


@dataclass
class ReconcileReport:
    flow: str
    start: dt.date
    end: dt.date
    streams: list[StreamTotals] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences

    def as_json(self) -> dict[str, object]:
        return {
            "flow": self.flow,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "agrees": self.agrees,
            "streams": [
                {
                    "stream": t.stream,
                    "source_count": t.source_count,
                    "source_amount": str(t.source_amount),
                    "target_count": t.target_count,
                    "target_amount": str(t.target_amount),
                    "unmapped": t.unmapped,
                }
                for t in self.streams
            ],
            "differences": [
                {
                    "stream": d.stream,
                    "source_id": d.source_id,
                    "number": d.number,
                    "date": d.date,
                    "source_amount": str(d.source_amount),
                    "target_id": d.target_id,
                    "target_amount": None if d.target_amount is None else str(d.target_amount),
                    "issue": d.issue,
                }
                for d in self.differences
            ],
        }


CSV_COLUMNS = (
    "stream",
    "source_id",
    "number",
    "date",
    "source_amount",
    "target_id",
    "target_amount",
    "issue",
)


def differences_csv(report: ReconcileReport) -> str:
    """The differences as CSV, one document a row (for a spreadsheet or the accountant)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in report.differences:
        writer.writerow(
            [
                d.stream,
                d.source_id,
                d.number,
                d.date,
                d.source_amount,
                d.target_id or "",
                "" if d.target_amount is None else d.target_amount,
                d.issue,
            ]
        )
    return out.getvalue()


def reconcilable(flow: Flow) -> list[Stream[Any, Any]]:
    return [s for s in flow.streams if s.reconcile is not None]


async def reconcile(
    flow: Flow,
    mappings: Mapping[str, Mapping[str, str]],
    start: dt.date,
    end: dt.date,
) -> ReconcileReport:
    """Compare the flow's documents dated ``start``..``end`` (inclusive) with the target."""
    if not reconcilable(flow):
        raise ConnectorError(
            f"flow {flow.name} declares no documents to reconcile (only document streams "
            "with a natural key to read back are reconciled)"
        )
    report = ReconcileReport(flow.name, start, end)
    ctx = MapContext(flow.name, mappings)
    for stream in flow.streams:
        rules: Reconciliation[Any] | None = stream.reconcile
        if rules is None:
            continue
        totals = StreamTotals(stream.name)
        report.streams.append(totals)
        found: list[Difference] = []
        limiter = anyio.CapacityLimiter(READ_BACK_CONCURRENCY)
        async with anyio.create_task_group() as tg:
            async for item in stream.extract(None, True):
                if not isinstance(item, Envelope):
                    continue
                command = _mapped(stream, item, ctx)
                if command is None:
                    totals.unmapped += 1
                    continue
                date = rules.date(command)
                if not start.isoformat() <= date <= end.isoformat():
                    continue
                totals.source_count += 1
                totals.source_amount += rules.amount(command)
                tg.start_soon(_read_back, rules, command, item.source_id, totals, found, limiter)
        report.differences += sorted(found, key=lambda d: (d.date, d.source_id))
    return report


def _mapped(stream: Stream[Any, Any], envelope: Envelope[Any], ctx: MapContext) -> Any:
    if isinstance(envelope.record, Unreadable):
        return None
    try:
        return stream.map(envelope.record, ctx)
    except (ConnectorError, ValueError, ArithmeticError):
        return None


async def _read_back(
    rules: Reconciliation[Any],
    command: Any,
    source_id: str,
    totals: StreamTotals,
    found: list[Difference],
    limiter: anyio.CapacityLimiter,
) -> None:
    async with limiter:
        copy = await rules.read_back(command)
    amount = rules.amount(command)
    if copy is not None:
        totals.target_count += 1
        totals.target_amount += copy.amount
        if copy.amount == amount:
            return
    found.append(
        Difference(
            totals.stream,
            source_id,
            rules.number(command),
            rules.date(command),
            amount,
            None if copy is None else copy.target_id,
            None if copy is None else copy.amount,
        )
    )
