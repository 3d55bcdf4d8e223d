"""Extractor → mapper → loader actors for one stream, over bounded memory streams.

Back-pressure is the point: the extractor can be at most ``buffer`` records ahead of the
mapper, and the mapper ``buffer`` ahead of the loaders, so a 200,000-record backfill holds
a few hundred records in memory, not all of them. Every task belongs to one task group; an
exception in any actor cancels the others and surfaces to the caller (nothing is lost
silently: records not yet terminal keep the cursor behind them).

A record counts as terminal for the watermark only once its final unit has *committed*; the
cursor it earns rides in the next unit built (another record's, or the one ``run`` commits
at the end). So a final commit that fails (disk full, read-only database) can never let a
later record's unit carry the cursor past it. Such a failure halts the stream like an
outage: records already being written finish, nothing new starts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from connector.errors import ConnectorError, PermanentError
from connector.runtime.batch import BatchItem, BatchSizer, process_batch
from connector.runtime.causes import message_template
from connector.runtime.flow import CursorMark, Envelope, Outcome, Stream
from connector.runtime.parking import Mapped, Result, StreamHalted
from connector.runtime.processor import RecordProcessor
from connector.runtime.watermark import Watermark
from connector.store import StoreError, Unit

Progress = Callable[[str, "StreamCounts"], None]
#: Records the mapper maps in a row, when they are ready, before letting other tasks run.
MAP_BURST = 64


@dataclass
class StreamCounts:
    """Counts by outcome for one stream in one cycle (read = records extracted), and the
    errors by cause (message template → count, with the first full message of each)."""

    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        self.outcomes[result.outcome._value_] += 1  # ``.value`` is a slow property
        if result.error:
            cause = message_template(result.error)
            self.causes[cause] += 1
            self.examples.setdefault(cause, result.error)

    def as_dict(self) -> dict[str, int]:
        row = {"read": self.read}
        for outcome in Outcome:
            row[outcome.value] = self.outcomes.get(outcome.value, 0)
        return row


class RefusalsInARow(PermanentError):
    """The circuit breaker opened: one cause refused many records in a row."""

    kind = "circuit_breaker"

    def __init__(self, stream: str, count: int, example: str) -> None:
        super().__init__(
            f"{count} records in a row were refused for the same cause, so the rest of "
            f"{stream} was not tried (circuit breaker, [service] circuit_breaker_refusals). "
            f"Last refusal: {example.rstrip('.')}. Fix the cause, then `ml-connector errors "
            "list` and `errors retry GROUP`; records not yet tried are read again next sync"
        )


@dataclass(slots=True)
class _RefusalRun:
    """Consecutive refusals of one cause (the circuit breaker's count)."""

    cause: str | None = None
    count: int = 0


@dataclass(slots=True)
class _Item:
    seq: int
    envelope: Envelope[Any]
    #: Filled in by the mapper actor.
    mapped: Mapped | None = None


class StreamRun:
    """One pass of one stream: runs the actors until the source is exhausted."""

    def __init__(
        self,
        processor: RecordProcessor,
        stream: Stream[Any, Any],
        run_id: int | None,
        *,
        buffer: int = 256,
        force: bool = False,
        accept_change: bool = False,
        progress: Progress | None = None,
        track_cursor: bool = True,
        stopping: anyio.Event | None = None,
        refusal_limit: int = 0,
    ) -> None:
        self.processor = processor
        self.stream = stream
        self.run_id = run_id
        self.buffer = buffer
        self.force = force
        self.accept_change = accept_change
        self.progress = progress
        self.track_cursor = track_cursor
        #: Set on shutdown: no new record starts; those being written finish.
        self.stopping = stopping
        #: The circuit breaker: this many identical refusals in a row stop the stream (0: off).
        self.refusal_limit = refusal_limit
        self._refusals = _RefusalRun()
        self.counts = StreamCounts()
        self.watermark = Watermark()
        self._pending_cursor: str | None = None
        self._halted: StreamHalted | None = None

    async def run(self, source: AsyncIterator[Envelope[Any] | CursorMark]) -> StreamCounts:
        """Process every record ``source`` yields. Raises StreamHalted on an outage."""
        to_map, mapping = anyio.create_memory_object_stream[_Item](self.buffer)
        to_load, loading = anyio.create_memory_object_stream[_Item](self.buffer)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._extract, source, to_map)
            tg.start_soon(self._map, mapping, to_load)
            async with loading:
                for _ in range(max(1, self.stream.workers)):
                    tg.start_soon(self._load, loading.clone())
        if self._halted is not None:
            raise self._halted
        if self._pending_cursor is not None and self.track_cursor:
            await self.processor.store.commit(
                Unit().cursor(self.processor.flow.name, self.stream.name, self._pending_cursor)
            )
            self._pending_cursor = None
        return self.counts

    async def _extract(
        self,
        source: AsyncIterator[Envelope[Any] | CursorMark],
        send: MemoryObjectSendStream[_Item],
    ) -> None:
        async with send:
            try:
                async for item in source:
                    if self._halted is not None or self._stopping():
                        break
                    if isinstance(item, CursorMark):
                        seq = self.watermark.issue(item.cursor)
                        self._note_cursor(self.watermark.complete(seq))
                        continue
                    self.counts.read += 1
                    seq = self.watermark.issue(item.cursor)
                    # Straight into the buffer while it has room (``send`` would yield to
                    # the loop on every record); the mapper's bursts give others their turn.
                    try:
                        send.send_nowait(_Item(seq, item))
                    except anyio.WouldBlock:
                        await send.send(_Item(seq, item))
            except ConnectorError as exc:
                # A read that failed for good (outage past its retries, an answer that does
                # not fit the model) stops the stream like any outage, not the whole process.
                self._halted = self._halted or StreamHalted(exc)

    async def _map(
        self, receive: MemoryObjectReceiveStream[_Item], send: MemoryObjectSendStream[_Item]
    ) -> None:
        """The mapper actor: pure CPU work between the extractor and the loaders, so a
        loader waiting on a rate limit never stops mapping, and mapping never holds a
        loader slot.

        It takes and passes on records without a scheduling round trip while they are
        ready (``*_nowait``), yielding every :data:`MAP_BURST` records: the hop between
        actors then costs about what a function call does.
        """
        async with receive, send:
            mapped_in_burst = 0
            while True:
                try:
                    item = receive.receive_nowait()
                except anyio.WouldBlock:
                    try:
                        item = await receive.receive()
                    except anyio.EndOfStream:
                        return
                    mapped_in_burst = 0
                except anyio.EndOfStream:
                    return
                if self._halted is None and not self._stopping():
                    item.mapped = self.processor.map(self.stream, item.envelope)
                try:
                    send.send_nowait(item)
                except anyio.WouldBlock:
                    await send.send(item)
                    mapped_in_burst = 0
                mapped_in_burst += 1
                if mapped_in_burst >= MAP_BURST:
                    await anyio.lowlevel.checkpoint()
                    mapped_in_burst = 0

    async def _load(self, receive: MemoryObjectReceiveStream[_Item]) -> None:
        """A loader worker: takes the records that are ready, as many as its
        :class:`BatchSizer` says, and lands them as one batch (see ``runtime.batch``)."""
        sizer = BatchSizer()
        async with receive:
            while batch := await _take(receive, sizer.size):
                if self._halted is not None or self._stopping():
                    continue  # drain without processing: the cursor stays behind these
                for distinct in _distinct_runs(batch):
                    await self._load_batch(distinct, sizer)

    async def _load_batch(self, batch: list[_Item], sizer: BatchSizer) -> None:
        built: list[int] = []
        items = [
            BatchItem(
                item.envelope,
                item.mapped or self.processor.map(self.stream, item.envelope),
                self._cursor_adder(item.seq, built),
            )
            for item in batch
        ]
        try:
            outcome = await process_batch(
                self.processor,
                self.stream,
                items,
                self.run_id,
                force=self.force,
                accept_change=self.accept_change,
                stopped=lambda: self._halted is not None or self._stopping(),
                timing=sizer,
            )
        except StoreError as exc:
            self._halted = self._halted or StreamHalted(exc)
            self.counts.outcomes[Outcome.DEFERRED.value] += 1
            return
        for seq in built:  # their final units committed: those records are terminal
            self._note_cursor(self.watermark.complete(seq))
        for result in outcome.results:
            if result is None:
                continue  # not tried: the stream stopped first
            self.counts.add(result)
            self._check_breaker(result)
            if self.progress is not None:
                self.progress(self.stream.name, self.counts)
        if outcome.halted is not None:
            self._halted = self._halted or outcome.halted
            self.counts.outcomes[Outcome.DEFERRED.value] += 1

    def _check_breaker(self, result: Result) -> None:
        """Stop the stream once ``refusal_limit`` records in a row were refused for one
        cause: that is a setting or a mapping, not the records, and refusing the rest one
        by one only fills the dead letters (and spends the target's rate limit)."""
        if not self.refusal_limit or self._halted is not None:
            return
        if result.outcome is not Outcome.FAILED or not result.error:
            self._refusals = _RefusalRun()
            return
        cause = message_template(result.error)
        if cause != self._refusals.cause:
            self._refusals = _RefusalRun(cause)
        self._refusals.count += 1
        if self._refusals.count >= self.refusal_limit:
            self._halted = StreamHalted(
                RefusalsInARow(self.stream.name, self._refusals.count, result.error)
            )

    def _stopping(self) -> bool:
        return self.stopping is not None and self.stopping.is_set()

    @property
    def queue_depth(self) -> int:
        """Records read but not yet finished (what /metrics calls the queue depth)."""
        return self.watermark.outstanding

    def _cursor_adder(self, seq: int, built: list[int]) -> Callable[[Unit], None]:
        """Adds the cursor earned so far to ``seq``'s final unit and notes in ``built`` that
        the unit exists; ``_load`` completes ``seq`` once the unit has committed."""

        def add(unit: Unit) -> None:
            built.append(seq)
            if self._pending_cursor is not None and self.track_cursor:
                unit.cursor(self.processor.flow.name, self.stream.name, self._pending_cursor)
                self._pending_cursor = None

        return add

    def _note_cursor(self, advanced: str | None) -> None:
        if advanced is not None:
            self._pending_cursor = advanced


