"""COMFND, the generic find (``Query/Query``, root ``Query``): rows of one table.

``<TableName>`` picks the table, ``<Columns><Column>`` the columns (none = all),
``<ReturnRows>`` the most rows (blank = all), ``<OrderBy><Column>`` the order, and ``<Where>``
holds only ``<Expression>`` blocks (``OpenBracket``, ``AndOr``, ``Column``, ``Condition`` EQ NE
LT LE GT GE LIKE, ``Value``, ``CloseBracket``); any other content — an SQL string — is refused.
``AND`` binds tighter than ``OR``, brackets group. The XMLOUT root is the table name, with a
``HeaderDetails`` echo, one ``<Row>`` per row and a space-padded ``<RowsReturned>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.sandbox.syspro.company import TABLES, Company, Row
from connector.sandbox.syspro.xmlio import EnetError, child, children, leaf, text

ROOT = "Query"
Predicate = Callable[[Row], bool]
_CONDITIONS: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": lambda a, b: a == b,
    "NE": lambda a, b: a != b,
    "LT": lambda a, b: a < b,
    "LE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b,
    "GE": lambda a, b: a >= b,
}


def run_query(company: Company, query: ET.Element) -> tuple[str, list[ET.Element]]:
    """The XMLOUT root name and body answering ``query``; EnetError when it is invalid."""
    table = _table(text(query, "TableName"))
    schema = TABLES[table]
    columns = [(c.text or "").strip() for c in children(child(query, "Columns"), "Column")]
    order_by = [
        _column(table, (c.text or "").strip()) for c in children(child(query, "OrderBy"), "Column")
    ]
    predicate = _where(table, child(query, "Where"))
    rows = [row for row in company.tables[table] if predicate(row)]
    rows.sort(key=lambda row: [_sort_key(row[column]) for column in order_by])
    limit = text(query, "ReturnRows")
    if limit:
        if not limit.isdigit():
            raise EnetError(f"ReturnRows '{limit}' must be a number")
        rows = rows[: int(limit)] if int(limit) > 0 else rows
    shown = [_column(table, c) for c in columns] or list(schema)
    header = ET.Element("HeaderDetails")
    leaf(header, "TableName", table)
    listed = ET.SubElement(header, "Columns")
    for column in shown:
        leaf(listed, "Column", column)
    ordered = ET.SubElement(header, "OrderBy")
    for column in order_by:
        leaf(ordered, "Column", column)
    body = [header]
    for row in rows:
        out = ET.Element("Row")
        for column in shown:
            leaf(out, column, _format(row[column]))
        body.append(out)
    returned = ET.Element("RowsReturned")
    returned.text = f"{len(rows):>8}"
    body.append(returned)
    return table, body


def _table(name: str) -> str:
    for table in TABLES:
        if table.lower() == name.lower():
            return table
    raise EnetError(f"Table '{name}' is not a valid table for COMFND")


def _column(table: str, name: str) -> str:
    for column in TABLES[table]:
        if column.lower() == name.lower():
            return column
    raise EnetError(f"Column '{name}' is not a column of table '{table}'")


def _where(table: str, where: ET.Element | None) -> Predicate:
    if where is None:
        return lambda row: True
    if (where.text or "").strip() or any(c.tag.lower() != "expression" for c in where):
        raise EnetError("Where may hold only Expression blocks; SQL text is not accepted")
    tokens: list[str | Predicate] = []
    for expression in where:
        if tokens:
            joiner = text(expression, "AndOr").upper() or "AND"
            if joiner not in ("AND", "OR"):
                raise EnetError(f"AndOr '{joiner}' must be And or Or")
            tokens.append(joiner)
        tokens.extend("(" for _ in text(expression, "OpenBracket"))
        tokens.append(_comparison(table, expression))
        tokens.extend(")" for _ in text(expression, "CloseBracket"))
    parser = _Parser(tokens)
    predicate = parser.disjunction()
    if parser.position != len(tokens):
        raise EnetError("Where has unbalanced brackets")
    return predicate


def _comparison(table: str, expression: ET.Element) -> Predicate:
    column = _column(table, text(expression, "Column"))
    condition = text(expression, "Condition").upper()
    raw = text(expression, "Value")
    kind = TABLES[table][column]
    if condition == "LIKE":
        pattern = raw.replace("%", "").lower()
        starts, ends = raw.endswith("%"), raw.startswith("%")
        return lambda row: _like(str(row[column] or "").lower(), pattern, starts, ends)
    compare = _CONDITIONS.get(condition)
    if compare is None:
        raise EnetError(f"Condition '{condition}' is not valid; use EQ NE LT LE GT GE or LIKE")
    value: Any = raw
    if kind in ("decimal", "int"):
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise EnetError(f"Value '{raw}' of column '{column}' must be numeric") from None
    return lambda row: row[column] is not None and compare(_comparable(row[column], kind), value)


def _like(value: str, pattern: str, starts: bool, ends: bool) -> bool:
    if starts and ends:
        return pattern in value
    if starts:
        return value.startswith(pattern)
    if ends:
        return value.endswith(pattern)
    return value == pattern


def _comparable(value: Any, kind: str) -> Any:
    return Decimal(value) if kind in ("decimal", "int") else str(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    return str(value)


class _Parser:
    """OR of ANDs of comparisons or bracketed groups, over the flattened expression list."""

    def __init__(self, tokens: list[str | Predicate]) -> None:
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> str | Predicate | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self._peek() == "OR":
            self.position += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.operand()]
        while self._peek() == "AND":
            self.position += 1
            parts.append(self.operand())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def operand(self) -> Predicate:
        token = self._peek()
        self.position += 1
        if token == "(":
            inner = self.disjunction()
            if self._peek() != ")":
                raise EnetError("Where has unbalanced brackets")
            self.position += 1
            return inner
        if callable(token):
            return token
        raise EnetError("Where has unbalanced brackets")
