"""GET on an entity set, on one entity by key, and on a one-to-many navigation.

Lists run ``$filter`` → ``$orderby`` (default: the keys) → ``$skip``/``$top``, then page the
result on the server: a page holds at most ``page_size`` rows and ends with a *relative*
``@odata.nextLink`` (``{Projection}.svc/{Set}?…&$skiptoken=N``) while rows remain (sheet §3).
``$expand`` follows one-to-one references only; naming an array is a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.ifs.knobs import IfsKnobs
from connector.sandbox.ifs.odata import (
    QueryError,
    TimeRules,
    compile_filter,
    parse_orderby,
    parse_select,
    sort_key,
)
from connector.sandbox.ifs.rendering import context_url, render_row
from connector.sandbox.ifs.responses import bad_request
from connector.sandbox.ifs.schema import EntitySet
from connector.sandbox.ifs.store import Row, Store, Table

_OPTIONS = {
    "$filter",
    "$select",
    "$expand",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$skiptoken",
    "$format",
}


def time_rules(knobs: IfsKnobs) -> TimeRules:
    return TimeRules(knobs.site_utc_offset_h, knobs.timestamps_say_utc)


def parse_expand(spec: EntitySet, text: str | None) -> list[str]:
    if not text:
        return []
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if name in spec.arrays:
            raise QueryError(
                f"$expand is only supported on one-to-one associations; {name} is a collection: "
                f"read it from {spec.arrays[name].target.replace('/', '.svc/')} or "
                f"{spec.name}(…)/{name}."
            )
        if name not in spec.references:
            raise QueryError(f"$expand: '{name}' is not an association of {spec.entity}.")
    return names


def _non_negative(query: Any, name: str) -> int | None:
    text = query.get(name)
    if text is None:
        return None
    if not text.isdigit():
        raise QueryError(f"{name} must be a non-negative integer, not '{text}'.")
    return int(text)


def list_rows(
    request: web.Request,
    store: Store,
    table: Table,
    knobs: IfsKnobs,
    base_url: str,
    link_path: str,
    scope: Callable[[dict[str, Any]], bool] | None = None,
) -> web.Response:
    """A page of rows of ``table`` (within ``scope``, for navigations) per the query."""
    spec = table.spec
    query = request.query
    try:
        unknown = sorted(k for k in query if k.startswith("$") and k not in _OPTIONS)
        if unknown:
            # $apply exists on IFS (sheet §2) but no flow uses it, so it is not simulated.
            raise QueryError(f"The query option {unknown[0]} is not supported here.")
        rows: list[Row] = [r for r in table.rows.values() if scope is None or scope(r.values)]
        if "$filter" in query:
            predicate = compile_filter(spec, query["$filter"], time_rules(knobs))
            rows = [r for r in rows if predicate(r.values)]
        order = (
            parse_orderby(spec, query["$orderby"])
            if "$orderby" in query
            else [(key, False) for key in spec.keys]
        )
        for name, descending in reversed(order):
            rows.sort(key=_by(name), reverse=descending)
        select = parse_select(spec, query["$select"]) if "$select" in query else None
        expand = parse_expand(spec, query.get("$expand"))
        skip = _non_negative(query, "$skip") or 0
        top = _non_negative(query, "$top")
        token = _non_negative(query, "$skiptoken") or 0
    except QueryError as exc:
        return bad_request(str(exc))
    count = len(rows)
    rows = rows[skip:] if top is None else rows[skip : skip + top]
    size = _page_size(request, knobs)
    page = rows[token : token + size] if size else rows[token:]
    body: dict[str, Any] = {
        "@odata.context": context_url(base_url, spec, f"({','.join(select)})" if select else ""),
    }
    if query.get("$count") == "true":
        body["@odata.count"] = count
    body["value"] = [render_row(store, table, r, knobs, select, expand) for r in page]
    if size and token + size < len(rows):
        params = [(k, v) for k, v in query.items() if k != "$skiptoken"]
        params.append(("$skiptoken", str(token + size)))
        body["@odata.nextLink"] = f"{link_path}?{urlencode(params, quote_via=quote, safe='$,()')}"
    return json_response(body)


def _by(name: str) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: sort_key(row.values.get(name))


def _page_size(request: web.Request, knobs: IfsKnobs) -> int:
    size = knobs.page_size
    prefer = request.headers.get("Prefer", "")
    if knobs.honour_maxpagesize and "odata.maxpagesize=" in prefer:
        asked = prefer.split("odata.maxpagesize=")[1].split(",")[0].strip()
        if asked.isdigit() and int(asked) > 0:
            size = min(size, int(asked)) if size else int(asked)
    return size


def entity_response(
    store: Store,
    table: Table,
    row: Row,
    knobs: IfsKnobs,
    base_url: str,
    request: web.Request,
    status: int = 200,
) -> web.Response:
    """One entity with ``@odata.context`` and (knob) an ETag header."""
    spec = table.spec
    try:
        select = (
            parse_select(spec, request.query["$select"]) if "$select" in request.query else None
        )
        expand = parse_expand(spec, request.query.get("$expand"))
    except QueryError as exc:
        return bad_request(str(exc))
    body = {"@odata.context": context_url(base_url, spec, "/$entity")}
    body |= render_row(store, table, row, knobs, select, expand)
    headers = {"ETag": row.etag} if knobs.etag_header else None
    return json_response(body, status, headers)
