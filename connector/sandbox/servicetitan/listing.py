"""Generic read endpoints: filtered, sorted, paged lists, single records and export feeds.

Each hand-built list endpoint has a :class:`ListRule`: which ``active`` flavour it takes
(``active`` True/Any/False, or accounting's ``activeState``), whether it filters by
externalData, and the few filters whose field the generic rules cannot guess. Every other
parameter the operation documents goes through :mod:`.filtering`; the sort fields come
from the operation's own description.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from connector.sandbox.base import json_response, read_json
from connector.sandbox.servicetitan import filtering, spec
from connector.sandbox.servicetitan.spec import Operation
from connector.sandbox.servicetitan.store import (
    Store,
    created_ticks,
    matches_external,
    modified_ticks,
    public,
)
from connector.sandbox.servicetitan.wire import (
    MAX_IDS,
    ApiError,
    Paging,
    Query,
    Record,
    decode_from,
    encode_position,
    parse_ticks,
)

View = Callable[[Record, str | None], Record]
Handler = Callable[[web.Request], Any]


@dataclass(frozen=True)
class Filter:
    """An equality filter: query ``param`` of ``kind`` against ``get(record)``."""

    param: str
    kind: Literal["int", "str", "ints", "strs"]
    get: Callable[[Record], Any]


@dataclass(frozen=True)
class ListRule:
    table: str
    label: str
    active: Literal["active", "activeState", "none"] = "active"
    external: Literal["filter", "guid", "none"] = "none"
    filters: tuple[Filter, ...] = ()
    view: View = field(default=public)


def nested(*path: str) -> Callable[[Record], Any]:
    """A getter for ``record[path[0]][path[1]]…`` that yields None through null objects."""

    def get(record: Record) -> Any:
        value: Any = record
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


def _application_guid(query: Query) -> str | None:
    text = query.raw("externalDataApplicationGuid")
    if text is None or text == "":
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError.invalid(
            "externalDataApplicationGuid",
            f"'{text}' is not a GUID (e.g. 3f2504e0-4f89-11d3-9a0c-0305e82c3301).",
        ) from None


def _active(rule: ListRule, query: Query, rows: list[Record]) -> list[Record]:
    if rule.active == "active":
        mode = query.choice("active", ("True", "Any", "False"), "True")
        if mode != "Any":
            rows = [row for row in rows if row["active"] is (mode == "True")]
    elif rule.active == "activeState":
        state = query.choice("activeState", ("ActiveOnly", "InactiveOnly", "All"), "ActiveOnly")
        if state != "All":
            rows = [row for row in rows if row["active"] is (state == "ActiveOnly")]
    return rows


def _filter(spec: Filter, query: Query, rows: list[Record]) -> list[Record]:
    wanted: set[Any] | None
    documented, given = query.documented(spec.param)
    if documented:
        if isinstance(given, str) and spec.kind in ("strs", "ints"):
            given = [part.strip() for part in given.split(",") if part.strip()]
        wanted = None if given is None else set(given if isinstance(given, list) else [given])
    elif spec.kind == "int":
        single = query.integer(spec.param)
        wanted = None if single is None else {single}
    elif spec.kind == "ints":
        many = query.int_list(spec.param, limit=None)
        wanted = None if many is None else set(many)
    elif spec.kind == "str":
        text = query.raw(spec.param)
        wanted = None if not text else {text}
    else:
        texts = query.str_list(spec.param)
        wanted = None if texts is None else set(texts)
    if wanted is None:
        return rows

    def hit(row: Record) -> bool:
        value = spec.get(row)
        if isinstance(value, list):
            return any(item in wanted for item in value)
        return value in wanted

    return [row for row in rows if hit(row)]


def operation_of(request: web.Request) -> Operation | None:
    """The documented GET behind the route that matched ``request``."""
    route = request.match_info.route
    canonical = route.resource.canonical if route.resource is not None else ""
    module, _, rest = canonical.lstrip("/").partition("/v2/tenant/{tenant}/")
    return spec.operation_for(module, rest) if rest else None


def request_query(request: web.Request) -> Query:
    return Query(request.query, operation_of(request))


def select(store: Store, rule: ListRule, query: Query) -> tuple[list[Record], str | None]:
    """The rows an endpoint returns for ``query`` (before paging) and the app guid asked."""
    rows = store.table(rule.table).all()
    ids = query.int_list("ids")
    if ids is not None:
        wanted = set(ids)
        rows = [row for row in rows if row["id"] in wanted]
    rows = _active(rule, query, rows)
    for param, ticks_of, on_or_after in (
        ("modifiedOnOrAfter", modified_ticks, True),
        ("modifiedBefore", modified_ticks, False),
        ("createdOnOrAfter", created_ticks, True),
        ("createdBefore", created_ticks, False),
    ):
        bound = query.ticks(param)
        if bound is not None:
            rows = [row for row in rows if (ticks_of(row) >= bound) is on_or_after]
    for rule_filter in rule.filters:
        rows = _filter(rule_filter, query, rows)
    guid = _application_guid(query) if rule.external != "none" else None
    if rule.external == "filter":
        key = query.raw("externalDataKey") or None
        values = query.str_list("externalDataValues")
        if (key is None) != (values is None):
            missing = "externalDataValues" if values is None else "externalDataKey"
            raise ApiError.invalid(
                missing, "externalDataKey and externalDataValues must be given together."
            )
        if key is not None and values is not None:
            if len(values) > MAX_IDS:
                raise ApiError.invalid(
                    "externalDataValues",
                    f"At most {MAX_IDS} values are allowed, got {len(values)}.",
                )
            rows = [row for row in rows if matches_external(row, guid, key, values)]
    return filtering.apply(rows, query.rest(), query.operation) if query.operation else rows, guid


def page_response(
    store: Store, rule: ListRule, request: web.Request, *, bare: bool = False
) -> web.Response:
    """A list endpoint's reply: the page envelope, or the bare array ``inventory-bills`` uses."""
    query = request_query(request)
    query.validate()
    paging = Paging(query)
    rows, guid = select(store, rule, query)
    query.finish()
    envelope = paging.envelope(rows)
    envelope["data"] = [rule.view(row, guid) for row in envelope["data"]]
    return json_response(envelope["data"] if bare else envelope)


