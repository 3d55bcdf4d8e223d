"""The webhook inbox: events stored before they are acknowledged, drained exactly once.

Part of :class:`~connector.store.store.Store` (a mixin over its database), kept apart so
each concern of the state database reads on a screen or two.
"""

from __future__ import annotations

import time

from connector.store.db import EXPECT_CHANGE, ClaimLostError, StateDatabase
from connector.store.records import InboxEvent
from connector.store.tx import Unit


class InboxQueries:
    """Inbox reads and writes; ``db`` is the store's database."""

    db: StateDatabase

    # -- inbox --------------------------------------------------------------------------
    async def put_inbox_event(
        self, event_id: str, flow: str, event_type: str, payload: bytes
    ) -> bool:
        """Store a webhook event before it is acknowledged. False if the flow saw the id.

        One statement in one unit, so the delivery's reply waits for one group commit and
        nothing else (no read first): the insert must change a row, and a duplicate makes
        its unit fail alone. Either answer comes once the batch holding the first copy has
        committed, so "duplicate" is never said of an event not yet durable.
        """
        try:
            await self.db.write(
                [
                    (
                        EXPECT_CHANGE
                        + "INSERT INTO inbox (flow, event_id, event_type, received_at, payload) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (flow, event_id) DO NOTHING",
                        (flow, event_id, event_type, time.time(), payload),
                    )
                ]
            )
        except ClaimLostError:
            return False
        return True

    async def pending_inbox(self, flow: str, limit: int = 500) -> list[InboxEvent]:
        rows = await self.db.fetchall(
            "SELECT event_id, flow, event_type, received_at, payload, processed_at FROM inbox "
            "WHERE flow = ? AND processed_at IS NULL ORDER BY received_at LIMIT ?",
            (flow, limit),
        )
        return [InboxEvent(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def claim_inbox(
        self, flow: str, limit: int, *, lease_s: float, owner: str
    ) -> list[InboxEvent]:
        """Take up to ``limit`` of the flow's unprocessed events for writer ``owner``, oldest
        first, and return them: the drain's bulk claim.

        An event another live writer claimed less than ``lease_s`` ago is left to it; one
        claimed longer ago (its writer died mid-drain) is taken over, as is every event
        when this writer holds the state's lock (no other writer is alive). On PostgreSQL
        the selection skips rows another claim has locked (``FOR UPDATE SKIP LOCKED``), so
        concurrent drains take disjoint events without waiting for each other.
        """
        now = time.time()
        stale_before = now + 1.0 if self.db.exclusive else now - lease_s
        rows = await self.db.write_returning(
            "UPDATE inbox SET claimed_by = ?, claimed_at = ? WHERE (flow, event_id) IN ("
            "SELECT flow, event_id FROM inbox WHERE flow = ? AND processed_at IS NULL "
            "AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?) "
            f"ORDER BY received_at LIMIT ?{self.db.skip_locked}) "
            "RETURNING event_id, flow, event_type, received_at, payload, processed_at",
            (owner, now, flow, owner, stale_before, limit),
        )
        events = [InboxEvent(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
        return sorted(events, key=lambda event: event.received_at)

    async def inbox_outcomes(self, flow: str) -> dict[str, int]:
        """``{outcome: n}`` of the flow's events (``pending`` for those not drained yet)."""
        rows = await self.db.fetchall(
            "SELECT COALESCE(outcome, 'pending'), COUNT(*) FROM inbox WHERE flow = ? GROUP BY 1",
            (flow,),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    @staticmethod
    def mark_inbox_processed(
        unit: Unit, flow: str, event_id: str, outcome: str = "processed"
    ) -> Unit:
        """Add "event done" to a unit (so it commits with the record's ledger state).

        ``outcome`` is ``processed``, or ``ignored`` for an event no stream of the flow takes.
        """
        return unit.raw(
            "UPDATE inbox SET processed_at = ?, outcome = ? WHERE flow = ? AND event_id = ?",
            (unit.now, outcome, flow, event_id),
        )
