"""Every documented write the hand-built modules do not serve, answered from the spec.

The request body is checked against the operation's documented request schema (a wrong
type, a missing required field or a value outside an enum is a 400 naming the field), then
the operation is read by the shape of its path:

* ``POST collection`` where the same path is a documented list: a new record (new id,
  ``createdOn``/``modifiedOn`` stamped, the body's fields, the rest as the list's schema
  needs), visible at once through the generic GET list and by-id;
* ``PATCH``/``PUT``/``DELETE collection/{id}``: the record updated or removed (404 when
  absent);
* anything under ``collection/{id}/…`` (``jobs/{id}/cancel``, ``appointments/{id}/hold``):
  an action on that record (404 when absent) — body fields the record has are applied, and
  where the action's name says so (cancel, approve, reject, dismiss, hold) its status is
  set from the documented status values;
* ``PATCH …/custom-fields`` merges each operation's fields into its record (400 naming
  ``operations[i].objectId`` when absent); ``POST …/markasexported`` sets each named
  record's ``syncStatus`` to Exported and answers one result per entry;
* ``projects/{id}/attach-job/{jobId}`` and ``projects/detach-job/{jobId}`` set or clear
  the job's ``projectId``; ``PUT``/``DELETE tags`` add or remove tag types on customers;
* ``POST leads/form`` opens a lead for the person the form names and answers its id;
* ``payments/status``, the budget-code creates, client-specific pricing, ``images`` and
  the bulk ``pricebook`` writes change records other than their path's own, and are
  served by :mod:`.kept`.

Records live where the GET reads them: the simulator's tables for the resources it keeps
there (jobs, payments, skus, warehouses…), otherwise the write overlay of
:class:`.sources.Sources` over the derived or generated rows. Replies carry the documented
success status and a body built for the documented response schema (or none).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.servicetitan import spec
from connector.sandbox.servicetitan.fake import Maker, conform
from connector.sandbox.servicetitan.sources import Parent, foreign_key, resource_key
from connector.sandbox.servicetitan.spec import Operation, Schema, WriteOperation
from connector.sandbox.servicetitan.wire import ApiError, Record, parse_ticks

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.simulator import Handler, Route, ServiceTitanSimulator

Errors = dict[str, list[str]]
INVALID = "One or more validation errors occurred."

#: Resources the simulator keeps in its own tables (their GETs are hand-built).
STORE_TABLES: dict[tuple[str, str], str] = {
    ("crm", "customers"): "customers",
    ("jpm", "jobs"): "jobs",
    ("accounting", "invoices"): "invoices",
    ("accounting", "payments"): "payments",
    ("accounting", "gl-accounts"): "gl_accounts",
    ("inventory", "vendors"): "vendors",
    ("inventory", "purchase-orders"): "purchase_orders",
    ("inventory", "purchase-order-types"): "purchase_order_types",
    ("inventory", "receipts"): "receipts",
    ("inventory", "adjustments"): "adjustments",
    ("inventory", "warehouses"): "warehouses",
    ("pricebook", "materials"): "materials",
    ("pricebook", "equipment"): "equipment",
    ("pricebook", "services"): "services",
    ("settings", "business-units"): "business_units",
}
#: An action's name (last literal segment) → the status it sets: the documented status
#: value starting with the stem, or the word itself where the status is free text.
ACTION_STATUS = {
    "cancel": ("cancel", "Canceled"),
    "cancellation": ("cancel", "Canceled"),
    "approve": ("approv", "Approved"),
    "reject": ("reject", "Rejected"),
    "dismiss": ("dismiss", "Dismissed"),
    "hold": ("hold", "Hold"),
}
#: Undoing actions: (method, name) → the status they return the record to.
UNDO_STATUS = {
    ("DELETE", "hold"): ("schedul", "Scheduled"),
    ("PUT", "remove-cancellation"): ("schedul", "Scheduled"),
}
_STATUS_FIELDS = ("status", "jobStatus", "requestStatus")
#: Body and reply fields a record keeps under another name: a payment's documented
#: ``status`` is the Pending/Posted/Exported state the payment lists show as ``syncStatus``.
FIELD_ALIASES: dict[tuple[str, str], dict[str, str]] = {
    ("accounting", "payments/{id}"): {"status": "syncStatus"},
}


# -- request bodies -----------------------------------------------------------------------


def _members(module: str, schema: Schema) -> list[Schema]:
    for key in ("oneOf", "anyOf"):
        members = schema.get(key)
        if members and "properties" not in schema:
            return [spec.resolve(module, m) for m in members]
    return []


def _kinds(schema: Schema) -> set[str]:
    kinds = spec.types_of(schema)
    if not kinds:
        if "properties" in schema:
            return {"object"}
        if "items" in schema:
            return {"array"}
        if "enum" in schema:
            return {"string"}
    return kinds


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    return kind == "null" and value is None


def body_errors(module: str, schema: Schema, value: Any, path: str = "") -> Errors:
    """Every way ``value`` breaks ``schema`` (types, required fields, enums), by field path."""
    errors: Errors = {}
    _check(module, spec.resolve(module, schema), value, path, errors, 0)
    return errors


def _check(module: str, schema: Schema, value: Any, path: str, errors: Errors, depth: int) -> None:
    where = path or "$"
    if depth > 12:
        return
    members = _members(module, schema)
    if members:
        if value is None:
            return
        attempts = [body_errors_at(module, m, value, path, depth) for m in members]
        if not any(not found for found in attempts):
            real = [a for m, a in zip(members, attempts, strict=True) if _kinds(m) != {"null"}]
            errors.update(real[0] if real else attempts[0])
        return
    kinds = _kinds(schema)
    if value is None:
        return  # optional fields may be null; required ones are checked by their parent
    if kinds and not any(_type_ok(kind, value) for kind in kinds):
        wanted = " or ".join(sorted(kinds - {"null"})) or "null"
        errors.setdefault(where, []).append(f"The value of {where} must be of type {wanted}.")
        return
    if isinstance(value, str):
        enum = schema.get("enum")
        if enum and value not in enum and value.lower() not in {str(e).lower() for e in enum}:
            errors.setdefault(where, []).append(f"{where} must be one of {', '.join(enum)}.")
        if schema.get("format") == "date-time" and parse_ticks(value) is None:
            errors.setdefault(where, []).append(f"{where} is not a valid date-time.")
    elif isinstance(value, dict):
        props: dict[str, Schema] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if value.get(name) is None:
                field = f"{path}.{name}" if path else name
                errors.setdefault(field, []).append(f"The {field} field is required.")
        for name, sub in props.items():
            if name in value:
                field = f"{path}.{name}" if path else name
                _check(module, spec.resolve(module, sub), value[name], field, errors, depth + 1)
    elif isinstance(value, list) and "items" in schema:
        items = spec.resolve(module, schema["items"])
        for index, item in enumerate(value):
            _check(module, items, item, f"{where}[{index}]", errors, depth + 1)


def body_errors_at(module: str, schema: Schema, value: Any, path: str, depth: int) -> Errors:
    errors: Errors = {}
    _check(module, spec.resolve(module, schema), value, path, errors, depth + 1)
    return errors


async def request_body(request: web.Request, op: WriteOperation) -> Any:
    """The validated request body (``{}`` when the operation takes none)."""
    raw = await request.read()
    if op.request is None:
        return {}
    if not raw.strip():
        body: Any = {} if "object" in _kinds(spec.resolve(op.module, op.request)) else None
        if op.request_required and body is None:
            raise ApiError(400, INVALID, {"$": ["A request body is required."]})
    else:
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise ApiError(400, INVALID, {"$": ["The request body is not valid JSON."]}) from None
    if body is None:
        return {}
    errors = body_errors(op.module, op.request, body)
    if errors:
        raise ApiError(400, INVALID, errors)
    return body


# -- routing ------------------------------------------------------------------------------


def _list_op(module: str, collection: str) -> Operation | None:
    op = spec.operations().get((module, collection))
    return op if op is not None and op.shape in ("page", "array", "export") else None


def _names_record(name: str, collection: str) -> bool:
    """Whether the placeholder ``name`` is the id of a ``collection`` record (``noteId`` of
    ``…/notes``), not of something else (``relatedEntityId`` of ``…/relationships``)."""
    if name == "id":
        return True
    stem = name.removesuffix("Id").lower()
    segment = collection.rsplit("/", 1)[-1].replace("-", "").lower()
    return name.endswith("Id") and (segment.startswith(stem) or segment.endswith(stem))


def _same(a: Any, b: Any) -> bool:
    return a is not None and str(a) == str(b)


class WriteRoutes:
    """Handlers for the documented writes ``served`` leaves open, bound to one simulator."""

    def __init__(self, sim: ServiceTitanSimulator) -> None:
        self.sim = sim

    def routes(self, served: set[tuple[str, str, str]]) -> list[Route]:
        table: list[Route] = []
        for (module, method, path), op in spec.write_operations().items():
            if (module, method, spec.template_key(path)) in served:
                continue
            table.append((method, module, path, self._handler(op)))
        return table

    # -- pieces ---------------------------------------------------------------------------
    def _target(self, op: WriteOperation) -> tuple[str, int, str] | None:
        """How the path reads: (kind, index of the record's placeholder, collection)."""
        parts = op.path.split("/")
        last = parts[-1]
        collection = "/".join(parts[:-1])
        if last in ("custom-fields", "markasexported") and self._has_rows(op.module, collection):
            return (last, len(parts) - 1, collection)
        if op.method == "POST" and not last.startswith("{") and _list_op(op.module, op.path):
            return ("create", len(parts), op.path)
        for index in range(len(parts) - 1, 0, -1):
            if not parts[index].startswith("{"):
                continue
            collection = "/".join(parts[:index])
            if not _names_record(parts[index].strip("{}"), collection):
                continue
            key = resource_key(collection)
            if _list_op(op.module, collection) or (op.module, key) in STORE_TABLES:
                kind = "record" if index == len(parts) - 1 and op.method != "POST" else "action"
                return (kind, index, collection)
        return None

    @staticmethod
    def _has_rows(module: str, collection: str) -> bool:
        key = resource_key(collection)
        return (module, key) in STORE_TABLES or any(
            op.module == module and resource_key(op.path) == key and op.shape != "object"
            for op in spec.operations().values()
        )

    def _lookup(self, module: str, collection: str, record_id: Any) -> Record | None:
        try:
            return self._find(module, collection, None, record_id)
        except ApiError:
            return None

    def _custom_fields(self, op: WriteOperation, collection: str, body: Any) -> None:
        """``PATCH …/custom-fields``: each operation's fields merged into its record."""
        operations = body.get("operations", []) if isinstance(body, dict) else []
        records = []
        for index, operation in enumerate(operations):
            record = self._lookup(op.module, collection, operation.get("objectId"))
            if record is None:
                raise ApiError.invalid(
                    f"operations[{index}].objectId",
                    f"No record with id {operation.get('objectId')} exists in this tenant.",
                )
            records.append((record, operation.get("customFields") or []))
        for record, fields in records:
            current = {
                f.get("name"): f.get("value")
                for f in record.get("customFields") or []
                if isinstance(f, dict)
            }
            current.update({f.get("name"): f.get("value") for f in fields if isinstance(f, dict)})
            merged = [{"name": name, "value": value} for name, value in current.items()]
            self._update(op, collection, None, record, {"customFields": merged})

    def _exported(self, op: WriteOperation, collection: str, body: Any) -> list[Record]:
        """``POST …/markasexported``: each named record's sync status set to Exported."""
        schema = op.responses.get(op.success)
        item = spec.resolve(op.module, spec.resolve(op.module, schema or {}).get("items", {}))
        names = [n for n in item.get("properties", {}) if n.endswith("Id")]
        results: list[Record] = []
        for entry in body if isinstance(body, list) else []:
            if not isinstance(entry, dict):
                continue
            id_name = next((n for n in entry if n.endswith("Id")), names[0] if names else "id")
            record = self._lookup(op.module, collection, entry.get(id_name))
            if record is not None:
                self._update(op, collection, None, record, {"syncStatus": "Exported"})
            missing = f"No record with id {entry.get(id_name)} exists in this tenant."
            results.append(
                {
                    (names[0] if names else id_name): entry.get(id_name),
                    "success": record is not None,
                    "errorMessage": None if record is not None else missing,
                }
            )
        return results

    def _values(self, op: WriteOperation, request: web.Request) -> dict[str, Any]:
        from connector.sandbox.servicetitan.generic import path_number

        return {
            name: path_number(request, name)
            if name in op.integer_path_params
            else request.match_info[name]
            for name in op.path_params
        }

    def _parent(self, module: str, collection: str, values: dict[str, Any]) -> Parent | None:
        op = _list_op(module, collection)
        if op is None:
            return None
        numbers = {k: v for k, v in values.items() if isinstance(v, int)}
        return self.sim.generic.sources.check_parent(op, numbers)

    def _find(self, module: str, collection: str, parent: Parent | None, record_id: Any) -> Record:
        key = resource_key(collection)
        table = STORE_TABLES.get((module, key))
        if table is not None and parent is None:
            found = next(
                (r for r in self.sim.store.table(table).all() if _same(r.get("id"), record_id)),
                None,
            )
        else:
            found = self.sim.generic.sources.find(module, key, parent, record_id)
        if found is None:
            label = key.rsplit("/", 1)[-1].replace("-", " ")
            raise ApiError(
                404,
                "Not Found",
                {"id": [f"No {label} record with id {record_id} exists in this tenant."]},
            )
        return found

    def _item_schema(self, module: str, collection: str) -> Schema:
        op = _list_op(module, collection)
        return op.item_schema() if op is not None else {}

    def _reply(self, op: WriteOperation, source: Any) -> web.StreamResponse:
        status = int(op.success)
        schema = op.responses.get(op.success)
        if schema is None or status == 204:
            return web.Response(status=status)
        resolved = spec.resolve(op.module, schema)
        record_id = source.get("id") if isinstance(source, dict) else None
        aliases = FIELD_ALIASES.get((op.module, op.path), {})
        if aliases and isinstance(source, dict):
            source = source | {name: source.get(kept) for name, kept in aliases.items()}
        if _kinds(resolved) & {"integer", "number"} and isinstance(record_id, int):
            return json_response(record_id, status)
        if "string" in _kinds(resolved) and record_id is not None and not resolved.get("enum"):
            return json_response(str(record_id), status)
        sources = self.sim.generic.sources
        rng = random.Random(f"{op.module}|{op.method}|{op.path}|{record_id}")
        maker = Maker(op.module, sources.links())
        value = maker.conform(schema, source if isinstance(source, dict) else {}, rng)
        return json_response(value, status)

    def _reply_value(self, op: WriteOperation, value: Any) -> web.StreamResponse:
        schema = op.responses.get(op.success)
        if schema is None:
            return web.Response(status=int(op.success))
        rng = random.Random(f"{op.module}|{op.method}|{op.path}")
        maker = Maker(op.module, self.sim.generic.sources.links())
        return json_response(maker.conform(schema, value, rng), int(op.success))

    # -- the operations -------------------------------------------------------------------
    def create(self, op: WriteOperation, values: dict[str, Any], body: Any) -> Record:
        sources = self.sim.generic.sources
        key = resource_key(op.path)
        parent = self._parent(op.module, op.path, values)
        stamp = self.sim.store.stamp()
        fields = dict(body) if isinstance(body, dict) else {}
        fields |= {"createdOn": stamp, "modifiedOn": stamp}
        fields.setdefault("active", True)
        table = STORE_TABLES.get((op.module, key))
        schema = self._item_schema(op.module, op.path)
        if table is not None and parent is None:
            store = self.sim.store
            new_id = store.next_id(table)
            record = conform(op.module, schema, fields | {"id": new_id}, sources.links(), key)
            record |= {"createdOn": stamp, "modifiedOn": stamp}
            store.insert(table, record)
            sources.forget_links()
            return record
        if parent is not None:
            fields[foreign_key(parent[0])] = parent[1]
        return sources.add(op.module, key, parent, schema, fields)

    def _update(
        self, op: WriteOperation, collection: str, parent: Parent | None, record: Record, body: Any
    ) -> Record:
        key = resource_key(collection)
        props = spec.resolve(op.module, self._item_schema(op.module, collection)).get(
            "properties", {}
        )
        aliases = FIELD_ALIASES.get((op.module, op.path), {})
        fields: Record = {}
        for name, value in body.items() if isinstance(body, dict) else ():
            kept = aliases.get(str(name), str(name))
            if kept in props and kept != "id":
                fields[kept] = value
        table = STORE_TABLES.get((op.module, key))
        if table is not None and parent is None:
            for name, value in fields.items():
                old = record.get(name)
                if name in record and (old is None or type(old) is type(value)):
                    record[name] = value
            self.sim.store.touch(table, record)
            return record
        fields["modifiedOn"] = self.sim.store.stamp()
        sources = self.sim.generic.sources
        return sources.change(op.module, key, sources.key_of(op.module, key, record), fields)

    def _status_change(self, op: WriteOperation, collection: str, action: str) -> Record:
        props = spec.resolve(op.module, self._item_schema(op.module, collection)).get(
            "properties", {}
        )
        if action == "confirmation" and "isConfirmed" in props:
            return {"isConfirmed": op.method != "DELETE"}
        wanted = UNDO_STATUS.get((op.method, action))
        if wanted is None and op.method != "DELETE":
            wanted = ACTION_STATUS.get(action)
        if wanted is None:
            return {}
        stem, word = wanted
        for name in _STATUS_FIELDS:
            if name not in props:
                continue
            prop = spec.resolve(op.module, props[name])
            members = _members(op.module, prop)
            prop = next((m for m in members if m.get("enum")), prop)
            enum = prop.get("enum")
            if enum:
                chosen = next((e for e in enum if str(e).lower().startswith(stem)), None)
                if chosen is not None:
                    return {name: chosen}
            elif "string" in _kinds(prop):
                return {name: word}
        return {}

    # -- effects on the simulator's own tables ---------------------------------------------
    def _job_project(self, values: dict[str, Any], project_id: int | None) -> None:
        job = self.sim.store.table("jobs").get(values.get("jobId") or -1)
        if job is not None and "projectId" in job:
            job["projectId"] = project_id
            self.sim.store.touch("jobs", job)

    def _customer_tags(self, body: Any, add: bool) -> None:
        if not isinstance(body, dict):
            return
        wanted = [t for t in body.get("tagTypeIds") or [] if isinstance(t, int)]
        for customer_id in body.get("customerIds") or []:
            customer = self.sim.store.table("customers").get(customer_id)
            if customer is None or not isinstance(customer.get("tagTypeIds"), list):
                continue
            tags = [t for t in customer["tagTypeIds"] if t not in wanted]
            customer["tagTypeIds"] = tags + wanted if add else tags
            self.sim.store.touch("customers", customer)

    def _lead_from_form(self, body: Any) -> Any:
        """``POST leads/form``: a new open lead for the person the form names."""
        form = body if isinstance(body, dict) else {}
        stamp = self.sim.store.stamp()
        fields = {
            "leadCustomerName": form.get("name"),
            "leadEmail": form.get("email"),
            "leadPhone": form.get("phoneNumber"),
            "summary": form.get("summary") or form.get("comments"),
            "status": "Open",
            "createdOn": stamp,
            "modifiedOn": stamp,
            "active": True,
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        schema = self._item_schema("crm", "leads")
        lead = self.sim.generic.sources.add("crm", "leads", None, schema, fields)
        return {"leadId": lead["id"]}

    def _effect(self, op: WriteOperation, values: dict[str, Any], body: Any) -> None:
        """What a few writes do to records other than their path's own."""
        route = (op.module, op.method, op.path)
        if route == ("jpm", "POST", "projects/{id}/attach-job/{jobId}"):
            self._job_project(values, values["id"])
        elif route == ("jpm", "POST", "projects/detach-job/{jobId}"):
            self._job_project(values, None)
        elif route in (("crm", "PUT", "tags"), ("crm", "DELETE", "tags")):
            self._customer_tags(body, add=op.method == "PUT")

    def _handler(self, op: WriteOperation) -> Handler:
        target = self._target(op)

        async def handle(request: web.Request) -> web.StreamResponse:
            values = self._values(op, request)
            body = await request_body(request, op)
            if target is not None and target[0] == "action":
                # the record acted on must exist before anything else changes
                id_name = op.path.split("/")[target[1]].strip("{}")
                parent = self._parent(op.module, target[2], values)
                self._find(op.module, target[2], parent, values[id_name])
            self._effect(op, values, body)
            if (op.module, op.method, op.path) == ("crm", "POST", "leads/form"):
                return self._reply_value(op, self._lead_from_form(body))
            if target is None:
                return self._reply(op, body if isinstance(body, dict) else {})
            kind, index, collection = target
            if kind == "custom-fields":
                self._custom_fields(op, collection, body)
                return self._reply(op, {})
            if kind == "markasexported":
                results = self._exported(op, collection, body)
                return self._reply_value(op, results)
            if kind == "create":
                return self._reply(op, self.create(op, values, body))
            id_name = op.path.split("/")[index].strip("{}")
            parent = self._parent(op.module, collection, values)
            record = self._find(op.module, collection, parent, values[id_name])
            if kind == "record" and op.method == "DELETE":
                self._delete(op.module, collection, parent, record)
                return self._reply(op, record)
            if kind == "action":
                parts = [p for p in op.path.split("/")[index + 1 :] if not p.startswith("{")]
                action = parts[-1] if parts else ""
                change = self._status_change(op, collection, action)
                if isinstance(body, dict):
                    body = body | change
                else:
                    body = change
            updated = self._update(op, collection, parent, record, body)
            return self._reply(op, updated)

        return handle

    def _delete(self, module: str, collection: str, parent: Parent | None, record: Record) -> None:
        key = resource_key(collection)
        table = STORE_TABLES.get((module, key))
        if table is not None and parent is None:
            self.sim.store.table(table).rows.pop(record["id"], None)
            self.sim.generic.sources.forget_links()
            return
        sources = self.sim.generic.sources
        sources.delete(module, key, sources.key_of(module, key, record))
