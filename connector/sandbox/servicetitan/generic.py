"""Every documented GET the hand-built modules do not serve, answered from the spec.

Rows come from :mod:`.sources` (derived from the seeded tenant where the vendor's model has
a seeded counterpart — locations, contacts, appointments, invoice items, technicians… — or
generated from the schema otherwise) and are shaped by :func:`.fake.conform` to the
operation's own response schema, so the list, the export feed and the get-by-id of one
resource agree on ids and shared fields. Filters, sort and paging are the generic ones.

Routes by the operation's shape: a page envelope, an export feed, a bare array, or one
object — by id when the path ends in an integer id (404 when absent), otherwise built for
the path's parameters after checking the parent record exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.servicetitan import filtering, spec
from connector.sandbox.servicetitan.listing import export_rows, request_query
from connector.sandbox.servicetitan.sources import ExternalLookup, Sources, without_private
from connector.sandbox.servicetitan.spec import Operation
from connector.sandbox.servicetitan.wire import ApiError, Paging, Query, Record

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.simulator import Handler, Route, ServiceTitanSimulator


def path_number(request: web.Request, name: str) -> int:
    """An integer path parameter; anything else is a 404 (the route needs an id)."""
    text = request.match_info[name]
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0 or str(value) != text.lstrip("+"):
        raise ApiError(404, "Not Found", {name: [f"'{text}' is not an id of this resource."]})
    return value


def _nullable_total(op: Operation) -> bool:
    """Whether the envelope documents ``totalCount`` as nullable (a few say it never is)."""
    envelope = spec.resolve(op.module, op.body or {})
    total = envelope.get("properties", {}).get("totalCount", {})
    return "null" in spec.types_of(spec.resolve(op.module, total))


def _active(query: Query, op: Operation, rows: list[Record]) -> list[Record]:
    """``active`` as documented: the True/Any/False enum (active only by default) or a flag."""
    for name in ("active", "activeOnly"):
        param = op.params.get(name)
        if param is None:
            continue
        if param.enum is not None and "Any" in param.enum:
            mode = query.choice(name, param.enum, "True")
            if mode != "Any":
                rows = [r for r in rows if r.get("active", True) is (mode == "True")]
        else:
            flag = query.flag(name)
            if flag is not None and rows and "active" in rows[0]:
                rows = [r for r in rows if r.get("active") is flag]
    return rows


def _lookup(query: Query, op: Operation) -> ExternalLookup:
    """The request's externalData parameters (typed; key and values count only together)."""
    values: dict[str, Any] = {}
    for name in ("externalDataApplicationGuid", "externalDataKey", "externalDataValues"):
        values[name] = query.documented(name)[1]
    raw = values["externalDataValues"]
    wanted = tuple(raw if isinstance(raw, list) else str(raw or "").split(","))
    wanted = tuple(value.strip() for value in wanted if value.strip())
    key = values["externalDataKey"] or None
    return ExternalLookup(
        values["externalDataApplicationGuid"] or None,
        key if wanted else None,
        wanted,
    )


class GenericRoutes:
    """Handlers for the operations ``served`` leaves open, bound to one simulator."""

    def __init__(self, sim: ServiceTitanSimulator) -> None:
        self.sim = sim
        self.sources = Sources(sim)

    def routes(self, served: set[tuple[str, str]]) -> list[Route]:
        table: list[Route] = []
        for (module, path), op in spec.operations().items():
            if (module, spec.template_key(path)) in served:
                continue
            table.append(("GET", module, path, self._handler(op)))
        return table

    def _handler(self, op: Operation) -> Handler:
        last = op.path.rsplit("/", 1)[-1]
        by_id = (
            op.shape == "object"
            and last.startswith("{")
            and last.strip("{}") in op.integer_path_params
        )

        async def handle(request: web.Request) -> web.StreamResponse:
            query = request_query(request)
            query.validate()
            numbers = {
                name: path_number(request, name)
                for name in op.path_params
                if name in op.integer_path_params
            }
            parent = self.sources.check_parent(op, numbers)
            lookup = _lookup(query, op)
            if by_id:
                id_name = last.strip("{}")
                record = self.sources.one(op, numbers[id_name], parent, lookup.guid)
                query.finish()
                return json_response(record)
            if op.shape == "object":
                query.finish()
                return json_response(self.sources.single(op, request.match_info, parent))
            rows = self.sources.rows(op, parent, lookup)
            if op.shape == "export":
                feed = [without_private(r) for r in rows]
                return export_rows(feed, query, self.sim.knobs.export_chunk)
            paging = Paging(query) if op.shape == "page" else None
            # Filters read the private fields; the reply never shows them.
            rows = [without_private(r) for r in self._select(query, op, rows)]
            if paging is None:
                return json_response(rows)
            envelope = paging.envelope(rows)
            if envelope["totalCount"] is None and not _nullable_total(op):
                envelope["totalCount"] = len(rows)
            return json_response(envelope)

        return handle

    def _select(self, query: Query, op: Operation, rows: list[Record]) -> list[Record]:
        rows = _active(query, op, rows)
        values: dict[str, Any] = query.rest()
        ids = values.pop("ids", None)
        if ids is not None:
            wanted = set(ids)
            rows = [row for row in rows if row.get("id") in wanted]
            # journal-entries: "empty" has no effect when entries are asked for by id.
            values.pop("empty", None)
        return filtering.apply(rows, values, op)


def served_key(module: str, path: str) -> tuple[str, str]:
    return module, spec.template_key(path)
