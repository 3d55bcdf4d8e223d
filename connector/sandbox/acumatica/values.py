"""Value objects in and out: strict decoding of posted records, 422 bodies, rendering.

Inside the simulator a record is *plain*: ``{"CustomerID": "C01", "MainContact": {"id": …,
"Email": "a@b"}, "Details": [{"id": …, "Qty": 2.0}]}``. The wire form wraps every scalar in a
value object (``{"CustomerID": {"value": "C01"}}``). :func:`decode` turns a posted body into the
plain form and lists every :class:`FieldError`; :func:`annotate` builds the 422 body the real
API returns (the posted record echoed with ``error`` inside each offending value object);
:func:`render` turns a plain record back into the wire form honouring ``$select``/``$expand``.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

from connector.sandbox.acumatica.schema import KIND_NAMES, SCALAR_KINDS, fields_of

#: Keys every entity and detail row may carry besides its fields (``Entity`` in the OpenAPI).
META_KEYS = frozenset({"id", "rowNumber", "note", "custom", "_links", "error", "files", "delete"})


class FieldError(NamedTuple):
    """One rejected field: where it is in the posted body, and why."""

    path: tuple[str | int, ...]
    message: str


def dotted(path: tuple[str | int, ...]) -> str:
    """``("Details", 0, "Account")`` → ``Details[0].Account``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    """The plain value of a value object's ``value`` for a scalar kind, or why it is wrong."""
    if value is None:
        return None, None
    if kind == "str" and isinstance(value, str):
        return value, None
    if kind == "dec" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), None
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if kind == "bool" and isinstance(value, bool):
        return value, None
    if kind == "dt" and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed.isoformat(), None
    if kind == "guid" and isinstance(value, str):
        try:
            return str(uuid.UUID(value)), None
        except ValueError:
            pass
    return None, f"expects a {KIND_NAMES[kind]}, got {type(value).__name__} {value!r}"


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 date or date-time; naive values are taken as UTC (the server's zone here)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def decode(
    schema: str, body: dict[str, Any], path: tuple[str | int, ...] = ()
) -> tuple[dict[str, Any], list[FieldError]]:
    """The plain form of a posted record of ``schema`` and every field error found in it.

    Every field must be a value object of the kind the contract declares, linked entities
    must be objects and details arrays of objects; unknown fields are errors. Meta keys are
    kept where they mean something (``id``, ``note``, a detail row's ``delete``) and dropped
    otherwise (``rowNumber``, ``_links``, ``custom``…).
    """
    plain: dict[str, Any] = {}
    errors: list[FieldError] = []
    fields = fields_of(schema)
    for key, raw in body.items():
        here = (*path, key)
        if key in META_KEYS:
            _decode_meta(key, raw, here, plain, errors)
            continue
        field = fields.get(key)
        if field is None:
            errors.append(
                FieldError(
                    here,
                    f"'{key}' is not a field of the {schema} entity of the Default endpoint; "
                    'remove it (fields the contract lacks go under "custom").',
                )
            )
        elif field.kind == "obj" and field.target is not None:
            if not isinstance(raw, dict) or "value" in raw:
                errors.append(
                    FieldError(
                        here,
                        f"'{key}' is a linked {field.target} entity: send an "
                        "object of value objects, not a value.",
                    )
                )
                continue
            plain[key], sub_errors = decode(field.target, raw, here)
            errors.extend(sub_errors)
        elif field.kind == "list" and field.target is not None:
            rows = _decode_rows(field.target, key, raw, here, errors)
            if rows is not None:
                plain[key] = rows
        elif field.kind in SCALAR_KINDS:
            _decode_scalar(field.kind, key, raw, here, plain, errors)
    return plain, errors


def _decode_rows(
    target: str, key: str, raw: Any, here: tuple[str | int, ...], errors: list[FieldError]
) -> list[dict[str, Any]] | None:
    if not isinstance(raw, list):
        errors.append(FieldError(here, f"'{key}' is a detail array of {target}: send a list."))
        return None
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(raw):
        if not isinstance(row, dict):
            errors.append(FieldError((*here, index), f"a {target} row must be an object."))
            continue
        plain_row, row_errors = decode(target, row, (*here, index))
        rows.append(plain_row)
        errors.extend(row_errors)
    return rows


def _decode_scalar(
    kind: str,
    key: str,
    raw: Any,
    here: tuple[str | int, ...],
    plain: dict[str, Any],
    errors: list[FieldError],
) -> None:
    if not isinstance(raw, dict):
        errors.append(
            FieldError(
                here,
                f"'{key}' must be a value object like {{\"value\": ...}}; "
                f"a plain {type(raw).__name__} is not accepted.",
            )
        )
        return
    if "value" not in raw:
        return  # {} is how the API writes "no value": nothing to change.
    value, problem = coerce(kind, raw["value"])
    if problem is not None:
        errors.append(FieldError(here, f"'{key}' {problem}."))
    else:
        plain[key] = value


