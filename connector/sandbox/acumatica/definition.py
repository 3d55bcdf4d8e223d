"""Acumatica's own definition of the ``Default/24.200.001`` endpoint, and the field tables in it.

``Default_24.200.001.json.gz`` beside this module is the OpenAPI 3.0.1 document Acumatica
publishes for the endpoint (from its MIT-licensed ``AcumaticaRESTAPIClientForCSharp``,
``EndpointDefinitions/``), stored compressed and unchanged. The simulator serves it at
``…/swagger.json`` and takes every entity's field names and value-object types from it, so a
field the real endpoint has is never missing here and a field it lacks is never invented.

:func:`schema_fields` reads one schema: the ``properties`` of its non-``$ref`` ``allOf``
member (the ``$ref`` member is the base ``Entity``). A ``$ref`` to a ``*Value`` type gives
the scalar kind, any other ``$ref`` a linked entity (``obj``), an array a detail list.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from typing import Any, Final

import msgspec

ENDPOINT: Final = "Default"
VERSION: Final = "24.200.001"
_FILE: Final = "Default_24.200.001.json.gz"

#: Value-object schemas and the scalar kind the simulator stores them as.
VALUE_KINDS: Final[dict[str, str]] = {
    "StringValue": "str",
    "DecimalValue": "dec",
    "DoubleValue": "dec",
    "IntValue": "int",
    "LongValue": "int",
    "ShortValue": "int",
    "ByteValue": "int",
    "BooleanValue": "bool",
    "DateTimeValue": "dt",
    "GuidValue": "guid",
}


class FieldSpec(msgspec.Struct, frozen=True):
    """One field of a schema: a scalar value object, a linked entity or a detail array."""

    name: str
    kind: str
    """A scalar kind (``str``, ``dec``, ``int``, ``bool``, ``dt``, ``guid``) or ``obj``/``list``."""
    target: str | None = None
    """The schema of a linked entity or detail row; None for scalars."""


@cache
def raw_document() -> bytes:
    """The definition exactly as Acumatica ships it (JSON bytes)."""
    packed = resources.files(__package__).joinpath(_FILE).read_bytes()
    return gzip.decompress(packed)


@cache
def document() -> dict[str, Any]:
    """The parsed definition; callers must not change it."""
    parsed: dict[str, Any] = msgspec.json.decode(raw_document())
    return parsed


def schema_names() -> frozenset[str]:
    """Every schema of ``components.schemas``."""
    return frozenset(document()["components"]["schemas"])


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


@cache
def schema_fields(name: str) -> dict[str, FieldSpec]:
    """The fields of schema ``name`` in definition order; KeyError when it has none."""
    schema = document()["components"]["schemas"][name]
    members = schema.get("allOf", [schema])
    properties: dict[str, Any] = {}
    for member in members:
        if "$ref" not in member:
            properties.update(member.get("properties", {}))
    fields: dict[str, FieldSpec] = {}
    for field, spec in properties.items():
        if "$ref" in spec:
            target = _ref_name(spec["$ref"])
            kind = VALUE_KINDS.get(target)
            fields[field] = FieldSpec(field, kind) if kind else FieldSpec(field, "obj", target)
        elif spec.get("type") == "array" and "$ref" in spec.get("items", {}):
            fields[field] = FieldSpec(field, "list", _ref_name(spec["items"]["$ref"]))
    return fields


@cache
def top_level_entities() -> tuple[str, ...]:
    """The entities the endpoint exposes at ``/{Entity}``, in definition order."""
    names: dict[str, None] = {}
    for path in document()["paths"]:
        names.setdefault(path.split("/")[1], None)
    return tuple(names)


@cache
def entity_actions(entity: str) -> tuple[str, ...]:
    """The named actions the definition documents for ``entity`` (``POST /Bill/ReleaseBill``)."""
    actions: list[str] = []
    for path in document()["paths"]:
        parts = path.split("/")
        if len(parts) == 3 and parts[1] == entity and not parts[2].startswith(("{", "$")):
            actions.append(parts[2])
    return tuple(actions)
