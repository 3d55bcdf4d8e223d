"""Where the rows of the spec-driven endpoints come from.

A resource whose vendor model has a seeded counterpart is *derived* from the tenant's
tables, live, so it stays consistent with them: a location belongs to a seeded customer,
an appointment is its job's first appointment, an invoice item sits on its invoice, a
technician is the one invoice items name. Other resources (bookings, leads, projects,
credit memos…) are *generated* once per seed from their schema, with foreign keys drawn
from the seeded tables (:class:`.fake.Links`). Sub-resources (``jobs/{id}/notes``) are
generated per parent, after checking that the parent exists.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connector.sandbox.servicetitan import catalog, facets, relations, spec
from connector.sandbox.servicetitan.fake import Links, Maker, conform
from connector.sandbox.servicetitan.spec import Operation
from connector.sandbox.servicetitan.store import external_entries, matches_external
from connector.sandbox.servicetitan.wire import ApiError, Record

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.simulator import ServiceTitanSimulator
    from connector.sandbox.servicetitan.store import Store

#: Rows generated for a top-level resource with no seeded counterpart.
GENERATED_ROWS = 12
#: Hand-built tables by (module, resource), for parent checks and foreign keys.
HAND_TABLES: dict[tuple[str, str], str] = {
    ("crm", "customers"): "customers",
    ("jpm", "jobs"): "jobs",
    ("accounting", "invoices"): "invoices",
    ("accounting", "payments"): "payments",
    ("inventory", "vendors"): "vendors",
    ("inventory", "purchase-orders"): "purchase_orders",
}
#: Foreign-key field → table whose ids it may take.
LINKED_TABLES = {
    "customerId": "customers",
    "jobId": "jobs",
    "invoiceId": "invoices",
    "paymentId": "payments",
    "businessUnitId": "business_units",
    "vendorId": "vendors",
    "purchaseOrderId": "purchase_orders",
    "taxZoneId": "tax_zones",
    "warehouseId": "warehouses",
    "inventoryLocationId": "warehouses",
    "skuId": "materials",
    "glAccountId": "gl_accounts",
}
Parent = tuple[str, int, Record | None]


@dataclass(frozen=True)
class ExternalLookup:
    """The externalData parameters of a request: whose data to show, and what to find."""

    guid: str | None
    key: str | None = None
    values: tuple[str, ...] = ()


Derive = Callable[["Store"], list[Record]]


@dataclass
class Written:
    """Writes to one spec-driven resource, laid over its derived or generated rows."""

    key: str = "id"
    added: list[Record] = field(default_factory=list)
    changed: dict[str, Record] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)

    def apply(self, rows: list[Record], parent: Parent | None) -> list[Record]:
        present = {str(row.get(self.key)) for row in rows}
        extra = [
            row
            for row in self.added
            if str(row.get(self.key)) not in present
            and (parent is None or row.get("_parent") == parent[1])
        ]
        return [
            row | self.changed.get(str(row.get(self.key)), {})
            for row in [*rows, *extra]
            if str(row.get(self.key)) not in self.deleted
        ]


def record_key(schema: spec.Schema) -> str:
    """The field that identifies a row: ``id``, else a required ``…Id`` (``taskId``)."""
    props = schema.get("properties", {})
    if "id" in props:
        return "id"
    named = [n for n in schema.get("required", ()) if n.endswith("Id") and n in props]
    return named[0] if named else "id"


#: Ids of records created through the generic writes.
FIRST_WRITTEN_ID = 90_000_000


def resource_key(path: str) -> str:
    """``export/job-notes`` → ``job-notes``; ``jobs/{id}/notes`` → ``jobs/notes``."""
    parts = [p for p in path.removeprefix("export/").split("/") if not p.startswith("{")]
    return "/".join(parts)


def foreign_key(resource: str) -> str:
    """``credit-memos`` → ``creditMemoId``: the field a child row uses for its parent."""
    words = resource.split("-")
    last = words[-1]
    last = last[:-3] + "y" if last.endswith("ies") else last.removesuffix("s")
    words[-1] = last
    return words[0] + "".join(w.title() for w in words[1:]) + "Id"


def _stable(*parts: object) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


def generated_ids(module: str, key: str) -> list[int]:
    """The ids the generated rows of a top-level resource take (seeding links to them)."""
    base = 10_000_000 + (_stable(module, key) % 900) * 10_000
    return [base + index for index in range(GENERATED_ROWS)]


def private(row: Record) -> Record:
    """The row's private fields (``_name``), which filters read and replies never show."""
    return {key: value for key, value in row.items() if key.startswith("_")}


