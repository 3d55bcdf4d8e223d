"""A group commit run kind by kind lands exactly what running it in order would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connector.store import ClaimLostError, RecordKey, State, Unit
from connector.store.db import _commit_batch, _open_connection
from connector.store.grouped import MOST_ROWS, Guard, run_grouped


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return _open_connection(tmp_path / "state.db", True)


def _key(n: int) -> RecordKey:
    return RecordKey("f", "invoices", str(n))


def _claims(numbers: range) -> Unit:
    unit = Unit(now=1.0)
    for n in numbers:
        unit.claim(_key(n), None, content_hash=f"h{n}", run_id=None, owner="me")
        unit.audit(_key(n), "read", {"n": n}).audit(_key(n), "mapped", {"hash": f"h{n}"})
    return unit


def _dones(numbers: range, cursor: str) -> Unit:
    unit = Unit(now=2.0)
    for n in numbers:
        unit.ledger(_key(n), State.DONE, content_hash=f"h{n}", target_id=f"T{n}")
        unit.audit(_key(n), "written", {"target_id": f"T{n}"})
    return unit.cursor("f", "invoices", cursor)


def test_a_batch_larger_than_one_statement_lands_every_row_in_order(
    conn: sqlite3.Connection,
) -> None:
    """Claims, audit rows and cursors of more records than one multi-row statement takes
    all land, each record's audit rows in their order, the last cursor written winning."""
    total = 2 * MOST_ROWS + 276
    units = [_claims(range(0, 700)).statements, _claims(range(700, total)).statements]
    assert _commit_batch(conn, units) == [None, None]
    units = [_dones(range(0, 700), "c1").statements, _dones(range(700, total), "c2").statements]
    assert _commit_batch(conn, units) == [None, None]
    states = conn.execute("SELECT state, COUNT(*), SUM(attempts) FROM ledger GROUP BY state")
    assert [tuple(row) for row in states] == [("done", total, total)]
    last = str(total - 1)
    steps = conn.execute("SELECT step FROM audit WHERE source_id = ? ORDER BY id", (last,))
    assert [row[0] for row in steps] == ["read", "mapped", "written"]
    target = conn.execute("SELECT target_id FROM ledger WHERE source_id = ?", (last,)).fetchone()
    assert target[0] == f"T{last}"
    assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 3 * total
    assert conn.execute("SELECT value FROM cursors").fetchone()[0] == "c2"


def test_a_record_claimed_after_another_writer_finished_it_loses_its_claim(
    conn: sqlite3.Connection,
) -> None:
    """A batch holding a ``done`` for a record and then a claim of it runs in its order:
    the claim is lost and fails alone (run by kind, the claim would have gone first and
    been overwritten by the done)."""
    finished = Unit(now=1.0).ledger(_key(2), State.DONE, target_id="T2")
    units = [_claims(range(1, 2)).statements, finished.statements, _claims(range(2, 3)).statements]
    assert run_grouped(conn, units) is False  # refused before running anything
    outcomes = _commit_batch(conn, units)
    assert outcomes[0] is None and outcomes[1] is None
    assert isinstance(outcomes[2], ClaimLostError)
    rows = conn.execute("SELECT source_id, state, attempts FROM ledger ORDER BY source_id")
    assert [tuple(row) for row in rows] == [("1", "in_flight", 1), ("2", "done", 0)]
    assert conn.execute("SELECT COUNT(*) FROM audit WHERE source_id = '2'").fetchone()[0] == 0


def test_one_lost_claim_among_hundreds_fails_only_its_unit(conn: sqlite3.Connection) -> None:
    """When one record of a multi-row claim already has a ledger row, only the unit that
    claimed it fails; the other units' claims and audit rows land once."""
    assert _commit_batch(conn, [Unit(now=0.5).ledger(_key(150), State.DONE).statements]) == [
        None
    ]
    units = [_claims(range(0, 100)).statements, _claims(range(100, 600)).statements]
    units.append(_claims(range(600, 900)).statements)
    outcomes = _commit_batch(conn, units)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], ClaimLostError)
    claimed = conn.execute("SELECT COUNT(*) FROM ledger WHERE state = 'in_flight'").fetchone()
    assert claimed[0] == 400
    assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 2 * 400


def test_guarded_units_of_one_commit_claim_only_what_the_ledger_has_not_seen(
    conn: sqlite3.Connection,
) -> None:
    """Two batches' read-and-claim units committed together each get the ledger rows of
    their own records, and only their records never seen before are claimed."""
    assert _commit_batch(conn, [Unit(now=0.5).ledger(_key(2), State.DONE).statements]) == [
        None
    ]
    read = "SELECT flow, stream, source_id, state FROM ledger WHERE flow = ? AND stream = ? "
    read += "AND source_id IN"
    first = Guard(read, ("f", "invoices"), ["1", "2"], 2, {
        "1": _claims(range(1, 2)).statements, "2": _claims(range(2, 3)).statements,
    })
    second = Guard(read, ("f", "invoices"), ["3"], 2, {"3": _claims(range(3, 4)).statements})
    assert _commit_batch(conn, [[], []], {0: first, 1: second}) == [None, None]
    assert [tuple(row) for row in first.rows] == [("f", "invoices", "2", "done")]
    assert second.rows == []
    rows = conn.execute("SELECT source_id, state FROM ledger ORDER BY source_id")
    assert [tuple(row) for row in rows] == [
        ("1", "in_flight"), ("2", "done"), ("3", "in_flight"),
    ]
