"""Mongoose ``ido/update``: inserts, updates and deletes, with ``_ItemId`` optimistic locking.

Body (Mongoose's UpdateCollection request)::

    {"Changes": [{"Action": 1|2|4, "ItemId": "PBT=[table] table.DT=[…] table.ID=[…]",
                  "Properties": [{"Name": "…", "Value": "…", "Modified": true,
                                  "IsNull": false}, …],
                  "UpdateLocking": 1}, …]}

Action 1 inserts (``ItemId`` may be ``PBT=[table]`` or absent), 2 updates, 4 deletes. An
update or delete names its row by ``ItemId``; when the ``DT`` in it is not the row's last
change any more, someone changed the row since it was read and the change is refused (the
client must re-read and re-apply). An update with an empty ``ItemId`` names the row by its
key properties instead and is not locked, as Mongoose documents. Only properties marked
``Modified`` are written.

All changes of one request commit together or not at all. The answer is
``{"Message": null, "Success": true}``; with ``refresh=true`` in the query it also carries
``Changes``: each change with the row's properties as saved (a numbered ``Voucher``
included) and its new ``ItemId`` — what a client reads back after an insert. Refusals are
HTTP 200 with ``"Success": false`` and the reason in ``Message``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connector.sandbox.infor.syteline_filter import compare_values, sql_text
from connector.sandbox.infor.syteline_idos import IDOS, Ido, convert, now, wire

Row = dict[str, Any]
INSERT, UPDATE, DELETE = 1, 2, 4
_ITEM_ID = re.compile(
    r"^PBT=\[(?P<table>\w+)\](?: \w+\.DT=\[(?P<dt>[^\]]*)\] \w+\.ID=\[(?P<id>[^\]]*)\])?$"
)


class UpdateError(ValueError):
    """A change is refused; the message goes back in ``Message``."""


Key = tuple[Any, ...]


def key_of(keys: tuple[str, ...], row: Row) -> Key | None:
    """``row``'s values of ``keys`` as the collation compares them; None if one is NULL."""
    values = []
    for name in keys:
        value = row.get(name)
        if value is None:
            return None
        values.append(sql_text(value) if isinstance(value, str) else value)
    return tuple(values)


@dataclass
class Tables:
    """Every IDO's rows by RowPointer, and each IDO's RowPointer by key (so an insert's
    uniqueness and parent checks do not scan tables); a request works on a copy and swaps
    it in at the end."""

    rows: dict[str, dict[str, Row]] = field(default_factory=lambda: {name: {} for name in IDOS})
    keys: dict[str, dict[Key, str]] = field(default_factory=lambda: {name: {} for name in IDOS})
    next_voucher: int = 1

    def copy(self) -> Tables:
        return Tables(
            {name: dict(rows) for name, rows in self.rows.items()},
            {name: dict(index) for name, index in self.keys.items()},
            self.next_voucher,
        )

    def by_key(self, ido: Ido, row: Row, keys: tuple[str, ...] | None = None) -> Row | None:
        """The row of ``ido`` whose key equals ``row``'s values of ``keys`` (default: the
        IDO's own key names, which a parent link may spell from the child's side)."""
        key = key_of(keys or ido.keys, row)
        pointer = self.keys[ido.name].get(key) if key is not None else None
        return self.rows[ido.name].get(pointer) if pointer is not None else None


def item_id(ido: Ido, row: Row) -> str:
    changed: datetime = row["_changed"]
    stamp = changed.strftime("%Y-%m-%d %H:%M:%S.") + f"{changed.microsecond // 1000:03d}"
    return f"PBT=[{ido.table}] {ido.table}.DT=[{stamp}] {ido.table}.ID=[{row['RowPointer']}]"


def _same_key(ido: Ido, keys: tuple[str, ...], a: Row, b: Row) -> bool:
    return all(
        a.get(k) is not None and b.get(k) is not None and compare_values(a[k], b[k]) == 0
        for k in keys
    )


def _describe(ido: Ido, row: Row) -> str:
    return f"{ido.noun} " + " / ".join(str(wire(row.get(k))) for k in ido.keys)


@dataclass
class Change:
    action: int
    item_id: str
    values: dict[str, Any]


