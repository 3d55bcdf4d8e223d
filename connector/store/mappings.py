"""Mapping tables (GL, cost center, business unit → subaccount…), with their origin.

Part of :class:`~connector.store.store.Store` (a mixin over its database). The config file
is authoritative for the mappings it declares; answers given with ``review resolve`` stay.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from connector.store.db import StateDatabase
from connector.store.records import MappingOverride, MappingRow
from connector.store.tx import Unit


class MappingQueries:
    """Mapping reads and writes; ``db`` is the store's database."""

    db: StateDatabase

    # -- mappings -----------------------------------------------------------------------
    async def mapping(self, kind: str) -> dict[str, str]:
        """One mapping table: source code → target value."""
        return (await self.all_mappings()).get(kind, {})

    async def all_mappings(self) -> dict[str, dict[str, str]]:
        rows = await self.db.fetchall("SELECT kind, source_key, target_value FROM mappings")
        result: dict[str, dict[str, str]] = {}
        for kind, key, value in rows:
            result.setdefault(kind, {})[key] = value
        return result

    async def set_mappings(
        self, kind: str, values: Mapping[str, str], *, origin: str = "cli"
    ) -> None:
        """Add or change mappings of one kind (``origin`` "cli": an operator's answer)."""
        now = time.time()
        await self.db.write(
            [
                (
                    "INSERT INTO mappings (kind, source_key, target_value, updated_at, origin) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, source_key) DO UPDATE SET "
                    "target_value = excluded.target_value, updated_at = excluded.updated_at, "
                    "origin = excluded.origin",
                    (kind, key, value, now, origin),
                )
                for key, value in values.items()
            ]
        )

    async def load_config_mappings(
        self, mappings: Mapping[str, Mapping[str, str]]
    ) -> list[MappingOverride]:
        """Make the stored mappings match the config file, in one unit.

        The config is authoritative for what it declares: every earlier config row is
        replaced (so a key deleted from the file is gone), and a key the config shares with
        a `review resolve` answer takes the config's value. Answers for other keys stay.
        Returns the answers the config overrode with a different value, for a warning.
        """
        rows = await self.mapping_rows()
        overridden = [
            MappingOverride(row.kind, row.key, mappings[row.kind][row.key], row.value)
            for row in rows
            if row.origin != "config"
            and row.key in mappings.get(row.kind, {})
            and mappings[row.kind][row.key] != row.value
        ]
        now = time.time()
        unit = Unit().raw("DELETE FROM mappings WHERE origin = 'config'", ())
        for kind, values in mappings.items():
            for key, value in values.items():
                unit.raw(
                    "INSERT INTO mappings (kind, source_key, target_value, updated_at, origin) "
                    "VALUES (?, ?, ?, ?, 'config') ON CONFLICT (kind, source_key) DO UPDATE "
                    "SET target_value = excluded.target_value, "
                    "updated_at = excluded.updated_at, origin = 'config'",
                    (kind, key, value, now),
                )
        await self.db.write(unit.statements)
        return overridden

    async def mapping_rows(self) -> list[MappingRow]:
        """Every stored mapping with its origin, by kind and key."""
        rows = await self.db.fetchall(
            "SELECT kind, source_key, target_value, origin, updated_at FROM mappings "
            "ORDER BY kind, source_key"
        )
        return [MappingRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def delete_mapping(self, kind: str, key: str) -> None:
        await self.db.write(
            [("DELETE FROM mappings WHERE kind = ? AND source_key = ?", (kind, key))]
        )
