"""Flows are declarations: streams in order, each with extract, map and a target.

A pairing module (``connector/flows/<a>_<b>.py``) builds a :class:`Flow` from clients and
config; the runtime (``pipeline.py``) does everything else — ledger, audit, cursors, retries,
dead letters, review. The pieces a stream supplies:

* ``extract(cursor, full)`` — async iterator of :class:`Envelope` (a source record) and
  :class:`CursorMark` (a resume point with no record), in the order the source returned them.
* ``fetch(source_id)`` — one record by id (on-demand references, webhook re-reads), or None.
* ``decode(payload)`` — a stored payload (dead letter, webhook event) back into the record.
* ``map(record, ctx)`` — **pure**: the command for the target, or ``MappingError`` /
  ``SourceDataError``. No I/O; the command must be a msgspec Struct (it is hashed to decide
  "unchanged").
* ``target.find(command)`` — the target contract below; ``target.write(command, existing,
  ctx)`` — create, finish or update, returning :class:`Written`.

The target contract (DESIGN.md, "The exactly-once protocol"). No target here has an
idempotency key, so each names a **natural key** — a value of the document that the target
stores and can be searched by (an Acumatica invoice's ``CustomerOrder``, an M3 AP batch's
supplier invoice number…) — and ``find`` is a **live lookup** in the target by that key. It
never reads our ledger or a cache built earlier, because it is the answer to "is this
already there?" after a crash, a lost reply, a second process or a rebuilt state database.
It answers:

* ``None`` — absent: ``write(command, None, ctx)`` creates it;
* ``Found(id, complete=False)`` — present but unfinished (saved, not yet released or
  validated): ``write(command, found, ctx)`` finishes it and never creates a second one;
* ``Found(id, complete=True)`` — present and finished: an in-doubt write is settled by
  this answer only. ``matches`` says whether the target's copy already equals the command.

The runtime calls ``find`` before **every** write, so a write may be retried only after
``find`` said the document is not there; writes must be correct under that rule and need
not be idempotent themselves (arq's "may run more than once" contract, made safe by the
lookup).

A record already written whose source changed since follows the stream's change policy:
``update`` (reference data: names, addresses, the active flag) writes the change to the
target; ``review`` (posted financial documents) puts the record in review with a field
diff — a person decides on the memo or adjustment. Neither is ever reported "unchanged".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

import msgspec

S = TypeVar("S")  # source record type
C = TypeVar("C")  # command type
S_contra = TypeVar("S_contra", contravariant=True)
C_contra = TypeVar("C_contra", contravariant=True)


class Outcome(StrEnum):
    """What happened to one record in one cycle (the columns of the summary table)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    REVIEW = "review"
    #: A posted document changed at the source: waits in review with a field diff.
    CHANGED = "changed"
    IN_DOUBT = "in_doubt"
    DEFERRED = "deferred"  # a retryable outage stopped it; next cycle tries again


# The pipeline builds several of these per record: as msgspec Structs they are built in C
# (0.07 µs each against 0.41 µs for a frozen dataclass), and compare and hash the same.
class Envelope(msgspec.Struct, Generic[S], frozen=True):
    """One source record on its way through the pipeline."""

    source_id: str
    record: S
    #: Resume point once this record (and all before it) is terminal.
    cursor: str | None = None
    #: Webhook event that delivered it; marked processed in the record's final commit.
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A source record that does not fit the source's model (a field of the wrong type…).

    Extractors (and the inbox) put it in an :class:`Envelope` instead of failing the whole
    read: the processor dead-letters it with ``payload`` (the record's raw JSON) and
    ``reason``, so one bad record never stops a stream.
    """

    payload: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class CursorMark:
    """A resume point with no record (e.g. an export token after an empty page)."""

    cursor: str


#: What a change at the source does to a record already in the target (see module doc).
ChangePolicy = Literal["update", "review"]


@runtime_checkable
class FetchesMany(Protocol):
    """A stream's ``fetch`` that can also read many records in one request (ServiceTitan's
    ``ids=`` filter): a webhook drain re-reads a whole batch of events' records at once
    instead of one request each, which at 60 requests/s would cap a drain at 60 events/s."""

    #: Most ids one call of :meth:`many` takes.
    batch: int

    async def many(self, source_ids: Sequence[str]) -> Mapping[str, Any]:
        """The records of ``source_ids`` the source still has, by source id."""
        ...


class Found(msgspec.Struct, frozen=True):
    """A record that already exists in the target (the answer of a live ``find``)."""

    target_id: str
    #: Whether the target's copy already matches the command (nothing to write).
    matches: bool = False
    #: False when the document is there but unfinished (saved, not released): ``write``
    #: must finish it. Only a complete document settles an in-doubt write.
    complete: bool = True


class Written(msgspec.Struct, frozen=True):
    outcome: Outcome
    target_id: str
    #: Extra facts for the audit trail (batch numbers, voucher…); never secrets.
    detail: Mapping[str, str] = msgspec.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MapContext:
    """What a mapper may read: the mapping tables and the flow's name. Nothing else."""

    flow: str
    mappings: Mapping[str, Mapping[str, str]]

    def lookup(self, kind: str, key: str) -> str | None:
        return self.mappings.get(kind, {}).get(key)


