"""The read-only SYSPRO OData 4.0 service: company tables as entity sets.

``GET {ODATA_BASE}/{Table}`` with ``$filter`` (``eq ne gt ge lt le``, ``and``/``or``,
parentheses; literals ``'text'`` with ``''`` for a quote, numbers, dates ``2024-06-12`` and
date-times ``2024-06-12T10:00:00Z``), ``$select``, ``$orderby`` (``Col [asc|desc], …``),
``$top``, ``$skip`` and ``$count=true``; any other ``$`` option is a 400. A page holds at
most ``odata_row_cap`` rows; a capped page carries ``@odata.nextLink`` (knob). ``$metadata``
is CSDL XML. Every request needs Basic auth with an operator's code and password (401
otherwise); any method but GET/HEAD answers 405. Date columns are ``Edm.DateTimeOffset`` at
midnight UTC, ``TimeStamp`` an ``Edm.Int64``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.syspro.company import TABLES, ColumnType, Company, Row
from connector.sandbox.syspro.sessions import Logins

ODATA_BASE = "/SYSPRO8Odata/SYSPROOData"
EDM_TYPES: dict[ColumnType, str] = {
    "str": "Edm.String",
    "date": "Edm.DateTimeOffset",
    "decimal": "Edm.Decimal",
    "int": "Edm.Int64",
}
Predicate = Callable[[Row], bool]
QUERY_OPTIONS = frozenset({"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$format"})

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?)
     |(?P<string>'(?:[^']|'')*')
     |(?P<number>-?\d+(?:\.\d+)?)
     |(?P<punct>[()])
     |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


class ODataError(Exception):
    """A request the service refuses with 400 and an OData error body."""


def odata_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": {"code": str(status), "message": message}}, status, headers)


def authorized(request: web.Request, logins: Logins) -> bool:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return False
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user.upper() == logins.operator.upper() and password == logins.operator_password


def metadata() -> web.Response:
    """The CSDL document: one entity type and entity set per table."""
    types = []
    for table, columns in TABLES.items():
        properties = "".join(
            f'<Property Name="{name}" Type="{EDM_TYPES[kind]}"/>' for name, kind in columns.items()
        )
        types.append(f'<EntityType Name="{table}">{properties}</EntityType>')
    sets = "".join(f'<EntitySet Name="{t}" EntityType="SYSPRO.{t}"/>' for t in TABLES)
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        '<edmx:DataServices><Schema Namespace="SYSPRO" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        f'{"".join(types)}<EntityContainer Name="Container">{sets}</EntityContainer>'
        "</Schema></edmx:DataServices></edmx:Edmx>"
    )
    return web.Response(text=body, content_type="application/xml")


def entity_set(
    request: web.Request, company: Company, table: str, base_url: str, row_cap: int, next_link: bool
) -> web.Response:
    """One page of ``table`` as the query string asks; ODataError for a bad option."""
    query = request.query
    unsupported = sorted(k for k in query if k.startswith("$") and k not in QUERY_OPTIONS)
    if unsupported:
        raise ODataError(f"The query option {unsupported[0]} is not supported")
    columns = TABLES[table]
    rows = company.tables[table]
    if "$filter" in query:
        predicate = compile_filter(table, query["$filter"])
        rows = [row for row in rows if predicate(row)]
    for column, descending in reversed(_order_by(table, query.get("$orderby", ""))):
        # Nulls first (SQL Server's order); a None never meets a value of the column's type.
        rows = sorted(
            rows,
            key=lambda row: (
                row[column] is not None,
                _typed(row[column], columns[column]) if row[column] is not None else 0,
            ),
            reverse=descending,
        )
    skip = _count(query, "$skip", 0)
    top = _count(query, "$top", len(rows))
    take = min(top, max(1, row_cap))
    page = rows[skip : skip + take]
    selected = _select(table, query.get("$select", ""))
    body: dict[str, Any] = {
        "@odata.context": f"{base_url}{ODATA_BASE}/$metadata#{table}",
        "value": [{c: _json_value(row[c], columns[c]) for c in selected} for row in page],
    }
    if query.get("$count", "").lower() == "true":
        body["@odata.count"] = len(rows)
    if next_link and take < top and skip + take < len(rows):
        following = dict(query) | {"$skip": str(skip + take), "$top": str(top - take)}
        body["@odata.nextLink"] = f"{base_url}{ODATA_BASE}/{table}?{urlencode(following)}"
    return json_response(body)


def _count(query: Any, name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ODataError(f"{name} must be a non-negative integer, not {raw!r}")
    return int(raw)


def _column(table: str, name: str) -> str:
    if name not in TABLES[table]:
        raise ODataError(f"Could not find a property named '{name}' on type 'SYSPRO.{table}'")
    return name


def _select(table: str, text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    return [_column(table, n) for n in names] or list(TABLES[table])


def _order_by(table: str, text: str) -> list[tuple[str, bool]]:
    order = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, direction = part.partition(" ")
        if direction.strip().lower() not in ("", "asc", "desc"):
            raise ODataError(f"$orderby direction {direction!r} must be asc or desc")
        order.append((_column(table, name), direction.strip().lower() == "desc"))
    return order


def _json_value(value: Any, kind: ColumnType) -> Any:
    if value is None:
        return None
    if kind == "date":
        return f"{value}T00:00:00Z"
    if kind == "decimal":
        return float(value)
    return value


# -- $filter -------------------------------------------------------------------------------
def compile_filter(table: str, text: str) -> Predicate:
    tokens = _tokenize(text)
    parser = _FilterParser(table, tokens)
    predicate = parser.disjunction()
    if parser.position != len(tokens):
        raise ODataError(f"$filter has unexpected text at {tokens[parser.position][1]!r}")
    return predicate


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(f"$filter cannot be parsed near {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _FilterParser:
    def __init__(self, table: str, tokens: list[tuple[str, str]]) -> None:
        self.table = table
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("", "")

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if not token[0]:
            raise ODataError("$filter ends too early")
        self.position += 1
        return token

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self._peek() == ("name", "or"):
            self.position += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.comparison()]
        while self._peek() == ("name", "and"):
            self.position += 1
            parts.append(self.comparison())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def comparison(self) -> Predicate:
        kind, value = self._take()
        if (kind, value) == ("punct", "("):
            inner = self.disjunction()
            if self._take() != ("punct", ")"):
                raise ODataError("$filter has an unclosed parenthesis")
            return inner
        if kind != "name":
            raise ODataError(f"$filter expected a property name, found {value!r}")
        column = _column(self.table, value)
        operator = self._take()[1]
        compare = _COMPARE.get(operator)
        if compare is None:
            raise ODataError(f"$filter operator {operator!r} is not supported")
        literal = _literal(self._take(), TABLES[self.table][column], column)
        kind_of = TABLES[self.table][column]
        return lambda row: (
            row[column] is not None and compare(_typed(row[column], kind_of), literal)
        )


def _literal(token: tuple[str, str], kind: ColumnType, column: str) -> Any:
    token_kind, text = token
    if kind == "date" and token_kind == "datetime":
        return _moment(text)
    if kind in ("decimal", "int") and token_kind == "number":
        return Decimal(text)
    if kind == "str" and token_kind == "string":
        return text[1:-1].replace("''", "'")
    raise ODataError(
        f"$filter literal {text!r} does not fit property '{column}' ({EDM_TYPES[kind]})"
    )


def _moment(text: str) -> dt.datetime:
    if len(text) == 10:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _typed(value: Any, kind: ColumnType) -> Any:
    if kind == "date":
        return _moment(str(value))
    if kind in ("decimal", "int"):
        return Decimal(value)
    return str(value)
