"""The state database on PostgreSQL: the same contract as :mod:`connector.store.db`.

* ``await db.write(unit)`` applies a unit atomically; units from concurrent callers share
  one transaction (group commit), sent as one pipeline whose Sync commits it, so one round
  trip and one WAL flush serve many records. A unit that breaks a constraint, or whose
  compare-and-set claim finds the row changed, fails alone: the batch is rolled back and
  each of its units run again in a transaction of its own. A failed commit fails every
  unit of the batch.
* The SQL is the store's own (SQLite dialect, ``?`` placeholders), which PostgreSQL also
  speaks once ``?`` become ``$n``: one set of queries for both backends.
* A claim (a statement marked ``EXPECT_CHANGE``) is wrapped to divide by the number of
  rows it changed: a claim that lost the race fails on the server, aborting the batch
  before its commit, and its unit fails with :class:`ClaimLostError`.
* Reads go through a small connection pool, concurrently; writes through one connection,
  one batch at a time, so units commit in the order they were queued.
* A writer with ``lock=True`` holds a session advisory lock keyed by its schema for its
  whole life, on a connection of its own: the PostgreSQL twin of the SQLite flock (a second
  such writer is refused naming the holder; the server drops the lock when the holder's
  connection dies). ``lock=False`` is one of several writers (nodes): claims and their
  leases keep each record to one of them.
* Unlike a flock, that lock can be lost while the writer lives (a server restart, a killed
  session). So every write transaction first asks the server whether the lock is still
  held, in the same pipeline (no extra round trip); when it is not, the writer takes it
  again before writing, and if another process holds it by then, the write and every one
  after it fail with :class:`LockLostError`: never a write as if alone beside another.
* Every state lives in a schema (``public`` by default; one per tenant when many tenants
  share a database); every connection's ``search_path`` is that schema alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import AsyncConnection, AsyncRawCursor
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from connector.errors import clause
from connector.store import pg_wire
from connector.store.db import EXPECT_CHANGE, MAX_BATCH, ClaimLostError, Statement, StoreError
from connector.store.grouped import Guard
from connector.store.lock import StateLockedError, busy_message
from connector.store.pg_schema import LOCK_NAMESPACE, check_schema_name, lock_key, migrate

Params = Any
log = logging.getLogger("connector.store")
#: A holder killed a moment ago keeps its lock until its backend has exited (the kernel
#: frees a flock at once; PostgreSQL needs a few milliseconds): a busy lock is asked again
#: for about a second before the opener is refused.
LOCK_ATTEMPTS = 10
LOCK_RETRY_S = 0.1
#: How long opening waits for the server before it reports it unreachable.
CONNECT_TIMEOUT_S = 10.0
#: How our connections name themselves (application_name): the lock's holder is read back
#: from it, so a refused writer can name the pid holding the state.
APP_PREFIX = "ml-connector: pid "


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=1024)
def dollar_params(query: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2…`` (none inside string literals)."""
    out: list[str] = []
    quoted = False
    number = 0
    for char in query:
        if char == "'":
            quoted = not quoted
        elif char == "?" and not quoted:
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out)


class _ClaimLost(Exception):
    """A claim returned no row: its record's ledger row changed since it was read."""


class _LockGone(Exception):
    """The server holds the state's advisory lock for this writer no more."""


class LockLostError(StoreError):
    """This writer lost the state's advisory lock and another process holds it now: it
    writes nothing more (the job stops; a new one takes the lock and settles the rest)."""


#: True when the session ``$1`` still holds the state's advisory lock ``($2, $3)``.
_LOCK_HELD = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = $1 AND classid = $2::int4::oid AND objid = $3::int4::oid AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)
#: ``_LOCK_HELD`` as the first statement of a batch: when the lock is held no more it divides
#: by zero, which aborts the batch's transaction before the Sync that would commit it.
_LOCK_CHECK = "SELECT 1 / (" + _LOCK_HELD.removeprefix("SELECT ") + ")::int"


@dataclass(eq=False)
class _Pending:
    statements: list[Statement]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(eq=False)
