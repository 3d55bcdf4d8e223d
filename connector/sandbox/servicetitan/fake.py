"""Records shaped by the vendor's response schemas: :func:`conform`.

``conform(schema, source)`` returns a value valid against ``schema``: every property the
schema names (required or not), taking ``source``'s value where it has one of the right
type, and inventing a plausible one otherwise. Invented integers named like a foreign key
(``customerId``, ``jobId``…) come from :class:`Links`, so a generated appointment points at
a seeded job and a generated note at a seeded customer. The same (schema, id) always
yields the same record: the random source is seeded from both.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.servicetitan import spec
from connector.sandbox.servicetitan.spec import Schema
from connector.sandbox.servicetitan.wire import TICKS_PER_SECOND, Record, format_ticks

#: Generated history spans the year before this instant (2026-05-01, the documents' date).
_EPOCH_END = int(datetime(2026, 5, 1, tzinfo=UTC).timestamp()) * TICKS_PER_SECOND
_YEAR = 365 * 86400 * TICKS_PER_SECOND
_MAX_DEPTH = 6
#: An array item still to be invented (None there would be a null the source holds).
_ABSENT: Any = object()

_WORDS = (
    "Summit", "Aspen", "Front Range", "Cherry Creek", "Blue Spruce", "Platte", "Highline",
    "Golden", "Red Rocks", "Mile High",
)  # fmt: skip


@dataclass
class Links:
    """Ids of seeded records a generated one may point at, by foreign-key field name."""

    ids: dict[str, list[int]] = field(default_factory=dict)
    names: dict[tuple[str, int], str] = field(default_factory=dict)

    def pick(self, name: str, rng: random.Random) -> int | None:
        pool = self.ids.get(name)
        return rng.choice(pool) if pool else None


def _seeded(*parts: object) -> random.Random:
    return random.Random("|".join(str(p) for p in parts))


def _kinds(schema: Schema) -> list[str]:
    kinds = spec.types_of(schema)
    if not kinds:
        if "properties" in schema:
            return ["object"]
        if "items" in schema:
            return ["array"]
        if "enum" in schema:
            return ["string"]
    return sorted(kinds)


def _unwrap(module: str, schema: Schema) -> Schema:
    """The schema with references followed and a nullable ``oneOf``/``anyOf`` reduced to
    its non-null member (a value for the member is valid for the union)."""
    schema = spec.resolve(module, schema)
    for key in ("oneOf", "anyOf"):
        members = schema.get(key)
        if members and "properties" not in schema:
            real = [m for m in members if spec.types_of(spec.resolve(module, m)) != {"null"}]
            if real:
                return _unwrap(module, real[0])
    return schema


def _fits(module: str, schema: Schema, value: Any) -> bool:
    """Whether a scalar ``value`` from a source record is valid as-is for ``schema``."""
    if value is None:
        return "null" in _kinds(schema) or schema.get("nullable") is True
    kinds = set(_kinds(schema))
    if isinstance(value, bool):
        return "boolean" in kinds
    if isinstance(value, int):
        return bool(kinds & {"integer", "number"})
    if isinstance(value, float):
        return "number" in kinds
    if isinstance(value, str):
        enum = schema.get("enum")
        return "string" in kinds and (enum is None or value in enum)
    return False


class Maker:
    """Builds values for one module's schemas."""

    def __init__(self, module: str, links: Links) -> None:
        self.module = module
        self.links = links

    def conform(self, schema: Schema, source: Any, rng: random.Random, depth: int = 0) -> Any:
        schema = _unwrap(self.module, schema)
        kinds = _kinds(schema)
        if "object" in kinds and ("properties" in schema or isinstance(source, Mapping)):
            return self._object(schema, source if isinstance(source, Mapping) else {}, rng, depth)
        if "array" in kinds and "items" in schema:
            items = source if isinstance(source, list) else None
            if items is None:
                count = 0 if depth >= _MAX_DEPTH - 2 else rng.randint(0, 2)
                items = [_ABSENT] * count
            return [self.conform(schema["items"], item, rng, depth + 1) for item in items]
        explicit = source is not _ABSENT and (source is not None or depth > 0)
        if explicit and not isinstance(source, (dict, list)) and _fits(self.module, schema, source):
            # A null a source record holds on purpose (a lead with no customer yet) stays
            # null where the schema allows it; a missing value (None at the top) is invented.
            return source
        return self.invent(schema, "", rng)

    def _object(
        self, schema: Schema, source: Mapping[str, Any], rng: random.Random, depth: int
    ) -> Record:
        props: dict[str, Schema] = schema.get("properties", {})
        if not props:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra and isinstance(source, Mapping):
                return {k: self.conform(extra, v, rng, depth + 1) for k, v in source.items()}
            return {}
        record: Record = {}
        for name, sub in props.items():
            if name in source:
                value = source[name]
                record[name] = self.conform(sub, value, rng, depth + 1)
                continue
            inner = _unwrap(self.module, sub)
            if depth >= _MAX_DEPTH and "null" in {*_kinds(sub), *_kinds(inner)}:
                record[name] = None
            elif "object" in _kinds(inner) and "properties" in inner:
                record[name] = self._object(inner, self._reference(name, rng), rng, depth + 1)
            elif "array" in _kinds(inner):
                record[name] = self.conform(inner, None, rng, depth + 1)
            else:
                record[name] = self.invent(inner, name, rng)
        return record

    def _reference(self, name: str, rng: random.Random) -> Record:
        """A nested ``{id, name}`` reference (``customer``, ``businessUnit``…) to a seeded row."""
        record_id = self.links.pick(f"{name}Id", rng)
        if record_id is None:
            return {}
        found = self.links.names.get((f"{name}Id", record_id))
        return {"id": record_id} | ({"name": found} if found is not None else {})

    def invent(self, schema: Schema, name: str, rng: random.Random) -> Any:
        """A plausible value for a scalar ``schema`` of a property called ``name``."""
        schema = _unwrap(self.module, schema)
        enum = schema.get("enum")
        if enum:
            return rng.choice(enum)
        kinds = [k for k in _kinds(schema) if k != "null"]
        if not kinds:
            return None if "null" in _kinds(schema) else {}
        kind = kinds[0]
        inventor = _INVENTORS.get(kind)
        if inventor is None:
            return [] if kind == "array" else {}
        return inventor(self, schema, name, rng)

    def _integer(self, schema: Schema, name: str, rng: random.Random) -> int:
        linked = self.links.pick(name, rng) if name.endswith("Id") else None
        if linked is not None:
            return linked
        if name in ("id",) or name.endswith("Id"):
            return rng.randint(1_000, 999_999)
        return rng.randint(0, 20)

    def _number(self, schema: Schema, name: str, rng: random.Random) -> float:
        return round(rng.uniform(0, 500), 2)

    def _boolean(self, schema: Schema, name: str, rng: random.Random) -> bool:
        return True if name == "active" else rng.random() < 0.3

    def _string(self, schema: Schema, name: str, rng: random.Random) -> str:
        fmt = schema.get("format")
        if fmt == "date":
            return format_ticks(_EPOCH_END - rng.randrange(_YEAR))[:10]
        if fmt == "date-time" or name.endswith("On"):
            return format_ticks(_EPOCH_END - rng.randrange(_YEAR))
        if fmt in ("guid", "uuid"):
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if fmt == "email" or name.lower().endswith("email"):
            return f"office{rng.randint(1, 99)}@summitcomfort.example"
        if fmt == "phone" or "phone" in name.lower():
            return f"303555{rng.randint(1000, 9999)}"
        if fmt == "duration":
            return f"PT{rng.randint(1, 8)}H"
        if fmt == "decimal" or name in ("total", "amount", "balance", "cost", "price"):
            return f"{rng.uniform(0, 900):.2f}"
        if name.lower().endswith("number") or name == "code":
            return f"{rng.randint(10_000, 99_999)}"
        return f"{rng.choice(_WORDS)} {name or 'value'} {rng.randint(1, 99)}".strip()


_INVENTORS: dict[str, Callable[[Maker, Schema, str, random.Random], Any]] = {
    "integer": Maker._integer,
    "number": Maker._number,
    "boolean": Maker._boolean,
    "string": Maker._string,
}


def conform(
    module: str, schema: Schema, source: Mapping[str, Any], links: Links, *seed: object
) -> Record:
    """``source`` completed (and trimmed) to a record valid for the object ``schema``."""
    rng = _seeded(*seed)
    value = Maker(module, links).conform(schema, dict(source), rng)
    return value if isinstance(value, dict) else {}
