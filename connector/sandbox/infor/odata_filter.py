"""A strict OData v4 ``$filter`` parser for the simulated LN services.

Supported, as LN's OData services document it: ``eq ne gt ge lt le``, ``and or not``,
parentheses, string literals in single quotes (``''`` escapes one), numbers, ``true``/
``false``/``null``, unquoted ``DateTimeOffset`` literals (``2024-06-01T00:00:00Z``), dates
(``2024-06-01``) and namespace-qualified enum literals
(``tcapi.comBusinessPartner.BusinessPartnerStatus'Active'``). Anything else — an unknown
property, a literal of the wrong type, a dangling operator, a function call — is a
:class:`FilterError`, which the service answers with a 400 in the OData error shape; a
lenient simulator would let a malformed client filter through and read the wrong rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lparen>\() | (?P<rparen>\)) |
      (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*') |
      (?P<string>'(?:[^']|'')*') |
      (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})) |
      (?P<date>\d{4}-\d{2}-\d{2}) |
      (?P<number>-?\d+(?:\.\d+)?) |
      (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


class FilterError(ValueError):
    """The ``$filter`` cannot be used; the message says where and why."""


@dataclass(frozen=True)
class PropertyType:
    """An entity property's EDM type: ``Edm.String``, ``Edm.Decimal``, ``Edm.Int32``,
    ``Edm.DateTimeOffset``, ``Edm.Date``, ``Edm.Boolean`` or an enum's qualified name."""

    edm: str
    #: For enums: the allowed member names.
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(
                f"Syntax error at position {position} in $filter: {text[position:]!r}"
            )
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def parse_datetime(text: str) -> datetime:
    """An OData DateTimeOffset literal as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class _Parser:
    def __init__(self, text: str, properties: Mapping[str, PropertyType]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.properties = properties

    def parse(self) -> Predicate:
        if not self.tokens:
            raise FilterError("$filter is empty")
        predicate = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise FilterError(
                f"Syntax error at position {token.at} in $filter: unexpected {token.text!r}"
            )
        return predicate

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _next(self, expected: str) -> _Token:
        token = self._peek()
        if token is None:
            raise FilterError(f"Syntax error in $filter: {expected} expected at the end")
        self.index += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "name" and token.text == word:
            self.index += 1
            return True
        return False

    def _or(self) -> Predicate:
        left = self._and()
        while self._keyword("or"):
            right = self._and()
            left = _either(left, right)
        return left

    def _and(self) -> Predicate:
        left = self._unary()
        while self._keyword("and"):
            right = self._unary()
            left = _both(left, right)
        return left

    def _unary(self) -> Predicate:
        if self._keyword("not"):
            inner = self._unary()
            return lambda record: not inner(record)
        token = self._peek()
        if token is not None and token.kind == "lparen":
            self.index += 1
            inner = self._or()
            closing = self._next("')'")
            if closing.kind != "rparen":
                raise FilterError(f"Syntax error at position {closing.at} in $filter: ')' expected")
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        token = self._next("a property name")
        if token.kind != "name" or token.text in ("and", "or", "not", *_OPERATORS):
            raise FilterError(
                f"Syntax error at position {token.at} in $filter: property name expected, "
                f"found {token.text!r}"
            )
        prop = self.properties.get(token.text)
        if prop is None:
            raise FilterError(f"Could not find a property named '{token.text}' on this entity type")
        operator = self._next("a comparison operator")
        if operator.kind != "name" or operator.text not in _OPERATORS:
            raise FilterError(
                f"Syntax error at position {operator.at} in $filter: comparison operator "
                f"(eq, ne, gt, ge, lt, le) expected, found {operator.text!r}"
            )
        literal = self._next("a literal")
        value = _literal(literal, prop, token.text)
        compare = _OPERATORS[operator.text]
        name = token.text
        if value is None:
            if operator.text not in ("eq", "ne"):
                raise FilterError(f"null can only be compared with eq or ne ({name})")
            return lambda record: compare(record.get(name), None)

        def predicate(record: Record) -> bool:
            current = record.get(name)
            if current is None:
                return operator.text == "ne"
            return bool(compare(current, value))

        return predicate


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda record: left(record) or right(record)


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda record: left(record) and right(record)


def _literal(token: _Token, prop: PropertyType, name: str) -> Any:
    kind, text, edm = token.kind, token.text, prop.edm
    if kind == "name" and text == "null":
        return None
    mismatch = FilterError(
        f"The types of property '{name}' ({edm}) and literal {text!r} are incompatible"
    )
    if edm == "Edm.String":
        if kind != "string":
            raise mismatch
        return text[1:-1].replace("''", "'")
    if edm in ("Edm.Decimal", "Edm.Int32"):
        if kind != "number":
            raise mismatch
        return Decimal(text) if edm == "Edm.Decimal" else int(Decimal(text))
    if edm == "Edm.DateTimeOffset":
        if kind != "datetime":
            raise mismatch
        return parse_datetime(text)
    if edm == "Edm.Date":
        if kind != "date":
            raise mismatch
        return text
    if edm == "Edm.Boolean":
        if kind != "name" or text not in ("true", "false"):
            raise mismatch
        return text == "true"
    # An enum: only the qualified literal ``Namespace.Type'Member'`` is accepted.
    if kind != "enum":
        raise mismatch
    type_name, _, quoted = text.partition("'")
    member = quoted[:-1].replace("''", "'")
    if type_name != edm or member not in prop.members:
        raise FilterError(
            f"'{text}' is not a member of enum type {edm} (members: {', '.join(prop.members)})"
        )
    return member


def compile_filter(text: str, properties: Mapping[str, PropertyType]) -> Predicate:
    """A predicate over records for ``text``, or :class:`FilterError`."""
    return _Parser(text, properties).parse()
