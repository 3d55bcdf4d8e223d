"""The Table API: ``/api/now[/v1|/v2]/table/{table}[/{sys_id}]``.

Reads apply the encoded query, sort, cut the ``sysparm_offset``/``sysparm_limit`` window
(default limit 10000) and only *then* drop rows the ACL hides, so a page may come back short
or empty while more rows exist. ``X-Total-Count`` and ``Link`` (first, prev, next, last;
absolute URLs) go with every list unless suppressed. No rows: v1 answers 404, v2 and the
unversioned path ``200 {"result": []}``. POST always inserts (201), PATCH/PUT answer 200,
DELETE 204 without a body.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from yarl import URL

from connector.sandbox.base import json_response, read_json
from connector.sandbox.servicenow.knobs import ServiceNowKnobs
from connector.sandbox.servicenow.query import Record, matches, parse, sort
from connector.sandbox.servicenow.render import View, render
from connector.sandbox.servicenow.responses import no_record, sn_error
from connector.sandbox.servicenow.schema import OUTBOUND_STATES, SYS_FIELDS, Table
from connector.sandbox.servicenow.store import Instance

DEFAULT_LIMIT = 10000


def denied(user: str, table: Table, operation: str, roles: frozenset[str]) -> web.Response:
    """403 naming the operation, the table and the roles that would allow it."""
    return sn_error(
        403,
        "User Not Authorized",
        f"ACL Exception {operation} Failed due to security constraints: user {user} needs one "
        f"of the roles {', '.join(sorted(roles))} to {operation.lower()} {table.name}",
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def as_strings(body: dict[str, Any]) -> dict[str, str]:
    """A write body's values as the strings the instance stores (references by sys_id)."""
    result: dict[str, str] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            value = value.get("value", "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        result[key] = "" if value is None else str(value)
    return result


class TableRoutes:
    """Mixin of the simulator: the Table API handlers."""

    knobs: ServiceNowKnobs
    instance: Instance
    base_url: str

    def hidden_by_acl(self, record: Record) -> bool:
        every = self.knobs.acl_hide_every
        return every > 0 and int(record["sys_id"], 16) % every == 0

    async def table_list(self, request: web.Request, table: Table, version: str) -> web.Response:
        query = parse(request.query.get("sysparm_query", ""), table)
        rows = self.instance.table_rows(table.name)
        if query.had_invalid and self.knobs.invalid_query_returns_no_rows:
            matched: list[Record] = []
        else:
            matched = sort([r for r in rows if matches(query, r, table)], query.order, table)
        limit = max(1, _int(request.query.get("sysparm_limit"), DEFAULT_LIMIT))
        offset = max(0, _int(request.query.get("sysparm_offset"), 0))
        page = [r for r in matched[offset : offset + limit] if not self.hidden_by_acl(r)]
        view = View.of(request, self.base_url)
        result = [render(r, table, view, self.instance) for r in page]
        if not result and version == "v1":
            return no_record(
                "Records matching query not found. Check query parameter or offset parameter"
            )
        total = (
            len(matched)
            if self.knobs.total_count_includes_hidden
            else sum(1 for r in matched if not self.hidden_by_acl(r))
        )
        headers: dict[str, str] = {}
        if request.query.get("sysparm_no_count", "false").lower() != "true":
            headers["X-Total-Count"] = str(total)
        if request.query.get("sysparm_suppress_pagination_header", "false").lower() != "true":
            headers["Link"] = self._links(request, offset, limit, total)
        return json_response({"result": result}, headers=headers)

    def _links(self, request: web.Request, offset: int, limit: int, total: int) -> str:
        base = URL(self.base_url + request.path)
        params = dict(request.query)

        def at(position: int) -> str:
            url = base.with_query(
                params | {"sysparm_limit": str(limit), "sysparm_offset": str(position)}
            )
            return str(url)

        # Page one's "prev" really does point at a negative offset.
        links = [(at(0), "first"), (at(offset - limit), "prev")]
        if offset + limit < total:
            links.append((at(offset + limit), "next"))
        last = max(0, (total - 1) // limit * limit)
        links.append((at(last), "last"))
        return ",".join(f'<{url}>;rel="{rel}"' for url, rel in links)

    async def table_get(self, request: web.Request, table: Table, sys_id: str) -> web.Response:
        record = self.instance.get(table.name, sys_id)
        if record is None or self.hidden_by_acl(record):
            return no_record()
        view = View.of(request, self.base_url)
        return json_response({"result": render(record, table, view, self.instance)})

    async def table_insert(self, request: web.Request, table: Table, user: str) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return sn_error(
                400,
                "Exception while reading request",
                "The payload is not valid "
                "JSON: send one JSON object of column names and string values",
            )
        values = {k: v for k, v in as_strings(body).items() if k not in SYS_FIELDS}
        if table.outbound and values.setdefault("integration_status", "new") != "new":
            return sn_error(
                403,
                "Operation Failed",
                "Data policy: a new outbound row starts with integration_status new",
            )
        record = self.instance.insert(table, values, user=user)
        view = View.of(request, self.base_url)
        return json_response({"result": render(record, table, view, self.instance)}, 201)

    async def table_update(
        self, request: web.Request, table: Table, sys_id: str, user: str
    ) -> web.Response:
        record = self.instance.get(table.name, sys_id)
        if record is None or self.hidden_by_acl(record):
            return no_record()
        body = await read_json(request)
        if not isinstance(body, dict):
            return sn_error(
                400,
                "Exception while reading request",
                "The payload is not valid "
                "JSON: send one JSON object of column names and string values",
            )
        values = as_strings(body)
        if table.outbound and "integration_status" in values:
            old, new = record["integration_status"], values["integration_status"]
            if new != old and new not in OUTBOUND_STATES.get(old, set()):
                allowed = sorted(OUTBOUND_STATES.get(old, set())) or ["nothing"]
                return sn_error(
                    403,
                    "Operation Failed",
                    f"Business rule: integration_status "
                    f"of {table.name} {sys_id} cannot go from {old} to {new}; "
                    f"from {old} it may go to {', '.join(allowed)}",
                )
        self.instance.update(table, record, values, user=user)
        view = View.of(request, self.base_url)
        return json_response({"result": render(record, table, view, self.instance)})

    async def table_delete(self, table: Table, sys_id: str) -> web.Response:
        record = self.instance.get(table.name, sys_id)
        if record is None or self.hidden_by_acl(record):
            return no_record()
        self.instance.delete(table.name, sys_id)
        return web.Response(status=204)
