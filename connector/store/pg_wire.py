"""Many statements to PostgreSQL in one pipeline, through libpq itself.

psycopg's cursors, in pipeline mode, flush the socket and poll it after every statement,
and build a cursor, a query and a prepared-statement lookup for each: on this 2-core
machine that driver work, not the server, was most of what a record cost the state
(a group commit of 64 units: 10-12 ms through cursors, 5-6 ms here). Here a batch is
queued in libpq's buffer with psycopg's own adaptation (:class:`~psycopg.adapt.Transformer`),
sent with one Sync, and its results are read back in one go: one round trip, one flush.

Every statement runs prepared, under a name of ours (``mlc_<n>``, never psycopg's
``_pg3_<n>``) kept per connection, so the server parses and plans each shape once.

:func:`run` leaves the connection as it found it (idle, out of pipeline mode), or closes
it when it cannot (a broken socket, a cancelled wait): the store then reconnects.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import AsyncConnection, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq.abc import PGconn, PGresult

Statement = tuple[str, Sequence[Any]]
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)

#: Prepared statement names per connection: (query, parameter types) → name.
_prepared: weakref.WeakKeyDictionary[AsyncConnection[Any], dict[tuple[bytes, Any], bytes]] = (
    weakref.WeakKeyDictionary()
)
#: At most this many shapes are kept prepared per connection (SQL built with a varying
#: number of placeholders would otherwise add one per count, for the connection's life).
MAX_PREPARED = 200
#: Names are never reused, so a name whose PREPARE an aborted pipeline skipped (and that
#: was never cached) cannot collide with one the server did keep.
_names = itertools.count()


class Outcome:
    """One statement's result: its rows (:meth:`rows`), or the server's error, or
    ``skipped`` (an earlier statement failed, so the server did not run it)."""

    __slots__ = ("error", "result", "skipped")

    def __init__(
        self, result: PGresult | None, error: psycopg.Error | None, skipped: bool
    ) -> None:
        self.result = result
        self.error = error
        self.skipped = skipped

    def rows(self, conn: AsyncConnection[Any]) -> list[tuple[Any, ...]]:
        """The rows, as tuples of Python values (psycopg's own loaders)."""
        if self.result is None:
            raise self.error or psycopg.OperationalError("no result")
        loader = Transformer(conn)
        loader.set_pgresult(self.result)
        return loader.load_rows(0, self.result.ntuples, tuple)


async def run(conn: AsyncConnection[Any], statements: Sequence[Statement]) -> list[Outcome]:
    """Run ``statements`` (``$n`` placeholders) in one pipeline ended by one Sync; one
    outcome per statement. On an autocommit connection with no BEGIN, they form one
    transaction that the Sync commits, or rolls back whole if any failed."""
    pgconn = conn.pgconn
    names = _prepared.setdefault(conn, {})
    dumper = Transformer(conn)
    #: What each result read back answers: its statement's index, and for a PREPARE the
    #: shape and name to remember once the server has it.
    expected: list[tuple[int, tuple[bytes, Any] | None, bytes]] = []
    preparing: dict[tuple[bytes, Any], bytes] = {}  # sent in this batch, not yet confirmed
    pgconn.enter_pipeline_mode()
    try:
        for index, (sql, params) in enumerate(statements):
            values = dumper.dump_sequence(params, [PyFormat.AUTO] * len(params))
            key: tuple[bytes, Any] = (sql.encode(conn.info.encoding), dumper.types)
            name = names.get(key) or preparing.get(key)
            if name is None and len(names) + len(preparing) < MAX_PREPARED:
                name = preparing[key] = f"mlc_{next(_names)}".encode()
                pgconn.send_prepare(name, key[0], param_types=dumper.types)
                expected.append((index, key, name))
            if name is None:  # one shape too many to keep: parsed and planned each time
                pgconn.send_query_params(
                    key[0], values, param_types=dumper.types, param_formats=dumper.formats
                )
            else:
                pgconn.send_query_prepared(name, values, param_formats=dumper.formats)
            expected.append((index, None, b""))
        pgconn.pipeline_sync()
        results = await _exchange(pgconn)
        pgconn.exit_pipeline_mode()
    except BaseException:
        # The connection is mid-conversation (a broken socket, a cancelled wait): nothing
        # can be read back from it reliably. Closed, it is replaced by the next user.
        await conn.close()
        raise
    outcomes: list[Outcome] = [Outcome(None, None, True) for _ in statements]
    for (index, shape, as_name), result in zip(expected, results[:-1], strict=True):
        status = result.status
        if status == pq.ExecStatus.FATAL_ERROR:
            # A PREPARE fails for the statement it prepares (a query the server refuses).
            outcomes[index] = Outcome(None, _error(result, conn), False)
        elif shape is not None:
            if status == pq.ExecStatus.COMMAND_OK:
                names[shape] = as_name  # prepared: later batches execute it by name
        elif status in _OK:
            outcomes[index] = Outcome(result, None, False)
    return outcomes


async def fetch(
    conn: AsyncConnection[Any], statements: Sequence[Statement]
) -> list[list[tuple[Any, ...]] | psycopg.Error | None]:
    """Each statement's rows, or its error, or None where the server skipped it."""
    answers: list[list[tuple[Any, ...]] | psycopg.Error | None] = []
    for outcome in await run(conn, statements):
        if outcome.skipped:
            answers.append(None)
        else:
            answers.append(outcome.error or outcome.rows(conn))
    return answers


def raise_first(outcomes: list[Outcome]) -> None:
    """Raise the first statement's error, if any failed."""
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error


def _error(result: PGresult, conn: AsyncConnection[Any]) -> psycopg.Error:
    """The server's error as psycopg's own class for its SQLSTATE (IntegrityError…)."""
    state = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
    try:
        cls = psycopg.errors.lookup(state)
    except KeyError:
        cls = psycopg.DatabaseError
    return cls(result.get_error_message(conn.info.encoding).strip())


async def _exchange(pgconn: PGconn) -> list[PGresult]:
    """Send what libpq buffered, then read every result up to the Sync's."""
    while pgconn.flush():
        # The server may be blocked writing results to us while we write: read too.
        if await _ready(pgconn.socket, write=True):
            pgconn.consume_input()
    results: list[PGresult] = []
    while True:
        while pgconn.is_busy():
            await _ready(pgconn.socket, write=False)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            continue  # the end of one statement's results
        results.append(result)
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results


async def _ready(fd: int, *, write: bool) -> bool:
    """Wait until ``fd`` is readable (or, with ``write``, writable); True if readable."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bool] = loop.create_future()

    def wake(readable: bool) -> None:
        if not done.done():
            done.set_result(readable)

    loop.add_reader(fd, wake, True)
    if write:
        loop.add_writer(fd, wake, False)
    try:
        return await done
    finally:
        loop.remove_reader(fd)
        if write:
            loop.remove_writer(fd)
