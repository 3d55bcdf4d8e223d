"""Simulated Infor LN REST (OData v4) services behind the ION API gateway.

``/{ti}/LN/lnapi/odata/{module.Service}/{EntitySet}[(<key>)]`` (entity sets in
:mod:`.ln_schema`). What it enforces, after Infor's LN REST API documentation:

- ``X-Infor-LnCompany`` selects the company (0–9999). Left out, the **service user's
  default company** is used (a different one than the tests use, as on a real tenant where
  forgetting the header reads and writes the wrong company); a company for which the
  services are not activated is 404.
- Collections: ``$filter`` (strict, :mod:`.odata_filter`), ``$select``, ``$orderby``,
  ``$top``, ``$count``; any other ``$`` option is 400. Server-driven paging: at most
  ``page_size`` rows (or ``Prefer: odata.maxpagesize``), then ``@odata.nextLink``.
- Entities by key in parentheses: ``BusinessPartners('ACME')``,
  ``Lines(PurchaseOrder='PO1',Line=1,Sequence=0)``; every entity carries ``@odata.etag``
  (weak, ``W/"…"``) and a GET by key answers the ``ETag`` header.
- ``POST`` creates (201; an existing key is 409; an unknown reference is 422; document
  numbers of ``Invoices`` are the server's). ``PATCH`` needs ``If-Match`` (428 without it,
  412 when stale; ``*`` matches anything).
- Documents in one request, each a knob (:class:`LnSeed`): a **deep insert** (``POST
  Invoices``/``Orders`` with the lines nested in ``LineRefs``; atomic; 201 with the lines,
  or 204 on ``Prefer: return=minimal``; 501 when not offered) and a JSON **``$batch``**
  (:mod:`.ln_batch`). ``POST {Header}({key})/LineRefs`` creates a line under a header.
  ``GET {service}/$metadata`` (:mod:`.ln_metadata`) announces which of the two is offered.
- Errors: the OData shape ``{"error": {"code", "message", "details", "innererror"}}`` as
  the per-service API reference documents it, or — ``error_style: "ln"`` — the top-level
  ``{"Code", "Message", "Details", "InnerError"}`` of the LN REST administration guide's
  example; the two documents disagree, so it is a knob.

Knobs ride on ``POST /_sandbox/seed`` with ``{"line": "LN", …}`` (see :meth:`LnApp.seed`);
the gateway's generic faults (429, 5xx, timeout-after-commit) apply as to M3.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.infor.ln_batch import run_batch
from connector.sandbox.infor.ln_call import Call
from connector.sandbox.infor.ln_metadata import metadata
from connector.sandbox.infor.ln_schema import (
    ENTITY_SETS,
    MODIFIED,
    EntitySet,
    Prop,
    find_set,
    services,
)
from connector.sandbox.infor.odata_filter import FilterError, compile_filter

PREFIX = ("LN", "lnapi", "odata")
QUERY_OPTIONS = frozenset(
    {"$filter", "$select", "$orderby", "$top", "$skiptoken", "$count", "$expand"}
)
#: The navigation property from a header to its lines (``Orders`` → ``Lines`` is named so in
#: Infor's purchase order service; the invoice one is **(inferred)** to follow it).
LINE_REFS = "LineRefs"
_EXPAND = re.compile(r"^\s*(?P<name>\w+)\s*(?:\(\s*\$select=(?P<select>[\w,\s]+)\))?\s*$")
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_KEY_PART = re.compile(r"^\s*(?:(?P<name>[A-Za-z_]\w*)\s*=\s*)?(?P<value>'(?:[^']|'')*'|-?\d+)\s*$")
_SET_AND_KEY = re.compile(r"^(?P<set>[A-Za-z_]\w*)(?:\((?P<key>.*)\))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Key = tuple[Any, ...]


class LnError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []


class LnSeed(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /_sandbox/seed`` with ``"line": "LN"`` (the ``line`` key removed)."""

    seed: int = 0
    company: int = 100
    suppliers: int = 0
    items: int = 0
    #: Rows per page before ``@odata.nextLink`` (server-driven paging).
    page_size: int = 100
    error_style: str = "odata"
    #: The LN service user's default company (used when the header is left out).
    default_company: int = 200
    #: Accept a header POSTed with its lines nested in ``LineRefs`` (OData deep insert) and
    #: say so in ``$metadata``. Off by default: Infor's per-service LN API reference
    #: documents one create per entity set and ``LineRefs`` only under ``$expand``; no Infor
    #: page found says LN takes a deep insert, so it is not assumed.
    deep_insert: bool = False
    #: Serve ``{service}/$batch`` in the JSON format of OData 4.01 (atomicity groups,
    #: ``Content-ID`` references) and say so in ``$metadata``. Off by default: no Infor page
    #: found documents a ``$batch`` endpoint for the LN services.
    batch: bool = False