class _Read:
    sql: str
    params: Params
    done: asyncio.Future[list[Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class PgDatabase:
    """A state in one PostgreSQL schema. Open with :meth:`open`, close with :meth:`close`."""

    def __init__(
        self,
        url: str,
        schema: str,
        pool: AsyncConnectionPool[Any],
        writer: AsyncConnection[Any],
        lock: AsyncConnection[Any] | None,
        connect_kwargs: dict[str, Any],
    ) -> None:
        self.url = url
        self._connect_kwargs = connect_kwargs
        self.schema = schema
        self._pool = pool
        self._writer = writer
        self._lock = None if lock is None else _AdvisoryLock(lock, url, schema, connect_kwargs)
        self._queue: list[_Pending] = []
        self._committer: asyncio.Task[None] | None = None
        self._reads: list[_Read] = []
        self._reader: asyncio.Task[None] | None = None
        #: Transactions committed and units in them, for the benchmark and /metrics.
        self.commits_total = 0
        self.units_total = 0
        self.skip_locked = " FOR UPDATE SKIP LOCKED"

    @property
    def location(self) -> str:
        """Where this state lives, as messages name it (no password)."""
        return f"{redact(self.url)} (schema {self.schema})"

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        schema: str = "public",
        writer: bool = True,
        lock: bool = True,
        pool_size: int = 2,
    ) -> PgDatabase:
        """Migrate ``schema`` (creating it if needed), then connect.

        A writer with ``lock`` first takes the state's advisory lock and raises
        :class:`~connector.store.lock.StateLockedError` if another process holds it. A
        reader's connections refuse every write.
        """
        check_schema_name(schema)
        return cls(url, schema, *await _connect(url, schema, writer, lock, pool_size))

    @property
    def exclusive(self) -> bool:
        """Whether this writer holds the state's advisory lock (no other writer is alive).

        A lock the server dropped is held no more until the next write takes it back, and
        never again once another process took it (every write fails: LockLostError).
        """
        return self._lock is not None and self._lock.held

    async def close(self) -> None:
        """Finish every queued unit, then close every connection (dropping the lock)."""
        while self._committer is not None:
            await asyncio.shield(self._committer)
        if self._reader is not None:
            await asyncio.shield(self._reader)
        await self._pool.close()
        await self._writer.close()
        if self._lock is not None:
            await self._lock.release()

    async def integrity(self) -> list[str]:
        """``["ok"]`` when the server answers (PostgreSQL checks its pages itself)."""
        await self.fetchall("SELECT 1")
        return ["ok"]

    # -- reads --------------------------------------------------------------------------
    async def fetchall(self, sql: str, params: Params = ()) -> list[Any]:
        """Rows of one query. Reads issued in the same loop turn share one pooled
        connection and one pipeline (one round trip), as they share a hop on SQLite."""
        read = _Read(sql, params)
        self._reads.append(read)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read_all())
        return await asyncio.shield(read.done)

    async def _read_all(self) -> None:
        """Answer queued reads, a pipeline at a time; every outcome goes to its reader.
        Reads the server skipped after another failed go first in the next pipeline: a
        failing read fails alone, as on SQLite."""
        while self._reads:
            reads, self._reads = self._reads, []
            self._reads = _settle(reads, await self._fetch_many(reads)) + self._reads

    async def _fetch_many(self, reads: list[_Read]) -> list[list[Any] | StoreError | None]:
        """Rows of every read, or its error, in one pipeline and one round trip. ``None``:
        a read the server skipped because one before it failed."""
        try:
            async with self._pool.connection() as conn:
                answers = await pg_wire.fetch(
                    conn, [(dollar_params(read.sql), read.params or ()) for read in reads]
                )
        except (psycopg.Error, PoolTimeout) as exc:
            return [_read_error(self.location, exc) for _ in reads]
        return [
            _read_error(self.location, a) if isinstance(a, psycopg.Error) else a for a in answers
        ]

    async def fetchone(self, sql: str, params: Params = ()) -> Any | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    # -- writes -------------------------------------------------------------------------
    async def write_returning(self, sql: str, params: Params = ()) -> list[Any]:
        """One statement that changes rows and returns them (``… RETURNING``), in a
        transaction of its own (autocommit), committed when this returns."""
        lock = await _before_write(self._lock)
        try:
            async with self._pool.connection() as conn, conn.transaction():
                if lock is not None:
                    await _check_held(conn, lock)
                cursor = await conn.execute(dollar_params(sql), params or None)
                rows: list[Any] = await cursor.fetchall()
                return rows
        except _LockGone:
            if self._lock is not None:
                await self._lock.retake()
            return await self.write_returning(sql, params)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"the state {self.location} could not record a claim: {exc}") from exc

    async def write_unseen(self, guard: Guard) -> list[Any]:
        """Run the guard's read, then apply the statements of every key its rows do not
        hold (see :class:`~connector.store.grouped.Guard`).

        Two round trips here: a writer that inserts one of those keys in between makes a
        compare-and-set statement among them fail, so nothing is applied
        (``ClaimLostError``), as the SQLite store's single transaction would."""
        guard.rows = await self.fetchall(*guard.query())
        unseen = guard.unseen()
        if unseen:
            await self.write(unseen)
        return guard.rows

    async def write(self, statements: Iterable[Statement]) -> None:
        """Apply ``statements`` atomically and durably (see the module docstring)."""
        pending = _Pending(list(statements))
        if not pending.statements:
            return
        self._queue.append(pending)
        if self._committer is None:
            # The committer starts one loop turn later (a task's first step), so every
            # writer resuming in this turn shares its transaction.
            self._committer = asyncio.get_running_loop().create_task(self._commit_all())
        # Cancelling the caller cancels only its wait: the unit still commits.
        await asyncio.shield(pending.done)

    async def _commit_all(self) -> None:
        """Commit queued batches until the queue is empty; hands every outcome to its
        unit's future, so no failure is lost with this task."""
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    outcomes = await self._commit_batch([p.statements for p in batch])
                except StoreError as error:
                    outcomes = [_copy(error) for _ in batch]
                else:
                    self.commits_total += 1
                    self.units_total += len(batch)
                for unit, outcome in zip(batch, outcomes, strict=True):
                    if unit.done.done():
                        continue
                    if outcome is None:
                        unit.done.set_result(None)
                    else:
                        unit.done.set_exception(outcome)
        finally:
            self._committer = None

    async def _commit_batch(self, units: list[list[Statement]]) -> list[StoreError | None]:
        lock = await _before_write(self._lock)
        conn = await self._writer_connection()
        try:
            try:
                await _run_pipelined(conn, units, lock)
                return [None] * len(units)
            except (psycopg.IntegrityError, psycopg.errors.DivisionByZero):
                # A constraint or a lost claim: find the unit(s) by running each alone.
                if lock is not None:
                    await _check_held(conn, lock)
                return [await _apply_unit(conn, statements) for statements in units]
        except _LockGone:
            # Rolled back whole: take the lock back, or fail if another process has it.
            if self._lock is not None:
                await self._lock.retake()
            return await self._commit_batch(units)
        except (psycopg.Error, OSError) as exc:
            if self._lock is not None:
                await self._lock.probe()
            raise StoreError(
                f"the state {self.location} could not commit ({exc}); nothing of this batch "
                "was recorded. Check that the server is up and its disk is not full."
            ) from exc

    async def _writer_connection(self) -> AsyncConnection[Any]:
        """The write connection, reconnected if the server dropped it (a restart)."""
        if self._writer.closed or self._writer.broken:
            try:
                self._writer = await AsyncConnection.connect(self.url, **self._connect_kwargs)
            except psycopg.Error as exc:
                raise StoreError(f"the state {self.location} is unreachable: {exc}") from exc
        return self._writer