def path_id(request: web.Request, name: str = "id") -> int:
    text = request.match_info[name]
    try:
        return int(text)
    except ValueError:
        raise ApiError.invalid(name, f"The value '{text}' is not a valid id.") from None


def find(store: Store, table: str, record_id: int, label: str) -> Record:
    record = store.table(table).get(record_id)
    if record is None:
        raise ApiError(
            404,
            f"{label} not found",
            {"id": [f"No {label.lower()} with id {record_id} exists in this tenant."]},
        )
    return record


def one_response(
    store: Store, rule: ListRule, request: web.Request, name: str = "id"
) -> web.Response:
    """``GET …/{id}``: the record (externalData per the optional application guid) or 404."""
    query = request_query(request)
    query.validate()
    guid = _application_guid(query) if rule.external != "none" else None
    query.finish()
    return json_response(
        rule.view(find(store, rule.table, path_id(request, name), rule.label), guid)
    )


def export_response(
    store: Store, table: str, request: web.Request, chunk: int, view: View = public
) -> web.Response:
    """An export feed chunk of one table, inactive rows included (see :func:`export_rows`)."""
    query = request_query(request)
    operation = query.operation
    schema = operation.item_schema() if operation is not None else None
    rows = [view(row, None) for row in store.table(table).all()]
    if schema is not None and schema.get("additionalProperties") is False:
        # The feed's model can be narrower than the GET model (export/services has no
        # calculatedPrice or useStaticPrices); keep to the fields the feed documents.
        documented = set(schema.get("properties", {}))
        rows = [{k: v for k, v in row.items() if k in documented} for row in rows]
    return export_rows(rows, query, chunk)


def _feed_ticks(row: Record) -> int:
    stamp = row.get("modifiedOn") or row.get("createdOn")
    ticks = parse_ticks(stamp) if isinstance(stamp, str) else None
    return 0 if ticks is None else ticks


def export_rows(rows: list[Record], query: Query, chunk: int) -> web.Response:
    """An export feed chunk ordered by (modifiedOn, id).

    ``from`` is a continuation token or a date (inclusive); ``continueFrom`` is always a
    valid token, even when nothing was returned. With ``includeRecentChanges=true`` the
    next chunk starts at the last row served, so it repeats (as the spec warns it may).
    """
    start_text = query.raw("from")
    recent = bool(query.flag("includeRecentChanges"))
    values = query.rest()
    if "active" in values and isinstance(values["active"], bool):
        rows = [row for row in rows if row.get("active", True) is values["active"]]
    start = decode_from(start_text) if start_text else (0, -1)
    ordered = sorted(
        ((_feed_ticks(row), int(row.get("id") or 0), row) for row in rows),
        key=lambda entry: (entry[0], entry[1]),
    )
    remaining = [entry for entry in ordered if (entry[0], entry[1]) > start]
    served = remaining[: max(1, chunk)]
    position = start
    if served:
        ticks, last_id, _ = served[-1]
        position = (ticks, last_id - 1) if recent and len(served) > 1 else (ticks, last_id)
    return json_response(
        {
            "hasMore": len(remaining) > len(served),
            "continueFrom": encode_position(*position),
            "data": [row for _, _, row in served],
        }
    )


async def json_body(request: web.Request) -> Any:
    body = await read_json(request)
    if body is None:
        raise ApiError(
            400,
            "One or more validation errors occurred.",
            {"$": ["The request body is missing or is not valid JSON."]},
        )
    return body
