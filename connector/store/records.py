"""Plain typed rows of the state database (what the store's readers return)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import msgspec


class State(StrEnum):
    """Ledger states (DESIGN.md, exactly-once protocol step 2)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    IN_DOUBT = "in_doubt"
    DONE = "done"
    FAILED = "failed"
    REVIEW = "review"

    @property
    def terminal(self) -> bool:
        """Terminal states let the stream's cursor move past the record."""
        return self in (State.DONE, State.FAILED, State.REVIEW)


# The pipeline builds several of these per record: as msgspec Structs they are built in C
# (0.07 µs each against 0.41 µs for a frozen dataclass), and compare and hash the same.
class RecordKey(msgspec.Struct, frozen=True, order=True):
    """The identity of one source record within a flow: ``(flow, stream, source_id)``.

    Keys order by those three fields (``KeyLocks.hold_many`` takes them in that order)."""

    flow: str
    stream: str
    source_id: str

    def __str__(self) -> str:
        return f"{self.flow}/{self.stream}/{self.source_id}"


class LedgerEntry(msgspec.Struct, frozen=True):
    key: RecordKey
    state: State
    content_hash: str | None
    target_id: str | None
    attempts: int
    run_id: int | None
    updated_at: float
    last_error: str | None
    #: The writer (a Store's ``writer_id``) that last claimed the record, and when.
    claimed_by: str | None = None
    claimed_at: float | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: float
    run_id: int | None
    key: RecordKey
    step: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    flow: str
    trigger: str
    status: str
    started_at: float
    finished_at: float | None
    counts: dict[str, dict[str, int]]
    error: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    key: RecordKey
    payload: bytes
    error_kind: str
    reason: str
    attempts: int
    status: str
    first_failed_at: float
    last_failed_at: float


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: int
    key: RecordKey
    payload: bytes
    mapping_kind: str
    mapping_key: str
    reason: str
    status: str
    created_at: float
    resolved_at: float | None


@dataclass(frozen=True, slots=True)
class InboxEvent:
    event_id: str
    flow: str
    event_type: str
    received_at: float
    payload: bytes
    processed_at: float | None


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One stored mapping: ``kind`` / ``key`` → ``value``, and where it came from
    (``"config"``: the config file, replaced on every load; ``"cli"``: `review resolve`)."""

    kind: str
    key: str
    value: str
    origin: str
    updated_at: float


@dataclass(frozen=True, slots=True)
class MappingOverride:
    """A key the config declares that `review resolve` had stored with another value."""

    kind: str
    key: str
    config_value: str
    cli_value: str
