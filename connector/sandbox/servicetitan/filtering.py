"""Generic semantics for the families of query parameters the vendor documents.

ServiceTitan names its filters consistently, so most need no hand-written rule:

* ``ids``/``fooIds``/``statuses``… — membership of the record's ``id``/``fooId``/``foo.id``/
  ``status``; ``foo``/``fooId`` — equality (case-insensitive text; names match by substring);
* ``xOnOrAfter``/``xOnAfter``/``xAfter``/``xFrom`` and ``xBefore``/``xTo`` — date bounds on
  ``x``, ``xOn`` or ``xDate``; ``minX``/``maxX``, ``xGreater``/``xLess`` — numeric bounds;
* ``searchText``/``searchTerm`` — substring over the record's names, codes and descriptions;
* ``sort`` (``+Field``/``-Field``, fields as the description lists them), ``orderBy`` with
  ``orderByDirection``.

Where the vendor's model does not carry what a filter tests (a job's technicians, a lead's
customer city, a journal entry's transactions), the rows carry it as a private ``_field``
(see :mod:`.facets`): every candidate field is also looked up with a leading underscore,
and the private fields are dropped before the reply is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from connector.sandbox.servicetitan.spec import Operation, Param
from connector.sandbox.servicetitan.wire import ApiError, Record, dec, parse_ticks

Rows = list[Record]

#: Parameter stems whose field has another name in the vendor's models.
_ALIASES: dict[str, tuple[str, ...]] = {
    "number": ("number", "referenceNumber", "jobNumber", "appointmentNumber"),
    "invoiced": ("invoiceDate",),
    "paid": ("date",),
    "received": ("receivedOn", "receiptDate", "date"),
    "returnDate": ("returnDate", "date"),
    "sent": ("sentOn",),
    "starts": ("start", "startsOn", "startDate"),
    # A seeded job has one appointment, starting when the job was booked
    # (sources._appointments), so both appointment bounds fall on the job's createdOn.
    "firstAppointmentStarts": ("firstAppointmentStart", "createdOn"),
    "appointmentStarts": ("appointmentStart", "createdOn"),
    "date": ("date", "billDate", "depositDate"),
    "depositDate": ("depositDate", "date"),
    # Customers and locations keep phone numbers among their contacts.
    "phone": ("phoneNumber", "phone", "_contacts.value", "contacts.value"),
    "billNumber": ("referenceNumber", "billNumber"),
    "batchNumber": ("batch.number",),
    "posted": ("postDate", "postedOn"),
    "purchaseOrderTypes": ("_purchaseOrderType",),
    "purchaseOrderNumber": ("purchaseOrderNumber", "_purchaseOrderNumber"),
    "jobNumber": ("jobNumber", "job.number"),
    "transactionType": ("transactionType", "type"),
    "total": ("total", "billAmount", "grossAmount", "amount"),
    "cost": ("billAmount", "cost", "total"),
    "grossAmount": ("grossAmount", "amount", "total"),
    "balance": ("balance",),
    "appointmentStatus": ("appointmentStatus",),
    "customerName": ("customer.name", "customerName"),
    "leadCustomerName": ("customerName", "customer.name"),
    "leadPhone": ("phoneNumber",),
    "userIds": ("userId",),
    "activeOnly": ("active",),
    # Credit memos and payments list their applications in appliedTo.
    "appliedToInvoiceIds": ("appliedTo.appliedTo",),
    "appliedToReferenceNumber": ("appliedTo.appliedToReferenceNumber",),
    "applied": ("appliedTo.appliedOn",),
    # A payment's status is the Pending/Posted/Exported state its model calls syncStatus.
    "statuses": ("status", "syncStatus"),
    "adjustmentTypes": ("type",),
    "name": ("name", "tagName"),
    "budgetCodeIds": ("id",),
    "segmentIds": ("segments.segmentId",),
    "segmentItemIds": ("segments.segmentItemId",),
    "jobId": ("jobId", "jobIds"),
    "completed": ("completedOn", "actualCompletionDate"),
}
#: String parameters the vendor documents as comma-delimited lists.
_COMMA_SEPARATED = frozenset({"statuses", "refNumber", "adjustmentTypes"})
_TEXT_SEARCH_FIELDS = (
    "name", "code", "displayName", "description", "title", "summary", "_name",
)  # fmt: skip
#: Parameters that change the reply's shape, or are read elsewhere, rather than filter rows.
_NOT_FILTERS = frozenset(
    {
        "page",
        "pageSize",
        "includeTotal",
        "from",
        "includeRecentChanges",
        "calculatePrices",
        "genPermUrl",
        "externalDataApplicationGuid",
        "externalDataKey",
        "externalDataValues",
        "orderByDirection",
        "active",
        "activeState",
        "excludeAccountingChangesFromModifiedDateRange",
    }
)
_LOWER_BOUND = re.compile(r"^(?P<stem>.+?)(OnOrAfter|OnAfter|After|From)$")
_UPPER_BOUND = re.compile(r"^(?P<stem>.+?)(Before|To)$")
_RANGE = re.compile(r"^(?P<stem>.+?)(From|To)$")
_NUMERIC = re.compile(r"^(?:(?P<mm>min|max)(?P<a>[A-Z]\w*)|(?P<b>\w+?)(?P<gl>Greater|Less))$")
_SORT_FIELDS = re.compile(r"(?:Available fields are|specified field):\s*([A-Za-z, ]+)\.")


_MISSING = object()


def lookup(record: Record, path: str) -> Any:
    """The value at a dotted ``path``; through a list, the list of its items' values."""
    value: Any = record
    for key in path.split("."):
        if isinstance(value, list):
            value = [item.get(key) for item in value if isinstance(item, dict)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return _MISSING
    return value


def _present(record: Record, path: str) -> bool:
    """Whether the record has the field, possibly null (``batch`` of an unbatched bill)."""
    value: Any = record
    for key in path.split("."):
        if value is None:
            return True
        if isinstance(value, list):
            return True
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _singular(name: str) -> list[str]:
    if name.endswith("ses"):
        return [name[:-2], name[:-1]]
    if name.endswith("ies"):
        return [name[:-3] + "y"]
    if name.endswith("s"):
        return [name[:-1]]
    return []


def _candidates(stem: str) -> list[str]:
    names = [*_ALIASES.get(stem, ()), stem, *_singular(stem)]
    found: list[str] = []
    for name in names:
        found.append(name)
        if name.endswith("Id") and len(name) > 2:
            found.append(f"{name[:-2]}.id")
        if name in ("street", "unit", "city", "state", "zip", "country", "latitude", "longitude"):
            found.append(f"address.{name}")
    return found


def field_for(rows: Iterable[Record], stem: str, extra: tuple[str, ...] = ()) -> str | None:
    """The record field a parameter stem names, judged on the rows themselves."""
    sample = list(rows)[:200]
    for path in (*_candidates(stem), *extra):
        for candidate in (path, f"_{path}"):
            if any(_present(row, candidate) for row in sample):
                return candidate
    return None


def _ticks(value: Any) -> int | None:
    return parse_ticks(value) if isinstance(value, str) else None


def _date_filter(rows: Rows, stem: str, bound: int, lower: bool) -> Rows:
    # invoicedOnBefore pairs with invoicedOnOrAfter: both bound "invoiced".
    stem = stem.removesuffix("On") if len(stem) > 2 else stem
    path = field_for(rows, stem, (f"{stem}On", f"{stem}Date"))
    if path is None:
        return rows
    kept = []
    for row in rows:
        value = lookup(row, path)
        # Through a list (a memo's applications), a row is kept when any value is in bounds.
        for item in value if isinstance(value, list) else [value]:
            ticks = _ticks(item)
            if ticks is not None and (ticks >= bound if lower else ticks < bound):
                kept.append(row)
                break
    return kept


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value is _MISSING:
        return None
    try:
        return dec(value)
    except ArithmeticError:
        return None


def _numeric_filter(rows: Rows, stem: str, bound: Decimal, lower: bool, strict: bool) -> Rows:
    path = field_for(rows, stem)
    if path is None:
        return rows

    def keep(row: Record) -> bool:
        value = _number(lookup(row, path))
        if value is None:
            return False
        if lower:
            return value > bound if strict else value >= bound
        return value < bound if strict else value <= bound

    return [row for row in rows if keep(row)]


def _text_match(value: Any, wanted: str, substring: bool) -> bool:
    if isinstance(value, dict):
        value = value.get("name", value.get("id"))
    if isinstance(value, list):
        return any(_text_match(item, wanted, substring) for item in value)
    if value is None or value is _MISSING:
        return False
    text = str(value).lower()
    return wanted.lower() in text if substring else text == wanted.lower()


def _equals(rows: Rows, name: str, param: Param, value: Any) -> Rows:
    path = field_for(rows, name)
    if path is None:
        return rows
    if name in _COMMA_SEPARATED and isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    wanted = value if isinstance(value, list) else [value]
    substring = (
        param.kind == "string"
        and param.enum is None
        and (
            name.lower().endswith("name") or name in ("street", "title", "email", "phone", "value")
        )
    )

    def keep(row: Record) -> bool:
        field_value = lookup(row, path)
        if isinstance(field_value, dict):
            field_value = field_value.get("id", field_value.get("name"))
        for item in wanted:
            if isinstance(item, str):
                if _text_match(field_value, item, substring):
                    return True
            elif isinstance(field_value, list):
                if item in field_value:
                    return True
            elif field_value == item or (
                isinstance(item, Decimal) and _number(field_value) == item
            ):
                return True
        return False

    return [row for row in rows if keep(row)]


def _search(rows: Rows, text: str) -> Rows:
    return [
        row
        for row in rows
        if any(_text_match(row.get(key), text, True) for key in _TEXT_SEARCH_FIELDS)
    ]


def _comparer(rows: Rows, stem: str, amount: Decimal | None, comparer: str | None) -> Rows:
    if amount is None or comparer is None:
        return rows
    tests: dict[str, Callable[[Decimal], bool]] = {
        "equals": lambda v: v == amount,
        "notequals": lambda v: v != amount,
        "greater": lambda v: v > amount,
        "less": lambda v: v < amount,
    }
    test = tests.get(comparer.lower())
    path = field_for(rows, stem)
    if test is None or path is None:
        return rows
    kept = []
    for row in rows:
        value = _number(lookup(row, path))
        if value is not None and test(value):
            kept.append(row)
    return kept


def _custom_fields(rows: Rows, pairs: dict[str, str], operator: str) -> Rows:
    """Rows whose ``customFields`` hold the pairs (all, or any with ``Or``); a missing field
    and a null value are the same, as the vendor's description says."""

    def holds(row: Record, name: str, wanted: str) -> bool:
        fields = {f.get("name"): f.get("value") for f in row.get("customFields") or []}
        value = fields.get(name)
        if wanted.lower() in ("", "null"):
            return value is None
        return value is not None and str(value).lower() == wanted.lower()

    combine = any if operator.lower() == "or" else all
    return [row for row in rows if combine(holds(row, n, v) for n, v in pairs.items())]


def _empty_entries(rows: Rows, mode: str) -> Rows:
    """Journal entries' ``empty``: keep empty entries (Include), drop them (Exclude), or
    drop only the empty ones never synced (IncludeExceptNotSynced)."""
    if mode == "Exclude":
        return [row for row in rows if not row.get("isEmpty")]
    if mode == "IncludeExceptNotSynced":
        return [
            row for row in rows if not (row.get("isEmpty") and row.get("syncStatus") == "NotSynced")
        ]
    return rows


def apply(rows: Rows, values: dict[str, Any], op: Operation) -> Rows:
    """``rows`` narrowed by every documented filter in ``values`` (typed, not None)."""
    for prefix in ("customField", "customFields"):
        pairs = values.get(f"{prefix}.Fields", values.get(prefix))
        if isinstance(pairs, dict) and pairs:
            operator = values.get(f"{prefix}.Operator") or "And"
            rows = _custom_fields(rows, pairs, str(operator))
    for prefix in ("balanceFilter", "totalFilter"):
        amount = values.get(f"{prefix}.Balance", values.get(f"{prefix}.Amount"))
        rows = _comparer(
            rows, prefix.removesuffix("Filter"), amount, values.get(f"{prefix}.Comparer")
        )
    for name, value in values.items():
        if name in _NOT_FILTERS or "." in name or name in ("sort", "orderBy", "customField"):
            continue
        param = op.params[name]
        if name == "empty" and param.enum is not None:
            rows = _empty_entries(rows, str(value))
            continue
        if name == "includeChildren":
            if value is False:
                # Without children: the items whose parent is not itself listed.
                listed = {row.get("id") for row in rows}
                rows = [row for row in rows if row.get("parentId") not in listed]
            continue
        if name in ("searchText", "searchTerm"):
            rows = _search(rows, str(value))
            continue
        if param.fmt in ("date-time", "date") and not param.many:
            lower = _LOWER_BOUND.match(name)
            upper = _UPPER_BOUND.match(name)
            if lower is not None:
                rows = _date_filter(rows, lower["stem"], value, True)
                continue
            if upper is not None:
                rows = _date_filter(rows, upper["stem"], value, False)
                continue
        ranged = _RANGE.match(name)
        if ranged is not None and param.kind in ("number", "integer") and not param.many:
            # numberFrom/numberTo: an inclusive range on a numeric field.
            from_end = name.endswith("From")
            rows = _numeric_filter(rows, ranged["stem"], dec(value), from_end, False)
            continue
        numeric = _NUMERIC.match(name)
        if numeric is not None and param.kind in ("number", "integer") and not param.many:
            if numeric["mm"]:
                stem = numeric["a"][0].lower() + numeric["a"][1:]
                rows = _numeric_filter(rows, stem, dec(value), numeric["mm"] == "min", False)
            else:
                rows = _numeric_filter(
                    rows, numeric["b"], dec(value), numeric["gl"] == "Greater", True
                )
            continue
        rows = _equals(rows, name, param, value)
    return sort(rows, values, op)


def sort_fields(param: Param) -> tuple[str, ...] | None:
    """The fields a ``sort`` parameter's description offers, or None when it lists none."""
    match = _SORT_FIELDS.search(param.description.replace("\\", " "))
    if match is None:
        return None
    return tuple(part.strip() for part in match[1].split(",") if part.strip())


def _sort_key(path: str) -> Callable[[Record], Any]:
    def key(row: Record) -> Any:
        value = lookup(row, path)
        if value is _MISSING or value is None:
            return (1, 0, "", row.get("id", 0))
        if isinstance(value, dict):
            value = value.get("name", value.get("id"))
        if isinstance(value, str):
            ticks = parse_ticks(value) if value[:1].isdigit() else None
            if ticks is not None:
                return (0, ticks, "", row.get("id", 0))
            number = _number(value) if value[:1].isdigit() or value[:1] == "-" else None
            if number is not None:
                return (0, number, "", row.get("id", 0))
            return (0, 0, value.lower(), row.get("id", 0))
        number = _number(value)
        return (0, number if number is not None else 0, "", row.get("id", 0))

    return key


def _sort_by(
    rows: Rows, field: str, descending: bool, label: str, documented: bool = False
) -> Rows:
    stem = field[0].lower() + field[1:]
    aliases = {"primaryVendor": "primaryVendor.vendorName", "iD": "id"}
    path = field_for(rows, aliases.get(stem, stem), (f"{stem}On", f"{stem}Date")) if rows else stem
    if path is None and documented:
        # The vendor documents one list of sort fields for every pricebook item (and for
        # contact relationships); a field this resource's model lacks is equal on every
        # row, so the rows keep their order rather than the request failing.
        return rows
    if path is None:
        raise ApiError.invalid(label, f"Cannot sort by '{field}': the records have no such field.")
    return sorted(rows, key=_sort_key(path), reverse=descending)


def sort(rows: Rows, values: dict[str, Any], op: Operation) -> Rows:
    text = values.get("sort")
    if isinstance(text, str) and text.strip(" +-"):
        # A literal "+" in a query string decodes to a space; read both as ascending.
        descending = text.startswith("-")
        name = text.lstrip("+- ")
        offered = sort_fields(op.params["sort"])
        if offered is not None:
            match = next((o for o in offered if o.lower() == name.lower()), None)
            if match is None:
                raise ApiError.invalid(
                    "sort",
                    f"Cannot sort by '{name}': use +Field or -Field with one of "
                    f"{', '.join(offered)}.",
                )
            name = match
        rows = _sort_by(rows, name, descending, "sort", documented=offered is not None)
    order_by = values.get("orderBy")
    if isinstance(order_by, str) and order_by.strip():
        direction = str(values.get("orderByDirection") or "asc").lower()
        rows = _sort_by(rows, order_by.strip(), direction.startswith("desc"), "orderBy")
    return rows
