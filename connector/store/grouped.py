"""A batch's statements as few SQLite statements as they can be (the writer thread's side).

A group commit of a busy pipeline holds hundreds of records' statements: a claim and two
audit rows for each record starting, a ledger row and an audit row for each finishing.
Run one by one, each is a trip through ``sqlite3`` that gives up the GIL around SQLite's
work and must take it back after; with the event loop busy on the other core, every one
of those trips can wait for the loop's switch interval (5 ms), so the writer thread
starved while the loop waited for it (issue 18 measured a commit of 16 units spending half
its time waiting for the GIL). Here a batch made only of statements registered as
*order-free* is run kind by kind instead, each kind as multi-row ``INSERT``s of up to
:data:`MOST_ROWS` rows: a handful of trips for a whole commit.

Order-free means: statements of one kind keep their order (the last cursor written wins,
a record's audit rows keep theirs), and statements of different kinds touch different
rows, so running one kind before another changes nothing. A ledger row written by two
kinds in one batch (a claim and a ``done`` for one record) would break that, so such a
batch runs in its given order, as does any batch holding a statement not registered here.
A multi-row ``INSERT … ON CONFLICT`` applies its rows in order, as separate statements
would; a compare-and-set kind must change as many rows as it has, else the batch is rolled
back and run unit by unit, where the unit whose claim was lost fails alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Params = Sequence[Any]
Statement = tuple[str, Params]

#: A statement that starts with this comment must change a row, or its unit fails alone
#: with ``ClaimLostError`` (compare-and-set, see ``Unit.claim``).
EXPECT_CHANGE = "-- expect a change\n"

#: Rows in one multi-row statement at most. A prepared statement grows with its rows, and
#: the connection keeps every size it has used: at 512 rows they cost the process 9 MB
#: more than at 256 (``bench.worker pipeline`` peak RSS, 79 MB against 70 MB at 50,000
#: records) for the same throughput; 128 rows was 6 % slower.
MOST_ROWS = 256
#: Row counts are a multiple of this or below it, so that any count up to ``MOST_ROWS``
#: takes at most two statements (``n // STEP * STEP`` rows, then the rest) while a kind
#: needs at most ``MOST_ROWS // STEP + STEP`` prepared statements: the connection caches
#: them all (``cached_statements``), and every statement is one more wait for the GIL
#: (see ``runtime/tuning.py``). Powers of two took four statements for a typical batch.
STEP = 16


class ClaimLost(sqlite3.IntegrityError):
    """Raised on the database thread when a compare-and-set statement changed no row."""


@dataclass(frozen=True, slots=True)
class _Kind:
    #: Positions of (flow, stream, source_id) in the parameters of a ledger statement.
    ledger_key: tuple[int, int] | None
    #: ``INSERT … VALUES (…)``: may take many rows in one statement.
    multi_row: bool


_KINDS: dict[str, _Kind] = {}
_MULTI_SQL: dict[tuple[str, int], str] = {}


def order_free(sql: str, *, ledger_key: tuple[int, int] | None = None) -> str:
    """Register ``sql`` as order-free (see the module docstring) and return it.

    ``ledger_key`` = (start, stop) of the record's key in its parameters, for statements
    that write a ledger row. An ``INSERT`` with one ``VALUES (…)`` group is run many rows
    at a time; anything else (an ``UPDATE``) is run with ``executemany``.
    """
    head = sql.removeprefix(EXPECT_CHANGE).lstrip().upper()
    multi_row = head.startswith("INSERT") and sql.count("VALUES (") == 1
    _KINDS[sql] = _Kind(ledger_key, multi_row)
    return sql


def run_grouped(conn: sqlite3.Connection, units: list[list[Statement]]) -> bool:
    """Run every statement of ``units`` kind by kind, inside the caller's transaction.

    Returns False, having run nothing, when the batch is not order-free. Raises
    :class:`ClaimLost` when a compare-and-set kind changed fewer rows than it has.
    """
    groups: dict[str, list[Params]] = {}
    writers: dict[tuple[Any, ...], str] = {}
    for statements in units:
        for sql, params in statements:
            kind = _KINDS.get(sql)
            if kind is None:
                return False
            if kind.ledger_key is not None:
                start, stop = kind.ledger_key
                if writers.setdefault(tuple(params[start:stop]), sql) != sql:
                    return False
            rows = groups.get(sql)
            if rows is None:
                groups[sql] = [params]
            else:
                rows.append(params)
    for sql, rows in groups.items():
        if _KINDS[sql].multi_row:
            changed = _insert_rows(conn, sql, rows)
        else:
            changed = conn.executemany(sql, rows).rowcount
        if changed != len(rows) and sql.startswith(EXPECT_CHANGE):
            raise ClaimLost("a record")
    return True


def _insert_rows(conn: sqlite3.Connection, sql: str, rows: list[Params]) -> int:
    changed, done, left = 0, 0, len(rows)
    while left:
        size = min(left, MOST_ROWS)
        if size >= STEP:
            size -= size % STEP
        chunk = rows[done : done + size]
        cursor = conn.execute(_multi_sql(sql, size), [value for row in chunk for value in row])
        changed += cursor.rowcount
        done += size
        left -= size
    return changed


def _multi_sql(sql: str, rows: int) -> str:
    multi = _MULTI_SQL.get((sql, rows))
    if multi is None:
        start = sql.index("VALUES (") + len("VALUES ")
        stop = sql.index(")", start) + 1
        multi = sql[:start] + ", ".join([sql[start:stop]] * rows) + sql[stop:]
        _MULTI_SQL[(sql, rows)] = multi
    return multi


#: Keys in one guard read at most (SQLite takes 32,766 variables in a statement).
MOST_KEYS = 10_000


@dataclass(eq=False)
class Guard:
    """A unit whose statements depend on a read in its own transaction (``write_unseen``).

    ``read`` ends with ``IN``: it is run with ``params`` and then ``keys``, and only the
    statements in ``by_key`` of keys its rows do not hold (column ``key_column``) are
    applied. The database thread sets ``rows``. The guards of one group commit that read
    the same way are answered by one query, one trip for the whole commit."""

    read: str
    params: tuple[Any, ...]
    keys: list[str]
    key_column: int
    by_key: dict[str, list[Statement]]
    rows: list[Any] = field(default_factory=list)

    def query(self) -> Statement:
        """The read on its own (a backend that reads and then writes)."""
        return f"{self.read} ({','.join('?' * len(self.keys))})", (*self.params, *self.keys)

    def unseen(self) -> list[Statement]:
        """The statements of the keys ``rows`` do not hold."""
        seen = {row[self.key_column] for row in self.rows}
        return [s for key, unit in self.by_key.items() if key not in seen for s in unit]


def expand_guards(
    conn: sqlite3.Connection, units: list[list[Statement]], guards: dict[int, Guard]
) -> list[list[Statement]]:
    """``units`` with each guarded one replaced by its unseen statements, read first."""
    shared: dict[tuple[str, tuple[Any, ...], int], list[Guard]] = {}
    for guard in guards.values():
        shared.setdefault((guard.read, guard.params, guard.key_column), []).append(guard)
    for (read, params, key_column), readers in shared.items():
        keys = [key for guard in readers for key in guard.keys]
        by_key: dict[Any, Any] = {}
        for start in range(0, len(keys), MOST_KEYS):
            chunk = keys[start : start + MOST_KEYS]
            # Padded to a power of two with its last key (IN ignores repeats): a read per
            # length would be prepared anew each time and push the grouped statements
            # out of the connection's statement cache.
            padded = chunk + chunk[-1:] * ((1 << (len(chunk) - 1).bit_length()) - len(chunk))
            sql = f"{read} ({','.join('?' * len(padded))})"
            for row in conn.execute(sql, (*params, *padded)):
                by_key[row[key_column]] = row
        for guard in readers:
            guard.rows = [by_key[key] for key in guard.keys if key in by_key]
    expanded = list(units)
    for index, guard in guards.items():
        expanded[index] = guard.unseen()
    return expanded