class LoadContext(Protocol):
    """Services the runtime offers a target while it writes one record."""

    async def ensure(self, stream: str, source_id: str) -> str:
        """Make sure a referenced record of ``stream`` is in the target; its target id.

        Runs the full exactly-once path for that record (ledger, audit) if needed. Raises
        the error that record hit (e.g. MappingError), so the document waits with it; a
        reference not finished yet (in doubt, claimed by another writer) raises
        ``DeferredError``, so the document stays pending rather than parked.
        """
        ...

    async def settle(self, stream: str, source_id: str) -> str | None:
        """After a live lookup in the target did not find a referenced record of
        ``stream``: whether that is only our own write of it left unfinished.

        A record the connector began writing and did not finish (pending, in flight, in
        doubt) is taken through the protocol as ``ensure`` does — looked up, written if
        absent — and its target id returned, or ``DeferredError`` raised while it is still
        not finished. None when there is no such write (never read here, done, or parked
        for a person): the lookup's "absent" stands, e.g. a missing mapping for review.
        """
        ...

    def note(self, step: str, detail: Mapping[str, str]) -> None:
        """Add an audit event to the record's final commit (e.g. 'batch_added')."""
        ...


class Target(Protocol[C_contra]):
    async def find(self, command: C_contra) -> Found | None:
        """Live lookup by natural key in the target (see the module docstring)."""
        ...

    async def write(
        self, command: C_contra, existing: Found | None, ctx: LoadContext
    ) -> Written: ...


@dataclass(frozen=True, slots=True)
class TargetDocument:
    """A document as the target holds it, read back by natural key for reconciliation."""

    target_id: str
    amount: Decimal
    #: The source record the document says it came from (its natural key read backwards,
    #: e.g. ``ST-INV-88812`` → ``88812``); set by a listing, where it is the match key.
    source_id: str = ""
    #: The document's date in the target as ``YYYY-MM-DD`` (set by a listing).
    date: str = ""
    #: The document's number as the source side knows it (the key we gave it, a supplier
    #: invoice number…), shown for a document no source document accounts for; the target
    #: id when empty. ``target_id`` is the target's own number (an Acumatica RefNbr…).
    number: str = ""


@dataclass(frozen=True)
class Reconciliation(Generic[C]):
    """How a document stream is reconciled (``ml-connector reconcile``): what a command
    says about its document, and a live read of the target's copy by natural key. Read from
    the command, so every pairing answers in the same terms whatever its source model."""

    #: The document's date as ``YYYY-MM-DD`` (the period filter).
    date: Callable[[C], str]
    amount: Callable[[C], Decimal]
    #: The number a person searches by (a supplier invoice number, a RefNbr…).
    number: Callable[[C], str]
    #: The target's copy by natural key, whatever its amount; None when it is not there.
    read_back: Callable[[C], Awaitable[TargetDocument | None]]
    #: Every document of ours the target holds dated ``start``..``end`` (inclusive), read by
    #: the key prefix we give our documents in pages — one paged read for the period instead
    #: of one look-up per document, and the only way to see a document the target holds
    #: that no source document accounts for. None: the target cannot be listed so; each
    #: document is read back by its key.
    listing: Callable[[dt.date, dt.date], Awaitable[Sequence[TargetDocument]]] | None = None
    #: Whether a command moves a document at all (an empty voucher posts nothing): those
    #: that do not are neither counted nor looked for.
    moves: Callable[[C], bool] = lambda command: True


@dataclass(frozen=True)
class Stream(Generic[S, C]):
    """One entity moving in one direction within a flow."""

    name: str
    extract: Callable[[str | None, bool], AsyncIterator[Envelope[S] | CursorMark]]
    fetch: Callable[[str], Awaitable[S | None]]
    decode: Callable[[bytes], S]
    encode: Callable[[S], bytes]
    map: Callable[[S, MapContext], C]
    target: Target[C]
    #: The ledger key of a record (defaults to its ``id`` attribute).
    source_id: Callable[[S], str] = lambda record: str(record.id)  # type: ignore[attr-defined]
    #: Reference data is always looked up in the target before writing ("auto-link").
    reference: bool = False
    #: Loader workers for this stream (documents to slow ERPs benefit from a few).
    workers: int = 4
    description: str = ""
    #: Called once before each pass of the stream (e.g. to index the target's records).
    prepare: Callable[[], Awaitable[None]] | None = None
    #: What a source change does to a record already written (None: ``update`` for
    #: reference data, ``review`` for documents).
    on_change: ChangePolicy | None = None
    #: Documents whose totals ``reconcile`` compares with the target (None: not reconciled).
    reconcile: Reconciliation[C] | None = None

    @property
    def change_policy(self) -> ChangePolicy:
        if self.on_change is not None:
            return self.on_change
        return "update" if self.reference else "review"


@dataclass(frozen=True)
class Flow:
    """A pairing: its name and its streams in the order a cycle runs them."""

    name: str
    streams: tuple[Stream[Any, Any], ...]
    #: Wraps every run of the flow (a sync cycle, a webhook drain, a replay, a review
    #: resume): what must be opened once per run and closed after it whatever happened —
    #: SYSPRO's e.net logon … logoff, one session per polling cycle. None: nothing to wrap.
    session: Callable[[], AbstractAsyncContextManager[object]] | None = None

    def stream(self, name: str) -> Stream[Any, Any]:
        for stream in self.streams:
            if stream.name == name:
                return stream
        known = ", ".join(s.name for s in self.streams)
        raise KeyError(f"flow {self.name} has no stream {name!r}; its streams are: {known}")


@dataclass(frozen=True)
class BuiltFlow:
    """What a pairing module's ``build`` returns: the flow, and which webhook event types
    (by prefix, e.g. ``"invoice"``) feed which of its streams."""

    flow: Flow
    webhook_streams: Mapping[str, str] = field(default_factory=dict)