async def _take(receive: MemoryObjectReceiveStream[_Item], most: int) -> list[_Item]:
    """The next record (waiting for it), and up to ``most - 1`` more that are ready now;
    an empty list once the stream is closed and drained."""
    try:
        try:
            batch = [receive.receive_nowait()]
        except anyio.WouldBlock:
            batch = [await receive.receive()]
    except anyio.EndOfStream:
        return []
    while len(batch) < most:
        try:
            batch.append(receive.receive_nowait())
        except (anyio.WouldBlock, anyio.EndOfStream):
            break
    return batch


def _distinct_runs(batch: list[_Item]) -> list[list[_Item]]:
    """``batch`` cut where a source id comes again (a page overlap, a repeated event): a
    record's second copy is decided after its first has committed, as one at a time."""
    runs: list[list[_Item]] = [[]]
    seen: set[str] = set()
    for item in batch:
        if item.envelope.source_id in seen:
            runs.append([])
            seen.clear()
        seen.add(item.envelope.source_id)
        runs[-1].append(item)
    return runs


async def iterate(envelopes: list[Envelope[Any]]) -> AsyncIterator[Envelope[Any] | CursorMark]:
    """Adapt a list (replay, inbox, review) to the extractor interface."""
    for envelope in envelopes:
        yield envelope
