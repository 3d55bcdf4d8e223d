"""The store: typed reads of every table, and ``commit(unit)`` for every write.

Writers build a :class:`~connector.store.tx.Unit` and call :meth:`Store.commit`; the
helpers here (``start_run``, ``put_inbox_event``, ``set_mapping``…) are units too, so the
single-writer, group-commit contract of :mod:`connector.store.db` holds for everything.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from connector.store.db import Database, StateDatabase
from connector.store.inbox import InboxQueries
from connector.store.ledger import LEDGER_COLS, LedgerQueries, entry_of
from connector.store.mappings import MappingQueries
from connector.store.records import (
    AuditEvent,
    DeadLetter,
    LedgerEntry,
    RecordKey,
    ReviewItem,
    RunRow,
)
from connector.store.tx import Unit


class Store(LedgerQueries, InboxQueries, MappingQueries):
    """All persistent state of one ml-connector installation (the ledger, the inbox and the
    mapping tables are in :mod:`~connector.store.ledger`, :mod:`~connector.store.inbox` and
    :mod:`~connector.store.mappings`)."""

    def __init__(self, db: StateDatabase) -> None:
        self.db = db
        #: Names this writer in the ledger claims it makes (see ``Unit.claim``).
        self.writer_id = uuid.uuid4().hex[:16]

    @classmethod
    async def open(cls, path: Path, *, writer: bool = True, lock: bool = True) -> Store:
        """The SQLite state at ``path`` (``open_store`` picks the backend from a URL).

        A writer holds the process lock until :meth:`close`; a reader only reads.

        ``lock=False`` opens a writer without the process lock: one of several writers on
        one state (as nodes sharing a PostgreSQL store would be); the ledger's claims and
        their leases then keep each record to one writer.
        """
        return cls(await Database.open(path, writer=writer, lock=lock))

    @property
    def exclusive(self) -> bool:
        """Whether this is the only writer (it holds the process lock): a record another
        writer left in flight was left by a process that has died."""
        return self.db.exclusive

    async def close(self) -> None:
        await self.db.close()

    async def commit(self, unit: Unit) -> None:
        """Apply a unit atomically and durably (raises StoreError, applying nothing)."""
        await self.db.write(unit.statements)

    # -- audit --------------------------------------------------------------------------
    async def audit_history(self, flow: str, source_id: str) -> list[AuditEvent]:
        rows = await self.db.fetchall(
            "SELECT id, at, run_id, flow, stream, source_id, step, detail FROM audit "
            "WHERE flow = ? AND source_id = ? ORDER BY id",
            (flow, source_id),
        )
        return [AuditEvent(r[0], r[1], r[2], RecordKey(r[3], r[4], r[5]), r[6], r[7]) for r in rows]

    async def find_records(self, text: str, limit: int = 50) -> list[LedgerEntry]:
        """Records whose source id or target id (a document number such as an M3 INBN or
        an Acumatica RefNbr) is ``text``, or whose audit trail names it (an M3 voucher
        number noted when the batch posted)."""
        rows = await self.db.fetchall(
            f"SELECT {LEDGER_COLS} FROM ledger WHERE source_id = ? OR target_id = ? "
            "OR (flow, stream, source_id) IN (SELECT flow, stream, source_id FROM audit "
            "WHERE detail LIKE ? ESCAPE '\\') ORDER BY updated_at DESC LIMIT ?",
            (text, text, '%"' + _like(text) + '"%', limit),
        )
        return [entry_of(r) for r in rows]

    # -- cursors ------------------------------------------------------------------------
    async def cursor(self, flow: str, stream: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT value FROM cursors WHERE flow = ? AND stream = ?", (flow, stream)
        )
        return None if row is None else str(row[0])

    # -- runs ---------------------------------------------------------------------------
    async def start_run(self, flow: str, trigger: str) -> int:
        now = time.time()
        await self.db.write(
            [
                (
                    "INSERT INTO runs (flow, trigger, status, started_at) "
                    "VALUES (?, ?, 'running', ?)",
                    (flow, trigger, now),
                )
            ]
        )
        row = await self.db.fetchone(
            "SELECT id FROM runs WHERE flow = ? AND started_at = ? ORDER BY id DESC LIMIT 1",
            (flow, now),
        )
        if row is None:  # pragma: no cover - the insert above committed or raised
            raise RuntimeError(f"run of flow {flow!r} vanished right after it was recorded")
        return int(row[0])

    async def finish_run(
        self,
        run_id: int,
        status: str,
        counts: dict[str, dict[str, int]],
        error: str | None = None,
    ) -> None:
        await self.db.write(
            [
                (
                    "UPDATE runs SET status = ?, finished_at = ?, counts = ?, error = ? "
                    "WHERE id = ?",
                    (status, time.time(), msgspec.json.encode(counts).decode(), error, run_id),
                )
            ]
        )

    async def runs(self, *, flow: str | None = None, limit: int = 50) -> list[RunRow]:
        sql = "SELECT id, flow, trigger, status, started_at, finished_at, counts, error FROM runs"
        params: list[Any] = []
        if flow is not None:
            sql += " WHERE flow = ?"
            params.append(flow)
        rows = await self.db.fetchall(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [
            RunRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                msgspec.json.decode(r[6], type=dict[str, dict[str, int]]),
                r[7],
            )
            for r in rows
        ]

    async def interrupt_running(self) -> int:
        """Mark runs left 'running' by a crashed process as interrupted; returns how many."""
        rows = await self.db.fetchall("SELECT COUNT(*) FROM runs WHERE status = 'running'")
        await self.db.write(
            [("UPDATE runs SET status = 'interrupted' WHERE status = 'running'", ())]
        )
        return int(rows[0][0])

    # -- dead letters and review ---------------------------------------------------------
    async def dead_letter_counts(self) -> dict[str, int]:
        """Open dead letters per flow (what /metrics reports), without loading payloads."""
        rows = await self.db.fetchall(
            "SELECT flow, COUNT(*) FROM dead_letters WHERE status = 'open' GROUP BY flow"
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def review_counts(self) -> dict[str, int]:
        """Open review items per flow, without loading payloads."""
        rows = await self.db.fetchall(
            "SELECT flow, COUNT(*) FROM review WHERE status = 'open' GROUP BY flow"
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def dead_letters(
        self,
        *,
        flow: str | None = None,
        stream: str | None = None,
        source_ids: Iterable[str] | None = None,
        status: str = "open",
    ) -> list[DeadLetter]:
        sql = (
            "SELECT id, flow, stream, source_id, payload, error_kind, reason, attempts, status, "
            "first_failed_at, last_failed_at FROM dead_letters WHERE status = ?"
        )
        params: list[Any] = [status]
        sql, params = _filters(sql, params, flow, stream, source_ids)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [
            DeadLetter(r[0], RecordKey(r[1], r[2], r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10])
            for r in rows
        ]

    async def review_items(
        self,
        *,
        flow: str | None = None,
        stream: str | None = None,
        source_ids: Iterable[str] | None = None,
        status: str = "open",
    ) -> list[ReviewItem]:
        sql = (
            "SELECT id, flow, stream, source_id, payload, mapping_kind, mapping_key, reason, "
            "status, created_at, resolved_at FROM review WHERE status = ?"
        )
        params: list[Any] = [status]
        sql, params = _filters(sql, params, flow, stream, source_ids)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [
            ReviewItem(r[0], RecordKey(r[1], r[2], r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10])
            for r in rows
        ]

    async def dismiss_dead_letters(
        self, letters: Iterable[DeadLetter], reason: str, *, by: str
    ) -> int:
        """Close open dead letters as dismissed (nobody will retry them), with the reason in
        each record's audit trail; returns how many were still open. A record that fails
        again later opens a new dead letter as usual."""
        unit = Unit()
        count = 0
        for letter in letters:
            count += 1
            unit.raw(
                "UPDATE dead_letters SET status = 'dismissed' "
                "WHERE flow = ? AND stream = ? AND source_id = ? AND status = 'open'",
                (letter.key.flow, letter.key.stream, letter.key.source_id),
            )
            unit.audit(
                letter.key,
                "dismissed",
                {"reason": reason, "by": by, "error": letter.reason},
            )
        await self.commit(unit)
        return count


def _like(text: str) -> str:
    """``text`` for a LIKE pattern, its wildcards escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(
    sql: str,
    params: list[Any],
    flow: str | None,
    stream: str | None,
    source_ids: Iterable[str] | None,
) -> tuple[str, list[Any]]:
    if flow is not None:
        sql += " AND flow = ?"
        params.append(flow)
    if stream is not None:
        sql += " AND stream = ?"
        params.append(stream)
    if source_ids is not None:
        ids = list(source_ids)
        sql += f" AND source_id IN ({','.join('?' * len(ids))})"
        params.extend(ids)
    return sql, params
