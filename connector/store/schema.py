"""Numbered migrations of the state database.

The database's ``PRAGMA user_version`` is the number of migrations applied. A migration is
never edited once released: a change to the schema is a new entry at the end of
``MIGRATIONS``. :func:`migrate` is synchronous so both the async store and the synchronous
vault commands can bring a database up to date before using it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

MIGRATIONS: list[str] = [
    # 1: the whole first schema.
    """
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        flow        TEXT NOT NULL,
        trigger     TEXT NOT NULL,
        status      TEXT NOT NULL,            -- running | ok | failed | interrupted
        started_at  REAL NOT NULL,
        finished_at REAL,
        counts      TEXT NOT NULL DEFAULT '{}', -- JSON {stream: {outcome: n}}
        error       TEXT
    );
    CREATE TABLE ledger (
        flow         TEXT NOT NULL,
        stream       TEXT NOT NULL,
        source_id    TEXT NOT NULL,
        state        TEXT NOT NULL,           -- pending|in_flight|in_doubt|done|failed|review
        content_hash TEXT,
        target_id    TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        run_id       INTEGER,
        updated_at   REAL NOT NULL,
        last_error   TEXT,
        PRIMARY KEY (flow, stream, source_id)
    ) WITHOUT ROWID;
    CREATE INDEX ledger_state ON ledger (flow, stream, state);
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        at        REAL NOT NULL,
        run_id    INTEGER,
        flow      TEXT NOT NULL,
        stream    TEXT NOT NULL,
        source_id TEXT NOT NULL,
        step      TEXT NOT NULL,              -- read|mapped|verified|written|skipped|failed|...
        detail    TEXT                         -- JSON, never secrets
    );
    CREATE INDEX audit_record ON audit (flow, source_id, id);
    CREATE TABLE cursors (
        flow       TEXT NOT NULL,
        stream     TEXT NOT NULL,
        value      TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (flow, stream)
    ) WITHOUT ROWID;
    CREATE TABLE dead_letters (
        id              INTEGER PRIMARY KEY,
        flow            TEXT NOT NULL,
        stream          TEXT NOT NULL,
        source_id       TEXT NOT NULL,
        payload         BLOB NOT NULL,        -- the source record as read (JSON)
        error_kind      TEXT NOT NULL,
        reason          TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 1,
        status          TEXT NOT NULL DEFAULT 'open',  -- open | replayed
        first_failed_at REAL NOT NULL,
        last_failed_at  REAL NOT NULL,
        UNIQUE (flow, stream, source_id)
    );
    CREATE TABLE review (
        id           INTEGER PRIMARY KEY,
        flow         TEXT NOT NULL,
        stream       TEXT NOT NULL,
        source_id    TEXT NOT NULL,
        payload      BLOB NOT NULL,
        mapping_kind TEXT NOT NULL,
        mapping_key  TEXT NOT NULL,
        reason       TEXT NOT NULL,
        status       TEXT NOT NULL DEFAULT 'open',     -- open | resolved
        created_at   REAL NOT NULL,
        resolved_at  REAL,
        UNIQUE (flow, stream, source_id)
    );
    CREATE TABLE inbox (
        event_id     TEXT PRIMARY KEY,
        flow         TEXT NOT NULL,
        event_type   TEXT NOT NULL,
        received_at  REAL NOT NULL,
        payload      BLOB NOT NULL,
        processed_at REAL
    ) WITHOUT ROWID;
    CREATE INDEX inbox_pending ON inbox (flow, processed_at);
    CREATE TABLE mappings (
        kind         TEXT NOT NULL,           -- e.g. business_unit_cost_center
        source_key   TEXT NOT NULL,
        target_value TEXT NOT NULL,
        updated_at   REAL NOT NULL,
        PRIMARY KEY (kind, source_key)
    ) WITHOUT ROWID;
    CREATE TABLE vault (
        name        TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        nonce       BLOB NOT NULL,
        ciphertext  BLOB NOT NULL,            -- AES-256-GCM, associated data = name|kind
        fingerprint TEXT NOT NULL,            -- non-reversible, for `creds list`
        created_at  REAL NOT NULL,
        updated_at  REAL NOT NULL
    );
    CREATE TABLE vault_meta (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        key_check   BLOB NOT NULL,            -- nonce || AES-GCM(known text): proves the key
        created_at  REAL NOT NULL
    );
    """,
    # 2: where each mapping came from. The config file is authoritative for the mappings it
    # declares ('config' rows are replaced on every load); 'cli' rows were added by `review
    # resolve --mapping` and stay until `mappings delete`. Rows older than this column
    # cannot be told apart: they become 'cli' (kept), and a load turns those the config
    # declares into 'config' rows. Dropping an operator's answer would be worse than
    # keeping one the config no longer names, which `mappings list` shows and `mappings
    # delete` removes.
    """
    ALTER TABLE mappings ADD COLUMN origin TEXT NOT NULL DEFAULT 'cli';
    """,
    # 3: exactly once across processes and rebuilt stores (issue 12). The ledger keeps the
    # command last written, so a source edited after posting can be shown as a field diff;
    # dead letters keep the traceback of an unexpected error (not the log); the inbox is
    # keyed by (flow, event id), since two flows may receive one ServiceTitan event, and
    # says what became of each event (processed, or ignored: a type no stream takes). A
    # claim names its writer and time, so a record another live writer is working on is
    # left to it (a lease), while one a dead writer left behind can be taken over.
    """
    ALTER TABLE ledger ADD COLUMN command BLOB;
    ALTER TABLE ledger ADD COLUMN claimed_by TEXT;
    ALTER TABLE ledger ADD COLUMN claimed_at REAL;
    ALTER TABLE dead_letters ADD COLUMN traceback TEXT;
    CREATE TABLE inbox_by_flow (
        flow         TEXT NOT NULL,
        event_id     TEXT NOT NULL,
        event_type   TEXT NOT NULL,
        received_at  REAL NOT NULL,
        payload      BLOB NOT NULL,
        processed_at REAL,
        outcome      TEXT,                    -- processed | ignored
        PRIMARY KEY (flow, event_id)
    ) WITHOUT ROWID;
    INSERT INTO inbox_by_flow (flow, event_id, event_type, received_at, payload, processed_at,
                               outcome)
        SELECT flow, event_id, event_type, received_at, payload, processed_at,
               CASE WHEN processed_at IS NULL THEN NULL ELSE 'processed' END FROM inbox;
    DROP TABLE inbox;
    ALTER TABLE inbox_by_flow RENAME TO inbox;
    CREATE INDEX inbox_pending ON inbox (flow, processed_at, received_at);
    """,
    # 4: several writers on one state (PostgreSQL nodes) drain one inbox: a drain claims
    # the events it takes, naming itself and the time (a lease, like the ledger's claims),
    # so two drains never take the same event while both live.
    """
    ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE inbox ADD COLUMN claimed_at REAL;
    """,
    # 5: reads and claims of one record must go through the primary key. PostgreSQL plans
    # a prepared statement once, often while the table is still empty (a new tenant's
    # first sync), and there (flow, stream, state) costs as low as the key for `flow = ?
    # AND stream = ? AND source_id = ?` and for a claim: the plan it keeps then reads every
    # row of the stream per lookup (2 ms at 10k rows, growing with the table). With state
    # first, a record lookup has no use for this index; with source_id last, a claim
    # (flow, stream, source_id, state) reads one entry whichever index it takes.
    # ledger_by_state (flow, state IN …, stream) is served as before.
    """
    DROP INDEX ledger_state;
    CREATE INDEX ledger_state ON ledger (state, flow, stream, source_id);
    """,
]


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration the database has not seen; returns the resulting version.

    Each migration runs in its own transaction together with the version bump, so a crash
    mid-migration leaves the database at the previous version, never half-migrated.
    """
    version = current_version(conn)
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"state database is at schema version {version}, newer than this ml-connector "
            f"({len(MIGRATIONS)}); upgrade ml-connector or restore a matching backup"
        )
    for number in range(version, len(MIGRATIONS)):
        script = MIGRATIONS[number]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a migration into statements (no semicolons inside our DDL literals)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def make_private(path: Path) -> None:
    """Create the state database owner-only before SQLite does: a new directory 0700, the
    file 0600 (SQLite gives its -wal and -shm files the database file's mode). The state
    holds payloads of financial documents and the encrypted vault, so a file others can
    read is tightened too; an existing directory is left as it is (it may be shared).

    An existing file is never opened here: closing any descriptor of a file drops every
    POSIX lock this process holds on it, SQLite's included, and the vault reconnects while
    the store's connection is open.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            os.chmod(path, mode & 0o700)  # others lose access; the owner's bits stay


def connect_sync(path: str) -> sqlite3.Connection:
    """A synchronous connection with the pragmas every ml-connector connection uses (the
    file made owner-only first, see :func:`make_private`)."""
    make_private(Path(path))
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
