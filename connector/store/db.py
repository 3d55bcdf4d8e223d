"""The state database: one aiosqlite writer connection with group commit.

Contract:

* Every change is a *unit*: a list of SQL statements that commit together or not at all
  (``await db.write(unit)``). When ``write`` returns, the unit is durable (WAL with
  ``synchronous=FULL``); when it raises :class:`StoreError`, nothing of the unit is applied.
* Units from concurrent callers are batched into one SQLite transaction (each unit inside
  its own SAVEPOINT) so one fsync serves many records. The first caller to find no commit
  in progress becomes the leader and commits everything queued; the others just wait for
  their result. There is no background task to supervise.
* A unit that violates a constraint fails alone; the rest of its batch still commits.
  A failed COMMIT (disk full, read-only file) fails every unit of the batch, and the caller
  must treat the records as not advanced: cursors are only ever written inside units.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from connector.errors import ConnectorError
from connector.store.schema import connect_sync, migrate

Params = Sequence[Any]
Statement = tuple[str, Params]

#: How many queued units one transaction takes at most (bounds a commit's latency).
MAX_BATCH = 512


class StoreError(ConnectorError):
    """The state database refused a write (disk full, read-only, corrupt).

    Nothing of the unit was applied. The connector stops the flow rather than advance
    anything it could not record.
    """

    kind = "store"


@dataclass
class _Pending:
    statements: list[Statement]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Database:
    """Owner of the single writer connection. Open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._queue: list[_Pending] = []
        self._committing = False
        #: Transactions committed and units in them, for the benchmark and /metrics.
        self.commits_total = 0
        self.units_total = 0

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) and migrate the database at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Migrations run on a short-lived synchronous connection first, so the schema is
            # current before the writer connection exists (and no private aiosqlite API).
            await asyncio.to_thread(_migrate_file, path)
            conn = await aiosqlite.connect(str(path), isolation_level=None, timeout=30)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open the state database {path}: {exc}. Check that the directory "
                "exists, is writable by this user, and that the disk is not full."
            ) from exc
        conn.row_factory = aiosqlite.Row
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    # -- reads --------------------------------------------------------------------------
    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        try:
            async with self._conn.execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"reading the state database failed: {exc}") from exc

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    # -- writes -------------------------------------------------------------------------
    async def write(self, statements: Iterable[Statement]) -> None:
        """Apply ``statements`` atomically and durably (see the module docstring)."""
        pending = _Pending(list(statements))
        if not pending.statements:
            return
        self._queue.append(pending)
        if not self._committing:
            await self._lead()
        await asyncio.shield(pending.done)

    async def _lead(self) -> None:
        self._committing = True
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._commit_batch(batch)
        finally:
            self._committing = False

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        conn = self._conn
        outcomes: list[BaseException | None] = []
        try:
            await conn.execute("BEGIN IMMEDIATE")
            for unit in batch:
                outcomes.append(await self._apply_unit(unit))
            await conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            try:
                await conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the transaction may already be gone; the commit error is what matters
            error = StoreError(
                f"the state database could not commit ({exc}); nothing of this batch was "
                "recorded. Check free disk space and that the database file is writable."
            )
            for unit in batch:
                if not unit.done.done():
                    unit.done.set_exception(error)
            return
        self.commits_total += 1
        self.units_total += len(batch)
        for unit, outcome in zip(batch, outcomes, strict=True):
            if unit.done.done():
                continue
            if outcome is None:
                unit.done.set_result(None)
            else:
                unit.done.set_exception(outcome)

    async def _apply_unit(self, unit: _Pending) -> BaseException | None:
        conn = self._conn
        await conn.execute("SAVEPOINT unit")
        try:
            for sql, params in unit.statements:
                await conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            await conn.execute("ROLLBACK TO unit")
            await conn.execute("RELEASE unit")
            return StoreError(f"a state update was refused by a constraint: {exc}")
        await conn.execute("RELEASE unit")
        return None


def _migrate_file(path: Path) -> None:
    conn = connect_sync(str(path))
    try:
        migrate(conn)
    finally:
        conn.close()
