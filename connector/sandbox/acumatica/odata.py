"""The ``$filter`` subset the contract-based API understands, compiled to a predicate.

Supported: comparisons ``Field eq|ne|gt|ge|lt|le literal`` on top-level scalar fields,
``and``/``or``/``not`` and parentheses, and the OData v3 functions ``substringof('x', Field)``,
``startswith(Field, 'x')``, ``endswith(Field, 'x')``. Literals: ``'text'`` (``''`` escapes a
quote), numbers, ``true``/``false``/``null``, ``datetimeoffset'2026-01-15T10:00:00+00:00'``,
``datetime'2026-01-15T10:00:00'`` and ``guid'…'``. Date-time fields only compare with date-time
literals. String comparisons ignore case, like the SQL collation behind the real system.
A ``+`` in an offset must be sent percent-encoded (``%2B``): a bare ``+`` in a query string is
a space, and the literal then fails to parse, exactly as it does against a real instance.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connector.sandbox.acumatica.schema import fields_of
from connector.sandbox.acumatica.values import parse_datetime

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<typed>(?:datetimeoffset|datetime|guid)'[^']*')
     |(?P<string>'(?:[^']|'')*')
     |(?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
     |(?P<punct>[(),])
     |(?P<name>[A-Za-z_][A-Za-z0-9_/]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
_FUNCTIONS = ("substringof", "startswith", "endswith")


class FilterError(ValueError):
    """The ``$filter`` text cannot be understood; the message says where and why."""


class _Literal:
    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind  # typed prefix ("datetimeoffset"...), "string", "number" or a keyword
        self.text = text


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"$filter cannot be parsed near {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def compile_filter(schema: str, text: str) -> Predicate:
    """A predicate over plain records of ``schema``; FilterError when the text is invalid."""
    parser = _Parser(schema, _tokenize(text))
    predicate = parser.parse_or()
    if parser.position != len(parser.tokens):
        raise FilterError(f"$filter has unexpected text at {parser.tokens[parser.position][1]!r}")
    return predicate


class _Parser:
    def __init__(self, schema: str, tokens: list[tuple[str, str]]) -> None:
        self.schema = schema
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise FilterError("$filter ends in the middle of an expression")
        self.position += 1
        return token

    def _expect(self, text: str) -> None:
        kind, value = self._take()
        if value != text:
            raise FilterError(f"$filter expected {text!r} but found {value!r}")

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "name" and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self._keyword("or"):
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def parse_and(self) -> Predicate:
        parts = [self.parse_unary()]
        while self._keyword("and"):
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def parse_unary(self) -> Predicate:
        if self._keyword("not"):
            inner = self.parse_unary()
            return lambda r: not inner(r)
        token = self._peek()
        if token == ("punct", "("):
            self.position += 1
            inner = self.parse_or()
            self._expect(")")
            return inner
        kind, name = self._take()
        if kind != "name":
            raise FilterError(f"$filter expected a field name but found {name!r}")
        if name.lower() in _FUNCTIONS and self._peek() == ("punct", "("):
            return self._function(name.lower())
        return self._comparison(name)

    def _field_kind(self, name: str) -> str:
        field = fields_of(self.schema).get(name)
        if field is None or field.target is not None:
            raise FilterError(
                f"$filter names '{name}', which is not a scalar field of {self.schema}"
            )
        return field.kind

    def _literal(self) -> _Literal:
        kind, text = self._take()
        if kind == "typed":
            prefix, _, rest = text.partition("'")
            return _Literal(prefix, rest[:-1])
        if kind == "string":
            return _Literal("string", text[1:-1].replace("''", "'"))
        if kind == "number":
            return _Literal("number", text)
        if kind == "name" and text.lower() in ("true", "false", "null"):
            return _Literal(text.lower(), text)
        raise FilterError(f"$filter expected a literal but found {text!r}")

    def _comparison(self, name: str) -> Predicate:
        field_kind = self._field_kind(name)
        kind, op = self._take()
        compare = _COMPARISONS.get(op.lower())
        if kind != "name" or compare is None:
            raise FilterError(f"$filter expected eq/ne/gt/ge/lt/le after '{name}', found {op!r}")
        literal = self._literal()
        if literal.kind == "null":
            if op.lower() not in ("eq", "ne"):
                raise FilterError(f"$filter can only compare '{name}' with null using eq/ne")
            wants_null = op.lower() == "eq"
            return lambda r: (r.get(name) is None) == wants_null
        target = _convert(name, field_kind, literal)
        return lambda r: _compare(compare, field_kind, r.get(name), target)

    def _function(self, function: str) -> Predicate:
        self._expect("(")
        if function == "substringof":
            needle = self._string_literal(function)
            self._expect(",")
            name = self._field_name(function)
        else:
            name = self._field_name(function)
            self._expect(",")
            needle = self._string_literal(function)
        self._expect(")")
        needle = needle.casefold()
        test: Callable[[str], bool] = {
            "substringof": lambda v: needle in v,
            "startswith": lambda v: v.startswith(needle),
            "endswith": lambda v: v.endswith(needle),
        }[function]
        return lambda r: isinstance(r.get(name), str) and test(r[name].casefold())

    def _field_name(self, function: str) -> str:
        kind, name = self._take()
        if kind != "name" or self._field_kind(name) != "str":
            raise FilterError(f"$filter {function}() needs a string field, got {name!r}")
        return name

    def _string_literal(self, function: str) -> str:
        literal = self._literal()
        if literal.kind != "string":
            raise FilterError(f"$filter {function}() needs a quoted string")
        return literal.text


def _convert(name: str, field_kind: str, literal: _Literal) -> Any:
    if field_kind == "dt":
        if literal.kind not in ("datetimeoffset", "datetime"):
            raise FilterError(
                f"$filter compares date-time field '{name}' with a "
                f"{literal.kind}; use datetimeoffset'2026-01-15T10:00:00%2B00:00'"
            )
        parsed = parse_datetime(literal.text)
        if parsed is None:
            raise FilterError(
                f"$filter literal {literal.kind}'{literal.text}' is not a valid "
                "date-time (a '+' in the offset must be sent as %2B)"
            )
        return parsed
    if field_kind in ("dec", "int"):
        if literal.kind != "number":
            raise FilterError(f"$filter compares number field '{name}' with a {literal.kind}")
        return float(literal.text)
    if field_kind == "bool":
        if literal.kind not in ("true", "false"):
            raise FilterError(f"$filter compares boolean field '{name}' with a {literal.kind}")
        return literal.kind == "true"
    if literal.kind not in ("string", "guid"):
        raise FilterError(f"$filter compares text field '{name}' with a {literal.kind}; quote it")
    return literal.text.casefold()


def _compare(compare: Callable[[Any, Any], bool], field_kind: str, value: Any, target: Any) -> bool:
    if value is None:
        return False
    if field_kind == "dt":
        parsed: datetime | None = parse_datetime(value)
        return parsed is not None and compare(parsed, target)
    if isinstance(value, str):
        return compare(value.casefold(), target)
    return compare(value, target)
