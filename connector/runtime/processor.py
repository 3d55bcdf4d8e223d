"""The exactly-once protocol for one record (DESIGN.md, "The exactly-once protocol").

``RecordProcessor.process`` takes a mapped record through: ledger check → in_flight
(committed) → verify by natural key when the record is reference data or an earlier attempt
did not finish → write → done + target id + audit (+ cursor) in one commit. Each failure
class has one fate: permanent → dead letter, mapping → review, in doubt → settled by querying
the target, retryable/auth/configuration → the stream stops and the record stays
non-terminal so the next cycle takes it again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import msgspec

from connector.errors import (
    ConflictError,
    ConnectorError,
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
from connector.store import LedgerEntry, RecordKey, State, Store, Unit

log = logging.getLogger("connector.records")

#: Attempts to settle an in-doubt write by looking it up before giving up for this cycle.
SETTLE_ATTEMPTS = 3


class StreamHalted(Exception):
    """A failure that stops the stream (outage, auth, configuration, store); record kept."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def command_hash(command: object) -> str:
    """Content hash of what would be written: equal hashes mean nothing new to write."""
    return hashlib.sha256(msgspec.json.encode(command)).hexdigest()[:32]


@dataclass
class _Context:
    """The LoadContext handed to a target for one record."""

    processor: RecordProcessor
    run_id: int | None
    notes: list[tuple[str, Mapping[str, str]]] = field(default_factory=list)

    async def ensure(self, stream: str, source_id: str) -> str:
        return await self.processor.ensure(stream, source_id, self.run_id)

    def note(self, step: str, detail: Mapping[str, str]) -> None:
        self.notes.append((step, dict(detail)))


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    target_id: str | None = None
    error: str | None = None


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
        cursor_unit: Callable[[Unit], None] | None = None,
    ) -> Result:
        """Take one record through the protocol. ``force`` re-runs failed/review records.

        ``cursor_unit`` may add the stream's advanced cursor to the record's final commit.
        Raises :class:`StreamHalted` when the stream must stop.
        """
        key = RecordKey(self.flow.name, stream.name, envelope.source_id)
        async with self.locks.hold(key):
            return await self._process_locked(stream, envelope, key, run_id, force, cursor_unit)

    async def _process_locked(
        self,
        stream: Stream[Any, Any],
        envelope: Envelope[Any],
        key: RecordKey,
        run_id: int | None,
        force: bool,
        cursor_unit: Callable[[Unit], None] | None,
    ) -> Result:
        entry = await self.store.ledger_entry(key)
        if (
            entry is not None
            and entry.state in (State.FAILED, State.REVIEW)
            and not force
            and entry.content_hash == _source(stream, envelope)[1]
        ):
            # Parked and unchanged at the source: waits for replay or review resolve.
            await self._commit_skip(envelope, cursor_unit)
            return Result(Outcome(entry.state.value), entry.target_id)
        try:
            if isinstance(envelope.record, Unreadable):
                raise SourceDataError(
                    envelope.record.reason, record=f"{stream.name} {key.source_id}"
                )
            command = stream.map(envelope.record, self.map_ctx)
        except MappingError as exc:
            return await self._to_review(
                stream, envelope, key, run_id, exc, *_source(stream, envelope), cursor_unit
            )
        except PermanentError as exc:
            return await self._to_dead_letter(
                envelope, key, run_id, exc, *_source(stream, envelope), cursor_unit
            )
        digest = command_hash(command)
        if entry is not None and entry.state == State.DONE and entry.content_hash == digest:
            await self._commit_skip(envelope, cursor_unit)
            return Result(Outcome.UNCHANGED, entry.target_id)

        await self.store.commit(
            Unit()
            .ledger(key, State.IN_FLIGHT, content_hash=digest, run_id=run_id, count_attempt=True)
            .audit(key, "read", _read_detail(envelope), run_id=run_id)
            .audit(key, "mapped", {"hash": digest}, run_id=run_id)
        )
        ctx = _Context(self, run_id)
        try:
            written, verified = await self._write(stream, command, entry, ctx)
        except InDoubtError as exc:
            await self.store.commit(
                Unit()
                .ledger(key, State.IN_DOUBT, error=str(exc))
                .audit(key, "in_doubt", {"error": str(exc)}, run_id=run_id)
            )
            settled = await self._settle(stream, command, key, run_id)
            if settled is None:
                log.warning("in doubt, to verify next run: %s", exc, extra=_fields(key, run_id))
                return Result(Outcome.IN_DOUBT, error=str(exc))
            written, verified = settled, True
        except MappingError as exc:
            return await self._to_review(
                stream, envelope, key, run_id, exc, *_source(stream, envelope), cursor_unit
            )
        except PermanentError as exc:
            return await self._to_dead_letter(
                envelope, key, run_id, exc, *_source(stream, envelope), cursor_unit
            )
        except ConflictError as exc:
            # Re-read and re-apply once; a second conflict is a real disagreement.
            try:
                written, verified = await self._write(stream, command, None, ctx, force_find=True)
            except ConflictError:
                return await self._to_dead_letter(
                    envelope, key, run_id, exc, *_source(stream, envelope), cursor_unit
                )
        except ConnectorError as exc:
            await self.store.commit(
                Unit()
                .ledger(key, State.PENDING, error=str(exc))
                .audit(key, "deferred", {"error": str(exc), "kind": exc.kind}, run_id=run_id)
            )
            raise StreamHalted(exc) from exc

        unit = Unit().ledger(key, State.DONE, content_hash=digest, target_id=written.target_id)
        if verified:
            unit.audit(key, "verified", {"target_id": written.target_id}, run_id=run_id)
        for step, detail in ctx.notes:
            unit.audit(key, step, detail, run_id=run_id)
        unit.audit(
            key,
            "written" if written.outcome in (Outcome.CREATED, Outcome.UPDATED) else "adopted",
            {"outcome": written.outcome.value, "target_id": written.target_id, **written.detail},
            run_id=run_id,
        )
        if entry is not None and entry.state != State.DONE:
            # Only a record parked at some point can have an open dead letter or review
            # item: parking writes the ledger in the same unit, and every later ``done``
            # closes them. A new or done record has none, so the two updates are skipped.
            unit.close_dead_letter(key).close_review(key)
        if envelope.event_id:
            Store.mark_inbox_processed(unit, envelope.event_id)
        if cursor_unit is not None:
            cursor_unit(unit)
        await self.store.commit(unit)
        return Result(written.outcome, written.target_id)

    async def _commit_skip(
        self, envelope: Envelope[Any], cursor_unit: Callable[[Unit], None] | None
    ) -> None:
        unit = Unit()
        if envelope.event_id:
            Store.mark_inbox_processed(unit, envelope.event_id)
        if cursor_unit is not None:
            cursor_unit(unit)
        if unit.statements:
            await self.store.commit(unit)

    async def _write(
        self,
        stream: Stream[Any, Any],
        command: object,
        entry: LedgerEntry | None,
        ctx: _Context,
        *,
        force_find: bool = False,
    ) -> tuple[Written, bool]:
        # PENDING is only ever set after a write was attempted and an outage stopped it part
        # way (a document saved but not yet released, say): verify first, like in-flight.
        unfinished = entry is not None and entry.state in (
            State.IN_FLIGHT,
            State.IN_DOUBT,
            State.PENDING,
        )
        existing: Found | None = None
        verified = False
        if stream.reference or unfinished or force_find:
            existing = await stream.target.find(command)
            verified = True
        elif entry is not None and entry.target_id and entry.state == State.DONE:
            existing = Found(entry.target_id)
        if existing is not None and existing.matches:
            return Written(Outcome.UNCHANGED, existing.target_id), verified
        return await stream.target.write(command, existing, ctx), verified

    async def _settle(
        self, stream: Stream[Any, Any], command: object, key: RecordKey, run_id: int | None
    ) -> Written | None:
        """Find out whether an in-doubt write landed, by querying the target only."""
        for attempt in range(SETTLE_ATTEMPTS):
            await anyio.sleep(self.settle_delay_s * (attempt + 1))
            try:
                found = await stream.target.find(command)
            except ConnectorError:
                continue
            if found is not None:
                return Written(Outcome.CREATED, found.target_id, {"settled": "found in target"})
        # Still unknown: the record stays in_doubt (non-terminal) and the next cycle verifies
        # it first. Never write again on a guess.
        return None

    async def _to_review(
        self,
        stream: Stream[Any, Any],
        envelope: Envelope[Any],
        key: RecordKey,
        run_id: int | None,
        exc: MappingError,
        payload: bytes,
        source_digest: str,
        cursor_unit: Callable[[Unit], None] | None,
    ) -> Result:
        detail = {"mapping": exc.mapping_kind, "key": exc.mapping_key, "reason": exc.message}
        unit = (
            Unit()
            .ledger(key, State.REVIEW, content_hash=source_digest, error=exc.message)
            .review(key, payload, exc.mapping_kind, exc.mapping_key, exc.message)
            .audit(key, "review", detail, run_id=run_id)
        )
        await self._commit_parked(unit, envelope, cursor_unit)
        log.warning("waiting for review: %s", exc.message, extra=_fields(key, run_id))
        return Result(Outcome.REVIEW, error=exc.message)

    async def _to_dead_letter(
        self,
        envelope: Envelope[Any],
        key: RecordKey,
        run_id: int | None,
        exc: PermanentError | ConflictError,
        payload: bytes,
        source_digest: str,
        cursor_unit: Callable[[Unit], None] | None,
    ) -> Result:
        detail = {"error": str(exc), "kind": exc.kind}
        if isinstance(exc, PermanentError) and exc.field:
            detail["field"] = exc.field
        unit = (
            Unit()
            .ledger(key, State.FAILED, content_hash=source_digest, error=str(exc))
            .dead_letter(key, payload, exc.kind, str(exc))
            .audit(key, "failed", detail, run_id=run_id)
        )
        await self._commit_parked(unit, envelope, cursor_unit)
        log.warning("dead letter (%s): %s", exc.kind, exc, extra=_fields(key, run_id))
        return Result(Outcome.FAILED, error=str(exc))

    async def _commit_parked(
        self, unit: Unit, envelope: Envelope[Any], cursor_unit: Callable[[Unit], None] | None
    ) -> None:
        if envelope.event_id:
            Store.mark_inbox_processed(unit, envelope.event_id)
        if cursor_unit is not None:
            cursor_unit(unit)
        await self.store.commit(unit)

    async def ensure(self, stream_name: str, source_id: str, run_id: int | None) -> str:
        """On-demand reference: make a record of ``stream_name`` exist in the target."""
        stream = self.flow.stream(stream_name)
        key = RecordKey(self.flow.name, stream_name, source_id)
        entry = await self.store.ledger_entry(key)
        if entry is not None and entry.state == State.DONE and entry.target_id:
            return entry.target_id
        record = await stream.fetch(source_id)
        if record is None:
            raise PermanentError(
                f"{stream_name} {source_id} is referenced but does not exist in the source",
                record=f"{stream_name} {source_id}",
            )
        result = await self.process(stream, Envelope(source_id, record), run_id, force=True)
        if result.outcome == Outcome.REVIEW:
            raise MappingError(
                f"referenced {stream_name} {source_id} is waiting in review: {result.error}",
                record=f"{stream_name} {source_id}",
                mapping_kind="reference",
                mapping_key=f"{stream_name}:{source_id}",
            )
        if result.target_id is None:
            raise PermanentError(
                f"referenced {stream_name} {source_id} could not be created: {result.error}",
                record=f"{stream_name} {source_id}",
            )
        return result.target_id


def _digest(payload: bytes) -> str:
    """Hash of the encoded *source* record: parked records wait until it changes."""
    return hashlib.sha256(payload).hexdigest()[:32]


def _source(stream: Stream[Any, Any], envelope: Envelope[Any]) -> tuple[bytes, str]:
    """The source record as stored with a parked record, and its digest.

    Computed only where a record is or becomes parked: most records never need it.
    """
    record = envelope.record
    payload = record.payload if isinstance(record, Unreadable) else stream.encode(record)
    return payload, _digest(payload)


def _fields(key: RecordKey, run_id: int | None) -> dict[str, object]:
    """The context every record-level log line carries."""
    fields: dict[str, object] = {"flow": key.flow, "stream": key.stream, "source_id": key.source_id}
    if run_id is not None:
        fields["run_id"] = run_id
    return fields


def _read_detail(envelope: Envelope[Any]) -> dict[str, str]:
    detail = {}
    if envelope.cursor:
        detail["cursor"] = envelope.cursor
    if envelope.event_id:
        detail["event_id"] = envelope.event_id
    return detail
