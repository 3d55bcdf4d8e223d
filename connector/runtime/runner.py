"""Runs a flow: sync cycles, webhook inbox drains, replay of dead letters, review resumes.

Every entry point records a run (``runs`` table) with counts per stream and outcome, so
``ml-connector runs`` shows polls, webhook batches and replays alike. Streams of a cycle run
in the flow's order (reference data first); a stream halted by an outage stops the cycle,
because later streams reference what it should have created.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import msgspec

from connector.errors import ConnectorError, PermanentError
from connector.runtime.flow import CursorMark, Envelope, FetchesMany, Flow, Stream, Unreadable
from connector.runtime.locks import KeyLocks
from connector.runtime.parking import StreamHalted
from connector.runtime.pipeline import Progress, StreamCounts, StreamRun, iterate
from connector.runtime.processor import CLAIM_LEASE_S, RecordProcessor
from connector.store import InboxEvent, Store, StoreError, Unit

#: Webhook events a drain decodes between two turns of the event loop: a thousand payloads
#: take tens of milliseconds, and the webhook receiver sharing the loop would answer late.
DECODE_BURST = 64

log = logging.getLogger("connector.runner")


@dataclass
class CycleReport:
    """What one run did: per stream counts, and the error that stopped it, if any."""

    flow: str
    run_id: int
    trigger: str
    streams: dict[str, StreamCounts] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def attention(self) -> bool:
        """Records a person must look at: dead letters, or documents changed after posting."""
        return self.total("failed") > 0 or self.total("changed") > 0

    @property
    def status(self) -> str:
        """``failed`` (stopped early), ``attention`` (completed with attention needed), ``ok``."""
        if not self.ok:
            return "failed"
        return "attention" if self.attention else "ok"

    @property
    def status_text(self) -> str:
        """The status as a person reads it (see :func:`describe_status`)."""
        return describe_status(self.status, self.counts())

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: c.as_dict() for name, c in self.streams.items()}

    def total(self, outcome: str) -> int:
        return sum(c.as_dict().get(outcome, 0) for c in self.streams.values())


def describe_status(status: str, counts: Mapping[str, Mapping[str, int]]) -> str:
    """A run's stored status in words: "completed with errors" when records were refused
    (dead letters), "attention needed" when documents changed after posting wait for a
    person; the stored values stay short, stable labels for /metrics and scripts."""
    if status == "attention":
        failed = sum(c.get("failed", 0) for c in counts.values())
        changed = sum(c.get("changed", 0) for c in counts.values())
        if failed and changed:
            return "completed with errors, attention needed"
        return "completed with errors" if failed else "attention needed"
    return {
        "ok": "completed",
        "failed": "stopped",
        "running": "running",
        "interrupted": "interrupted",
    }.get(status, status)


@asynccontextmanager
async def closing_if_interrupted(store: Store, report: CycleReport) -> AsyncIterator[None]:
    """Close the run row as ``interrupted`` with the counts reached when the run is
    cancelled (Ctrl-C, or shutdown past its deadline), so `runs` tells the truth at once
    instead of showing 'running' until the next start."""
    try:
        yield
    except BaseException:
        with anyio.CancelScope(shield=True):
            try:
                await store.finish_run(
                    report.run_id,
                    "interrupted",
                    report.counts(),
                    "interrupted before the end; the next run resumes where it stopped",
                )
            except StoreError:
                pass  # marked interrupted, without counts, at the next start
        raise


class FlowRunner:
    """Owns one flow's processor and the locks shared by all its triggers."""

    def __init__(
        self,
        flow: Flow,
        store: Store,
        *,
        webhook_streams: Mapping[str, str] | None = None,
        buffer: int = 256,
        refusal_limit: int = 0,
    ) -> None:
        self.flow = flow
        self.store = store
        self.locks = KeyLocks()
        #: Webhook event type prefix → stream name (``"invoice" → "invoices"``).
        self.webhook_streams = dict(webhook_streams or {})
        self.buffer = buffer
        #: Identical refusals in a row that stop a stream (0: never; see StreamRun).
        self.refusal_limit = refusal_limit
        #: Set by the service on shutdown: runs stop starting records (see StreamRun).
        self.stopping = anyio.Event()
        #: Stream runs in progress, for /metrics queue depths.
        self.active: dict[str, StreamRun] = {}

    async def _processor(self) -> RecordProcessor:
        # Mappings are read at the start of every run so `review resolve` and config
        # reloads take effect without a restart.
        return RecordProcessor(self.flow, self.store, await self.store.all_mappings(), self.locks)

    async def cycle(
        self,
        *,
        streams: Sequence[str] | None = None,
        full: bool = False,
        trigger: str = "schedule",
        progress: Progress | None = None,
    ) -> CycleReport:
        """One sync cycle over the flow's streams (all, or the named ones, in flow order)."""
        selected = self._select(streams)
        report = CycleReport(
            self.flow.name, await self.store.start_run(self.flow.name, trigger), trigger
        )
        processor = await self._processor()
        async with closing_if_interrupted(self.store, report), self._session():
            for stream in selected:
                cursor = None if full else await self.store.cursor(self.flow.name, stream.name)
                run = StreamRun(
                    processor, stream, report.run_id, buffer=self.buffer, progress=progress
                )
                report.streams[stream.name] = run.counts
                if not await self._run(report, run, stream.extract(cursor, full)):
                    break
        await self._finish(report)
        return report

    async def drain_inbox(
        self, *, limit: int = 1000, progress: Progress | None = None
    ) -> CycleReport:
        """Process stored webhook events (each exactly once, through the ledger).

        An event is a hint that a record changed, not the record: each is re-read from the
        source, so a late or repeated delivery of an older payload can never roll the
        target back. Events of a type no stream takes are marked ignored.
        """
        # Claimed, not just read: nodes sharing a PostgreSQL state drain one inbox, and
        # each event goes to one of them (a dead node's claims lapse with their lease).
        events = await self.store.claim_inbox(
            self.flow.name, limit, lease_s=CLAIM_LEASE_S, owner=self.store.writer_id
        )
        report = CycleReport(
            self.flow.name, await self.store.start_run(self.flow.name, "webhook"), "webhook"
        )
        processor = await self._processor()
        by_stream: dict[str, list[Envelope[Any]]] = {}
        ignored = Unit()
        for decoded, event in enumerate(events, start=1):
            if decoded % DECODE_BURST == 0:  # the receiver shares this loop (DECODE_BURST)
                await anyio.lowlevel.checkpoint()
            stream_name = self._stream_for_event(event.event_type)
            if stream_name is None:
                Store.mark_inbox_processed(ignored, self.flow.name, event.event_id, "ignored")
                continue
            by_stream.setdefault(stream_name, []).append(
                _event_envelope(self.flow.stream(stream_name), event)
            )
        if ignored.statements:
            await self.store.commit(ignored)
        async with closing_if_interrupted(self.store, report), self._session():
            for stream in self.flow.streams:
                envelopes = by_stream.get(stream.name)
                if not envelopes:
                    continue
                run = StreamRun(
                    processor,
                    stream,
                    report.run_id,
                    buffer=self.buffer,
                    progress=progress,
                    track_cursor=False,
                )
                report.streams[stream.name] = run.counts
                if not await self._run(report, run, _refetched(stream, envelopes)):
                    break
        await self._finish(report)
        return report

    async def replay(
        self,
        *,
        stream: str | None = None,
        source_ids: Iterable[str] | None = None,
        progress: Progress | None = None,
    ) -> CycleReport:
        """Re-run open dead letters (after the cause is fixed). Landed ones close."""
        letters = await self.store.dead_letters(
            flow=self.flow.name, stream=stream, source_ids=source_ids
        )
        return await self._rerun(
            "replay", [(dl.key.stream, dl.key.source_id, dl.payload) for dl in letters], progress
        )

    async def resume_review(
        self,
        *,
        source_ids: Iterable[str] | None = None,
        progress: Progress | None = None,
        accept_changes: bool = False,
    ) -> CycleReport:
        """Re-run open review items (their mapping has been added). ``accept_changes`` also
        records documents changed after posting as handled (a person adjusted the target)."""
        items = await self.store.review_items(flow=self.flow.name, source_ids=source_ids)
        return await self._rerun(
            "review",
            [(i.key.stream, i.key.source_id, i.payload) for i in items],
            progress,
            accept_change=accept_changes,
        )

    async def _rerun(
        self,
        trigger: str,
        parked: list[tuple[str, str, bytes]],
        progress: Progress | None,
        *,
        accept_change: bool = False,
    ) -> CycleReport:
        report = CycleReport(
            self.flow.name, await self.store.start_run(self.flow.name, trigger), trigger
        )
        processor = await self._processor()
        async with closing_if_interrupted(self.store, report), self._session():
            await self._rerun_streams(report, processor, parked, progress, accept_change)
        await self._finish(report)
        return report

    async def _rerun_streams(
        self,
        report: CycleReport,
        processor: RecordProcessor,
        parked: list[tuple[str, str, bytes]],
        progress: Progress | None,
        accept_change: bool,
    ) -> None:
        for stream in self.flow.streams:
            envelopes = []
            for stream_name, source_id, payload in parked:
                if stream_name != stream.name:
                    continue
                # Prefer the record as it is now at the source; fall back to what we stored.
                try:
                    record = await stream.fetch(source_id) or stream.decode(payload)
                except (PermanentError, ValueError) as exc:
                    # Still unusable (or parked under a key the source cannot look up, such
                    # as an unreadable webhook event's): it stays parked, with today's reason.
                    record = Unreadable(
                        payload, f"{stream.name} {source_id} is still unusable: {exc}"
                    )
                envelopes.append(Envelope(source_id, record))
            if not envelopes:
                continue
            run = StreamRun(
                processor,
                stream,
                report.run_id,
                buffer=self.buffer,
                force=True,
                accept_change=accept_change,
                progress=progress,
                track_cursor=False,
            )
            report.streams[stream.name] = run.counts
            if not await self._run(report, run, iterate(envelopes)):
                break

    def _session(self) -> AbstractAsyncContextManager[object]:
        """The flow's per-run wrapper (see ``Flow.session``), or nothing to wrap."""
        return self.flow.session() if self.flow.session is not None else nullcontext()

    def _select(self, names: Sequence[str] | None) -> list[Stream[Any, Any]]:
        if not names:
            return list(self.flow.streams)
        wanted = [self.flow.stream(n) for n in names]  # KeyError names the valid streams
        return [s for s in self.flow.streams if s in wanted]

    def _stream_for_event(self, event_type: str) -> str | None:
        prefix = event_type.split(".", 1)[0]
        return self.webhook_streams.get(prefix)

    async def _run(self, report: CycleReport, run: StreamRun, source: Any) -> bool:
        run.stopping = self.stopping
        run.refusal_limit = self.refusal_limit
        self.active[run.stream.name] = run
        try:
            # A pass over the whole stream refreshes the target's indexes; a webhook drain
            # or replay of a few records must not scan every customer to do it (targets
            # build what they need on first use, and look documents up live anyway).
            if run.stream.prepare is not None and run.track_cursor:
                await run.stream.prepare()
            await run.run(source)
        except StreamHalted as exc:
            report.error = f"stream {run.stream.name} stopped: {exc.cause}"
            return False
        except (StoreError, ConnectorError) as exc:
            report.error = f"stream {run.stream.name} stopped: {exc}"
            return False
        except Exception as exc:  # noqa: BLE001 - a bug outside any record stops this run only
            log.exception("stream %s stopped by an unexpected error", run.stream.name)
            report.error = (
                f"stream {run.stream.name} stopped by an unexpected {type(exc).__name__}: {exc} "
                "(a bug in ml-connector: report it with the log's traceback)"
            )
            return False
        finally:
            self.active.pop(run.stream.name, None)
        if self.stopping.is_set():
            report.error = report.error or "stopped for shutdown; the next run resumes here"
            return False
        return True

    async def _finish(self, report: CycleReport) -> None:
        try:
            await self.store.finish_run(report.run_id, report.status, report.counts(), report.error)
        except StoreError:
            # The store is what failed; the run row stays 'running' and is marked
            # interrupted at the next start. The report still tells the caller.
            report.error = report.error or "the state database refused the run summary"


