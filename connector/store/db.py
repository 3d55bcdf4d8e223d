"""The state database: one writer connection on its own thread, with group commit.

Contract:

* Every change is a *unit*: a list of SQL statements that commit together or not at all
  (``await db.write(unit)``). When ``write`` returns, the unit is durable (WAL with
  ``synchronous=FULL``); when it raises :class:`StoreError`, nothing of the unit is applied.
* Units from concurrent callers are batched into one SQLite transaction so one fsync
  serves many records, their record steps run kind by kind as multi-row statements
  (:mod:`connector.store.grouped`). While a batch commits, new units queue; the database
  thread takes them all as soon as it is done. There is no background task to supervise:
  the thread drains its queue and stops when it is empty, and the next unit restarts it.
* A whole batch, ``BEGIN`` to ``COMMIT``, runs in one hop to the database thread, and reads
  queued together share one hop as well: a round trip between threads costs more than most
  statements, and no read can see a transaction half applied. A unit may carry a read
  that decides its statements inside its own transaction (``write_unseen``).
* A unit that violates a constraint fails alone; the rest of its batch still commits.
  A failed COMMIT (disk full, read-only file) fails every unit of the batch, and the caller
  must treat the records as not advanced: cursors are only ever written inside units.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from connector.errors import ConnectorError, clause
from connector.store.grouped import (
    EXPECT_CHANGE,
    ClaimLost,
    Guard,
    Params,
    Statement,
    expand_guards,
    run_grouped,
)
from connector.store.lock import StateLock
from connector.store.schema import connect_sync, migrate

__all__ = ["EXPECT_CHANGE", "Params", "Statement"]

Row = sqlite3.Row

#: How many queued units one transaction takes at most (bounds a commit's latency).
MAX_BATCH = 512


class StoreError(ConnectorError):
    """The state database refused a write (disk full, read-only, corrupt).

    Nothing of the unit was applied. The connector stops the flow rather than advance
    anything it could not record.
    """

    kind = "store"


class ClaimLostError(StoreError):
    """A compare-and-set claim found the record changed by another writer (see Unit.claim).

    Nothing of the unit was applied; whoever claimed the record first finishes it.
    """

    kind = "claim_lost"


class StateDatabase(Protocol):
    """What the store needs of a backend: this module's SQLite :class:`Database`, or
    :class:`~connector.store.pg.PgDatabase`. SQL is written once, in the SQLite dialect with
    ``?`` placeholders, which PostgreSQL also accepts once translated (see ``pg.py``)."""

    commits_total: int
    units_total: int
    #: What a bulk claim's row selection ends with: PostgreSQL's ``FOR UPDATE SKIP
    #: LOCKED`` (concurrent claimants take disjoint rows without waiting); empty on SQLite,
    #: whose write transactions run one at a time anyway.
    skip_locked: str

    @property
    def exclusive(self) -> bool: ...

    @property
    def location(self) -> str: ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Any]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Any | None: ...

    async def write(self, statements: Iterable[Statement]) -> None: ...

    async def write_unseen(self, guard: Guard) -> list[Any]: ...

    async def write_returning(self, sql: str, params: Params = ()) -> list[Any]: ...

    async def integrity(self) -> list[str]: ...

    async def close(self) -> None: ...


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class _Pending:
    statements: list[Statement]
    done: asyncio.Future[None] = field(default_factory=_future)
    guard: Guard | None = None


@dataclass(eq=False)
class _Read:
    sql: str
    params: Params
    done: asyncio.Future[list[Row]] = field(default_factory=_future)
    #: A statement that changes rows and returns them, in a transaction of its own.
    returning: bool = False


class Database:
    """Owner of the single writer connection. Open with :meth:`open`, close with :meth:`close`.

    The connection lives on one dedicated thread for its whole life; every statement runs
    there. That thread drains a queue of its own: each pass takes every read and unit
    queued, answers the reads in one hop and commits the units as one transaction, and
    goes straight on to what was queued meanwhile. It never waits for the event loop to
    hand it the next batch: a loop busy with a long turn (hundreds of records landing)
    used to leave the writer idle for that turn after every commit (issue 18 measured the
    writer busy 40 % of a backfill, the loop 60 %, one waiting for the other).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        executor: ThreadPoolExecutor,
        lock: StateLock | None = None,
    ) -> None:
        self._conn = conn
        self.path = path
        self._executor = executor
        #: The process lock of a writer; None for a reader (see :mod:`connector.store.lock`).
        self._lock = lock
        self._loop = asyncio.get_running_loop()
        #: Reads and units queued for the database thread, and whether it is draining them
        #: (both guarded by ``_mutex``: the loop appends, the thread takes).
        self._mutex = threading.Lock()
        self._reads: list[_Read] = []
        self._writes: list[_Pending] = []
        self._draining = False
        #: Futures of every read and unit not answered yet (loop side), for ``close``.
        self._outstanding: set[asyncio.Future[Any]] = set()
        #: Transactions committed and units in them, for the benchmark and /metrics.
        self.commits_total = 0
        self.units_total = 0
        self.skip_locked = ""

    @classmethod
    async def open(cls, path: Path, *, writer: bool = True, lock: bool = True) -> Database:
        """Open (creating if needed) and migrate the database at ``path``.

        A writer first takes the process lock beside the file and raises
        :class:`~connector.store.lock.StateLockedError` if another process holds it
        (``lock=False``: one of several writers, see ``Store.open``). A reader
        (``writer=False``) takes no lock and its connection refuses every write.
        """
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # owner-only when new
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connector-db")
        loop = asyncio.get_running_loop()
        state_lock: StateLock | None = None
        try:
            if writer and lock:
                state_lock = await loop.run_in_executor(executor, StateLock.acquire, path)
            conn = await loop.run_in_executor(executor, _open_connection, path, writer)
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            if state_lock is not None:
                state_lock.release()
            raise StoreError(
                f"cannot open the state database {path}: {clause(exc)}. Check that the directory "
                "exists, is writable by this user, and that the disk is not full."
            ) from exc
        except BaseException:
            executor.shutdown(wait=False)
            if state_lock is not None:
                state_lock.release()
            raise
        return cls(conn, path, executor, state_lock)

    @property
    def exclusive(self) -> bool:
        """Whether this writer holds the process lock (no other writer is alive)."""
        return self._lock is not None

    @property
    def location(self) -> str:
        """Where this state lives, as messages name it."""
        return str(self.path)

    async def integrity(self) -> list[str]:
        """SQLite's own page check: ``["ok"]``, or what it found damaged."""
        return [str(r[0]) for r in await self.fetchall("PRAGMA integrity_check")]

    async def close(self) -> None:
        """Finish every queued read and unit, then close the connection and its thread."""
        await asyncio.gather(*self._outstanding, return_exceptions=True)
        await self._loop.run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=False)
        if self._lock is not None:
            self._lock.release()

    # -- reads --------------------------------------------------------------------------
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        read = _Read(sql, params)
        self._submit(read)
        return await read.done

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    # -- writes -------------------------------------------------------------------------
    async def write(self, statements: Iterable[Statement]) -> None:
        """Apply ``statements`` atomically and durably (see the module docstring)."""
        pending = _Pending(list(statements))
        if not pending.statements:
            return
        self._submit(pending)
        # A caller cancelled here cancels only its wait: the unit still commits with its
        # batch (which skips reporting to a cancelled future).
        await pending.done

    async def write_unseen(self, guard: Guard) -> list[Row]:
        """Run the guard's read and, in the same transaction, the statements of every key
        its rows do not hold; returns the rows (see :class:`Guard`).

        This is how a batch claims records never seen before without a read of its own
        first: one trip to the database thread instead of two, in one group commit.
        Raises :class:`StoreError` (``ClaimLostError``) as ``write`` does, applying nothing.
        """
        pending = _Pending([], guard=guard)
        self._submit(pending)
        await pending.done
        return guard.rows

    async def write_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """One statement that changes rows and returns them (``… RETURNING``), in a
        transaction of its own, committed when this returns (a bulk claim).

        It goes through the thread's queue like everything else: a job of its own would
        wait until the queue ran dry, which a busy backfill may not let happen for long."""
        read = _Read(sql, params, returning=True)
        self._submit(read)
        return await read.done

    # -- the queue ----------------------------------------------------------------------
    def _submit(self, item: _Read | _Pending) -> None:
        self._outstanding.add(item.done)
        with self._mutex:
            if isinstance(item, _Read):
                self._reads.append(item)
            else:
                self._writes.append(item)
            if self._draining:
                return  # the thread takes it on its next pass
            self._draining = True
        self._executor.submit(self._drain)

    def _drain(self) -> None:
        """On the database thread: answer and commit whatever is queued until nothing is.

        Every failure is handed to the futures it belongs to; only a closed event loop
        (the process is ending, nobody waits) stops it early."""
        try:
            self._drain_queue()
        except RuntimeError:  # call_soon_threadsafe on a closed loop
            with self._mutex:
                self._draining = False

    def _drain_queue(self) -> None:
        while True:
            with self._mutex:
                reads, self._reads = self._reads, []
                writes, self._writes = self._writes[:MAX_BATCH], self._writes[MAX_BATCH:]
                if not reads and not writes:
                    self._draining = False
                    return
            if reads:
                answers = _answer(self._conn, reads)
                self._loop.call_soon_threadsafe(self._reads_done, reads, answers)
            if writes:
                committed, outcomes = _commit(self._conn, writes)
                self._loop.call_soon_threadsafe(self._batch_done, writes, committed, outcomes)

    def _reads_done(self, reads: list[_Read], results: list[list[Row] | StoreError]) -> None:
        for read, result in zip(reads, results, strict=True):
            self._outstanding.discard(read.done)
            if read.done.done():
                continue  # the reader was cancelled; nobody wants the rows
            if isinstance(result, StoreError):
                read.done.set_exception(result)
            else:
                read.done.set_result(result)

    def _batch_done(
        self, batch: list[_Pending], committed: bool, outcomes: list[StoreError | None]
    ) -> None:
        if committed:
            self.commits_total += 1
            self.units_total += len(batch)
        for unit, outcome in zip(batch, outcomes, strict=True):
            self._outstanding.discard(unit.done)
            if unit.done.done():
                continue
            if outcome is None:
                unit.done.set_result(None)
            else:
                unit.done.set_exception(outcome)