def without_private(row: Record) -> Record:
    return {key: value for key, value in row.items() if not key.startswith("_")}


def _locations(store: Store) -> list[Record]:
    return [loc for c in store.table("customers").all() for loc in c.get("_locations", [])]


def _customer_contacts(store: Store) -> list[Record]:
    return [
        contact
        | {"customerId": c["id"], "modifiedOn": c["modifiedOn"], "createdOn": c["createdOn"]}
        for c in store.table("customers").all()
        for contact in c.get("_contacts", [])
    ]


def _location_contacts(store: Store) -> list[Record]:
    return [
        contact | {"locationId": loc["id"], "modifiedOn": loc["modifiedOn"]}
        for loc in _locations(store)
        for contact in loc.get("contacts", [])
    ]


def _appointments(store: Store) -> list[Record]:
    rows = []
    for job in store.table("jobs").all():
        if not job.get("firstAppointmentId"):
            continue
        rows.append(
            {
                "id": job["firstAppointmentId"],
                "jobId": job["id"],
                "customerId": job["customerId"],
                "locationId": job["locationId"],
                "appointmentNumber": f"{job['jobNumber']}-1",
                "start": job["createdOn"],
                "end": job.get("completedOn") or job["createdOn"],
                "status": relations.appointment_status(job),
                "unused": relations.appointment_unused(job),
                "active": True,
                "createdOn": job["createdOn"],
                "modifiedOn": job["modifiedOn"],
                "_technicianId": relations.technician_ids(job),
                "_projectId": job.get("projectId"),
            }
        )
    return rows


def _invoice_items(store: Store) -> list[Record]:
    return [
        item | {"invoiceId": inv["id"], "modifiedOn": item.get("modifiedOn") or inv["modifiedOn"]}
        for inv in store.table("invoices").all()
        for item in inv.get("items", [])
    ]


def _named(names: tuple[str, ...], first_id: int) -> Derive:
    def derive(store: Store) -> list[Record]:
        return [
            {"id": first_id + index, "name": name, "active": True}
            for index, name in enumerate(names)
        ]

    return derive


DERIVED: dict[tuple[str, str], Derive] = {
    ("crm", "locations"): _locations,
    ("crm", "customers/contacts"): _customer_contacts,
    ("crm", "locations/contacts"): _location_contacts,
    ("jpm", "appointments"): _appointments,
    ("accounting", "invoice-items"): _invoice_items,
    # Seeded invoice items name technicians 60000 + index (seeding.py).
    ("settings", "technicians"): _named(catalog.TECHNICIANS, 60_000),
    ("settings", "employees"): _named(catalog.OFFICE_STAFF, 65_000),
    # Seeded payments use type ids 61 + index.
    ("accounting", "payment-types"): _named(catalog.PAYMENT_TYPES, 61),
    ("accounting", "payment-terms"): _named(catalog.TERMS, 90),
    ("jpm", "job-types"): lambda store: [
        {"id": job_type_id, "name": name.title(), "active": True}
        for name, job_type_id in catalog.JOB_TYPES.items()
    ],
}


