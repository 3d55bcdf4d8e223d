"""Reconciliation: do the books agree? Source totals against the target's, per document.

For each stream a flow declares reconcilable (``Stream.reconcile``), every source document
is read afresh and mapped (pure, with today's mapping tables); those dated within the
period are counted and summed, and each is read back from the target by its natural key
(a live look-up, never the ledger: the ledger is what reconciliation checks). A document
the target lacks, or holds with another amount, is listed as a difference.

Where the target can list our documents by the key prefix we give them and by date
(``Reconciliation.listing``), the period is read in pages instead of one look-up per
document, and a document of ours the target holds twice, or that no source document
accounts for, is listed too ("extra in target"). A source document the listing lacks is
still looked up by its key before it is called missing: the target may hold it under
another date.

It only reads, on both sides, so it runs beside the service. Documents that cannot be
mapped have no trustworthy date or amount: they are counted apart (`errors list` and
`review list` say why), never guessed into a period.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anyio

from connector.errors import ConnectorError
from connector.runtime.flow import (
    Envelope,
    Flow,
    MapContext,
    Reconciliation,
    Stream,
    TargetDocument,
    Unreadable,
)

Listing = Callable[[dt.date, dt.date], Awaitable[Sequence[TargetDocument]]]

#: Target look-ups in flight at once (each waits its turn at the system's rate limiter too).
READ_BACK_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class Difference:
    """One document whose source and target disagree."""

    stream: str
    source_id: str
    number: str
    date: str
    #: None: the target holds a document no source document of the period accounts for.
    source_amount: Decimal | None
    target_id: str | None
    target_amount: Decimal | None
    #: What is wrong, when the amounts alone do not say it (an extra or duplicate copy).
    note: str = ""

    @property
    def issue(self) -> str:
        if self.note:
            return self.note
        if self.target_id is None:
            return "missing in target"
        return f"amount differs by {(self.source_amount or 0) - (self.target_amount or 0)}"


EXTRA = "extra in target (no source document)"
DUPLICATE = "extra in target (a second copy of the source document)"


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
                    "source_amount": None if d.source_amount is None else str(d.source_amount),
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
                "" if d.source_amount is None else d.source_amount,
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
        check = _StreamCheck(rules, totals, start, end)
        if rules.listing is None:
            await check.each_by_key(stream, ctx)
        else:
            await check.by_listing(stream, ctx, rules.listing)
        report.differences += sorted(check.found, key=lambda d: (d.date, d.source_id))
    return report


class _StreamCheck:
    """One stream's reconciliation: its totals and the differences found."""

    def __init__(
        self, rules: Reconciliation[Any], totals: StreamTotals, start: dt.date, end: dt.date
    ) -> None:
        self.rules = rules
        self.totals = totals
        self.start, self.end = start.isoformat(), end.isoformat()
        self.found: list[Difference] = []
        self.limiter = anyio.CapacityLimiter(READ_BACK_CONCURRENCY)

    def _in_period(self, command: Any) -> bool:
        return self.start <= self.rules.date(command) <= self.end

    def _count(self, command: Any) -> None:
        self.totals.source_count += 1
        self.totals.source_amount += self.rules.amount(command)

    async def each_by_key(self, stream: Stream[Any, Any], ctx: MapContext) -> None:
        """Read each document of the period back by its key, as the source yields it."""
        async with anyio.create_task_group() as tg:
            async for source_id, command in self._documents(stream, ctx):
                if command is not None and self._in_period(command):
                    self._count(command)
                    tg.start_soon(self._read_back, command, source_id)

    async def by_listing(self, stream: Stream[Any, Any], ctx: MapContext, listing: Listing) -> None:
        """List the target's documents of the period once, match them to the source's by
        source id; look up by key only the source documents the listing lacks."""
        in_period: list[tuple[str, Any]] = []
        known: set[str] = set()
        async for source_id, command in self._documents(stream, ctx):
            known.add(source_id)
            if command is not None and self._in_period(command):
                in_period.append((source_id, command))
        copies: dict[str, list[TargetDocument]] = {}
        period = dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end)
        for copy in await listing(*period):
            copies.setdefault(copy.source_id, []).append(copy)
        async with anyio.create_task_group() as tg:
            for source_id, command in in_period:
                self._count(command)
                held = copies.pop(source_id, [])
                if not held:
                    tg.start_soon(self._read_back, command, source_id)
                    continue
                self._compare(command, source_id, held[0])
                for second in held[1:]:
                    self._extra(second, DUPLICATE)
        for source_id, left in copies.items():
            # A copy of a document the source dates outside the period is reconciled in that
            # period (by key); only what no source document accounts for is extra.
            if source_id not in known:
                for copy in left:
                    self._extra(copy, EXTRA)

    async def _documents(
        self, stream: Stream[Any, Any], ctx: MapContext
    ) -> AsyncIterator[tuple[str, Any]]:
        """Every source document as (source id, command); the command is None when it cannot
        be mapped (counted apart) or moves nothing."""
        async for item in stream.extract(None, True):
            if not isinstance(item, Envelope):
                continue
            command = _mapped(stream, item, ctx)
            if command is None:
                self.totals.unmapped += 1
            elif not self.rules.moves(command):
                command = None
            yield item.source_id, command

    async def _read_back(self, command: Any, source_id: str) -> None:
        async with self.limiter:
            copy = await self.rules.read_back(command)
        if copy is None:
            self._missing(command, source_id)
        else:
            self._compare(command, source_id, copy)

    def _compare(self, command: Any, source_id: str, copy: TargetDocument) -> None:
        self.totals.target_count += 1
        self.totals.target_amount += copy.amount
        amount = self.rules.amount(command)
        if copy.amount != amount:
            self.found.append(
                Difference(
                    self.totals.stream,
                    source_id,
                    self.rules.number(command),
                    self.rules.date(command),
                    amount,
                    copy.target_id,
                    copy.amount,
                )
            )

    def _missing(self, command: Any, source_id: str) -> None:
        self.found.append(
            Difference(
                self.totals.stream,
                source_id,
                self.rules.number(command),
                self.rules.date(command),
                self.rules.amount(command),
                None,
                None,
            )
        )

    def _extra(self, copy: TargetDocument, note: str) -> None:
        self.totals.target_count += 1
        self.totals.target_amount += copy.amount
        self.found.append(
            Difference(
                self.totals.stream,
                copy.source_id,
                copy.number or copy.target_id,
                copy.date,
                None,
                copy.target_id,
                copy.amount,
                note,
            )
        )


def _mapped(stream: Stream[Any, Any], envelope: Envelope[Any], ctx: MapContext) -> Any:
    if isinstance(envelope.record, Unreadable):
        return None
    try:
        return stream.map(envelope.record, ctx)
    except (ConnectorError, ValueError, ArithmeticError):
        return None
