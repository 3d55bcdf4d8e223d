"""Persistent state: ledger, audit, cursors, dead letters, review, inbox, mappings, runs.

Public surface: :class:`Store` (reads + ``commit``), :class:`Unit` (a set of changes that
commit together), the row types in :mod:`connector.store.records`, and :class:`StoreError`.
"""

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

__all__ = [
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
