"""The OData v4 query language as the IFS OData provider accepts it, compiled to predicates.

``$filter`` (sheet §2): ``eq ne gt ge lt le``, ``and or not``, parentheses, the string
functions ``contains``, ``startswith``, ``endswith`` (and ``tolower``/``toupper`` as
operands). Literals: ``'text'`` (``''`` escapes a quote), numbers, ``true false null``,
``2025-03-01`` (Edm.Date) and ``2025-03-01T10:15:03Z`` (Edm.DateTimeOffset). Not supported,
so refused with 400 exactly like the provider does: ``has``, ``mod`` and the other
arithmetic operators, lambdas (``any``/``all``, paths with ``/``) and ``$count`` inside a
filter. String comparisons are case-sensitive, as in the Oracle database behind IFS.

Key predicates (``(OrderNo='P100231')``, ``(Company='10',Account='4000')``, ``('P100231')``
for a single key) are parsed by :func:`parse_keys`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connector.sandbox.ifs.schema import EntitySet
from connector.sandbox.ifs.values import ValueProblem, parse_timestamp

Predicate = Callable[[dict[str, Any]], bool]
Operand = Callable[[dict[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<timestamp>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2}))
     |(?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
     |(?P<string>'(?:[^']|'')*')
     |(?P<number>-?\d+(?:\.\d+)?(?![\w-]))
     |(?P<punct>[(),])
     |(?P<name>[$A-Za-z_][A-Za-z0-9_/.$]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "gt": lambda a, b: a is not None and b is not None and bool(a > b),
    "ge": lambda a, b: a is not None and b is not None and bool(a >= b),
    "lt": lambda a, b: a is not None and b is not None and bool(a < b),
    "le": lambda a, b: a is not None and b is not None and bool(a <= b),
}
_BOOLEAN_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, part: part in value,
    "startswith": lambda value, part: value.startswith(part),
    "endswith": lambda value, part: value.endswith(part),
}
_VALUE_FUNCTIONS: dict[str, Callable[[str], str]] = {"tolower": str.lower, "toupper": str.upper}
_UNSUPPORTED = {"has", "mod", "add", "sub", "mul", "div", "divby", "any", "all", "$count", "in"}


class QueryError(ValueError):
    """A query option the provider cannot run; the message is the OData error text."""


@dataclass(frozen=True)
class TimeRules:
    """How timestamp literals are read (see :mod:`.values`)."""

    site_offset_h: float
    says_utc: bool


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"$filter cannot be parsed near '{text[position : position + 20]}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def compile_filter(spec: EntitySet, text: str, time: TimeRules) -> Predicate:
    """A predicate over stored rows of ``spec``; QueryError when the text cannot run."""
    parser = _Parser(spec, _tokenize(text), time)
    predicate = parser.parse_or()
    if parser.position != len(parser.tokens):
        raise QueryError(f"$filter has unexpected text at '{parser.tokens[parser.position][1]}'.")
    return predicate


class _Parser:
    def __init__(self, spec: EntitySet, tokens: list[tuple[str, str]], time: TimeRules) -> None:
        self.spec = spec
        self.tokens = tokens
        self.time = time
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryError("$filter ends too early.")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        kind, value = self.take()
        if value != text:
            raise QueryError(f"$filter expects '{text}' but found '{value}'.")

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1] in words:
            self.position += 1
            return token[1]
        return None

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while self.keyword("or"):
            right = self.parse_and()
            left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_unary()
        while self.keyword("and"):
            right = self.parse_unary()
            left = (lambda a, b: lambda row: a(row) and b(row))(left, right)
        return left

    def parse_unary(self) -> Predicate:
        if self.keyword("not"):
            inner = self.parse_unary()
            return lambda row: not inner(row)
        token = self.peek()
        if token == ("punct", "("):
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        if token is not None and token[0] == "name" and token[1] in _BOOLEAN_FUNCTIONS:
            return self.parse_boolean_function()
        return self.parse_comparison()

    def parse_boolean_function(self) -> Predicate:
        name = self.take()[1]
        self.expect("(")
        subject, _ = self.parse_operand()
        self.expect(",")
        part, _ = self.parse_operand()
        self.expect(")")
        test = _BOOLEAN_FUNCTIONS[name]

        def run(row: dict[str, Any]) -> bool:
            value, wanted = subject(row), part(row)
            if not isinstance(value, str) or not isinstance(wanted, str):
                return False
            return test(value, wanted)

        return run

    def parse_comparison(self) -> Predicate:
        left, left_type = self.parse_operand()
        token = self.take()
        if token[1] in _UNSUPPORTED:
            raise QueryError(f"The operator '{token[1]}' is not supported in $filter.")
        compare = _COMPARISONS.get(token[1])
        if compare is None:
            raise QueryError(f"$filter expects a comparison operator but found '{token[1]}'.")
        right, right_type = self.parse_operand(left_type)
        if left_type and right_type and left_type != right_type:
            raise QueryError(
                f"$filter compares an {left_type} with an {right_type}; use a literal of the "
                "attribute's own type."
            )
        return lambda row: compare(left(row), right(row))

    def parse_operand(self, context: str | None = None) -> tuple[Operand, str | None]:
        """An operand and its type (``Edm.…`` of an attribute or a literal; None for null)."""
        kind, text = self.take()
        if kind == "name":
            if text in _UNSUPPORTED or "/" in text:
                raise QueryError(f"'{text}' is not supported in $filter.")
            if text in ("true", "false"):
                return (lambda row: text == "true"), "Edm.Boolean"
            if text == "null":
                return (lambda row: None), None
            if text in _VALUE_FUNCTIONS:
                return self.parse_value_function(text)
            attr = self.spec.attrs.get(text)
            if attr is None:
                raise QueryError(
                    f"'{text}' is not an attribute of {self.spec.entity}.",
                )
            return (lambda row: row.get(text)), _EDM[attr.type]
        if kind == "string":
            value = text[1:-1].replace("''", "'")
            return (lambda row: value), "Edm.String"
        if kind == "number":
            number = float(text) if "." in text else int(text)
            return (lambda row: number), "Edm.Decimal"
        if kind == "date":
            return (lambda row: text), "Edm.Date"
        if kind == "timestamp":
            try:
                moment = parse_timestamp(text, self.time.site_offset_h, self.time.says_utc)
            except ValueProblem as exc:
                raise QueryError(str(exc)) from None
            return (lambda row: moment), "Edm.DateTimeOffset"
        raise QueryError(f"$filter expects a value but found '{text}'.")

    def parse_value_function(self, name: str) -> tuple[Operand, str | None]:
        self.expect("(")
        inner, inner_type = self.parse_operand()
        self.expect(")")
        if inner_type != "Edm.String":
            raise QueryError(f"{name} applies to text attributes only.")
        convert = _VALUE_FUNCTIONS[name]

        def run(row: dict[str, Any]) -> Any:
            value = inner(row)
            return convert(value) if isinstance(value, str) else value

        return run, "Edm.String"


_EDM = {
    "text": "Edm.String",
    "int": "Edm.Decimal",
    "number": "Edm.Decimal",
    "bool": "Edm.Boolean",
    "date": "Edm.Date",
    "timestamp": "Edm.DateTimeOffset",
}


_KEY_PART = re.compile(r"\s*(?:([A-Za-z_]\w*)\s*=\s*)?('(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*(,|$)")


def parse_keys(spec: EntitySet, text: str) -> dict[str, Any]:
    """Key values from the inside of a key predicate; QueryError when they do not fit."""
    values: dict[str, Any] = {}
    position = 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if match is None:
            raise QueryError(
                f"The key predicate ({text}) is malformed: write Name='text' or Name=123, "
                "separated by commas."
            )
        name, literal = match.group(1), match.group(2)
        if name is None:
            if len(spec.keys) != 1 or values:
                raise QueryError(f"{spec.name} has a compound key: name every key attribute.")
            name = spec.keys[0]
        if literal.startswith("'"):
            values[name] = literal[1:-1].replace("''", "'")
        else:
            values[name] = float(literal) if "." in literal else int(literal)
        position = match.end()
        if not match.group(3):
            break
    if set(values) != set(spec.keys):
        raise QueryError(
            f"{spec.name} is keyed by {', '.join(spec.keys)}; the URL gives "
            f"{', '.join(values) or 'no key'}."
        )
    return values


def parse_orderby(spec: EntitySet, text: str) -> list[tuple[str, bool]]:
    """``(attribute, descending)`` pairs of a ``$orderby``."""
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryError(f"$orderby part '{part.strip()}' is malformed.")
        if words[0] not in spec.attrs:
            raise QueryError(f"$orderby: '{words[0]}' is not an attribute of {spec.entity}.")
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


def parse_select(spec: EntitySet, text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if name not in spec.attrs:
            raise QueryError(f"$select: '{name}' is not an attribute of {spec.entity}.")
    return names


def sort_key(value: Any) -> tuple[int, Any]:
    """Orders values with nulls first, whatever their type."""
    if value is None:
        return (0, "")
    if isinstance(value, dt.datetime):
        return (1, value.isoformat())
    return (1, value)
