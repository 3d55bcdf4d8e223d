"""How a row goes on the wire: strings only, references as ``{link, value}`` unless links are
excluded, ``sysparm_display_value`` (``false`` | ``true`` | ``all``) and ``sysparm_fields``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from connector.sandbox.servicenow.query import Record
from connector.sandbox.servicenow.schema import TABLES, Table
from connector.sandbox.servicenow.store import Instance


@dataclass(frozen=True)
class View:
    """The rendering parameters of one request."""

    fields: tuple[str, ...] | None
    display: str
    exclude_links: bool
    base_url: str

    @classmethod
    def of(cls, request: web.Request, base_url: str) -> View:
        query = request.query
        raw_fields = query.get("sysparm_fields", "")
        fields = tuple(f.strip() for f in raw_fields.split(",") if f.strip()) or None
        display = query.get("sysparm_display_value", "false").lower()
        if display not in ("true", "false", "all"):
            display = "false"
        exclude = query.get("sysparm_exclude_reference_link", "false").lower() == "true"
        return cls(fields, display, exclude, base_url)


def render(record: Record, table: Table, view: View, instance: Instance) -> dict[str, Any]:
    # Unknown names in sysparm_fields are ignored, as on a real instance.
    columns = [c for c in view.fields if c in record] if view.fields else list(record)
    return {column: _value(column, record[column], table, view, instance) for column in columns}


def _value(column: str, value: str, table: Table, view: View, instance: Instance) -> Any:
    target = table.references.get(column)
    if target is None:
        if view.display == "all":
            return {"display_value": value, "value": value}
        return value
    if not value:
        return {"display_value": "", "value": ""} if view.display == "all" else ""
    referenced = instance.get(target, value)
    shown = referenced.get(TABLES[target].display, "") if referenced else ""
    link = f"{view.base_url}/api/now/table/{target}/{value}"
    if view.display == "false":
        return value if view.exclude_links else {"link": link, "value": value}
    if view.display == "true":
        return shown if view.exclude_links else {"link": link, "display_value": shown}
    body = {"display_value": shown, "value": value}
    return body if view.exclude_links else body | {"link": link}