def parse_changes(ido: Ido, body: Any) -> list[Change]:
    """The body's changes, each property converted to its type; raises UpdateError."""
    if not isinstance(body, dict) or not isinstance(body.get("Changes"), list):
        raise UpdateError(
            'The request body must be {"Changes": [{"Action": …, "Properties": […]}]}'
        )
    changes: list[Change] = []
    for number, raw in enumerate(body["Changes"], 1):
        if not isinstance(raw, dict) or raw.get("Action") not in (INSERT, UPDATE, DELETE):
            raise UpdateError(
                f"Change {number}: Action must be 1 (insert), 2 (update) or 4 (delete)"
            )
        values: dict[str, Any] = {}
        properties = raw.get("Properties") or []
        if not isinstance(properties, list):
            raise UpdateError(f"Change {number}: Properties must be a list")
        lookup = {name.casefold(): name for name in ido.props}
        for prop in properties:
            if not isinstance(prop, dict) or not isinstance(prop.get("Name"), str):
                raise UpdateError(f"Change {number}: every property needs a Name")
            if prop.get("Modified") is False:
                continue
            name = lookup.get(prop["Name"].casefold())
            if name is None:
                raise UpdateError(
                    f"Property '{prop['Name']}' does not exist in IDO collection {ido.name}."
                )
            if ido.props[name].read_only:
                raise UpdateError(f"Property '{name}' of {ido.name} is read-only.")
            value = prop.get("Value")
            if prop.get("IsNull") is True or value is None:
                values[name] = None
                continue
            text = value if isinstance(value, str) else str(value)
            if ido.props[name].type == "String" and text == "":
                values[name] = None
                continue
            try:
                values[name] = convert(ido, name, text)
            except ValueError:
                raise UpdateError(
                    f"'{text}' is not a valid value for {name} ({ido.props[name].type})"
                ) from None
        changes.append(Change(raw["Action"], str(raw.get("ItemId") or ""), values))
    return changes


