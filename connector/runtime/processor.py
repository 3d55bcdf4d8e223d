"""The exactly-once protocol for one record (DESIGN.md, "The exactly-once protocol").

``RecordProcessor.process`` takes a record through: ledger check → map → claim (a
compare-and-set to ``in_flight``, committed) → **live lookup in the target by natural key**
→ create if absent, finish if present-incomplete, adopt if present → done + target id +
command + audit (+ cursor) in one commit. The ledger only ever saves work (a record done
with the same content is skipped); whether a document is in the target is always asked of
the target. Each failure class has one fate: permanent → dead letter, mapping → review,
in doubt → settled only by a lookup that finds the document complete, retryable/auth/
configuration → the stream stops and the record stays non-terminal so the next cycle takes
it again, and an unexpected exception → a dead letter with its traceback (the stream goes
on). A posted document whose source changed goes to review with a field diff when its
stream's change policy says so.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import msgspec

from connector.errors import (
    ConflictError,
    ConnectorError,
    DeferredError,
    InDoubtError,
    MappingError,
    PermanentError,
    SourceDataError,
)
from connector.runtime.flow import (
    Envelope,
    Flow,
    Found,
    MapContext,
    Outcome,
    Stream,
    Unreadable,
    Written,
)
from connector.runtime.locks import KeyLocks
from connector.runtime.parking import (
    Job,
    Mapped,
    Result,
    StreamHalted,
    changed_after_posting,
    commit_final,
    log_fields,
    stage_final,
    to_dead_letter,
    to_review,
    unexpected,
)
from connector.runtime.references import ReferenceContext
from connector.store import (
    ClaimLostError,
    LedgerEntry,
    RecordKey,
    State,
    Store,
    StoreError,
    Unit,
)

log = logging.getLogger("connector.records")

#: Attempts to settle an in-doubt write by looking it up before giving up for this cycle.
SETTLE_ATTEMPTS = 3
#: Passes of lookup + write for one record: a conflict (412) or an in-doubt write found
#: unfinished earns one more pass each; beyond that the record waits for the next cycle.
WRITE_PASSES = 3
#: How long a claim by another live writer keeps a record from us. Writers that hold the
#: process lock ignore it (any other claimant has died); several writers on one state
#: (nodes) wait it out, so a node that died mid-record is taken over after this long.
CLAIM_LEASE_S = 300.0


def command_hash(command: object) -> str:
    """Content hash of what would be written: equal hashes mean nothing new to write."""
    return _hash(msgspec.json.encode(command))


def _hash(encoded: bytes) -> str:
    return hashlib.sha256(encoded).hexdigest()[:32]


class RecordProcessor:
    """Applies the protocol; shared by poll cycles, webhooks, replay and on-demand lookups."""

    def __init__(
        self,
        flow: Flow,
        store: Store,
        mappings: Mapping[str, Mapping[str, str]],
        locks: KeyLocks,
        *,
        settle_delay_s: float = 0.2,
    ) -> None:
        self.flow = flow
        self.store = store
        self.map_ctx = MapContext(flow.name, mappings)
        self.locks = locks
        self.settle_delay_s = settle_delay_s

    async def process(
        self,
        stream: Stream[Any, Any],
        envelope: Envelope[Any],
        run_id: int | None,
        *,
        force: bool = False,
        accept_change: bool = False,
        cursor_unit: Callable[[Unit], None] | None = None,
        mapped: Mapped | None = None,
    ) -> Result:
        """Take one record through the protocol. ``force`` re-runs failed/review records;
        ``accept_change`` records a posted document's source change as handled by a person
        (``review accept``) instead of putting it in review again.

        ``cursor_unit`` may add the stream's advanced cursor to the record's final commit.
        ``mapped`` is the mapper actor's work for this record (None: map it here).
        Raises :class:`StreamHalted` when the stream must stop.
        """
        key = RecordKey(self.flow.name, stream.name, envelope.source_id)
        job = Job(stream, envelope, key, run_id, cursor_unit)
        async with self.locks.hold(key):
            return await self._process_locked(
                job, force, accept_change, mapped or self.map(stream, envelope)
            )

    def map(self, stream: Stream[Any, Any], envelope: Envelope[Any]) -> Mapped:
        """Map one record: pure CPU work, no I/O (the pipeline's mapper actor runs it)."""
        record = envelope.record
        where = f"{stream.name} {envelope.source_id}"
        try:
            if isinstance(record, Unreadable):
                raise SourceDataError(record.reason, record=where)
            command = stream.map(record, self.map_ctx)
        except (MappingError, PermanentError) as exc:
            return Mapped(error=exc)
        except ConnectorError as exc:
            return Mapped(error=PermanentError(str(exc), record=where))
        except Exception as exc:  # noqa: BLE001 - a mapper bug parks one record, not the run
            key = RecordKey(self.flow.name, stream.name, envelope.source_id)
            return Mapped(error=unexpected(exc, "mapping", key))
        encoded = msgspec.json.encode(command)
        return Mapped(command, _hash(encoded), encoded)

    async def _process_locked(
        self, job: Job, force: bool, accept_change: bool, mapped: Mapped
    ) -> Result:
        entry = await self.store.ledger_entry(job.key)
        result = await self.decide(job, force, accept_change, mapped, entry)
        if result is not None:
            return result
        try:
            await self.store.commit(self.claim(Unit(), job, mapped, entry))
        except ClaimLostError:
            return claim_lost(job)
        return await self.land(job, mapped, entry)

    async def decide(
        self,
        job: Job,
        force: bool,
        accept_change: bool,
        mapped: Mapped,
        entry: LedgerEntry | None,
    ) -> Result | None:
        """Settle a record the ledger row ``entry`` (read under the record's lock) answers
        for, or that cannot be mapped; None: claim it, then :meth:`land` it."""
        if (
            entry is not None
            and entry.state in (State.FAILED, State.REVIEW)
            and not force
            and entry.content_hash == job.source()[1]
        ):
            # Parked and unchanged at the source: waits for replay or review resolve.
            await commit_final(self.store, Unit(), job)
            return Result(Outcome(entry.state.value), entry.target_id)
        if isinstance(mapped.error, MappingError):
            return await to_review(self.store, job, mapped.error)
        if mapped.error is not None:
            return await to_dead_letter(self.store, job, mapped.error)
        command, digest = mapped.command, mapped.digest
        if entry is not None and entry.state == State.DONE:
            if entry.content_hash == digest:
                await commit_final(self.store, Unit(), job)
                return Result(Outcome.UNCHANGED, entry.target_id)
            # A record whose earlier version posted nothing (no target id: a zero or
            # inactive invoice) has no posting to protect: its new version is written like a
            # first one, else a draft that gains its lines would wait in review forever.
            if job.stream.change_policy == "review" and entry.target_id:
                return await changed_after_posting(
                    self.store, job, entry, command, digest, accept_change
                )
        if claimed_elsewhere(self.store, entry):
            log.info("in flight with another writer", extra=log_fields(job.key, job.run_id))
            return Result(Outcome.DEFERRED, error="being written by another writer")
        return None

    def claim(self, unit: Unit, job: Job, mapped: Mapped, entry: LedgerEntry | None) -> Unit:
        """Add the claim (compare-and-set to ``in_flight`` against ``entry``) and the
        read/mapped audit events to ``unit``."""
        key, run_id, digest = job.key, job.run_id, mapped.digest
        owner = self.store.writer_id
        return (
            unit.claim(key, _seen(entry), content_hash=digest, run_id=run_id, owner=owner)
            .audit(key, "read", _read_detail(job.envelope), run_id=run_id)
            .audit(key, "mapped", {"hash": digest}, run_id=run_id)
        )

    async def land(self, job: Job, mapped: Mapped, entry: LedgerEntry | None) -> Result:
        """Look up, write and commit; every exception has exactly one fate here.

        ``entry`` is the ledger row as read before the claim: a record seen before has every
        lookup audited, and only a record that was not done can have anything parked."""
        retried = entry is not None
        # Only a record parked at some point can have an open dead letter or review item:
        # parking writes the ledger in the same unit, and every later `done` closes them.
        was_parked = entry is not None and entry.state != State.DONE
        ctx = ReferenceContext(self, job.run_id)
        key, run_id, command = job.key, job.run_id, mapped.command
        for attempt in range(1, WRITE_PASSES + 1):
            try:
                written = await lookup_then_write(job.stream, command, ctx, note_absent=retried)
                return await self._commit_done(job, mapped, written, ctx, was_parked)
            except InDoubtError as exc:
                await self.store.commit(
                    Unit()
                    .ledger(key, State.IN_DOUBT, error=str(exc))
                    .audit(key, "in_doubt", {"error": str(exc)}, run_id=run_id)
                )
                found = await settle(job.stream, command, self.settle_delay_s)
                if found is None:
                    log.warning(
                        "in doubt, to verify next run: %s", exc, extra=log_fields(key, run_id)
                    )
                    return Result(Outcome.IN_DOUBT, error=str(exc))
                ctx.note("verified", {"target_id": found.target_id, "after": "in_doubt"})
                if found.complete:
                    settled = Written(Outcome.CREATED, found.target_id, {"settled": "found"})
                    return await self._commit_done(job, mapped, settled, ctx, was_parked)
                # There but unfinished (saved, not released): the next pass finishes it.
            except ConflictError as exc:
                # The target changed under us: the next pass re-reads and re-applies; a
                # conflict on the last pass is a real disagreement for a person.
                if attempt == WRITE_PASSES:
                    return await to_dead_letter(self.store, job, exc)
            except MappingError as exc:
                return await to_review(self.store, job, exc)
            except PermanentError as exc:
                return await to_dead_letter(self.store, job, exc)
            except DeferredError as exc:
                # Waits on another record; nothing of this one was written. Not terminal:
                # its cursor stays behind it and its webhook event stays pending.
                await self.store.commit(
                    Unit()
                    .ledger(key, State.PENDING, error=str(exc))
                    .audit(key, "deferred", {"error": str(exc), "kind": exc.kind}, run_id=run_id)
                )
                return Result(Outcome.DEFERRED, error=str(exc))
            except StoreError:
                raise  # the state database failed: the pipeline halts the stream
            except ConnectorError as exc:
                await self.store.commit(
                    Unit()
                    .ledger(key, State.PENDING, error=str(exc))
                    .audit(key, "deferred", {"error": str(exc), "kind": exc.kind}, run_id=run_id)
                )
                raise StreamHalted(exc) from exc
            except Exception as exc:  # noqa: BLE001 - a target bug parks one record, not the run
                # What the target did before failing is unknown: the dead letter is replayed
                # through the same lookup, so a document that did land is adopted, not doubled.
                return await to_dead_letter(self.store, job, unexpected(exc, "writing", key))
        return Result(Outcome.IN_DOUBT, error="still unfinished after settling; next run verifies")

    async def _commit_done(
        self, job: Job, mapped: Mapped, written: Written, ctx: ReferenceContext, was_parked: bool
    ) -> Result:
        key, run_id = job.key, job.run_id
        unit = Unit().ledger(
            key,
            State.DONE,
            content_hash=mapped.digest,
            target_id=written.target_id,
            command=mapped.encoded or msgspec.json.encode(mapped.command),
        )
        for step, detail in ctx.notes:
            unit.audit(key, step, detail, run_id=run_id)
        unit.audit(
            key,
            "written" if written.outcome in (Outcome.CREATED, Outcome.UPDATED) else "adopted",
            {"outcome": written.outcome, "target_id": written.target_id, **written.detail},
            run_id=run_id,
        )
        if was_parked:
            unit.close_dead_letter(key).close_review(key)
        if (due := stage_final(unit, job)) is not None:
            await self.store.commit(due)
        return Result(written.outcome, written.target_id)


async def lookup_then_write(
    stream: Stream[Any, Any], command: object, ctx: ReferenceContext, *, note_absent: bool
) -> Written:
    """The target contract in one place: a live lookup by natural key, then create (absent),
    finish (unfinished), update (changed reference data) or adopt (finished)."""
    existing = await stream.target.find(command)
    if existing is not None:
        ctx.note("verified", {"target_id": existing.target_id})
    elif note_absent:
        ctx.note("verified", {"target_id": "", "found": "no"})
    if existing is None or not existing.complete:
        return await stream.target.write(command, existing, ctx)
    if existing.matches:
        return Written(Outcome.UNCHANGED, existing.target_id)
    if stream.change_policy == "update":
        return await stream.target.write(command, existing, ctx)
    # A finished document we hold no posting of (a rebuilt state database, an in-doubt
    # write that landed): it is the target's, adopted as it is.
    return Written(Outcome.UNCHANGED, existing.target_id, {"adopted": "found in target"})


def claim_lost(job: Job) -> Result:
    """Another writer holds this record now (a second process on the same state, or
    PostgreSQL nodes): it finishes it. The record is not terminal here, so this run's
    cursor stays behind it."""
    log.info("claimed by another writer; left to it", extra=log_fields(job.key, job.run_id))
    return Result(Outcome.DEFERRED, error="claimed by another writer")


def claimed_elsewhere(store: Store, entry: LedgerEntry | None) -> bool:
    """Whether another live writer holds the record in flight (its lease runs)."""
    if entry is None or entry.state != State.IN_FLIGHT or store.exclusive:
        return False
    if entry.claimed_by in (None, store.writer_id) or entry.claimed_at is None:
        return False
    return time.time() - entry.claimed_at < CLAIM_LEASE_S


async def settle(stream: Stream[Any, Any], command: object, delay_s: float) -> Found | None:
    """Find out whether an in-doubt write landed, by querying the target only."""
    for attempt in range(SETTLE_ATTEMPTS):
        await anyio.sleep(delay_s * (attempt + 1))
        try:
            found = await stream.target.find(command)
        except ConnectorError:
            continue
        if found is not None:
            return found
    # Still unknown: the record stays in_doubt (non-terminal) and the next cycle looks it
    # up again before anything else. Never write again on a guess.
    return None


def _seen(entry: LedgerEntry | None) -> tuple[State, int] | None:
    """What the claim compares against: the ledger row as this process read it."""
    return None if entry is None else (entry.state, entry.attempts)


def _read_detail(envelope: Envelope[Any]) -> dict[str, str]:
    detail = {}
    if envelope.cursor:
        detail["cursor"] = envelope.cursor
    if envelope.event_id:
        detail["event_id"] = envelope.event_id
    return detail