def _event_envelope(stream: Stream[Any, Any], event: InboxEvent) -> Envelope[Any]:
    """The record an event names, as the event carried it (re-read before processing)."""
    try:
        record = stream.decode(event.payload)
        source_id = stream.source_id(record)
    except (ConnectorError, msgspec.ValidationError, msgspec.DecodeError) as exc:
        # Authentic (it was signed) but unusable: dead-lettered under the event's id, and
        # marked processed with it, so it cannot block every later drain.
        return Envelope(
            f"event:{event.event_id}",
            Unreadable(
                event.payload,
                f"webhook event {event.event_id} ({event.event_type}) carries a record that "
                f"does not fit the model ({exc}); fix the record at the source, then sync it",
            ),
            event_id=event.event_id,
        )
    return Envelope(source_id, record, event_id=event.event_id)


async def _refetched(
    stream: Stream[Any, Any], envelopes: list[Envelope[Any]]
) -> AsyncIterator[Envelope[Any] | CursorMark]:
    """Each event's record as the source holds it now (an event is a hint, not the state).

    A record the source no longer returns (deleted since) goes on with the event's payload:
    the ledger and the target lookup still keep it exactly once.
    """
    fetch = stream.fetch
    size = fetch.batch if isinstance(fetch, FetchesMany) else 1
    for start in range(0, len(envelopes), size):
        chunk = envelopes[start : start + size]
        wanted = [e.source_id for e in chunk if not isinstance(e.record, Unreadable)]
        if isinstance(fetch, FetchesMany):
            current = await fetch.many(wanted) if wanted else {}
        else:
            current = {i: r for i in wanted if (r := await fetch(i)) is not None}
        for envelope in chunk:
            record = current.get(envelope.source_id)
            if isinstance(envelope.record, Unreadable) or record is None:
                yield envelope
            else:
                yield Envelope(envelope.source_id, record, event_id=envelope.event_id)
