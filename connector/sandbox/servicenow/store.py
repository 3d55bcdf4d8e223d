"""The instance's rows: every table a dict of sys_id → record, every value a string.

Inserts and updates maintain the ``sys_*`` columns as the server does (callers cannot set
them): ``sys_mod_count`` rises by one per update, ``sys_updated_on`` is the UTC second of the
change. A Table API insert always inserts; nothing here deduplicates.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from connector.sandbox.servicenow.query import Record
from connector.sandbox.servicenow.schema import SYS_FIELDS, TABLES, Table


def utc_now() -> str:
    """The server clock as ServiceNow writes it: ``yyyy-MM-dd HH:mm:ss`` in UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def new_sys_id() -> str:
    return secrets.token_hex(16)


class Instance:
    """All rows of one instance, plus the counters behind auto-numbers."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Record]] = {name: {} for name in TABLES}
        self._numbers: dict[str, int] = {}

    def table_rows(self, table: str) -> list[Record]:
        return list(self.rows[table].values())

    def get(self, table: str, sys_id: str) -> Record | None:
        return self.rows[table].get(sys_id)

    def next_number(self, prefix: str) -> str:
        self._numbers[prefix] = self._numbers.get(prefix, 1000) + 1
        return f"{prefix}{self._numbers[prefix]:07d}"

    def insert(
        self,
        table: Table,
        values: Mapping[str, str],
        *,
        user: str,
        at: str | None = None,
        sys_id: str | None = None,
    ) -> Record:
        """A new row from the table's known columns (others ignored); returns it."""
        when = at or utc_now()
        record: Record = {column: "" for column in table.columns}
        record.update({k: v for k, v in values.items() if k in table.columns})
        if table.number_prefix and "number" in table.columns and not record.get("number"):
            record["number"] = self.next_number(table.number_prefix)
        record.update(
            {
                "sys_id": sys_id or new_sys_id(),
                "sys_created_on": when,
                "sys_updated_on": when,
                "sys_created_by": user,
                "sys_updated_by": user,
                "sys_mod_count": "0",
            }
        )
        self.rows[table.name][record["sys_id"]] = record
        return record

    def update(
        self, table: Table, record: Record, values: Mapping[str, str], *, user: str
    ) -> Record:
        changes = {k: v for k, v in values.items() if k in table.columns and k not in SYS_FIELDS}
        record.update(changes)
        record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)
        record["sys_updated_on"] = utc_now()
        record["sys_updated_by"] = user
        return record

    def delete(self, table: str, sys_id: str) -> None:
        self.rows[table].pop(sys_id, None)

    def find(self, table: str, **equal: str) -> Record | None:
        """The first row whose columns equal the given values (transform lookups)."""
        for record in self.rows[table].values():
            if all(record.get(k) == v for k, v in equal.items()):
                return record
        return None