def _settle(reads: list[_Read], results: list[list[Any] | StoreError | None]) -> list[_Read]:
    """Hand each read its rows or error; returns the reads to send again (``None``)."""
    again = []
    for read, result in zip(reads, results, strict=True):
        if result is None:
            again.append(read)
        elif read.done.done():
            continue  # the reader was cancelled; nobody wants the rows
        elif isinstance(result, StoreError):
            read.done.set_exception(result)
        else:
            read.done.set_result(result)
    return again


async def _connect(
    url: str, schema: str, writer: bool, lock: bool, pool_size: int
) -> tuple[
    AsyncConnectionPool[Any], AsyncConnection[Any], AsyncConnection[Any] | None, dict[str, Any]
]:
    """``PgDatabase.open`` past its checks: the lock (a writer with ``lock``), migrations,
    the write connection and the read pool, with the connection settings they share."""
    where = f"{redact(url)} (schema {schema})"
    options = f"-c search_path={schema}"
    if not writer:
        options += " -c default_transaction_read_only=on"
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "options": options,
        "application_name": f"{APP_PREFIX}{os.getpid()} on {socket.gethostname()}"[:63],
        "connect_timeout": int(CONNECT_TIMEOUT_S),
    }
    opened: list[AsyncConnection[Any]] = []
    pool: AsyncConnectionPool[Any] | None = None
    try:
        lock_conn = None
        if writer and lock:
            lock_conn = await AsyncConnection.connect(url, **kwargs)
            opened.append(lock_conn)
            await _take_lock(lock_conn, schema, where)
        migrating = await AsyncConnection.connect(url, **{**kwargs, "options": ""})
        opened.append(migrating)
        await migrate(migrating, schema)
        await migrating.close()
        raw = {**kwargs, "cursor_factory": AsyncRawCursor}
        write_conn = await AsyncConnection.connect(url, **raw)
        opened.append(write_conn)
        pool = AsyncConnectionPool(
            url,
            kwargs=raw,
            min_size=1,
            max_size=pool_size,
            open=False,
            name=f"ml-connector: state {schema}",
        )
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    except (psycopg.Error, PoolTimeout) as exc:
        await _close_all(opened, pool)
        raise StoreError(
            f"cannot open the state {where}: {clause(exc)}. Check that the server is "
            "running and reachable, and that the user may create tables in that database."
        ) from exc
    except BaseException:
        await _close_all(opened, pool)
        raise
    return pool, write_conn, lock_conn, raw


