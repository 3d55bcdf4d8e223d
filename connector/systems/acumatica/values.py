"""Value objects on the wire, plain values in the models: the one converter between them.

Acumatica's contract-based API wraps every field in a value object: ``{"VendorRef":
{"value": "INV-1"}}``, numbers and dates alike. The models in :mod:`.models` hold plain
Python values instead (``str``, ``Decimal``, ``bool``, ``int``, ``date``, ``datetime``), and
this module converts, driven by each model's own type information, so no call site ever
wraps or unwraps a value by hand:

- :func:`encode_record` turns a model into the PUT body: every scalar field becomes
  ``{"value": …}``, linked entities become nested objects, detail arrays lists of objects;
  ``None`` fields and fields marked :data:`ReadOnly` (computed by Acumatica) are left out,
  which the API reads as "leave as it is". ``Decimal`` goes out as a JSON *number*
  (``DecimalValue`` is a double), a ``date`` as ``YYYY-MM-DD`` (no offset, so the server's
  time zone cannot move the day), a ``datetime`` as ISO 8601 with its offset.
- :func:`decode_record` / :func:`decode_records` read a response into models: each field is
  taken from its value object (``{}`` means no value), numbers are read as exact
  ``Decimal`` s, and a date field keeps the day Acumatica wrote
  (``"2026-01-15T00:00:00+00:00"`` → ``date(2026, 1, 15)``) without a time-zone shift.
  Fields the model does not declare are ignored, so a field added by a later endpoint
  version never breaks a read.

Meta keys of the contract's ``Entity`` (``id``, ``rowNumber``, a detail row's ``delete``) are
plain on the wire and stay plain; ``note`` is a value object like any field.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import inspect as mi

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")

#: Marks a field Acumatica computes (``Status``, ``Balance``, ``LastModifiedDateTime``…): read,
#: never written. Use as ``status: ReadOnly[str | None] = None``.
ReadOnly = Annotated[T, msgspec.Meta(extra={"read_only": True})]

#: Entity keys that are plain JSON on the wire, not value objects.
META_KEYS = frozenset({"id", "rowNumber", "delete"})

_ENCODER = msgspec.json.Encoder(decimal_format="number")
# Numbers as Decimal straight from the JSON text: 0.1 stays 0.1, never 0.1000000000000000055.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)

Kind = Literal["meta", "scalar", "date", "entity", "rows"]


@dataclass(frozen=True, slots=True)
class FieldShape:
    """How one model field travels: its wire name, kind and (for entities/rows) their shape."""

    attr: str
    wire: str
    kind: Kind
    read_only: bool
    child: type[msgspec.Struct] | None = None


@functools.cache
def shape_of(model: type[msgspec.Struct]) -> tuple[FieldShape, ...]:
    """The fields of ``model`` as the converter sees them (computed once per model)."""
    info = mi.type_info(model)
    if not isinstance(info, mi.StructType):
        raise TypeError(f"{model!r} is not a msgspec Struct")
    return tuple(_field_shape(field) for field in info.fields)


def _field_shape(field: mi.Field) -> FieldShape:
    read_only = False
    kind_info = field.type
    while True:
        if isinstance(kind_info, mi.Metadata):
            read_only = read_only or bool((kind_info.extra or {}).get("read_only"))
            kind_info = kind_info.type
        elif isinstance(kind_info, mi.UnionType):
            members = [t for t in kind_info.types if not isinstance(t, mi.NoneType)]
            if len(members) != 1:
                raise TypeError(
                    f"field {field.name}: unions other than `X | None` are not "
                    "supported in Acumatica models"
                )
            kind_info = members[0]
        else:
            break
    if field.encode_name in META_KEYS:
        return FieldShape(field.name, field.encode_name, "meta", read_only)
    if isinstance(kind_info, mi.StructType):
        return FieldShape(field.name, field.encode_name, "entity", read_only, kind_info.cls)
    if isinstance(kind_info, mi.ListType) and isinstance(kind_info.item_type, mi.StructType):
        rows = kind_info.item_type.cls
        return FieldShape(field.name, field.encode_name, "rows", read_only, rows)
    if isinstance(kind_info, mi.DateType):
        return FieldShape(field.name, field.encode_name, "date", read_only)
    return FieldShape(field.name, field.encode_name, "scalar", read_only)


def expand_paths(model: type[msgspec.Struct], prefix: str = "") -> tuple[str, ...]:
    """Every linked entity and detail array ``model`` declares, as ``$expand`` paths
    (``MainContact``, ``MainContact/Address``, ``Details``)."""
    paths: list[str] = []
    for field in shape_of(model):
        if field.child is None:
            continue
        path = f"{prefix}{field.wire}"
        paths.append(path)
        paths.extend(expand_paths(field.child, f"{path}/"))
    return tuple(paths)


# -- writing ------------------------------------------------------------------------------
def encode_record(record: msgspec.Struct) -> bytes:
    """The JSON body of a PUT for ``record`` (see the module docstring)."""
    return _ENCODER.encode(wire_object(record))


def wire_object(record: msgspec.Struct) -> dict[str, object]:
    """``record`` in wire form, before JSON encoding."""
    out: dict[str, object] = {}
    for field in shape_of(type(record)):
        value = getattr(record, field.attr)
        if value is None or field.read_only:
            continue
        if field.kind == "meta":
            out[field.wire] = value
        elif field.kind == "entity":
            out[field.wire] = wire_object(value)
        elif field.kind == "rows":
            out[field.wire] = [wire_object(row) for row in value]
        elif field.kind == "date":
            out[field.wire] = {"value": value.isoformat()}
        else:
            out[field.wire] = {"value": value}
    return out


# -- reading ------------------------------------------------------------------------------
def decode_record(body: bytes, model: type[S]) -> S:
    """One record of ``model`` from a response body.

    Raises ``msgspec.DecodeError`` for a body that is not JSON and ``msgspec.ValidationError``
    for one that does not fit the model; callers turn both into the error tree.
    """
    return plain_record(_DECODER.decode(body), model)


def decode_records(body: bytes, model: type[S]) -> list[S]:
    """A JSON array of records of ``model`` (a list response); errors as :func:`decode_record`."""
    raw = _DECODER.decode(body)
    if not isinstance(raw, list):
        raise msgspec.ValidationError(f"expected a JSON array of records, got {_kind(raw)}")
    return [plain_record(item, model) for item in raw]


def plain_record(raw: object, model: type[S]) -> S:
    """A decoded wire record (nested dicts of value objects) as a ``model``."""
    return msgspec.convert(_unwrap(raw, model), model)


def decode_json(body: bytes) -> object:
    """A body as plain JSON (numbers as ``Decimal``), for error bodies read generically."""
    return _DECODER.decode(body)


def _unwrap(raw: object, model: type[msgspec.Struct]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise msgspec.ValidationError(
            f"expected a {model.__name__} record (a JSON object), got {_kind(raw)}"
        )
    plain: dict[str, Any] = {}
    for field in shape_of(model):
        if field.wire not in raw:
            continue
        value = raw[field.wire]
        if field.kind == "meta":
            plain[field.wire] = value
        elif field.kind == "entity" and field.child is not None:
            plain[field.wire] = _unwrap(value, field.child) if value else None
        elif field.kind == "rows" and field.child is not None:
            if not isinstance(value, list):
                raise msgspec.ValidationError(
                    f"`{field.wire}` is a detail array: expected a list, got {_kind(value)}"
                )
            plain[field.wire] = [_unwrap(row, field.child) for row in value]
        else:
            plain[field.wire] = _scalar(value, field)
    return plain


def _scalar(value: object, field: FieldShape) -> object:
    # A value object; tolerate a bare value, which some custom endpoints return.
    inner = value.get("value") if isinstance(value, Mapping) else value
    if field.kind == "date" and isinstance(inner, str) and len(inner) > 10:
        # Acumatica writes a document date as midnight with an offset; the day is the value.
        return inner[:10]
    return inner


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else type(value).__name__
