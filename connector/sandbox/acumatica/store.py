"""Records of one simulated tenant: tables keyed like the real system, and a strict clock.

A :class:`Table` holds the records of one entity, finds them by ``id`` or by key fields
(case-insensitively, as SQL Server's collation does) and hands out document numbers.
:class:`Clock` issues ``LastModifiedDateTime`` values that always increase and carry
millisecond precision, so a client that filters ``gt`` the last value it saw never reads the
same change twice and never misses one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.sandbox.acumatica.schema import EntityDef, fields_of


class Clock:
    """Strictly increasing UTC timestamps truncated to milliseconds."""

    def __init__(self) -> None:
        self._last: datetime | None = None

    def now(self) -> datetime:
        wall = datetime.now(UTC)
        current = wall.replace(microsecond=wall.microsecond // 1000 * 1000)
        if self._last is not None and current <= self._last:
            current = self._last + timedelta(milliseconds=1)
        self._last = current
        return current

    def at_least(self, moment: datetime) -> None:
        """Make every later timestamp come after ``moment`` (used when seeding history)."""
        if self._last is None or moment > self._last:
            self._last = moment


def stamp(moment: datetime) -> str:
    """The wire form of a timestamp: ISO 8601 with milliseconds and the offset."""
    return moment.isoformat(timespec="milliseconds")


class Record:
    """One stored record: its plain values (with nested ids) and its timestamps."""

    __slots__ = ("created", "id", "modified", "released", "values")

    def __init__(self, record_id: str, values: dict[str, Any], now: datetime) -> None:
        self.id = record_id
        self.values = values
        self.created = now
        self.modified = now
        self.released = False


class Table:
    """The records of one entity, in key order on read, indexed by id and by key."""

    def __init__(self, entity: EntityDef) -> None:
        self.entity = entity
        self.records: dict[str, Record] = {}
        self._by_key: dict[tuple[str, ...], str] = {}
        self._key_of_id: dict[str, tuple[str, ...]] = {}
        self._numbers: set[str] = set()
        self._next_number = 1

    def key_of(self, values: dict[str, Any]) -> tuple[str, ...] | None:
        """The lookup key of plain values, or None when a key field is missing."""
        parts = [values.get(name) for name in self.entity.keys]
        if any(not isinstance(part, str) or not part for part in parts):
            return None
        return tuple(str(part).casefold() for part in parts)

    def find(self, key: tuple[str, ...]) -> Record | None:
        record_id = self._by_key.get(key)
        return None if record_id is None else self.records.get(record_id)

    def get(self, record_id: str) -> Record | None:
        return self.records.get(record_id)

    def put(self, record: Record) -> None:
        """Store a new record or re-index an updated one."""
        old_key = self._key_of_id.pop(record.id, None)
        if old_key is not None:
            self._by_key.pop(old_key, None)
        self.records[record.id] = record
        key = self.key_of(record.values)
        if key is not None:
            self._by_key[key] = record.id
            self._key_of_id[record.id] = key
        number = record.values.get(self.entity.number_field)
        if isinstance(number, str):
            self._numbers.add(number)

    def delete(self, record: Record) -> None:
        key = self._key_of_id.pop(record.id, None)
        if key is not None:
            self._by_key.pop(key, None)
        self.records.pop(record.id, None)

    def ordered(self) -> list[Record]:
        """All records sorted by key, the order the real API lists them in."""
        return sorted(self.records.values(), key=lambda r: self.key_of(r.values) or ())

    def take_number(self) -> str:
        """The next number of the document sequence, e.g. ``000123``."""
        while True:
            number = f"{self._next_number:06d}"
            self._next_number += 1
            if number not in self._numbers:
                return number


def merge(schema: str, current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``current`` updated by a decoded ``patch`` the way the contract-based API applies a PUT.

    Scalars present in the patch replace the stored ones; linked entities merge field by
    field; detail rows with an ``id`` update (or, with ``delete``, remove) that row, and
    rows without an ``id`` are *added*, so re-sending a document's lines appends them again.
    """
    merged = dict(current)
    merged.setdefault("id", str(uuid.uuid4()))
    fields = fields_of(schema)
    for name, value in patch.items():
        field = fields.get(name)
        if field is None:
            if name == "note":
                merged[name] = value
            continue
        if field.kind == "obj" and field.target is not None:
            merged[name] = merge(field.target, current.get(name) or {}, value)
        elif field.kind == "list" and field.target is not None:
            merged[name] = _merge_rows(field.target, current.get(name) or [], value)
        else:
            merged[name] = value
    return merged


def _merge_rows(
    schema: str, rows: list[dict[str, Any]], patch_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    result = [dict(row) for row in rows]
    for patch_row in patch_rows:
        body = {k: v for k, v in patch_row.items() if k not in ("id", "delete")}
        row_id = patch_row.get("id")
        index = next((i for i, row in enumerate(result) if row.get("id") == row_id), None)
        if row_id is not None and index is not None:
            if patch_row.get("delete"):
                del result[index]
            else:
                result[index] = merge(schema, result[index], body)
        elif not patch_row.get("delete"):
            result.append(merge(schema, {}, body))
    return result
