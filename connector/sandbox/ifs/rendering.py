"""Rows as the OData provider writes them: ``@odata.etag``, ``luname``, ``keyref``,
``Objgrants``, then the attributes (timestamps in the site's zone, see :mod:`.values`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from connector.sandbox.ifs.knobs import IfsKnobs
from connector.sandbox.ifs.schema import ENTITY_SETS, EntitySet
from connector.sandbox.ifs.store import Row, Store, Table
from connector.sandbox.ifs.values import format_timestamp

API_ROOT = "/main/ifsapplications/projection/v1"


def wire_value(value: Any, knobs: IfsKnobs) -> Any:
    if isinstance(value, dt.datetime):
        return format_timestamp(value, knobs.site_utc_offset_h, knobs.timestamps_say_utc)
    return value


def render_row(
    store: Store,
    table: Table,
    row: Row,
    knobs: IfsKnobs,
    select: Iterable[str] | None = None,
    expand: Iterable[str] = (),
) -> dict[str, Any]:
    spec = table.spec
    body: dict[str, Any] = {
        "@odata.etag": row.etag,
        "luname": spec.entity,
        "keyref": table.keyref(row),
        "Objgrants": None,
    }
    for name in select if select is not None else spec.attrs:
        body[name] = wire_value(row.values.get(name), knobs)
    for name in expand:
        body[name] = _referenced(store, spec, row, name, knobs)
    return body


def _referenced(
    store: Store, spec: EntitySet, row: Row, name: str, knobs: IfsKnobs
) -> dict[str, Any] | None:
    reference = spec.references[name]
    target = store.table(reference.target)
    found = target.rows.get(
        tuple(
            row.values.get(here)
            for key in target.spec.keys
            for here, there in reference.keys
            if there == key
        )
    )
    return None if found is None else render_row(store, target, found, knobs)


def context_url(base_url: str, spec: EntitySet, suffix: str = "") -> str:
    return f"{base_url}{API_ROOT}/{spec.projection}.svc/$metadata#{spec.name}{suffix}"


_EDM_TYPES = {
    "text": "Edm.String",
    "int": "Edm.Int64",
    "number": "Edm.Decimal",
    "bool": "Edm.Boolean",
    "date": "Edm.Date",
    "timestamp": "Edm.DateTimeOffset",
}


def metadata(projection: str) -> str:
    """A minimal EDMX of one projection: its entity types, keys, sets and actions."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
        "<edmx:DataServices>",
        f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="IfsApp.{projection}">',
    ]
    specs = [s for s in ENTITY_SETS.values() if s.projection == projection]
    for spec in specs:
        parts.append(f'<EntityType Name="{spec.entity}"><Key>')
        parts += [f'<PropertyRef Name="{key}"/>' for key in spec.keys]
        parts.append("</Key>")
        for name, attr in spec.attrs.items():
            nullable = "false" if attr.required or name in spec.keys else "true"
            parts.append(
                f'<Property Name="{name}" Type="{_EDM_TYPES[attr.type]}" Nullable="{nullable}"/>'
            )
        parts.append("</EntityType>")
        for action in spec.actions:
            parts.append(
                f'<Action Name="{spec.entity}_{action}" IsBound="true"><Parameter '
                f'Name="{spec.entity}" Type="IfsApp.{projection}.{spec.entity}"/></Action>'
            )
    parts.append('<EntityContainer Name="Main">')
    parts += [
        f'<EntitySet Name="{s.name}" EntityType="IfsApp.{projection}.{s.entity}"/>' for s in specs
    ]
    parts.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return "\n".join(parts)
