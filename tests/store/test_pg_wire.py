"""Statements through libpq's pipeline: one transaction per Sync, outcomes per statement."""

from __future__ import annotations

import psycopg
import pytest

from connector.store import pg_wire


async def test_values_of_every_kind_round_trip_through_prepared_shapes(pg_url: str) -> None:
    """NULLs, integers, floats, text and bytes go in and come back as sent, also when one
    query shape runs with a NULL in one batch and a value in the next."""
    conn = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
    try:
        select = "SELECT $1::bigint, $2::float8, $3::text, $4::bytea"
        first = await pg_wire.run(conn, [(select, (None, 1.5, "a'b", b"\x00\xff"))])
        second = await pg_wire.run(
            conn, [(select, (7, None, None, b"")), (select, (8, 0.0, "", None))]
        )
        assert first[0].rows(conn) == [(None, 1.5, "a'b", b"\x00\xff")]
        assert [o.rows(conn) for o in second] == [[(7, None, None, b"")], [(8, 0.0, "", None)]]
    finally:
        await conn.close()


async def test_a_refused_statement_rolls_back_its_batch_and_skips_the_rest(pg_url: str) -> None:
    """One statement the server refuses fails with psycopg's class for its SQLSTATE; the
    statements before it are rolled back, those after it are not run, and the connection
    takes the next batch."""
    conn = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
    try:
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
        outcomes = await pg_wire.run(conn, [
            ("INSERT INTO t VALUES ($1)", (1,)),
            ("INSERT INTO t VALUES ($1)", (1,)),
            ("INSERT INTO t VALUES ($1)", (2,)),
        ])
        assert outcomes[0].error is None and not outcomes[0].skipped
        assert isinstance(outcomes[1].error, psycopg.errors.UniqueViolation)
        assert outcomes[2].skipped
        rows = (await pg_wire.run(conn, [("SELECT count(*) FROM t", ())]))[0].rows(conn)
        assert rows == [(0,)]
    finally:
        await conn.close()


async def test_a_shape_is_prepared_once_and_shapes_past_the_cap_still_run(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query shape repeated in a batch is prepared on the server once; past the cap of
    kept shapes, new shapes still run (unprepared) and the server keeps no more."""
    monkeypatch.setattr(pg_wire, "MAX_PREPARED", 2)
    conn = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
    try:
        batch = [(f"SELECT $1::int + {n % 3}", (n,)) for n in range(9)]
        outcomes = await pg_wire.run(conn, batch)
        assert [o.rows(conn) for o in outcomes] == [[(n + n % 3,)] for n in range(9)]
        cursor = await conn.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'mlc%'"
        )
        assert await cursor.fetchone() == (2,)
    finally:
        await conn.close()
