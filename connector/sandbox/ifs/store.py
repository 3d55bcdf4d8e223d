"""Rows of every entity set, with the OBJID/OBJVERSION pair behind each ETag.

An ETag is ``W/"`` + base64(``W/"{OBJID}:{OBJVERSION}"``) + ``"`` (sheet §5): OBJID an
18-character row id, OBJVERSION a ``YYYYMMDDHHMMSS`` stamp. The store's clock hands out
stamps that grow by at least one second per write, so the ETag changes on *every* write,
even two in the same second.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from connector.sandbox.ifs.schema import ENTITY_SETS, EntitySet, lu_key_name

Key = tuple[Any, ...]
#: Where the clock starts: the objversions look like the ones real tenants send.
EPOCH = dt.datetime(2025, 3, 1, 8, 0, 0)


@dataclass
class Row:
    """One stored row: attribute values plus its OBJID and current OBJVERSION."""

    values: dict[str, Any]
    objid: str
    objversion: str

    @property
    def etag(self) -> str:
        inner = f'W/"{self.objid}:{self.objversion}"'
        return f'W/"{base64.b64encode(inner.encode()).decode()}"'


@dataclass
class Table:
    """Rows of one entity set by key, in insertion order."""

    spec: EntitySet
    rows: dict[Key, Row] = field(default_factory=dict)

    def key_of(self, values: dict[str, Any]) -> Key:
        return tuple(values.get(name) for name in self.spec.keys)

    def keyref(self, row: Row) -> str:
        return "".join(f"{lu_key_name(k)}={row.values.get(k)}^" for k in self.spec.keys)


class Store:
    """Every table of the tenant, and the clock that versions their rows."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {path: Table(spec) for path, spec in ENTITY_SETS.items()}
        self._clock = EPOCH
        self._rows_made = 0

    def table(self, path: str) -> Table:
        return self.tables[path]

    def next_version(self) -> str:
        """A fresh OBJVERSION, later than every one handed out before."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        self._clock = max(now, self._clock + dt.timedelta(seconds=1))
        return self._clock.strftime("%Y%m%d%H%M%S")

    def insert(self, path: str, values: dict[str, Any]) -> Row:
        table = self.tables[path]
        self._rows_made += 1
        # A counter, not a random id: seeded tenants must be identical, ETags included.
        row = Row(values, f"AAASFX{self._rows_made:012X}", self.next_version())
        table.rows[table.key_of(values)] = row
        return row

    def touch(self, row: Row) -> None:
        """Record a write to ``row``: a new OBJVERSION, hence a new ETag."""
        row.objversion = self.next_version()