class Sources:
    """Rows per operation for one simulator; generated rows are kept until the next seed."""

    def __init__(self, sim: ServiceTitanSimulator) -> None:
        self.sim = sim
        self._generated: dict[tuple[str, str, int | None], list[Record]] = {}
        self._links: Links | None = None
        self._shaped: dict[tuple[str, str, Any, Any, str | None], Record] = {}
        self._written: dict[tuple[str, str], Written] = {}
        self._next_id = FIRST_WRITTEN_ID

    def clear(self) -> None:
        self._generated.clear()
        self._shaped.clear()
        self._written.clear()
        self._next_id = FIRST_WRITTEN_ID
        self._links = None

    def forget_links(self) -> None:
        """Drop the cached foreign keys (a write added or removed a linked record)."""
        self._links = None

    # -- writes ---------------------------------------------------------------------------
    def _writes_of(self, module: str, key: str) -> Written:
        written = self._written.get((module, key))
        if written is None:
            schema = self._primary_schema(module, key) or {}
            written = self._written[(module, key)] = Written(record_key(schema))
        return written

    def find(self, module: str, key: str, parent: Parent | None, record_id: Any) -> Record | None:
        field_name = self._writes_of(module, key).key
        return next(
            (
                row
                for row in self._source(module, key, parent)
                if str(row.get(field_name)) == str(record_id)
            ),
            None,
        )

    def add(
        self, module: str, key: str, parent: Parent | None, schema: spec.Schema, fields: Record
    ) -> Record:
        """A new record of a spec-driven resource, shaped by the resource's list schema."""
        self._next_id += 1
        record_id = self._next_id
        row = conform(module, schema, fields | {"id": record_id}, self.links(), module, key)
        row |= {"createdOn": fields["createdOn"], "modifiedOn": fields["modifiedOn"]}
        row["_parent"] = parent[1] if parent is not None else None
        self._writes_of(module, key).added.append(row)
        self._shaped.clear()
        return row

    def change(self, module: str, key: str, record_id: Any, fields: Record) -> Record:
        written = self._writes_of(module, key)
        written.changed.setdefault(str(record_id), {}).update(fields)
        self._shaped.clear()
        found = self.find(module, key, None, record_id)
        return found if found is not None else fields | {written.key: record_id}

    def key_of(self, module: str, key: str, record: Record) -> Any:
        return record.get(self._writes_of(module, key).key)

    def delete(self, module: str, key: str, record_id: Any) -> None:
        self._writes_of(module, key).deleted.add(str(record_id))
        self._shaped.clear()

    def _shape(self, op: Operation, row: Record, guid: str | None) -> Record:
        """``row`` conformed to ``op``'s schema (externalData as ``guid`` sees it),
        remembered until the row changes."""
        key = resource_key(op.path)
        memo = (op.module, op.path, row.get("id"), row.get("modifiedOn"), guid)
        shaped = self._shaped.get(memo)
        if shaped is None:
            if len(self._shaped) > 100_000:
                self._shaped.clear()
            if "externalData" in row:
                row = row | {"externalData": external_entries(row, guid)}
            shaped = conform(
                op.module, op.item_schema(), row, self.links(), op.module, key, memo[2]
            )
            self._shaped[memo] = shaped
        return shaped

    # -- links ----------------------------------------------------------------------------
    def links(self) -> Links:
        if self._links is None:
            store = self.sim.store
            links = Links()
            for field_name, table in LINKED_TABLES.items():
                rows = store.table(table).all()
                links.ids[field_name] = [row["id"] for row in rows]
                for row in rows:
                    if isinstance(row.get("name"), str):
                        links.names[(field_name, row["id"])] = row["name"]
            links.ids["locationId"] = [loc["id"] for loc in _locations(store)]
            links.ids["technicianId"] = [60_000 + i for i in range(len(catalog.TECHNICIANS))]
            links.ids["jobTypeId"] = list(catalog.JOB_TYPES.values())
            links.ids["campaignId"] = list(catalog.CAMPAIGNS)
            self._links = links
        return self._links

    def _anchor(self, record: Record) -> Record:
        """Make a generated row's customer, location and business unit those of its job."""
        job = self.sim.store.table("jobs").get(record.get("jobId") or -1)
        if job is not None:
            for key in ("customerId", "locationId", "businessUnitId"):
                if key in record:
                    record[key] = job[key]
        return record

    # -- parents --------------------------------------------------------------------------
    def check_parent(self, op: Operation, numbers: Mapping[str, int]) -> Parent | None:
        """The parent a sub-resource hangs from (404 when it does not exist), or None."""
        parts = op.path.split("/")
        last_is_id = op.shape == "object" and parts[-1].startswith("{")
        parent: Parent | None = None
        for index, part in enumerate(parts[:-1] if last_is_id else parts):
            name = part.strip("{}")
            if not part.startswith("{") or name not in numbers or index == 0:
                continue
            resource = parts[index - 1]
            # Only a top-level collection (jobs/{id}/…) is a parent we can look up; deeper
            # ones (booking-provider/{id}/bookings/{id}/…) are generated per path instead.
            found = self._find_parent(op.module, resource, numbers[name]) if index == 1 else None
            parent = (resource, numbers[name], found)
        return parent

    def _find_parent(self, module: str, resource: str, record_id: int) -> Record | None:
        table = HAND_TABLES.get((module, resource))
        if table is not None:
            found = self.sim.store.table(table).get(record_id)
        elif (module, resource) in DERIVED or self._has_list(module, resource):
            found = next((r for r in self._source(module, resource) if r["id"] == record_id), None)
        else:
            return None
        if found is None:
            label = resource.replace("-", " ").removesuffix("s").capitalize()
            raise ApiError(
                404,
                f"{label} not found",
                {"id": [f"No {label.lower()} with id {record_id} exists in this tenant."]},
            )
        return found

    @staticmethod
    def _has_list(module: str, resource: str) -> bool:
        op = spec.operations().get((module, resource))
        return op is not None and op.shape in ("page", "array")

    # -- rows -----------------------------------------------------------------------------
    def _primary_schema(self, module: str, key: str) -> spec.Schema | None:
        ops = [op for op in spec.operations().values() if op.module == module]
        ranked = sorted(
            (op for op in ops if resource_key(op.path) == key and op.shape != "object"),
            key=lambda op: ("page", "array", "export").index(op.shape),
        )
        return ranked[0].item_schema() if ranked else None

    def _source(self, module: str, key: str, parent: Parent | None = None) -> list[Record]:
        """Source rows of a resource (derived, or generated once per seed)."""
        written = self._written.get((module, key))
        derive = DERIVED.get((module, key))
        if derive is not None:
            rows = derive(self.sim.store)
            if parent is not None:
                fk = foreign_key(parent[0])
                if rows and fk in rows[0]:
                    rows = [row for row in rows if row.get(fk) == parent[1]]
            return rows if written is None else written.apply(rows, parent)
        parent_id = parent[1] if parent is not None else None
        cache_key = (module, key, parent_id)
        if cache_key not in self._generated:
            self._generated[cache_key] = self._generate(module, key, parent)
        rows = facets.overlay(module, key, self.sim.store, self._generated[cache_key])
        return rows if written is None else written.apply(rows, parent)

    def _generate(self, module: str, key: str, parent: Parent | None) -> list[Record]:
        schema = self._primary_schema(module, key)
        if schema is None:
            return []
        links = self.links()
        if parent is None:
            ids = generated_ids(module, key)
            extra: Record = {}
        else:
            count = _stable(module, key, parent[1]) % 4
            ids = [10_000_000 + _stable(module, key, parent[1], i) % 10**9 for i in range(count)]
            extra = {foreign_key(parent[0]): parent[1]}
        rows = [
            self._anchor(conform(module, schema, {"id": rid} | extra, links, module, key, rid))
            for rid in ids
        ]
        facets.enrich(module, key, self.sim.store, rows)
        return rows

    def rows(
        self, op: Operation, parent: Parent | None, lookup: ExternalLookup | None = None
    ) -> list[Record]:
        """The operation's rows, each shaped by its own response schema; with ``lookup``
        only those whose stored externalData matches it."""
        source = self._source(op.module, resource_key(op.path), parent)
        guid = lookup.guid if lookup is not None else None
        if lookup is not None and lookup.key is not None:
            source = [
                row
                for row in source
                if matches_external(row, lookup.guid, lookup.key, lookup.values)
            ]
        return [self._shape(op, row, guid) | private(row) for row in source]

    def one(self, op: Operation, record_id: int, parent: Parent | None, guid: str | None) -> Record:
        key = resource_key(op.path)
        for row in self._source(op.module, key, parent):
            if row.get("id") == record_id:
                return self._shape(op, row, guid)
        label = key.rsplit("/", 1)[-1].replace("-", " ")
        raise ApiError(
            404,
            "Not Found",
            {"id": [f"No {label} record with id {record_id} exists in this tenant."]},
        )

    def single(self, op: Operation, values: Mapping[str, str], parent: Parent | None) -> Any:
        """A one-object reply that is not a record by id (a job's history, a preference)."""
        rng = random.Random("|".join([op.module, op.path, *sorted(values.values())]))
        return Maker(op.module, self.links()).conform(op.item_schema(), None, rng)
