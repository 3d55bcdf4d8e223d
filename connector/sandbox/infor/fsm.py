"""Simulated Infor FSM (Landmark REST) behind the ION API gateway.

- Lists: ``GET /{ti}/FSM/fsm/soap/classes/{Class}/lists/_generic?_fields=A,B&_limit=N
  &_lplFilter=…&_links=true&_pageNav=true&_out=JSON``. ``_fields`` is required (``_all``
  for every field) and every name must exist; ``_out=JSON`` is required (Landmark's default
  is XML); ``_limit`` is capped at ``max_limit``. The answer is a JSON array: first a
  metadata object (``_count`` and, with ``_pageNav=true``, ``_links`` holding ``next`` while
  more rows follow), then one ``{"_fields": {...}}`` per record in key order. Paging is
  key-based: the next link carries ``_next``, the last key served.
- Actions: ``POST /{ti}/FSM/fsm/soap/classes/{Class}/actions/{Create|Update}/batch`` with
  ``{"_records": [{"_fields": {...}, "message": "..."}]}``. HTTP 200 answers one entry per
  record — ``{"message": "... created", "_fields": {keys}}`` or ``{"exception": {...}}`` —
  and a closing ``{"batchStatus": ...}``. Create on an existing key, Update on a missing
  one, unknown or over-long fields, bad dates and unknown references are exceptions.
- The seeded company (``company`` of the seed, ``100`` by default) is set up as a
  ``PayablesCompany`` **(inferred class)**; Landmark lists filtered on a company nobody set
  up just answer empty, so that class is where a client can see a company is wrong.
- Request-level errors (unknown class, list, action or parameter): HTTP 400/404 with
  ``{"exception": {"type", "message"}}`` **(inferred shape)**.

Knobs ride on ``POST /_sandbox/seed`` with ``{"line": "FSM", …}``.
"""

from __future__ import annotations

import base64
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.infor.fsm_schema import (
    CLASSES,
    STAMP,
    BusinessClass,
    Field,
    LplError,
    compile_lpl,
)