class _AdvisoryLock:
    """A writer's session advisory lock on its schema, on a connection of its own: taken
    back when the server dropped it, unless another process took it first (then fenced)."""

    def __init__(
        self, conn: AsyncConnection[Any], url: str, schema: str, connect_kwargs: dict[str, Any]
    ) -> None:
        self.conn = conn
        self.url = url
        self.schema = schema
        self.location = f"{redact(url)} (schema {schema})"
        self._connect_kwargs = {k: v for k, v in connect_kwargs.items() if k != "cursor_factory"}
        #: Set once the lock was lost to another process: every write fails with it.
        self.fenced: LockLostError | None = None

    @property
    def held(self) -> bool:
        """As far as this process knows without asking the server (see ``params``)."""
        return self.fenced is None and not (self.conn.closed or self.conn.broken)

    def params(self) -> tuple[int, int, int]:
        """The parameters of ``_LOCK_HELD`` that ask the server whether it is still held."""
        return (self.conn.info.backend_pid, LOCK_NAMESPACE, lock_key("state", self.schema))

    async def before_write(self) -> None:
        """Refuse the write once fenced; take a lock whose connection dropped back."""
        if self.fenced is not None:
            raise _copy(self.fenced)
        if self.conn.closed or self.conn.broken:
            await self.retake()

    async def retake(self) -> None:
        """Take the lock again on a new connection; fence this writer (raising
        LockLostError) if another process took it meanwhile."""
        with contextlib.suppress(psycopg.Error):
            await self.conn.close()
        try:
            self.conn = await AsyncConnection.connect(self.url, **self._connect_kwargs)
            await _take_lock(self.conn, self.schema, self.location)
        except StateLockedError:
            holder = await _lock_holder(self.conn, lock_key("state", self.schema))
            self.fenced = LockLostError(
                f"the state {self.location} lost its advisory lock (its connection to "
                "PostgreSQL was dropped: a server restart or a killed session) and another "
                f"ml-connector (pid {holder}) holds it now. This writer records nothing more, "
                "so as not to write beside it: its job stops here, and the next job settles "
                "the records it left in flight through the target."
            )
            log.error("%s", self.fenced.message)
            raise _copy(self.fenced) from None
        except psycopg.Error as exc:
            raise StoreError(
                f"the state {self.location} lost its advisory lock and cannot take it "
                f"again ({exc}); nothing of this batch was recorded. Check that the server "
                "is up."
            ) from exc
        log.warning(
            "the state %s lost its advisory lock with its connection; took it again",
            self.location,
        )

    async def probe(self) -> None:
        """After a failed commit, find out whether the lock's connection is gone too (the
        server restarted): psycopg marks a connection broken only when it is used."""
        if not self.conn.broken:
            try:
                await self.conn.execute("SELECT 1")
            except psycopg.Error:
                log.warning(
                    "the state %s lost its advisory lock with its connection; the next "
                    "write takes it again first",
                    self.location,
                )

    async def release(self) -> None:
        if not (self.conn.closed or self.conn.broken):
            # Released before the connection goes: a server frees a closed session's
            # locks only once its backend has exited, which the next opener could beat.
            with contextlib.suppress(psycopg.Error):
                await self.conn.execute("SELECT pg_advisory_unlock_all()")
        await self.conn.close()


async def _before_write(lock: _AdvisoryLock | None) -> tuple[int, int, int] | None:
    """Ready ``lock`` for a write (see ``_AdvisoryLock.before_write``); the parameters that
    check it inside the write's transaction, None for a writer without a lock."""
    if lock is None:
        return None
    await lock.before_write()
    return lock.params()