class Applier:
    """Applies changes to a copy of the tables; ``duplicate_invoices`` is the A/P parameter
    that lets two vouchers of one vendor carry the same vendor invoice number."""

    def __init__(self, tables: Tables, *, duplicate_invoices: bool) -> None:
        self.tables = tables
        self.duplicate_invoices = duplicate_invoices

    def _stamp(self, row: Row, previous: datetime | None = None) -> None:
        moment = now()
        # DT must change on every write, or a stale _ItemId could pass for a fresh one.
        if previous is not None and moment <= previous:
            moment = previous + timedelta(milliseconds=1)
        row["_changed"] = moment
        row["RecordDate"] = moment

    def apply(self, ido: Ido, change: Change) -> Row | None:
        if change.action == INSERT:
            return self._insert(ido, change.values)
        row = self._locate(ido, change)
        if change.action == DELETE:
            self._delete(ido, row)
            return None
        return self._update(ido, row, change.values)

    def _locate(self, ido: Ido, change: Change) -> Row:
        table = self.tables.rows[ido.name]
        if not change.item_id:
            if not all(change.values.get(k) is not None for k in ido.keys):
                raise UpdateError(
                    f"Without an ItemId every key property of {ido.name} is needed: "
                    f"{', '.join(ido.keys)}"
                )
            row = self.tables.by_key(ido, change.values)
            if row is None:
                raise UpdateError(f"{_describe(ido, change.values)} does not exist.")
            return row
        match = _ITEM_ID.match(change.item_id)
        if match is None or match.group("id") is None or match.group("table") != ido.table:
            raise UpdateError(f"ItemId '{change.item_id}' does not name a row of {ido.name}.")
        found = table.get(match.group("id"))
        if found is None:
            raise UpdateError(
                f"The {ido.noun.lower()} was deleted by another user since it was read."
            )
        if item_id(ido, found) != change.item_id:
            raise UpdateError(
                f"{_describe(ido, found)} was changed by another user since it was read "
                "(optimistic locking): load it again and re-apply the change."
            )
        return found

    def _check(self, ido: Ido, row: Row) -> None:
        for name, prop in ido.props.items():
            value = row.get(name)
            if value is None:
                if prop.required:
                    raise UpdateError(f"{ido.noun}: property {name} is required.")
                continue
            if prop.type == "String" and prop.length and len(value) > prop.length:
                raise UpdateError(
                    f"{ido.noun}: {name} '{value}' is longer than {prop.length} characters."
                )
            allowed = ido.choices.get(name)
            if allowed is not None and value not in allowed:
                raise UpdateError(f"{ido.noun}: {name} '{value}' is not one of {sorted(allowed)}.")
        for link in ido.parents:
            if self.tables.by_key(IDOS[link.ido], row, link.keys) is None:
                shown = " / ".join(str(wire(row.get(k))).strip() for k in link.keys)
                raise UpdateError(f"{ido.noun}: {link.what} {shown} is not valid.")

    def _derive(self, ido: Ido, row: Row) -> None:
        """Read-only properties the server fills from related rows."""
        if ido.name in ("SLAptrxs", "SLPos"):
            vendor = self.tables.by_key(IDOS["SLVendors"], row)
            row["VenCurrCode" if ido.name == "SLAptrxs" else "CurrCode"] = (
                vendor.get("CurrCode") if vendor else None
            )
        if ido.name == "SLAptrxds":
            header = self.tables.by_key(IDOS["SLAptrxs"], row)
            row["InvNum"] = header.get("InvNum") if header else None

    def _insert(self, ido: Ido, values: dict[str, Any]) -> Row:
        row: Row = {name: prop.default for name, prop in ido.props.items()}
        row.update(values)
        if ido.numbered and row.get(ido.numbered) in (None, 0):
            row[ido.numbered] = self.tables.next_voucher
            self.tables.next_voucher += 1
        self._check(ido, row)
        table = self.tables.rows[ido.name]
        if self.tables.by_key(ido, row) is not None:
            raise UpdateError(f"{_describe(ido, row)} already exists.")
        if ido.name == "SLAptrxs" and not self.duplicate_invoices:
            for other in table.values():
                if _same_key(ido, ("VendNum", "InvNum"), other, row):
                    raise UpdateError(
                        f"Vendor invoice {row['InvNum']} already exists for vendor "
                        f"{str(row['VendNum']).strip()} on voucher {other['Voucher']}."
                    )
        row["RowPointer"] = str(uuid.uuid4())
        self._stamp(row)
        row["CreateDate"] = row["RecordDate"]
        self._derive(ido, row)
        table[row["RowPointer"]] = row
        key = key_of(ido.keys, row)
        if key is not None:
            self.tables.keys[ido.name][key] = row["RowPointer"]
        return row

    def _update(self, ido: Ido, row: Row, values: dict[str, Any]) -> Row:
        for key in ido.keys:
            if key in values and (
                values[key] is None or compare_values(values[key], row[key]) != 0
            ):
                raise UpdateError(f"{ido.noun}: the key property {key} cannot be changed.")
        changed = {**row, **values}
        self._check(ido, changed)
        self._stamp(changed, row["_changed"])
        self._derive(ido, changed)
        self.tables.rows[ido.name][row["RowPointer"]] = changed
        return changed

    def _delete(self, ido: Ido, row: Row) -> None:
        for child in IDOS.values():
            for link in child.parents:
                if link.ido == ido.name and any(
                    _same_key(child, link.keys, other, row)
                    for other in self.tables.rows[child.name].values()
                ):
                    raise UpdateError(
                        f"{_describe(ido, row)} cannot be deleted: {child.name} rows use it."
                    )
        del self.tables.rows[ido.name][row["RowPointer"]]
        key = key_of(ido.keys, row)
        if key is not None:
            self.tables.keys[ido.name].pop(key, None)


def run_update(
    tables: Tables,
    ido: Ido,
    body: Any,
    *,
    refresh: bool,
    duplicate_invoices: bool,
    first_change_only: bool = False,
) -> tuple[Tables, dict[str, Any]]:
    """The tables after the request and its answer; raises UpdateError (tables untouched).
    ``first_change_only`` saves (and answers) only the first change, still with Success."""
    changes = parse_changes(ido, body)
    if first_change_only:
        changes = changes[:1]
    staged = tables.copy()
    applier = Applier(staged, duplicate_invoices=duplicate_invoices)
    saved = [applier.apply(ido, change) for change in changes]
    answer: dict[str, Any] = {"Message": None, "Success": True}
    if refresh:
        answer["Changes"] = [
            {
                "Action": change.action,
                "ItemId": item_id(ido, row) if row is not None else change.item_id,
                "Properties": []
                if row is None
                else [
                    {
                        "Name": name,
                        "Value": wire(row.get(name)),
                        "Modified": False,
                        "IsNull": row.get(name) is None,
                    }
                    for name in ido.props
                ],
            }
            for change, row in zip(changes, saved, strict=True)
        ]
    return staged, answer
