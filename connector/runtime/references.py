"""What a document's write may ask of the runtime: the :class:`LoadContext` of one record.

A document cites reference data (a supplier, an account…) that its own stream writes. Two
questions, one answer each, whatever the pairing:

* ``ensure`` — "make it be there": the referenced record runs through the whole protocol on
  demand (created if it was never read);
* ``settle`` — "my live lookup did not find it: is that our unfinished write?": only a
  record the connector began writing and has not finished (pending, in flight, in doubt) is
  taken through the protocol; one never started, or parked for a person, stays absent.

Either way a reference that is *not finished yet* never parks the document: in doubt again,
or claimed by another writer, the document is deferred (``DeferredError``: it stays pending
and the next cycle takes it again, after the reference's own stream has looked it up). A
reference whose stream hit an outage stops the document's stream as the outage would have,
the document put back to pending. Only a reference that is parked itself (review, dead
letter) or missing from the source parks the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connector.errors import ConnectorError, DeferredError, MappingError, PermanentError
from connector.runtime.flow import Envelope, Outcome
from connector.runtime.parking import StreamHalted
from connector.store import RecordKey, State

if TYPE_CHECKING:
    from connector.runtime.processor import RecordProcessor

#: Ledger states of a record whose write was begun and not finished: its absence from the
#: target is not an answer yet.
UNFINISHED = (State.PENDING, State.IN_FLIGHT, State.IN_DOUBT)


@dataclass
class ReferenceContext:
    """The LoadContext handed to a target for one record."""

    processor: RecordProcessor
    run_id: int | None
    notes: list[tuple[str, Mapping[str, str]]] = field(default_factory=list)

    def note(self, step: str, detail: Mapping[str, str]) -> None:
        self.notes.append((step, dict(detail)))

    async def ensure(self, stream_name: str, source_id: str) -> str:
        """On-demand reference: make a record of ``stream_name`` exist in the target."""
        processor = self.processor
        key = RecordKey(processor.flow.name, stream_name, source_id)
        entry = await processor.store.ledger_entry(key)
        if entry is not None and entry.state == State.DONE and entry.target_id:
            return entry.target_id
        stream = processor.flow.stream(stream_name)
        record = await stream.fetch(source_id)
        if record is None:
            raise PermanentError(
                f"{stream_name} {source_id} is referenced but does not exist in the source",
                record=f"{stream_name} {source_id}",
            )
        try:
            result = await processor.process(
                stream, Envelope(source_id, record), self.run_id, force=True
            )
        except StreamHalted as halted:
            # The reference's own outage (or auth, configuration…): the document's write
            # fails with that cause, so the document goes back to pending and its stream
            # stops, instead of being dead-lettered as if the halt were a bug of its own.
            cause = halted.cause
            if isinstance(cause, ConnectorError):
                raise cause from cause.__cause__  # re-raised as it was, its own chain kept
            raise
        if result.outcome in (Outcome.IN_DOUBT, Outcome.DEFERRED):
            raise DeferredError(
                f"referenced {stream_name} {source_id} is not finished yet ({result.error}); "
                "this record waits for it and is taken again next cycle",
                record=f"{stream_name} {source_id}",
            )
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

    async def settle(self, stream_name: str, source_id: str) -> str | None:
        """A reference the target's live lookup did not find: finish it if its write is ours
        and unfinished (its target id), else None (the absence is the answer)."""
        key = RecordKey(self.processor.flow.name, stream_name, source_id)
        entry = await self.processor.store.ledger_entry(key)
        if entry is None or entry.state not in UNFINISHED:
            return None
        return await self.ensure(stream_name, source_id)
