"""The ``filter`` of a Mongoose IDO load: a SQL ``WHERE`` clause over IDO properties.

Mongoose hands the filter to SQL Server after replacing property names by columns, so
anything SQL accepts works there. The simulator accepts a strict subset and refuses the
rest with an error, so a client that relies on more is caught here rather than in
production::

    filter   := or
    or       := and ("OR" and)*
    and      := unary ("AND" unary)*
    unary    := "NOT" unary | "(" or ")" | compare
    compare  := Property op literal
              | Property ["NOT"] "LIKE" string
              | Property "IS" ["NOT"] "NULL"
              | Property ["NOT"] "IN" "(" literal ("," literal)* ")"
    op       := "=" | "<>" | "!=" | "<" | ">" | "<=" | ">="
    literal  := string | number          string := 'text' | N'text'  ('' is a quote)

Comparisons follow SQL Server's default collation (``SQL_Latin1_General_CP1_CI_AS``):
strings compare case-insensitively and ignore *trailing* blanks — but not leading ones,
which is why right-justified SyteLine keys (``VendNum`` ``"   1001"``) must be sent padded.
A literal is converted to the property's type; one that does not convert is an error, as
SQL Server's conversion error would be. A comparison with NULL is never true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]
#: Converts a literal (text) to a property's Python value, or raises ValueError.
Convert = Callable[[str, str], Any]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>N?'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><>|!=|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "IS", "NULL", "IN"})


class FilterError(ValueError):
    """The filter cannot be run; the message is what Mongoose would say, near enough."""


@dataclass(frozen=True)
class _Token:
    kind: str  # string | number | op | punct | word | end
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise FilterError(f"Incorrect syntax near '{text[position : position + 20].strip()}'")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    tokens.append(_Token("end", ""))
    return tokens


def sql_text(value: str) -> str:
    """A string as SQL Server's default collation compares it."""
    return value.rstrip(" ").casefold()


def compare_values(left: Any, right: Any) -> int:
    """-1/0/1 between two non-NULL values of one property (strings by the collation)."""
    if isinstance(left, str) and isinstance(right, str):
        left, right = sql_text(left), sql_text(right)
    return int(left > right) - int(left < right)


def _like(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                raise FilterError(f"Unterminated [ in LIKE pattern '{pattern}'")
            body = pattern[index + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            parts.append("[" + ("^" if negate else "") + re.escape(body).replace("\\-", "-") + "]")
            index = end
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


class _Parser:
    def __init__(self, text: str, types: Mapping[str, str], convert: Convert) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.types = {name.casefold(): name for name in types}
        self.type_of = types
        self.convert = convert

    # -- token helpers ----------------------------------------------------------------
    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _keyword(self, word: str) -> bool:
        token = self.current
        if token.kind == "word" and token.text.upper() == word:
            self.index += 1
            return True
        return False

    def _expect_keyword(self, word: str) -> None:
        if not self._keyword(word):
            raise FilterError(f"Incorrect syntax near '{self.current.text}': expected {word}")

    def _punct(self, char: str) -> bool:
        if self.current.kind == "punct" and self.current.text == char:
            self.index += 1
            return True
        return False

    # -- grammar -----------------------------------------------------------------------
    def parse(self) -> Predicate:
        predicate = self._or()
        if self.current.kind != "end":
            raise FilterError(f"Incorrect syntax near '{self.current.text}'")
        return predicate

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._keyword("OR"):
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda record: any(part(record) for part in parts)

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._keyword("AND"):
            parts.append(self._unary())
        if len(parts) == 1:
            return parts[0]
        return lambda record: all(part(record) for part in parts)

    def _unary(self) -> Predicate:
        if self._keyword("NOT"):
            inner = self._unary()
            return lambda record: not inner(record)
        if self._punct("("):
            inner = self._or()
            if not self._punct(")"):
                raise FilterError(f"Incorrect syntax near '{self.current.text}': expected )")
            return inner
        return self._compare()

    def _property(self) -> str:
        token = self.current
        if token.kind != "word" or token.text.upper() in _KEYWORDS:
            raise FilterError(f"Incorrect syntax near '{token.text}': expected a property")
        name = self.types.get(token.text.casefold())
        if name is None:
            raise FilterError(f"Invalid column name '{token.text}'")
        self.index += 1
        return name

    def _literal(self, prop: str) -> Any:
        token = self.current
        if token.kind == "string":
            raw = token.text[2:-1] if token.text.startswith("N") else token.text[1:-1]
            text = raw.replace("''", "'")
        elif token.kind == "number":
            text = token.text
        else:
            raise FilterError(f"Incorrect syntax near '{token.text}': expected a value")
        self.index += 1
        try:
            return self.convert(prop, text)
        except ValueError:
            raise FilterError(
                f"Conversion failed when converting the value '{text}' to the type of "
                f"{prop} ({self.type_of[prop]})"
            ) from None

    def _compare(self) -> Predicate:
        prop = self._property()
        if self._keyword("IS"):
            negate = self._keyword("NOT")
            self._expect_keyword("NULL")
            return lambda record: (record.get(prop) is None) != negate
        negate = self._keyword("NOT")
        if self._keyword("LIKE"):
            if self.current.kind != "string":
                raise FilterError(
                    f"Incorrect syntax near '{self.current.text}': LIKE needs a string"
                )
            token = self.current.text
            self.index += 1
            pattern = _like(
                (token[2:-1] if token.startswith("N") else token[1:-1]).replace("''", "'")
            )
            return lambda record: (
                record.get(prop) is not None
                and (pattern.fullmatch(str(record[prop]).rstrip(" ")) is not None) != negate
            )
        if self._keyword("IN"):
            if not self._punct("("):
                raise FilterError(f"Incorrect syntax near '{self.current.text}': expected (")
            values = [self._literal(prop)]
            while self._punct(","):
                values.append(self._literal(prop))
            if not self._punct(")"):
                raise FilterError(f"Incorrect syntax near '{self.current.text}': expected )")
            return lambda record: (
                record.get(prop) is not None
                and (any(compare_values(record[prop], value) == 0 for value in values) != negate)
            )
        if negate:
            raise FilterError(f"Incorrect syntax near 'NOT' after {prop}")
        if self.current.kind != "op":
            raise FilterError(f"Incorrect syntax near '{self.current.text}': expected an operator")
        op = self.current.text
        self.index += 1
        value = self._literal(prop)
        test = _OPERATORS[op]
        return lambda record: (
            record.get(prop) is not None and test(compare_values(record[prop], value))
        )


_OPERATORS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "<>": lambda c: c != 0,
    "!=": lambda c: c != 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def parse_filter(text: str, types: Mapping[str, str], convert: Convert) -> Predicate:
    """A predicate over records for ``text``; ``types`` maps each property to its type.

    Raises :class:`FilterError` for a syntax error, an unknown property or a literal that
    does not convert to its property's type.
    """
    return _Parser(text, types, convert).parse()