# -- on the database thread ------------------------------------------------------------
def _open_connection(path: Path, writer: bool) -> sqlite3.Connection:
    # Migrations run on a short-lived connection first, so the schema is current before the
    # writer connection exists. (A reader migrates too, as the vault does: a database that is
    # already current is only read.)
    migrating = connect_sync(str(path))
    try:
        migrate(migrating)
    finally:
        migrating.close()
    # Room for every multi-row size of every grouped kind (see grouped.STEP) beside the
    # store's other statements, so none is prepared twice.
    conn = sqlite3.connect(
        str(path), isolation_level=None, timeout=30, check_same_thread=False,
        cached_statements=512,
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    if not writer:
        # A reader runs beside the process that holds the lock: it must never write.
        conn.execute("PRAGMA query_only=ON")
    conn.row_factory = sqlite3.Row
    return conn


def _fetch_many(
    conn: sqlite3.Connection, queries: list[tuple[str, Params]]
) -> list[list[Row] | StoreError]:
    results: list[list[Row] | StoreError] = []
    for sql, params in queries:
        try:
            results.append(conn.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            results.append(StoreError(f"reading the state database failed: {exc}"))
    return results


def _answer(conn: sqlite3.Connection, reads: list[_Read]) -> list[list[Row] | StoreError]:
    """Rows or an error for each of ``reads``, the plain ones in one hop."""
    try:
        plain = iter(_fetch_many(conn, [(r.sql, r.params) for r in reads if not r.returning]))
        answers: list[list[Row] | StoreError] = []
        for read in reads:
            if not read.returning:
                answers.append(next(plain))
                continue
            try:
                answers.append(_returning(conn, read.sql, read.params))
            except StoreError as exc:
                answers.append(exc)
        return answers
    except BaseException as exc:  # noqa: BLE001 - handed to every reader, never lost
        return [StoreError(f"reading the state database failed: {exc}")] * len(reads)


def _returning(conn: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = conn.execute(sql, params).fetchall()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise StoreError(f"the state database could not record a claim: {exc}") from exc
    return rows


def _commit(
    conn: sqlite3.Connection, batch: list[_Pending]
) -> tuple[bool, list[StoreError | None]]:
    """Commit ``batch``: whether its transaction committed, and each unit's outcome."""
    guards = {i: p.guard for i, p in enumerate(batch) if p.guard is not None}
    try:
        outcomes = _commit_batch(conn, [p.statements for p in batch], guards)
    except StoreError as error:
        # One exception object per writer: a shared one would collect every awaiting
        # task's traceback, and its report would point at the wrong caller.
        return False, [_copy(error) for _ in batch]
    except BaseException as exc:  # noqa: BLE001 - handed to every writer, never lost
        failed = StoreError(f"the state database could not commit: {exc}")
        failed.__cause__ = exc
        return False, [_copy(failed) for _ in batch]
    return True, outcomes


def _commit_batch(
    conn: sqlite3.Connection, units: list[list[Statement]], guards: dict[int, Guard] | None = None
) -> list[StoreError | None]:
    """One transaction for every unit; raises StoreError when the batch as a whole failed.

    The batch first runs without a SAVEPOINT per unit, which halves the statements of a
    typical batch, and kind by kind when it can (:mod:`connector.store.grouped`). Only if
    a unit breaks a constraint is the transaction rolled back and run again unit by unit,
    in order, so that unit fails alone as the contract says.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if guards:
                # Read before anything of this batch is applied, as each would have alone.
                units = expand_guards(conn, units, guards)
            if not run_grouped(conn, units):
                for statements in units:
                    for sql, params in statements:
                        _execute(conn, sql, params)
            outcomes: list[StoreError | None] = [None] * len(units)
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK")
            conn.execute("BEGIN IMMEDIATE")
            outcomes = [_apply_unit(conn, statements) for statements in units]
        conn.execute("COMMIT")
    except (sqlite3.Error, OSError) as exc:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the transaction may already be gone; the commit error is what matters
        raise StoreError(
            f"the state database could not commit ({exc}); nothing of this batch was "
            "recorded. Check free disk space and that the database file is writable."
        ) from exc
    return outcomes


def _execute(conn: sqlite3.Connection, sql: str, params: Params) -> None:
    cursor = conn.execute(sql, params)
    if cursor.rowcount == 0 and sql.startswith(EXPECT_CHANGE):
        # The record's ledger row is not as the claimant read it: another writer got there.
        raise ClaimLost("the record")


def _copy(error: StoreError) -> StoreError:
    copy = StoreError(error.message)
    copy.__cause__ = error.__cause__
    return copy


def _apply_unit(conn: sqlite3.Connection, statements: list[Statement]) -> StoreError | None:
    conn.execute("SAVEPOINT unit")
    try:
        for sql, params in statements:
            _execute(conn, sql, params)
    except ClaimLost as exc:
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        return ClaimLostError(
            f"another writer claimed {exc} first; it finishes it, this one leaves it alone"
        )
    except sqlite3.IntegrityError as exc:
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        return StoreError(f"a state update was refused by a constraint: {exc}")
    conn.execute("RELEASE unit")
    return None