async def _run_pipelined(
    conn: AsyncConnection[Any], units: list[list[Statement]], lock: tuple[int, int, int] | None
) -> None:
    """Every unit in one transaction, in one round trip; raises on a constraint, a lost
    claim or (given the ``lock`` to check) a lost advisory lock, and then nothing of the
    batch is applied.

    The connection is in autocommit and sends no BEGIN: the statements a pipeline sends
    before its Sync run in one transaction, which the Sync commits (durably, as any
    commit) or, after an error, rolls back whole. So a batch waits for the server once,
    not three times (results, COMMIT, end of pipeline), which on a busy machine is most
    of what a commit costs. Nothing can be checked here before the commit, so the lock
    and each claim check themselves on the server (see ``_LOCK_CHECK`` and :func:`_query`).
    """
    statements = [(_query(sql), params) for unit in units for sql, params in unit]
    if lock is not None:
        statements.insert(0, (_LOCK_CHECK, lock))
    outcomes = await pg_wire.run(conn, statements)
    if lock is not None and isinstance(outcomes[0].error, psycopg.errors.DivisionByZero):
        raise _LockGone
    pg_wire.raise_first(outcomes)


async def _check_held(conn: AsyncConnection[Any], lock: tuple[int, int, int]) -> None:
    """Raise _LockGone unless the lock's session still holds the state's advisory lock."""
    cursor = await conn.execute(_LOCK_HELD, lock)
    if not (await cursor.fetchone() or (False,))[0]:
        raise _LockGone


async def _apply_unit(conn: AsyncConnection[Any], statements: list[Statement]) -> StoreError | None:
    """One unit in its own transaction: the slow path once a batch held a failing unit."""
    try:
        async with conn.transaction():
            for sql, params in statements:
                try:
                    await conn.execute(_query(sql), params or None)
                except psycopg.errors.DivisionByZero as exc:
                    if sql.startswith(EXPECT_CHANGE):
                        raise _ClaimLost from exc
                    raise
    except _ClaimLost:
        return ClaimLostError(
            "another writer claimed the record first; it finishes it, this one leaves it alone"
        )
    except psycopg.IntegrityError as exc:
        return StoreError(f"a state update was refused by a constraint: {exc}")
    return None


@lru_cache(maxsize=1024)
def _query(sql: str) -> str:
    """``sql`` as PostgreSQL runs it (``$n`` placeholders). A claim (``EXPECT_CHANGE``)
    that changes no row fails on the server, dividing by the count of rows it changed,
    so it aborts its transaction before the commit that follows it in the pipeline."""
    if sql.startswith(EXPECT_CHANGE):
        body = sql.removeprefix(EXPECT_CHANGE).strip().rstrip(";")
        return dollar_params(
            f"{EXPECT_CHANGE}WITH claimed AS ({body}\nRETURNING 1)\n"
            "SELECT 1 / COUNT(*) FROM claimed"
        )
    return dollar_params(sql)


async def _take_lock(conn: AsyncConnection[Any], schema: str, where: str) -> None:
    key = lock_key("state", schema)
    for attempt in range(LOCK_ATTEMPTS):
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, key))
        row = await cursor.fetchone()
        if row is not None and row[0]:
            return
        if attempt + 1 < LOCK_ATTEMPTS:
            await asyncio.sleep(LOCK_RETRY_S)
    raise StateLockedError(busy_message(where, await _lock_holder(conn, key)))


async def _lock_holder(conn: AsyncConnection[Any], key: int) -> str:
    """The pid (and host) of the process holding the state lock ``key``, or "unknown"."""
    holder = await conn.execute(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s::int4::oid "
        "AND l.objid = %s::int4::oid AND l.objsubid = 2 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (LOCK_NAMESPACE, key),
    )
    found = await holder.fetchone()
    name = str(found[0]) if found else ""
    return name.removeprefix(APP_PREFIX) if name.startswith(APP_PREFIX) else "unknown"


async def _close_all(
    connections: list[AsyncConnection[Any]], pool: AsyncConnectionPool[Any] | None
) -> None:
    for conn in connections:
        await conn.close()
    if pool is not None:
        await pool.close()


def _copy(error: StoreError) -> StoreError:
    copy = type(error)(error.message)
    copy.__cause__ = error.__cause__
    return copy


def _read_error(location: str, exc: Exception) -> StoreError:
    """A failed read, for every caller waiting on it (each gets its own exception)."""
    error = StoreError(f"reading the state {location} failed: {clause(exc)}")
    error.__cause__ = exc
    return error