def _decode_meta(
    key: str,
    raw: Any,
    here: tuple[str | int, ...],
    plain: dict[str, Any],
    errors: list[FieldError],
) -> None:
    if key == "id":
        value, problem = coerce("guid", raw)
        if problem is not None:
            errors.append(FieldError(here, f"'id' {problem}."))
        elif value is not None:
            plain["id"] = value
    elif key == "note" and raw is not None:
        value, problem = (
            (None, "must be a value object")
            if not isinstance(raw, dict)
            else (coerce("str", raw.get("value")))
        )
        if problem is not None:
            errors.append(FieldError(here, f'\'note\' {problem}, like {{"value": "text"}}.'))
        elif value is not None:
            plain["note"] = value
    elif key == "delete":
        if not isinstance(raw, bool):
            errors.append(FieldError(here, "'delete' must be true or false."))
        elif raw and len(here) > 1:
            plain["delete"] = True
    elif key == "custom" and not isinstance(raw, dict | type(None)):
        errors.append(FieldError(here, "'custom' must be an object."))


def annotate(body: dict[str, Any], errors: list[FieldError], summary: str) -> dict[str, Any]:
    """The 422 body: ``body`` echoed, each error inside its field's object, plus a summary."""
    echoed = copy.deepcopy(body)
    for error in errors:
        _attach(echoed, error)
    details = "; ".join(f"{dotted(e.path)}: {e.message}" for e in errors)
    echoed["error"] = f"{summary} {details}"
    return echoed


def _attach(root: dict[str, Any], error: FieldError) -> None:
    container: Any = root
    for part in error.path[:-1]:
        try:
            container = container[part]
        except (KeyError, IndexError, TypeError):
            return  # the path crosses a value that was itself wrong; the summary still names it
    last = error.path[-1]
    if isinstance(container, list) and isinstance(last, int) and last < len(container):
        leaf = container[last]
    elif isinstance(container, dict) and isinstance(last, str):
        leaf = container.get(last)
    else:
        return
    if isinstance(leaf, dict):
        leaf["error"] = f"{leaf['error']} {error.message}" if "error" in leaf else error.message
    elif leaf is None:
        # A field the client left out (a required one): a value object with only the error,
        # since a null value is not a valid StringValue/DecimalValue… in the definition.
        container[last] = {"error": error.message}
    else:
        container[last] = {"value": leaf, "error": error.message}


class Shape:
    """Which fields a response carries: ``$select`` restricts scalars, ``$expand`` adds
    linked entities and detail arrays (they are returned exactly when expanded)."""

    def __init__(self) -> None:
        self.select: set[str] | None = None
        self.children: dict[str, Shape] = {}
        self.files = False
        """``$expand=files``: list the record's attached files (top level only)."""

    @classmethod
    def parse(cls, schema: str, select: str | None, expand: str | None) -> Shape:
        """The shape for a query string; ValueError names a field the schema lacks."""
        shape = cls()
        for item in _items(expand):
            if item.casefold() == "files":
                shape.files = True
                continue
            shape._add_expand(schema, item.split("/"))
        for item in _items(select):
            shape._add_select(schema, item.split("/"))
        return shape

    def _add_expand(self, schema: str, parts: list[str]) -> None:
        field = fields_of(schema).get(parts[0])
        if field is None or field.target is None:
            raise ValueError(
                f"$expand names '{parts[0]}', which is not a linked entity or detail of {schema}"
            )
        child = self.children.setdefault(parts[0], Shape())
        if len(parts) > 1:
            child._add_expand(field.target, parts[1:])

    def _add_select(self, schema: str, parts: list[str]) -> None:
        field = fields_of(schema).get(parts[0])
        if field is None:
            raise ValueError(f"$select names '{parts[0]}', which is not a field of {schema}")
        if self.select is None:
            self.select = set()
        self.select.add(parts[0])
        if len(parts) > 1:
            if field.target is None:
                raise ValueError(f"$select path '{'/'.join(parts)}' goes through a scalar")
            child = self.children.get(parts[0])
            if child is not None:
                child._add_select(field.target, parts[1:])


def _items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def render(
    schema: str,
    plain: dict[str, Any],
    shape: Shape,
    row_number: int,
    links: dict[str, str] | None = None,
    files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The wire form of a plain record: every scalar of the schema as a value object
    (``{}`` when empty, as the real API writes it), expanded children, meta keys."""
    out: dict[str, Any] = {
        "id": plain.get("id") or str(uuid.uuid4()),
        "rowNumber": row_number,
        "note": {"value": plain.get("note", "")},
    }
    for name, field in fields_of(schema).items():
        if field.target is None:
            if shape.select is not None and name not in shape.select:
                continue
            value = plain.get(name)
            out[name] = {} if value is None else {"value": value}
            continue
        child = shape.children.get(name)
        if child is None:
            continue
        if field.kind == "obj":
            out[name] = render(field.target, plain.get(name) or {}, child, 1)
        else:
            rows = plain.get(name) or []
            out[name] = [render(field.target, row, child, i) for i, row in enumerate(rows, 1)]
    out["custom"] = {}
    if shape.files and files is not None:
        out["files"] = files
    if links is not None:
        out["_links"] = links
    return out