PREFIX = ("FSM", "fsm", "soap", "classes")
LIST_PARAMS = frozenset(
    {
        "_fields",
        "_limit",
        "_lplFilter",
        "_links",
        "_pageNav",
        "_out",
        "_next",
        "_flatten",
        "_omitCountValue",
        "_setName",
    }
)
_DATE = re.compile(r"^\d{8}$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_INT = re.compile(r"^\d+$")
Key = tuple[str, ...]


class FsmSeed(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /_sandbox/seed`` with ``"line": "FSM"`` (the ``line`` key removed)."""

    seed: int = 0
    company: str = "100"
    vendors: int = 0
    items: int = 0
    #: Highest ``_limit`` honoured; more is served as this many.
    max_limit: int = 100


class FsmError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


@dataclass
class FsmApp:
    settings: FsmSeed = field(default_factory=FsmSeed)
    tables: dict[str, dict[Key, dict[str, str]]] = field(default_factory=dict)
    _clock: datetime = field(default_factory=lambda: datetime(2024, 1, 1, tzinfo=UTC))

    def __post_init__(self) -> None:
        self.reset()

    # -- LineApp ------------------------------------------------------------------------
    def reset(self) -> None:
        """Reference data only: the seeded company's ``PayablesCompany``, nothing else."""
        self.settings = FsmSeed()
        self.tables = {name: {} for name in CLASSES}
        self._set_up_company()

    def _set_up_company(self) -> None:
        """The finance company as an implementer set it up: lists filtered on another
        company answer empty, and a client's company check finds nothing there."""
        company = self.settings.company
        self.tables["PayablesCompany"] = {
            (company,): {
                "PayablesCompany": company,
                "Name": f"Company {company}",
                "CurrencyCode": "USD",
                STAMP: self._tick(),
            }
        }

    def is_write(self, request: web.Request) -> bool:
        return request.method == "POST"

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """``{"seed", "company", "vendors", "items", "max_limit"}``: deterministic data."""
        try:
            settings = msgspec.convert(params, FsmSeed)
        except msgspec.ValidationError as exc:
            raise web.HTTPBadRequest(
                text=msgspec.json.encode({"error": f"bad FSM seed body: {exc}"}).decode(),
                content_type="application/json",
            ) from None
        self.reset()
        self.settings = settings
        self._set_up_company()
        rng = random.Random(settings.seed)
        for n in range(1, settings.vendors + 1):
            code = f"V{n:06d}"
            self.tables["Vendor"][(settings.company, code)] = {
                "VendorGroup": settings.company,
                "Vendor": code,
                "VendorName": f"{rng.choice(['North', 'South', 'East'])} Supply {n}",
                "VendorStatus": "Active",
                "CurrencyCode": "USD",
                STAMP: self._tick(),
            }
        for n in range(1, settings.items + 1):
            code = f"I{n:06d}"
            self.tables["Item"][(settings.company, code)] = {
                "ItemGroup": settings.company,
                "Item": code,
                "Description": f"Part {rng.randint(100, 999)}",
                "ItemClass": "MAT",
                "StockUOM": "EA",
                "Status": "Active",
                STAMP: self._tick(),
            }
        return {"seeded": {"Vendor": settings.vendors, "Item": settings.items}}

    def state(self) -> dict[str, Any]:
        return {"classes": {name: list(rows.values()) for name, rows in self.tables.items()}}

    async def handle(self, request: web.Request, segments: list[str]) -> web.StreamResponse:
        try:
            return await self._handle(request, segments)
        except FsmError as error:
            return _json(
                {"exception": {"type": error.kind, "message": error.message}}, error.status
            )

    # -- requests -----------------------------------------------------------------------
    async def _handle(self, request: web.Request, segments: list[str]) -> web.Response:
        if tuple(segments[:4]) != PREFIX or len(segments) < 7:
            raise FsmError(404, "NotFound", f"No Landmark resource at /{'/'.join(segments)}")
        business_class = CLASSES.get(segments[4])
        if business_class is None:
            raise FsmError(
                404, "BusinessClassNotFound", f"Business class {segments[4]} does not exist"
            )
        kind, name = segments[5], segments[6]
        if kind == "lists" and len(segments) == 7:
            if request.method != "GET":
                raise FsmError(405, "MethodNotAllowed", "Lists are read with GET")
            if name != "_generic":
                raise FsmError(404, "ListNotFound", f"{business_class.name} has no list {name}")
            return self._list(request, business_class)
        if kind == "actions" and len(segments) == 8 and segments[7] == "batch":
            if request.method != "POST":
                raise FsmError(405, "MethodNotAllowed", "Actions are run with POST")
            if name not in ("Create", "Update"):
                raise FsmError(404, "ActionNotFound", f"{business_class.name} has no action {name}")
            return await self._batch(request, business_class, name)
        raise FsmError(404, "NotFound", f"No Landmark resource at /{'/'.join(segments)}")

    def _list(self, request: web.Request, business_class: BusinessClass) -> web.Response:
        query = request.query
        unknown = [p for p in query if p.startswith("_") and p not in LIST_PARAMS]
        if unknown:
            raise FsmError(400, "InvalidParameter", f"Unknown list parameter {unknown[0]}")
        if query.get("_out", "").upper() != "JSON":
            raise FsmError(
                400, "InvalidParameter", "Add _out=JSON: this list answers XML otherwise"
            )
        names = _fields_param(query.get("_fields"), business_class)
        limit_text = query.get("_limit", "20")
        if not _INT.match(limit_text) or int(limit_text) == 0:
            raise FsmError(
                400, "InvalidParameter", f"_limit {limit_text!r} must be a positive integer"
            )
        limit = min(int(limit_text), self.settings.max_limit)
        rows = sorted(self.tables[business_class.name].items())
        if "_lplFilter" in query:
            try:
                predicate = compile_lpl(query["_lplFilter"], _all_fields(business_class))
            except LplError as exc:
                raise FsmError(400, "InvalidFilter", str(exc)) from None
            rows = [(k, r) for k, r in rows if predicate(r)]
        total = len(rows)
        if "_next" in query:
            after = _decode_key(query["_next"])
            rows = [(k, r) for k, r in rows if k > after]
        page = rows[:limit]
        meta: dict[str, Any] = {}
        if query.get("_omitCountValue") != "true":
            meta["_count"] = total
        more = len(rows) > limit
        if query.get("_pageNav") == "true":
            links = []
            if more:
                params = dict(query)
                params["_next"] = _encode_key(page[-1][0])
                links.append({"rel": "next", "href": str(request.url.with_query(params))})
            meta["_links"] = links
        body: list[dict[str, Any]] = [meta]
        for _, row in page:
            entry: dict[str, Any] = {"_fields": {n: row.get(n, "") for n in names}}
            if query.get("_links") == "true":
                entry["_links"] = [{"rel": "self", "href": str(request.url.with_query(None))}]
            body.append(entry)
        return _json(body)

    async def _batch(
        self, request: web.Request, business_class: BusinessClass, action: str
    ) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            raise FsmError(400, "InvalidRequest", "The body is not valid JSON") from None
        records = body.get("_records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise FsmError(400, "InvalidRequest", 'Send {"_records": [{"_fields": {...}}]}')
        answers: list[dict[str, Any]] = []
        failed = 0
        for record in records:
            fields = record.get("_fields") if isinstance(record, dict) else None
            try:
                if not isinstance(fields, dict):
                    raise FsmError(400, "InvalidRecord", "Each record needs a _fields object")
                key = self._apply(business_class, action, fields)
                verb = "created" if action == "Create" else "updated"
                answers.append(
                    {
                        "message": f"{business_class.name} {verb}",
                        "_fields": dict(zip(business_class.keys, key, strict=True)),
                    }
                )
            except FsmError as exc:
                failed += 1
                answers.append({"exception": {"type": exc.kind, "message": exc.message}})
        answers.append(
            {
                "batchStatus": "Completed" if failed == 0 else "CompletedWithErrors",
                "recordCount": len(records),
                "failedCount": failed,
            }
        )
        return _json(answers)

    def _apply(self, business_class: BusinessClass, action: str, fields: dict[str, Any]) -> Key:
        values: dict[str, str] = {}
        for name, value in fields.items():
            spec = business_class.fields.get(name)
            if spec is None:
                raise FsmError(
                    400, "InvalidField", f"{name} is not a field of {business_class.name}"
                )
            values[name] = _checked(business_class, name, spec, value)
        missing_key = [k for k in business_class.keys if not values.get(k)]
        if missing_key:
            raise FsmError(400, "RequiredField", f"{missing_key[0]} is required")
        key = tuple(values[k] for k in business_class.keys)
        table = self.tables[business_class.name]
        where = f"{business_class.name} {'/'.join(key)}"
        if action == "Create":
            if key in table:
                raise FsmError(409, "RecordExists", f"{where} already exists")
            for name, spec in business_class.fields.items():
                if name not in values and spec.default is not None:
                    values[name] = spec.default
                if spec.required and not values.get(name):
                    raise FsmError(400, "RequiredField", f"{name} is required for {where}")
            merged = values
        else:
            current = table.get(key)
            if current is None:
                raise FsmError(404, "RecordNotFound", f"{where} does not exist")
            merged = {**current, **values}
        for reference in business_class.references:
            target = tuple(merged.get(f, "") for f in reference.fields)
            if target not in self.tables[reference.target]:
                raise FsmError(
                    400, "InvalidReference", f"{reference.target} {'/'.join(target)} does not exist"
                )
        merged[STAMP] = self._tick()
        table[key] = merged
        return key

    def _tick(self) -> str:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._clock = max(now, self._clock + timedelta(milliseconds=1))
        return self._clock.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _all_fields(business_class: BusinessClass) -> dict[str, Field]:
    return {**business_class.fields, STAMP: Field(24)}


def _fields_param(text: str | None, business_class: BusinessClass) -> list[str]:
    if not text:
        raise FsmError(400, "InvalidParameter", "_fields is required (_all for every field)")
    known = _all_fields(business_class)
    if text.strip() == "_all":
        return list(known)
    names = [n.strip() for n in text.split(",")]
    for name in names:
        if name not in known:
            raise FsmError(400, "InvalidField", f"{name} is not a field of {business_class.name}")
    return names


def _checked(business_class: BusinessClass, name: str, spec: Field, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FsmError(400, "InvalidValue", f"{name}: {value!r} is not a value")
    text = str(value)
    bad = FsmError(
        400, "InvalidValue", f"{business_class.name}.{name}: {text!r} is not a valid {spec.kind}"
    )
    if len(text) > spec.max_length:
        raise FsmError(
            400,
            "FieldTooLong",
            f"{business_class.name}.{name}: {text!r} is longer than {spec.max_length}",
        )
    if spec.kind == "date" and text and not _valid_date(text):
        raise bad
    if spec.kind == "decimal" and not _DECIMAL.match(text):
        raise bad
    if spec.kind == "int" and not _INT.match(text):
        raise bad
    if spec.choices and text not in spec.choices:
        raise FsmError(
            400,
            "InvalidValue",
            f"{business_class.name}.{name}: {text!r} is not one of {', '.join(spec.choices)}",
        )
    return text


def _valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return True


def _encode_key(key: Key) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(key))).decode()


def _decode_key(token: str) -> Key:
    try:
        return tuple(str(part) for part in msgspec.json.decode(base64.urlsafe_b64decode(token)))
    except (ValueError, msgspec.DecodeError):
        raise FsmError(
            400, "InvalidParameter", "_next is not a position this list gave out"
        ) from None


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body), status=status, content_type="application/json"
    )


def make_app() -> FsmApp:
    return FsmApp()
