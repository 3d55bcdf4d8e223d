"""Several records of one stream through the exactly-once protocol at once.

The protocol per record is unchanged (:mod:`connector.runtime.processor`): ledger check,
claim committed before anything is written, a live ``find`` before every write, the final
state with its audit and cursor in one commit. What a batch shares is the bookkeeping
around it, which is most of what a record costs when the target answers fast:

* one commit that reads the ledger rows of all its records and, in the same transaction,
  claims those the ledger has never seen (``Store.claim_unseen``); the records it has
  seen are then decided from their rows, and those to write again are claimed in one
  more commit. Each claim is a compare-and-set, every one durable before the first write
  starts; if another writer won any of them the unit fails as a whole and each record is
  read and claimed alone, so only the lost ones are left alone;
* the records are then landed one after the other, each ``find`` → ``write`` as before,
  and their final units (done + audit + webhook event + cursor) commit together once the
  last has landed.

A claimed record waits for the records before it in its batch, and its ``done`` waits for
those after it, so a batch is sized to what the worker lands within ``CLAIM_AHEAD_S``
(:class:`BatchSizer`): against a real ERP that answers in a few hundred milliseconds a
batch is one record, i.e. exactly the per-record path; against a fast target (or records
the ledger settles without a write) it grows to ``MAX_RECORDS``.

When the stream stops (an outage halts it, or shutdown) in the middle of a batch, the
records landed so far still commit, and those claimed but not started are put back to
``pending`` with the reason: nothing was written for them, and the next cycle takes them
(looking them up first, as for any record seen before).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from connector.runtime.flow import Envelope, Stream
from connector.runtime.parking import Job, Mapped, Result, StreamHalted
from connector.runtime.processor import RecordProcessor, claim_lost
from connector.store import ClaimLostError, LedgerEntry, RecordKey, State, StoreError, Unit

#: How long a record may wait in its batch for the records landed before it.
CLAIM_AHEAD_S = 0.02
#: The most records one batch takes. With the default four loader workers, 64 kept a
#: fast target's commits to about 150 records each, and the writer thread pays its GIL
#: waits per statement (``runtime/tuning.py``): bench.worker pipeline, 50,000 records,
#: 4 workers went from 18,897 to 25,010 records/s at 256 (32 workers: about the same),
#: peak RSS 66 MB. A slow target still gets one record per batch (``BatchSizer``).
MAX_RECORDS = 256
#: Weight of the newest batch in the landing-time estimate.
_SMOOTHING = 0.3


class BatchItem(msgspec.Struct, frozen=True):
    """One record as the pipeline hands it to a batch."""

    envelope: Envelope[Any]
    mapped: Mapped
    #: Adds the stream's advanced cursor to the record's final unit (see ``StreamRun``).
    cursor_unit: Callable[[Unit], None] | None = None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """Each item's result (None: not tried, the stream stopped first) and the halt, if any.

    Every item whose final unit was built has committed by the time this is returned."""

    results: list[Result | None]
    halted: StreamHalted | None = None


class BatchSizer:
    """How many records a loader worker takes next: what it lands within ``CLAIM_AHEAD_S``,
    from a running estimate of its landing time per record; one until it has measured, and
    never more than double the last size."""

    def __init__(self) -> None:
        self.size = 1
        self._per_record_s: float | None = None

    def observe(self, landed: int, seconds: float) -> None:
        """``landed`` records took ``seconds`` of finding and writing in the last batch."""
        if landed <= 0:
            return
        sample = seconds / landed
        estimate = self._per_record_s
        estimate = sample if estimate is None else estimate + _SMOOTHING * (sample - estimate)
        self._per_record_s = estimate
        fits = int(CLAIM_AHEAD_S / estimate) if estimate > 0 else MAX_RECORDS
        self.size = max(1, min(fits, 2 * self.size, MAX_RECORDS))


async def process_batch(
    processor: RecordProcessor,
    stream: Stream[Any, Any],
    items: list[BatchItem],
    run_id: int | None,
    *,
    force: bool = False,
    accept_change: bool = False,
    stopped: Callable[[], bool] = lambda: False,
    timing: BatchSizer | None = None,
) -> BatchOutcome:
    """Take ``items`` (records of ``stream``) through the protocol together.

    ``stopped`` is asked before each record is landed; once true, the rest are put back.
    Raises :class:`StoreError` when the state database failed; records whose final unit
    it could not commit are then not terminal.
    """
    finals: list[Unit] = []
    jobs = [
        Job(stream, item.envelope, _key(processor, stream, item), run_id, item.cursor_unit, finals)
        for item in items
    ]
    results: list[Result | None] = [None] * len(jobs)
    halted: StreamHalted | None = None
    async with processor.locks.hold_many([job.key for job in jobs]):
        entries, claimed = await _read_claiming_unseen(processor, stream, jobs, items)
        to_land: list[tuple[int, LedgerEntry | None]] = []
        to_claim: list[tuple[int, LedgerEntry | None]] = []
        for index, (job, item) in enumerate(zip(jobs, items, strict=True)):
            entry = entries.get(job.key.source_id)
            if index in claimed:
                to_land.append((index, None))
            elif entry is None and item.mapped.error is None:
                # Never seen and mapped: what ``decide`` would say, without the call.
                to_claim.append((index, None))
            elif (
                decided := await processor.decide(job, force, accept_change, item.mapped, entry)
            ) is None:
                to_claim.append((index, entry))
            else:
                results[index] = decided
        if to_claim:
            claimed.update(await _claim(processor, jobs, items, to_claim))
            to_land = sorted(to_land + to_claim, key=lambda pair: pair[0])
        landing_started = time.perf_counter()
        landed = 0
        put_back: list[Job] = []
        failure: StoreError | None = None
        for index, entry in to_land:
            job = jobs[index]
            if not claimed[index]:
                results[index] = claim_lost(job)
            elif halted is not None or failure is not None or stopped():
                put_back.append(job)
            else:
                try:
                    results[index] = await processor.land(job, items[index].mapped, entry)
                    landed += 1
                except StreamHalted as exc:
                    halted = exc
                except StoreError as exc:
                    failure = exc
        if timing is not None:
            timing.observe(landed, time.perf_counter() - landing_started)
        # What landed is in the target: its final units commit whatever stopped the rest.
        await _commit_finals(processor, finals, put_back, halted)
        if failure is not None:
            raise failure
    return BatchOutcome(results, halted)


def _key(processor: RecordProcessor, stream: Stream[Any, Any], item: BatchItem) -> RecordKey:
    return RecordKey(processor.flow.name, stream.name, item.envelope.source_id)


async def _read_claiming_unseen(
    processor: RecordProcessor, stream: Stream[Any, Any], jobs: list[Job], items: list[BatchItem]
) -> tuple[dict[str, LedgerEntry], dict[int, bool]]:
    """The batch's ledger rows, and (in the same commit) the claims of its mapped records
    the ledger has never seen, by index. When another writer inserted one of those rows
    first, nothing is claimed here: the rows are read again and ``_claim`` takes each."""
    now = time.time()
    index_of: dict[str, int] = {}
    claims: dict[str, Unit] = {}
    for index, (job, item) in enumerate(zip(jobs, items, strict=True)):
        if item.mapped.error is None:
            source_id = job.key.source_id
            index_of[source_id] = index
            claims[source_id] = processor.claim(Unit(now), job, item.mapped, None)
    ids = [job.key.source_id for job in jobs]
    store, flow = processor.store, processor.flow.name
    try:
        entries = await store.claim_unseen(flow, stream.name, ids, claims)
    except ClaimLostError:
        return await store.ledger_entries(flow, stream.name, ids), {}
    return entries, {index_of[s]: True for s in claims if s not in entries}


async def _claim(
    processor: RecordProcessor,
    jobs: list[Job],
    items: list[BatchItem],
    to_land: list[tuple[int, LedgerEntry | None]],
) -> dict[int, bool]:
    """Commit the claims of ``to_land``: together, or (one was lost) each alone."""
    if not to_land:
        return {}
    unit = Unit()
    for index, entry in to_land:
        processor.claim(unit, jobs[index], items[index].mapped, entry)
    try:
        await processor.store.commit(unit)
        return {index: True for index, _ in to_land}
    except ClaimLostError:
        if len(to_land) == 1:
            return {to_land[0][0]: False}
    claimed: dict[int, bool] = {}
    for index, entry in to_land:
        try:
            await processor.store.commit(
                processor.claim(Unit(), jobs[index], items[index].mapped, entry)
            )
            claimed[index] = True
        except ClaimLostError:
            claimed[index] = False
    return claimed


async def _commit_finals(
    processor: RecordProcessor, finals: list[Unit], put_back: list[Job], halted: StreamHalted | None
) -> None:
    unit = Unit()
    for final in finals:
        unit.statements.extend(final.statements)
    reason = (
        f"not tried: the stream stopped first ({halted.cause})"
        if halted is not None
        else "not tried: the stream stopped first"
    )
    for job in put_back:
        unit.ledger(job.key, State.PENDING, error=reason).audit(
            job.key, "deferred", {"error": reason, "kind": "stopped"}, run_id=job.run_id
        )
    if unit.statements:
        await processor.store.commit(unit)
