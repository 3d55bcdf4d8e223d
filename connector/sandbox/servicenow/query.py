"""Encoded queries (``sysparm_query``): parsed once, evaluated exactly.

``a=1^b>2^ORc<3^ORDERBYd^ORDERBYDESCe``: terms join with ``^`` (AND); ``^OR`` attaches a
term to the one before it (so the example reads a AND (b OR c)); ``^NQ`` starts a new query
OR-ed with the previous ones. Operators: ``= != > >= < <= LIKE NOT LIKE STARTSWITH
ENDSWITH IN NOT IN ISEMPTY ISNOTEMPTY``. A term naming a field the table does not have is
dropped, as real instances do (a knob makes it match nothing instead). Comparisons are
numeric on numeric columns and textual otherwise; ServiceNow's datetimes
(``yyyy-MM-dd HH:mm:ss``) and sys_ids (lowercase hex) sort correctly as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from connector.sandbox.servicenow.schema import NUMERIC, Table

Record = dict[str, str]

# Longest operators first, so ">=" is not read as ">" followed by "=…".
_OPERATORS = (
    "NOT LIKE",
    "NOT IN",
    "STARTSWITH",
    "ENDSWITH",
    "ISNOTEMPTY",
    "ISEMPTY",
    "LIKE",
    "IN",
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
)
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@dataclass(frozen=True)
class Term:
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class Order:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    """OR of queries (``^NQ``), each an AND of OR-groups of terms; plus the sort order."""

    disjuncts: tuple[tuple[tuple[Term, ...], ...], ...]
    order: tuple[Order, ...]
    #: A term named an unknown field (kept so the knob can turn it into "no rows").
    had_invalid: bool


def parse(text: str, table: Table) -> Query:
    known = set(table.all_columns())
    disjuncts: list[tuple[tuple[Term, ...], ...]] = []
    order: list[Order] = []
    invalid = False
    for part in text.split("^NQ") if text else []:
        groups: list[list[Term]] = []
        for raw in part.split("^"):
            if not raw:
                continue
            joins_previous = raw.startswith("OR") and not raw.startswith("ORDERBY")
            chunk = raw[2:] if joins_previous else raw
            if chunk.startswith("ORDERBYDESC"):
                order.append(Order(chunk[len("ORDERBYDESC") :], True))
                continue
            if chunk.startswith("ORDERBY"):
                order.append(Order(chunk[len("ORDERBY") :], False))
                continue
            term = _term(chunk, known)
            if term is None or term.field not in known:
                invalid = True
                continue
            if joins_previous and groups:
                groups[-1].append(term)
            else:
                groups.append([term])
        disjuncts.append(tuple(tuple(group) for group in groups))
    kept_order = tuple(o for o in order if o.field in known)
    return Query(tuple(disjuncts), kept_order, invalid)


def _term(chunk: str, known: set[str]) -> Term | None:
    # Operators such as LIKE or IN are letters too, so the field is the longest known column
    # the term starts with and that an operator follows; failing that, an unknown field.
    for field in sorted((f for f in known if chunk.startswith(f)), key=len, reverse=True):
        term = _operator(field, chunk[len(field) :])
        if term is not None:
            return term
    match = _FIELD.match(chunk)
    # An unknown field: parse() drops the term (or, with the knob, matches nothing).
    return Term(match.group(0), "", chunk[match.end() :]) if match else None


def _operator(field: str, rest: str) -> Term | None:
    for operator in _OPERATORS:
        if rest.startswith(operator):
            return Term(field, operator, rest[len(operator) :])
    return None


def matches(query: Query, record: Record, table: Table) -> bool:
    if not query.disjuncts:
        return True
    return any(
        all(any(_holds(term, record, table) for term in group) for group in conjunct)
        for conjunct in query.disjuncts
    )


def _holds(term: Term, record: Record, table: Table) -> bool:
    actual = record.get(term.field, "")
    op, wanted = term.operator, term.value
    if op == "ISEMPTY":
        return actual == ""
    if op == "ISNOTEMPTY":
        return actual != ""
    if op in ("IN", "NOT IN"):
        inside = actual in wanted.split(",")
        return inside if op == "IN" else not inside
    if op == "LIKE":
        return wanted.lower() in actual.lower()
    if op == "NOT LIKE":
        return wanted.lower() not in actual.lower()
    if op == "STARTSWITH":
        return actual.lower().startswith(wanted.lower())
    if op == "ENDSWITH":
        return actual.lower().endswith(wanted.lower())
    compare = _comparator(table.kind(term.field) == NUMERIC)
    result = compare(actual, wanted)
    return {
        "=": result == 0,
        "!=": result != 0,
        ">": result > 0,
        ">=": result >= 0,
        "<": result < 0,
        "<=": result <= 0,
    }[op]


def _comparator(numeric: bool) -> Callable[[str, str], int]:
    def textual(a: str, b: str) -> int:
        return (a > b) - (a < b)

    def number(a: str, b: str) -> int:
        try:
            x, y = Decimal(a or "0"), Decimal(b or "0")
        except InvalidOperation:
            return textual(a, b)
        return (x > y) - (x < y)

    return number if numeric else textual


def sort(records: Sequence[Record], order: Sequence[Order], table: Table) -> list[Record]:
    """Records in the query's order; stable, so ties keep insertion order."""
    result = list(records)
    for key in reversed(order):
        field = key.field
        if table.kind(field) == NUMERIC:
            result.sort(key=lambda r: _number(r.get(field, "")), reverse=key.descending)
        else:
            result.sort(key=lambda r: r.get(field, ""), reverse=key.descending)
    return result


def _number(value: str) -> Decimal:
    try:
        return Decimal(value or "0")
    except InvalidOperation:
        return Decimal(0)
