"""The ledger: each record's state, the cache of what the targets were last found to hold.

Part of :class:`~connector.store.store.Store` (a mixin over its database), kept apart so
each concern of the state database reads on a screen or two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connector.store.db import StateDatabase
from connector.store.grouped import Guard
from connector.store.records import LedgerEntry, RecordKey, State
from connector.store.tx import Unit

LEDGER_COLS = (
    "flow, stream, source_id, state, content_hash, target_id, attempts, run_id, updated_at, "
    "last_error, claimed_by, claimed_at"
)

#: Ledger entries by source id (``Store.ledger_entries``; keep a query to a few hundred).
LedgerRows = dict[str, LedgerEntry]


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))


_LEDGER_IN = f"SELECT {LEDGER_COLS} FROM ledger WHERE flow = ? AND stream = ? AND source_id IN"


def _ledger_rows_of(flow: str, stream: str, ids: list[str]) -> tuple[str, tuple[str, ...]]:
    return f"{_LEDGER_IN} ({_marks(ids)})", (flow, stream, *ids)


def entry_of(row: Any) -> LedgerEntry:
    return LedgerEntry(
        key=RecordKey(row[0], row[1], row[2]),
        state=State(row[3]),
        content_hash=row[4],
        target_id=row[5],
        attempts=row[6],
        run_id=row[7],
        updated_at=row[8],
        last_error=row[9],
        claimed_by=row[10],
        claimed_at=row[11],
    )


class LedgerQueries:
    """Ledger reads and the batch claim; ``db`` is the store's database."""

    db: StateDatabase

    # -- ledger -------------------------------------------------------------------------
    async def ledger_entry(self, key: RecordKey) -> LedgerEntry | None:
        row = await self.db.fetchone(
            f"SELECT {LEDGER_COLS} FROM ledger WHERE flow = ? AND stream = ? AND source_id = ?",
            (key.flow, key.stream, key.source_id),
        )
        return None if row is None else entry_of(row)

    async def ledger_entries(self, flow: str, stream: str, ids: list[str]) -> LedgerRows:
        """Ledger rows of some records of one stream, one query (unseen ones are absent)."""
        rows = await self.db.fetchall(*_ledger_rows_of(flow, stream, ids)) if ids else []
        return {entry.key.source_id: entry for entry in map(entry_of, rows)}

    async def claim_unseen(
        self, flow: str, stream: str, ids: list[str], claims: dict[str, Unit]
    ) -> LedgerRows:
        """Ledger rows of ``ids`` (as ``ledger_entries``), and in the same commit the unit
        of ``claims`` for every id the ledger has never seen (its claim, a compare-and-set
        on the absent row, and audit events). Raises ``ClaimLostError``, applying nothing,
        when another writer inserted one of those rows first."""
        if not ids:
            return {}
        by_key = {source_id: unit.statements for source_id, unit in claims.items()}
        rows = await self.db.write_unseen(Guard(_LEDGER_IN, (flow, stream), ids, 2, by_key))
        return {entry.key.source_id: entry for entry in map(entry_of, rows)}

    async def ledger_by_state(
        self, flow: str, states: Iterable[State], stream: str | None = None
    ) -> list[LedgerEntry]:
        wanted = [s.value for s in states]
        marks = ",".join("?" * len(wanted))
        sql = f"SELECT {LEDGER_COLS} FROM ledger WHERE flow = ? AND state IN ({marks})"
        params: list[Any] = [flow, *wanted]
        if stream is not None:
            sql += " AND stream = ?"
            params.append(stream)
        return [entry_of(r) for r in await self.db.fetchall(sql + " ORDER BY updated_at", params)]

    async def ledger_counts(self, flow: str | None = None) -> dict[tuple[str, str, str], int]:
        """``{(flow, stream, state): n}`` — what /metrics and `runs` report."""
        sql = "SELECT flow, stream, state, COUNT(*) FROM ledger"
        params: tuple[Any, ...] = ()
        if flow is not None:
            sql += " WHERE flow = ?"
            params = (flow,)
        rows = await self.db.fetchall(sql + " GROUP BY flow, stream, state", params)
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    # -- ledger commands ------------------------------------------------------------------
    async def ledger_command(self, key: RecordKey) -> bytes | None:
        """The command last written for a record (JSON), for a field diff; None if unknown."""
        row = await self.db.fetchone(
            "SELECT command FROM ledger WHERE flow = ? AND stream = ? AND source_id = ?",
            (key.flow, key.stream, key.source_id),
        )
        return None if row is None or row[0] is None else bytes(row[0])