@dataclass
class Row:
    values: dict[str, Any]
    version: int = 1


@dataclass
class Company:
    tables: dict[str, dict[Key, Row]] = field(default_factory=dict)
    next_document: int = 1000001

    def table(self, entity_set: EntitySet) -> dict[Key, Row]:
        return self.tables.setdefault(entity_set.name, {})


class LnApp:
    """The LN services of one tenant (companies 100 and 200 activated)."""

    def __init__(self) -> None:
        self.settings = LnSeed()
        self.companies: dict[int, Company] = {}
        self._clock = datetime(2024, 1, 1, tzinfo=UTC)
        self.reset()

    # -- LineApp ------------------------------------------------------------------------
    def reset(self) -> None:
        self.settings = LnSeed()
        self.companies = {100: Company(), 200: Company()}

    def is_write(self, request: web.Request) -> bool:
        return request.method in ("POST", "PATCH", "PUT", "DELETE")

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """``{"seed", "company", "suppliers", "items", "page_size", "error_style",
        "default_company", "deep_insert", "batch"}``: replace the data with a deterministic
        set and set the knobs."""
        try:
            settings = msgspec.convert(params, LnSeed)
        except msgspec.ValidationError as exc:
            raise web.HTTPBadRequest(
                text=f'{{"error": "bad LN seed body: {exc}"}}', content_type="application/json"
            ) from None
        self.reset()
        self.settings = settings
        company = self.companies.setdefault(settings.company, Company())
        rng = random.Random(settings.seed)
        partners = company.table(_set("BusinessPartners"))
        for n in range(1, settings.suppliers + 1):
            code = f"BP{n:07d}"
            partners[(code,)] = Row(
                {
                    "BusinessPartner": code,
                    "Name": f"{rng.choice(['Acme', 'Borealis', 'Cobalt', 'Delta'])} Supply {n}",
                    "BusinessPartnerStatus": "Active",
                    "Currency": "USD",
                    MODIFIED: self._tick(),
                }
            )
        items = company.table(_set("Items"))
        for n in range(1, settings.items + 1):
            code = f"ITM{n:06d}"
            items[(code,)] = Row(
                {
                    "Item": code,
                    "Description": f"Part {rng.randint(100, 999)}",
                    "ItemGroup": "MAT",
                    "InventoryUnit": "ea",
                    "ItemStatus": "Active",
                    MODIFIED: self._tick(),
                }
            )
        return {"seeded": {"BusinessPartners": settings.suppliers, "Items": settings.items}}

    def state(self) -> dict[str, Any]:
        return {
            "companies": {
                str(number): {
                    entity_set.name: [
                        _render(entity_set, row, number)
                        for row in company.table(entity_set).values()
                    ]
                    for entity_set in ENTITY_SETS
                }
                for number, company in self.companies.items()
            }
        }

    async def handle(self, request: web.Request, segments: list[str]) -> web.StreamResponse:
        return await self.answer(await Call.of(request, segments), segments)

    async def answer(self, call: Call, segments: list[str]) -> web.Response:
        """The response to one request (alone or from a ``$batch``); errors in LN's shape."""
        try:
            return await self._handle(call, segments)
        except LnError as error:
            return self._error(error, call)

    # -- requests -----------------------------------------------------------------------
    async def _handle(self, call: Call, segments: list[str]) -> web.Response:
        if tuple(segments[:3]) != PREFIX or len(segments) not in (5, 6):
            raise LnError(404, "NotFound", f"No LN REST resource at /{'/'.join(segments)}")
        service, target = segments[3], segments[4]
        if service not in services():
            raise LnError(404, "NotFound", f"Service {service} does not exist or is not active")
        if len(segments) == 5 and target == "$metadata" and call.method == "GET":
            return _json(metadata(service, self.settings.deep_insert, self.settings.batch))
        if len(segments) == 5 and target == "$batch" and self.settings.batch:
            if call.method != "POST":
                raise LnError(405, "MethodNotAllowed", "$batch takes POST only")
            return await run_batch(self, call, service)
        match = _SET_AND_KEY.match(target)
        entity_set = find_set(service, match.group("set")) if match else None
        if match is None or entity_set is None:
            raise LnError(404, "NotFound", f"Service {service} has no entity set {target!r}")
        accept = call.headers.get("Accept", "application/json")
        if "json" not in accept and "*/*" not in accept:
            raise LnError(406, "NotAcceptable", f"Accept {accept!r}: only application/json")
        number, company = self._company(call, service)
        raw_key = match.group("key")
        key = _parse_key(entity_set, raw_key) if raw_key is not None else None
        if len(segments) == 6:
            return await self._create_under(call, entity_set, company, number, key, segments[5])
        if key is None:
            if call.method == "GET":
                return self._collection(call, entity_set, company, number)
            if call.method == "POST":
                return await self._create(call, entity_set, company, number)
        else:
            if call.method == "GET":
                return self._entity(call, entity_set, company, number, key)
            if call.method == "PATCH":
                return await self._patch(call, entity_set, company, number, key)
        raise LnError(405, "MethodNotAllowed", f"{call.method} is not supported on {target}")

    def _company(self, call: Call, service: str) -> tuple[int, Company]:
        header = call.headers.get("X-Infor-LnCompany", "").strip()
        if not header:
            number = self.settings.default_company
        elif not header.isdigit() or int(header) > 9999:
            raise LnError(
                400, "BadRequest", f"X-Infor-LnCompany {header!r} is not a company number 0-9999"
            )
        else:
            number = int(header)
        company = self.companies.get(number)
        if company is None:
            raise LnError(
                404, "NotFound", f"Service {service} is not activated for company {number}"
            )
        return number, company

    def _collection(
        self, call: Call, entity_set: EntitySet, company: Company, number: int
    ) -> web.Response:
        query = call.query
        for name in query:
            if name.startswith("$") and name not in QUERY_OPTIONS:
                raise LnError(400, "BadRequest", f"The query option {name} is not supported")
        rows = [row.values for row in company.table(entity_set).values()]
        if "$filter" in query:
            try:
                predicate = compile_filter(query["$filter"], entity_set.types)
            except FilterError as exc:
                raise LnError(400, "BadRequest", f"Invalid $filter: {exc}") from None
            rows = [row for row in rows if predicate(row)]
        rows.sort(key=lambda values: tuple(values[k] for k in entity_set.keys))
        for prop, descending in reversed(_order_by(query.get("$orderby"), entity_set)):
            rows.sort(key=functools.partial(_sort_value, prop), reverse=descending)
        total = len(rows)
        top = _non_negative(query, "$top")
        offset = _non_negative(query, "$skiptoken") or 0
        end = len(rows) if top is None else min(len(rows), top)
        page_size = self.settings.page_size
        preferred = re.search(r"odata\.maxpagesize=(\d+)", call.headers.get("Prefer", ""))
        if preferred:
            page_size = max(1, min(page_size, int(preferred.group(1))))
        page = rows[offset : min(end, offset + page_size)]
        select = _select(query.get("$select"), entity_set)
        body: dict[str, Any] = {"@odata.context": _context(call, entity_set)}
        if query.get("$count") == "true":
            body["@odata.count"] = total
        expand = _expand(query.get("$expand"), entity_set)
        body["value"] = [
            self._expanded(
                _project(
                    _render(entity_set, company.table(entity_set)[_key_of(entity_set, v)], number),
                    select,
                ),
                entity_set,
                v,
                company,
                number,
                expand,
            )
            for v in page
        ]
        if offset + len(page) < end:
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(offset + len(page))
            body["@odata.nextLink"] = str(call.url.with_query(params))
        return _json(body)

    def _expanded(
        self,
        body: dict[str, Any],
        entity_set: EntitySet,
        values: dict[str, Any],
        company: Company,
        number: int,
        expand: tuple[EntitySet, list[str] | None] | None,
    ) -> dict[str, Any]:
        """``body`` with its ``LineRefs`` when ``$expand`` asked for them."""
        if expand is None:
            return body
        child, select = expand
        links = child.parent[1] if child.parent is not None else ()
        rows = sorted(
            (k, row)
            for k, row in company.table(child).items()
            if all(row.values.get(name) == values.get(name) for name in links)
        )
        body[LINE_REFS] = [_project(_render(child, row, number), select) for _, row in rows]
        return body

    def _entity(
        self, call: Call, entity_set: EntitySet, company: Company, number: int, key: Key
    ) -> web.Response:
        row = company.table(entity_set).get(key)
        if row is None:
            raise LnError(
                404, "NotFound", f"{entity_set.name}{_show(entity_set, key)} does not exist"
            )
        body = _render(entity_set, row, number)
        body = {"@odata.context": _context(call, entity_set) + "/$entity", **body}
        expand = _expand(call.query.get("$expand"), entity_set)
        return _json(
            self._expanded(
                _project(body, _select(call.query.get("$select"), entity_set)),
                entity_set,
                row.values,
                company,
                number,
                expand,
            ),
            200,
            body["@odata.etag"],
        )

    async def _create(
        self,
        call: Call,
        entity_set: EntitySet,
        company: Company,
        number: int,
        parent: dict[str, Any] | None = None,
    ) -> web.Response:
        """POST to an entity set, or (``parent``) to a header's ``LineRefs``. A body holding
        ``LineRefs`` is a **deep insert**: the header and all its lines are checked first
        and stored together, or nothing is stored (OData 4.01 Part 1, §11.4.2.2)."""
        raw = _decode_object(call)
        nested = raw.pop(LINE_REFS, None)
        child = _child_of(entity_set)
        if nested is not None and child is None:
            raise LnError(
                400,
                "BadRequest",
                f"Could not find a property named '{LINE_REFS}' on {entity_set.name}",
            )
        if nested is not None and not self.settings.deep_insert:
            raise LnError(
                501,
                "NotImplemented",
                f"Deep insert is not supported: create the {entity_set.name} entity first, "
                f"then its {child.name if child else LINE_REFS} one by one",
            )
        values = _values(raw, entity_set)
        if parent is not None:
            _inherit(entity_set, values, parent)
        header = self._prepared(entity_set, company, values, document=company.next_document)
        rows = [(entity_set, header)]
        if nested is not None and child is not None:
            if not isinstance(nested, list):
                raise LnError(400, "BadRequest", f"{LINE_REFS} must be a JSON array")
            seen: set[Key] = set()
            for index, item in enumerate(nested):
                if not isinstance(item, dict):
                    raise LnError(400, "BadRequest", f"{LINE_REFS}[{index}] must be an object")
                line = _values(item, child)
                _inherit(child, line, header)
                line = self._prepared(child, company, line, parent_pending=True)
                key = _key_of(child, line)
                if key in seen:
                    raise LnError(
                        400,
                        "BadRequest",
                        f"{LINE_REFS}[{index}]: {child.name}{_show(child, key)}"
                        " appears twice in the request",
                    )
                seen.add(key)
                rows.append((child, line))
        if entity_set.numbered:
            company.next_document += 1
        stored = [(target, self._store(target, company, vals)) for target, vals in rows]
        body = {
            "@odata.context": _context(call, entity_set) + "/$entity",
            **_render(entity_set, stored[0][1], number),
        }
        if nested is not None and child is not None:
            body[LINE_REFS] = [_render(child, row, number) for _, row in stored[1:]]
        location = f"{call.service_root}/{entity_set.name}{_key_path(entity_set, header)}"
        if "return=minimal" in call.headers.get("Prefer", ""):
            return web.Response(
                status=204,
                headers={
                    "OData-Version": "4.0",
                    "Location": location,
                    "OData-EntityId": location,
                    "Preference-Applied": "return=minimal",
                    "ETag": body["@odata.etag"],
                },
            )
        response = _json(body, 201, body["@odata.etag"])
        response.headers["Location"] = location
        if "return=representation" in call.headers.get("Prefer", ""):
            response.headers["Preference-Applied"] = "return=representation"
        return response

    async def _create_under(
        self,
        call: Call,
        entity_set: EntitySet,
        company: Company,
        number: int,
        key: Key | None,
        navigation: str,
    ) -> web.Response:
        """``POST {Header}({key})/LineRefs``: a line created under an existing header, which
        gives the line its header's key (how a batch adds lines to a header it just made)."""
        child = _child_of(entity_set)
        if key is None or navigation != LINE_REFS or child is None:
            raise LnError(
                404, "NotFound", f"{entity_set.name} has no navigation property {navigation!r}"
            )
        if call.method != "POST":
            raise LnError(
                405, "MethodNotAllowed", f"{call.method} is not supported on {navigation}"
            )
        row = company.table(entity_set).get(key)
        if row is None:
            raise LnError(
                404, "NotFound", f"{entity_set.name}{_show(entity_set, key)} does not exist"
            )
        return await self._create(call, child, company, number, parent=row.values)

    def _prepared(
        self,
        entity_set: EntitySet,
        company: Company,
        values: dict[str, Any],
        *,
        document: int | None = None,
        parent_pending: bool = False,
    ) -> dict[str, Any]:
        """``values`` completed and checked, nothing stored: defaults, required properties,
        the server's document number, references and a free key (409 when taken)."""
        for name, prop in entity_set.props.items():
            if prop.default is not None:
                values.setdefault(name, prop.default)
            if prop.required and name not in values:
                raise LnError(400, "BadRequest", f"Property {name} is required")
        if entity_set.numbered and document is not None:
            values[entity_set.numbered] = document
        self._check_references(entity_set, company, values, parent_pending=parent_pending)
        key = _key_of(entity_set, values)
        if key in company.table(entity_set):
            raise LnError(
                409, "Conflict", f"{entity_set.name}{_show(entity_set, key)} already exists"
            )
        return values

    def _store(self, entity_set: EntitySet, company: Company, values: dict[str, Any]) -> Row:
        values[MODIFIED] = self._tick()
        row = Row(values)
        company.table(entity_set)[_key_of(entity_set, values)] = row
        return row

    async def _patch(
        self, call: Call, entity_set: EntitySet, company: Company, number: int, key: Key
    ) -> web.Response:
        condition = call.headers.get("If-Match")
        if condition is None:
            raise LnError(
                428,
                "PreconditionRequired",
                f"PATCH of {entity_set.name}{_show(entity_set, key)} needs If-Match with the "
                "entity's ETag",
            )
        row = company.table(entity_set).get(key)
        if row is None:
            raise LnError(
                404, "NotFound", f"{entity_set.name}{_show(entity_set, key)} does not exist"
            )
        current = _etag(entity_set, row, number)
        if condition.strip() not in ("*", current):
            raise LnError(
                412,
                "ERROR:ttstps0110",
                "Record modified by other user",
                [f"Server etag '{current}' differs from client etag '{condition}'"],
            )
        values = _values(_decode_object(call), entity_set)
        for name in entity_set.keys:
            if name in values and values[name] != row.values[name]:
                raise LnError(400, "BadRequest", f"Key property {name} cannot be changed")
        self._check_references(entity_set, company, {**row.values, **values})
        row.values.update(values)
        row.values[MODIFIED] = self._tick()
        row.version += 1
        body = {
            "@odata.context": _context(call, entity_set) + "/$entity",
            **_render(entity_set, row, number),
        }
        return _json(body, 200, body["@odata.etag"])

    def _check_references(
        self,
        entity_set: EntitySet,
        company: Company,
        values: dict[str, Any],
        *,
        parent_pending: bool = False,
    ) -> None:
        for ref in entity_set.references:
            value = values.get(ref.prop)
            if value and (value,) not in company.table(_set(ref.entity_set)):
                raise LnError(
                    422, "ERROR:tcmcs0004", f"{ref.prop} {value!r} not found in {ref.entity_set}"
                )
        if entity_set.parent is not None and not parent_pending:
            parent_name, parent_keys = entity_set.parent
            parent_key = tuple(values.get(k) for k in parent_keys)
            if parent_key not in company.table(_set(parent_name)):
                raise LnError(
                    422,
                    "ERROR:tcmcs0004",
                    f"{parent_name}{parent_key} not found; create the header first",
                )

    def _tick(self) -> datetime:
        """The next modification time: real time, but strictly increasing, so that a
        ``ge`` filter on the last time read never skips a row written in the same instant."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._clock = max(now, self._clock + timedelta(milliseconds=1))
        return self._clock

    def _error(self, error: LnError, call: Call) -> web.Response:
        details = [{"code": "ERROR:", "message": text} for text in error.details]
        inner = {
            "StatusCode": error.status,
            "TenantId": call.tenant,
            "Company": call.headers.get("X-Infor-LnCompany", ""),
        }
        if self.settings.error_style == "ln":
            body: dict[str, Any] = {
                "Code": error.code,
                "Message": error.message,
                "Details": [{"Code": d["code"], "Message": d["message"]} for d in details],
                "InnerError": inner,
            }
        else:
            body = {
                "error": {
                    "code": error.code,
                    "message": error.message,
                    "details": details,
                    "innererror": inner,
                }
            }
        return _json(body, error.status)


def _set(name: str) -> EntitySet:
    for entity_set in ENTITY_SETS:
        if entity_set.name == name:
            return entity_set
    raise KeyError(name)


def _json(body: Any, status: int = 200, etag: str | None = None) -> web.Response:
    headers = {"OData-Version": "4.0"}
    if etag:
        headers["ETag"] = etag
    return web.Response(
        body=_ENCODER.encode(body), status=status, content_type="application/json", headers=headers
    )


def _context(call: Call, entity_set: EntitySet) -> str:
    return f"{call.service_root}/$metadata#{entity_set.name}"


def _etag(entity_set: EntitySet, row: Row, number: int) -> str:
    key = "|".join(str(row.values[k]) for k in entity_set.keys)
    digest = hashlib.sha1(
        f"{number}|{entity_set.name}|{key}|{row.version}".encode(), usedforsecurity=False
    )
    return f'W/"{digest.hexdigest()}"'


def _render(entity_set: EntitySet, row: Row, number: int) -> dict[str, Any]:
    body: dict[str, Any] = {"@odata.etag": _etag(entity_set, row, number)}
    for name in entity_set.props:
        value = row.values.get(name)
        if isinstance(value, datetime):
            value = value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        body[name] = value
    return body


def _project(body: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if select is None:
        return body
    return {k: v for k, v in body.items() if k.startswith("@") or k in select}


def _select(text: str | None, entity_set: EntitySet) -> list[str] | None:
    if text is None or text.strip() == "*":
        return None
    names = [name.strip() for name in text.split(",")]
    for name in names:
        if name not in entity_set.props:
            raise LnError(
                400,
                "BadRequest",
                f"$select: could not find a property named '{name}' on {entity_set.name}",
            )
    return names


def _expand(text: str | None, entity_set: EntitySet) -> tuple[EntitySet, list[str] | None] | None:
    """The line set and its ``$select`` of ``$expand=LineRefs[($select=…)]``; None if absent."""
    if text is None:
        return None
    match = _EXPAND.match(text)
    child = next((s for s in ENTITY_SETS if s.parent and s.parent[0] == entity_set.name), None)
    if match is None or match.group("name") != LINE_REFS or child is None:
        raise LnError(
            400,
            "BadRequest",
            f"$expand: {text!r} is not a navigation property of {entity_set.name}",
        )
    select = match.group("select")
    return child, _select(select, child) if select else None


def _order_by(text: str | None, entity_set: EntitySet) -> list[tuple[str, bool]]:
    if text is None:
        return []
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise LnError(400, "BadRequest", f"$orderby: cannot parse {part.strip()!r}")
        if words[0] not in entity_set.props:
            raise LnError(
                400,
                "BadRequest",
                f"$orderby: could not find a property named '{words[0]}' on {entity_set.name}",
            )
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


def _sort_value(prop: str, values: dict[str, Any]) -> tuple[bool, Any]:
    value = values.get(prop)
    return (value is not None, value if value is not None else 0)


def _non_negative(query: Any, name: str) -> int | None:
    text = query.get(name)
    if text is None:
        return None
    if not text.isdigit():
        raise LnError(400, "BadRequest", f"{name} must be a non-negative integer, not {text!r}")
    return int(text)


def _key_of(entity_set: EntitySet, values: dict[str, Any]) -> Key:
    return tuple(values.get(k) for k in entity_set.keys)


def _show(entity_set: EntitySet, key: Key) -> str:
    return "(" + ",".join(f"{k}={v!r}" for k, v in zip(entity_set.keys, key, strict=True)) + ")"


def _parse_key(entity_set: EntitySet, text: str) -> Key:
    parts = [part for part in re.split(r",(?=(?:[^']*'[^']*')*[^']*$)", text)]
    named: dict[str, Any] = {}
    for index, part in enumerate(parts):
        match = _KEY_PART.match(part)
        if match is None:
            raise LnError(400, "BadRequest", f"Cannot parse the key ({text})")
        name = match.group("name") or (entity_set.keys[0] if len(parts) == 1 and index == 0 else "")
        if name not in entity_set.keys:
            raise LnError(
                400,
                "BadRequest",
                f"({text}) does not name the key of {entity_set.name}: "
                f"{', '.join(entity_set.keys)}",
            )
        literal = match.group("value")
        expects_string = entity_set.props[name].type.edm == "Edm.String"
        if literal.startswith("'") != expects_string:
            raise LnError(400, "BadRequest", f"Key {name}: literal {literal} has the wrong type")
        named[name] = literal[1:-1].replace("''", "'") if expects_string else int(literal)
    if set(named) != set(entity_set.keys):
        raise LnError(
            400, "BadRequest", f"The key of {entity_set.name} is ({', '.join(entity_set.keys)})"
        )
    return tuple(named[k] for k in entity_set.keys)


def _decode_object(call: Call) -> dict[str, Any]:
    if "json" not in call.content_type:
        raise LnError(
            415,
            "UnsupportedMediaType",
            f"Content-Type {call.content_type!r}: send application/json",
        )
    try:
        body = _DECODER.decode(call.body)
    except msgspec.DecodeError:
        raise LnError(400, "BadRequest", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise LnError(400, "BadRequest", "The request body must be a JSON object")
    return body


def _child_of(entity_set: EntitySet) -> EntitySet | None:
    """The line set whose ``LineRefs`` navigation leads from ``entity_set``, if any."""
    return next((s for s in ENTITY_SETS if s.parent and s.parent[0] == entity_set.name), None)


def _inherit(child: EntitySet, values: dict[str, Any], header: dict[str, Any]) -> None:
    """Give a line its header's key (a nested or navigation-created line may leave it out)."""
    for name in child.parent[1] if child.parent is not None else ():
        given = values.get(name)
        if given is not None and given != header.get(name):
            raise LnError(
                400,
                "BadRequest",
                f"Property {name}: {given!r} differs from the header's {header.get(name)!r}",
            )
        values[name] = header.get(name)


