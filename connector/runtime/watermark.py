"""The contiguous watermark behind every stream cursor (DESIGN.md, protocol step 4).

Records are numbered in the order the extractor emitted them. Some carry a cursor value
("after this record, resuming from here loses nothing"). Records finish in any order, since
several loader workers run at once; the cursor may only move to the value of the highest
sequence number below which *every* record is terminal. A record still in flight holds the
cursor back, so a crash can never skip it.
"""

from __future__ import annotations

import heapq


class Watermark:
    """Tracks completion of sequence numbers 0, 1, 2 … and the cursor they allow."""

    def __init__(self) -> None:
        self._next_seq = 0
        #: Lowest sequence number not yet complete; everything below it is complete.
        self._low = 0
        self._done_above: list[int] = []
        self._cursors: dict[int, str] = {}
        self._cursor: str | None = None

    def issue(self, cursor: str | None = None) -> int:
        """Number the next emitted record; ``cursor`` is the resume point after it."""
        seq = self._next_seq
        self._next_seq += 1
        if cursor is not None:
            self._cursors[seq] = cursor
        return seq

    def complete(self, seq: int) -> str | None:
        """Mark ``seq`` terminal. Returns the new cursor if it advanced, else None."""
        if seq < self._low or seq >= self._next_seq:
            raise ValueError(f"sequence {seq} is not outstanding")
        advanced: str | None = None
        if seq == self._low:  # the oldest outstanding one (most of the time): no heap push
            advanced = self._cursors.pop(seq, None)
            self._low += 1
        else:
            heapq.heappush(self._done_above, seq)
        while self._done_above and self._done_above[0] == self._low:
            heapq.heappop(self._done_above)
            cursor = self._cursors.pop(self._low, None)
            if cursor is not None:
                advanced = cursor
            self._low += 1
        if advanced is not None:
            self._cursor = advanced
        return advanced

    @property
    def cursor(self) -> str | None:
        """The furthest cursor every record before it has earned (None: not moved yet)."""
        return self._cursor

    @property
    def outstanding(self) -> int:
        """Issued records that are not yet complete."""
        return self._next_seq - self._low - len(self._done_above)
