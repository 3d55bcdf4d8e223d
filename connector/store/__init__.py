"""Persistent state: ledger, audit, cursors, dead letters, review, inbox, mappings, runs.

Public surface: :func:`open_store` (the backend chosen by the location), :class:`Store`
(reads + ``commit``), :class:`Unit` (a set of changes that commit together), the row types
in :mod:`connector.store.records`, and :class:`StoreError`.
"""

from pathlib import Path

from connector.store.db import ClaimLostError, StoreError
from connector.store.records import (
    AuditEvent,
    DeadLetter,
    InboxEvent,
    LedgerEntry,
    MappingOverride,
    MappingRow,
    RecordKey,
    ReviewItem,
    RunRow,
    State,
)
from connector.store.store import Store
from connector.store.tx import Unit

#: URL schemes that select the PostgreSQL backend; anything else is a SQLite file path.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL state (a URL) rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


async def open_store(
    location: str | Path,
    *,
    writer: bool = True,
    lock: bool = True,
    schema: str = "public",
    pool_size: int = 2,
) -> Store:
    """Open the state at ``location``: a ``postgresql://…`` URL, else a SQLite file path.

    ``writer``/``lock`` mean the same on both backends: a writer with ``lock`` is the only
    writer (a second is refused with ``StateLockedError`` naming the holder); ``lock=False``
    is one of several writers whose ledger claims and leases keep each record to one of
    them; ``writer=False`` only reads. ``schema`` (PostgreSQL only) is the tenant's schema:
    many tenants share one database, each in its own schema, locked separately.

    A PostgreSQL store holds one write connection, up to ``pool_size`` read connections and,
    with ``lock``, the lock's connection: size the server's ``max_connections`` for
    stores × nodes.
    """
    if is_postgres(location):
        from connector.store.pg import PgDatabase  # psycopg is loaded only when used

        return Store(
            await PgDatabase.open(
                str(location), schema=schema, writer=writer, lock=lock, pool_size=pool_size
            )
        )
    if schema != "public":
        raise ValueError(
            f"schema {schema!r} was given for the SQLite state {location}: tenants in schemas "
            'need a PostgreSQL store (store.url = "postgresql://…")'
        )
    return await Store.open(Path(location), writer=writer, lock=lock)


__all__ = [
    "is_postgres",
    "open_store",
    "AuditEvent",
    "DeadLetter",
    "InboxEvent",
    "LedgerEntry",
    "MappingOverride",
    "MappingRow",
    "RecordKey",
    "ReviewItem",
    "RunRow",
    "State",
    "Store",
    "ClaimLostError",
    "StoreError",
    "Unit",
]