def _key_path(entity_set: EntitySet, values: dict[str, Any]) -> str:
    """``(PurchaseOrder='PO1')`` / ``(TransactionType='PIN',Document=1000001)``."""

    def text(value: Any) -> str:
        return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value)

    if len(entity_set.keys) == 1:
        return f"({text(values[entity_set.keys[0]])})"
    return "(" + ",".join(f"{k}={text(values[k])}" for k in entity_set.keys) + ")"


def _values(body: dict[str, Any], entity_set: EntitySet) -> dict[str, Any]:
    """The body's properties of ``entity_set``, typed and checked (400 on anything else)."""
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name.startswith("@odata."):
            continue
        prop = entity_set.props.get(name)
        if prop is None:
            raise LnError(
                400, "BadRequest", f"Could not find a property named '{name}' on {entity_set.name}"
            )
        if prop.read_only:
            raise LnError(400, "BadRequest", f"Property {name} is read-only")
        values[name] = _value(name, prop, value)
    return values


def _value(name: str, prop: Prop, value: Any) -> Any:
    edm = prop.type.edm
    bad = LnError(400, "BadRequest", f"Property {name}: {value!r} is not a valid {edm}")
    if value is None:
        if prop.required:
            raise bad
        return None
    if edm == "Edm.String" or prop.type.members:
        if not isinstance(value, str):
            raise bad
        if prop.type.members and value not in prop.type.members:
            raise LnError(
                400,
                "BadRequest",
                f"Property {name}: {value!r} is not one of {', '.join(prop.type.members)}",
            )
        if prop.max_length is not None and len(value) > prop.max_length:
            raise LnError(
                400, "BadRequest", f"Property {name}: {value!r} is longer than {prop.max_length}"
            )
        return value
    if edm == "Edm.Int32":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if edm == "Edm.Decimal":
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise bad
        return Decimal(value)
    if edm == "Edm.Date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise bad
        return value
    raise bad


def make_app() -> LnApp:
    return LnApp()
