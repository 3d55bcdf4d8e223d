"""A unit of state change: ledger, audit, cursor, dead letter and review rows together.

The loader builds one :class:`Unit` per record step and hands it to ``Store.commit``; the
statements commit in one transaction (DESIGN.md step 3: "record done + target id + audit
event in one transaction", and step 4: the cursor moves in that same transaction).
Building a unit does no I/O.
"""

from __future__ import annotations

import time

import msgspec

from connector.store.grouped import EXPECT_CHANGE, Statement, order_free
from connector.store.records import RecordKey, State

# The record steps of every pipeline commit are order-free (see connector.store.grouped):
# a group commit runs each kind as a few multi-row statements.
_UPSERT_LEDGER = order_free(
    """
INSERT INTO ledger (flow, stream, source_id, state, content_hash, target_id, attempts,
                    run_id, updated_at, last_error, command)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (flow, stream, source_id) DO UPDATE SET
    state = excluded.state,
    content_hash = COALESCE(excluded.content_hash, ledger.content_hash),
    target_id = COALESCE(excluded.target_id, ledger.target_id),
    attempts = ledger.attempts + excluded.attempts,
    run_id = COALESCE(excluded.run_id, ledger.run_id),
    updated_at = excluded.updated_at,
    last_error = excluded.last_error,
    command = COALESCE(excluded.command, ledger.command)
""",
    ledger_key=(0, 3),
)

_CLAIM_NEW = order_free(
    EXPECT_CHANGE
    + """
INSERT INTO ledger (flow, stream, source_id, state, content_hash, attempts, run_id, updated_at,
                    claimed_by, claimed_at)
VALUES (?, ?, ?, 'in_flight', ?, 1, ?, ?, ?, ?)
ON CONFLICT (flow, stream, source_id) DO NOTHING
""",
    ledger_key=(0, 3),
)

_CLAIM_SEEN = order_free(
    EXPECT_CHANGE
    + """
UPDATE ledger SET state = 'in_flight', content_hash = ?, attempts = attempts + 1,
    run_id = COALESCE(?, run_id), updated_at = ?, last_error = NULL, claimed_by = ?,
    claimed_at = ?
WHERE flow = ? AND stream = ? AND source_id = ? AND state = ? AND attempts = ?
""",
    ledger_key=(5, 8),
)

_INSERT_AUDIT = order_free(
    """
INSERT INTO audit (at, run_id, flow, stream, source_id, step, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
"""
)

_UPSERT_CURSOR = order_free(
    """
INSERT INTO cursors (flow, stream, value, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (flow, stream) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
"""
)

_UPSERT_DEAD_LETTER = """
INSERT INTO dead_letters (flow, stream, source_id, payload, error_kind, reason, attempts,
                          status, first_failed_at, last_failed_at, traceback)
VALUES (?, ?, ?, ?, ?, ?, 1, 'open', ?, ?, ?)
ON CONFLICT (flow, stream, source_id) DO UPDATE SET
    payload = excluded.payload, error_kind = excluded.error_kind, reason = excluded.reason,
    attempts = dead_letters.attempts + 1, status = 'open',
    last_failed_at = excluded.last_failed_at, traceback = excluded.traceback
"""

_UPSERT_REVIEW = """
INSERT INTO review (flow, stream, source_id, payload, mapping_kind, mapping_key, reason,
                    status, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)
ON CONFLICT (flow, stream, source_id) DO UPDATE SET
    payload = excluded.payload, mapping_kind = excluded.mapping_kind,
    mapping_key = excluded.mapping_key, reason = excluded.reason, status = 'open',
    resolved_at = NULL
"""

_CLOSE_DEAD_LETTER = """
UPDATE dead_letters SET status = 'replayed', last_failed_at = ?
WHERE flow = ? AND stream = ? AND source_id = ? AND status = 'open'
"""

_CLOSE_REVIEW = """
UPDATE review SET status = 'resolved', resolved_at = ?
WHERE flow = ? AND stream = ? AND source_id = ? AND status = 'open'
"""


