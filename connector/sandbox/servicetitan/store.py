"""The simulated tenant's data: one table per entity, records kept in their API shape.

Records are the JSON objects the API's GET returns, plus private keys starting with ``_``
that never leave the simulator: ``_ext`` (externalData per application guid), ``_active``
for entities whose GET model has no ``active`` (export feeds report it), and a few links
(a vendor's account number, a PO's ship-to description). :func:`public` drops them.

Every change goes through :meth:`Store.touch`, which bumps ``modifiedOn`` from the strictly
increasing :class:`~.wire.Clock` and tells the listener (webhooks) what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from connector.sandbox.servicetitan.wire import Clock, Record, format_ticks, parse_ticks

ChangeListener = Callable[[str, Record, bool], None]

#: Table name → first id. Distinct ranges make a stray id in a test failure easy to place.
TABLES: dict[str, int] = {
    "business_units": 1_000,
    "tax_zones": 2_000,
    "gl_accounts": 3_000,
    "warehouses": 4_000,
    "purchase_order_types": 5_000,
    "vendors": 10_000,
    "materials": 20_000,
    "equipment": 30_000,
    "services": 40_000,
    "customers": 100_000,
    "locations": 200_000,
    "contacts": 250_000,
    "jobs": 300_000,
    "invoices": 400_000,
    "invoice_items": 500_000,
    "payments": 600_000,
    "purchase_orders": 700_000,
    "purchase_order_items": 750_000,
    "receipts": 800_000,
    "receipt_items": 850_000,
    "bills": 900_000,
    "bill_items": 950_000,
    "adjustments": 1_000_000,
    "adjustment_items": 1_050_000,
}

#: Tables that hold rows (the rest only hand out ids for nested items).
ENTITY_TABLES = (
    "business_units",
    "tax_zones",
    "gl_accounts",
    "warehouses",
    "purchase_order_types",
    "vendors",
    "materials",
    "equipment",
    "services",
    "customers",
    "jobs",
    "invoices",
    "payments",
    "purchase_orders",
    "receipts",
    "inventory_bills",
    "ap_bills",
    "adjustments",
)


class Table:
    """One entity's records by id, in id order (ids only grow, so insertion order)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: dict[int, Record] = {}

    def get(self, record_id: int) -> Record | None:
        return self.rows.get(record_id)

    def all(self) -> list[Record]:
        return list(self.rows.values())

    def __len__(self) -> int:
        return len(self.rows)


class Store:
    """All tables of the one sandbox tenant, its id sequences and its clock."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.listener: ChangeListener | None = None
        self.clear()

    def clear(self) -> None:
        """Forget every record and restart the id sequences (the clock keeps running)."""
        self.tables: dict[str, Table] = {name: Table(name) for name in ENTITY_TABLES}
        self._next_ids = dict(TABLES)
        #: When set, every touch uses this instant (a batch sharing one ``modifiedOn``).
        self.pinned_ticks: int | None = None

    def table(self, name: str) -> Table:
        return self.tables[name]

    def new_id(self, sequence: str) -> int:
        """The next id of a sequence; bills share one so an AP bill and its inventory bill
        are the same bill seen through two endpoints."""
        self._next_ids[sequence] += 1
        return self._next_ids[sequence]

    def next_id(self, table: str) -> int:
        """A new id for ``table``: from its sequence when it has one, else past its largest."""
        if table in self._next_ids:
            return self.new_id(table)
        return max((int(r["id"]) for r in self.tables[table].all()), default=0) + 1

    def stamp(self) -> str:
        ticks = self.pinned_ticks if self.pinned_ticks is not None else self.clock.now()
        return format_ticks(ticks)

    def insert(self, table: str, record: Record, *, notify: bool = True) -> Record:
        """Add a new record (its ``createdOn``/``modifiedOn`` already set by the builder)."""
        self.tables[table].rows[record["id"]] = record
        if notify and self.listener is not None:
            self.listener(table, record, True)
        return record

    def touch(
        self, table: str, record: Record, *, notify: bool = True, stamp: str | None = None
    ) -> None:
        """Record that ``record`` changed: bump ``modifiedOn`` (to ``stamp`` when the seeder
        supplies its own timeline) and tell the listener."""
        record["modifiedOn"] = stamp or self.stamp()
        if notify and self.listener is not None:
            self.listener(table, record, False)

    def counts(self) -> dict[str, int]:
        return {name: len(table) for name, table in self.tables.items()}


# -- externalData -------------------------------------------------------------------------


def external_entries(record: Record, guid: str | None) -> list[Record]:
    """The ``externalData`` a GET shows: the given application's pairs, none without a guid.

    The specs say the guid parameter selects which application's data is returned; a client
    that forgets it must see nothing here, as it would on a real tenant.
    """
    if guid is None:
        return []
    pairs: dict[str, str] = record.get("_ext", {}).get(guid.lower(), {})
    return [{"key": key, "value": value} for key, value in pairs.items()]


def store_external(record: Record, payload: Record, *, patch: bool) -> None:
    """Apply a validated ``externalData`` request object (``patchMode`` Replace or Merge).

    Replace (the default) swaps the application's pairs for the new list; Merge updates keys
    and removes those sent with a null value.
    """
    ext: dict[str, dict[str, str]] = record.setdefault("_ext", {})
    guid = str(payload["applicationGuid"]).lower()
    mode = payload.get("patchMode") or "Replace"
    pairs = {} if not patch or mode == "Replace" else dict(ext.get(guid, {}))
    for entry in payload["externalData"]:
        if entry.get("value") is None:
            pairs.pop(entry["key"], None)
        else:
            pairs[entry["key"]] = entry["value"]
    ext[guid] = pairs


def matches_external(record: Record, guid: str | None, key: str, values: Iterable[str]) -> bool:
    """Whether ``record`` has ``key`` set to one of ``values`` (for ``guid``, or any app)."""
    wanted = set(values)
    ext: dict[str, dict[str, str]] = record.get("_ext", {})
    apps = [ext.get(guid.lower(), {})] if guid is not None else list(ext.values())
    return any(pairs.get(key) in wanted for pairs in apps)


# -- views --------------------------------------------------------------------------------


def public(record: Record, guid: str | None = None) -> Record:
    """The record as the API returns it: private keys dropped, externalData per ``guid``."""
    view = {key: value for key, value in record.items() if not key.startswith("_")}
    if "externalData" in view:
        view["externalData"] = external_entries(record, guid)
    return view


def with_active(record: Record, guid: str | None = None) -> Record:
    """The export-feed view of entities whose GET model lacks ``active`` (bills, jobs)."""
    view = public(record, guid)
    view["active"] = record.get("_active", True)
    return view


def debug_view(record: Record) -> Record:
    """The record for ``/_sandbox/state``: public fields plus every application's data."""
    view = {key: value for key, value in record.items() if not key.startswith("_")}
    ext: dict[str, dict[str, str]] = record.get("_ext", {})
    if ext or "externalData" in view:
        view["externalData"] = [
            {"applicationGuid": guid, "key": key, "value": value}
            for guid, pairs in ext.items()
            for key, value in pairs.items()
        ]
    return view


def modified_ticks(record: Record) -> int:
    ticks = parse_ticks(record["modifiedOn"])
    return 0 if ticks is None else ticks


def created_ticks(record: Record) -> int:
    ticks = parse_ticks(record.get("createdOn") or record["modifiedOn"])
    return 0 if ticks is None else ticks