class Unit:
    """Statements that must commit together. Methods return ``self`` for chaining."""

    __slots__ = ("statements", "now")

    def __init__(self, now: float | None = None) -> None:
        self.statements: list[Statement] = []
        self.now = time.time() if now is None else now

    def ledger(
        self,
        key: RecordKey,
        state: State,
        *,
        content_hash: str | None = None,
        target_id: str | None = None,
        run_id: int | None = None,
        count_attempt: bool = False,
        error: str | None = None,
        command: bytes | None = None,
    ) -> Unit:
        """Set the record's ledger state (``None`` fields keep their previous value;
        ``command`` is the JSON written, kept for a field diff if the source changes)."""
        self.statements.append(
            (
                _UPSERT_LEDGER,
                (
                    key.flow,
                    key.stream,
                    key.source_id,
                    state._value_,  # ``.value`` is a property, slow per record
                    content_hash,
                    target_id,
                    1 if count_attempt else 0,
                    run_id,
                    self.now,
                    error,
                    command,
                ),
            )
        )
        return self

    def claim(
        self,
        key: RecordKey,
        seen: tuple[State, int] | None,
        *,
        content_hash: str,
        run_id: int | None,
        owner: str | None = None,
    ) -> Unit:
        """Compare-and-set the record to ``in_flight`` for writer ``owner``: only if its
        ledger row is still as read (``seen`` = (state, attempts), or no row at all). Another
        writer that claimed it meanwhile makes this unit fail alone with ``ClaimLostError``;
        nothing is applied."""
        if seen is None:
            params: tuple[object, ...] = (
                key.flow,
                key.stream,
                key.source_id,
                content_hash,
                run_id,
                self.now,
                owner,
                self.now,
            )
            self.statements.append((_CLAIM_NEW, params))
        else:
            state, attempts = seen
            params = (
                content_hash,
                run_id,
                self.now,
                owner,
                self.now,
                key.flow,
                key.stream,
                key.source_id,
                state._value_,
                attempts,
            )
            self.statements.append((_CLAIM_SEEN, params))
        return self

    def audit(
        self, key: RecordKey, step: str, detail: object = None, *, run_id: int | None = None
    ) -> Unit:
        """Append one audit event. ``detail`` is JSON-encoded; callers never put secrets in it."""
        encoded = None if detail is None else msgspec.json.encode(detail).decode()
        self.statements.append(
            (_INSERT_AUDIT, (self.now, run_id, key.flow, key.stream, key.source_id, step, encoded))
        )
        return self

    def cursor(self, flow: str, stream: str, value: str) -> Unit:
        """Move a stream's cursor (only ever to a contiguous watermark: see runtime)."""
        self.statements.append((_UPSERT_CURSOR, (flow, stream, value, self.now)))
        return self

    def dead_letter(
        self,
        key: RecordKey,
        payload: bytes,
        error_kind: str,
        reason: str,
        traceback: str | None = None,
    ) -> Unit:
        self.statements.append(
            (
                _UPSERT_DEAD_LETTER,
                (
                    key.flow,
                    key.stream,
                    key.source_id,
                    payload,
                    error_kind,
                    reason,
                    self.now,
                    self.now,
                    traceback,
                ),
            )
        )
        return self

    def review(
        self, key: RecordKey, payload: bytes, mapping_kind: str, mapping_key: str, reason: str
    ) -> Unit:
        self.statements.append(
            (
                _UPSERT_REVIEW,
                (
                    key.flow,
                    key.stream,
                    key.source_id,
                    payload,
                    mapping_kind,
                    mapping_key,
                    reason,
                    self.now,
                ),
            )
        )
        return self

    def close_dead_letter(self, key: RecordKey) -> Unit:
        """Mark an open dead letter replayed (the record has now landed or been settled)."""
        self.statements.append(
            (_CLOSE_DEAD_LETTER, (self.now, key.flow, key.stream, key.source_id))
        )
        return self

    def close_review(self, key: RecordKey) -> Unit:
        self.statements.append((_CLOSE_REVIEW, (self.now, key.flow, key.stream, key.source_id)))
        return self

    def raw(self, sql: str, params: tuple[object, ...]) -> Unit:
        """Any other statement that must share this unit's transaction (inbox, mappings)."""
        self.statements.append((sql, params))
        return self
