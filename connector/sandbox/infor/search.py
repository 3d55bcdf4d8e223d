"""The small search-query language of ``SQRY`` (CRS620MI/SearchSupplier, PPS200MI/SearchHead).

M3's search is Lucene-like; the sandbox understands the part clients use, all terms ANDed:

- ``FIELD:value`` exact (case-insensitive), ``FIELD:val*`` prefix, ``FIELD:"two words"``;
- ``FIELD:[low TO high]`` inclusive range, ``FIELD:{low TO high}`` exclusive, ``*`` open end
  (``PUNO:[1000050 TO *]`` is how a client restarts a scan after a key; ``LMDT:[20240601 TO
  *]`` finds changed records);
- a bare word (``carrier``, ``carr*``) matches any of the default fields; ``*`` matches all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from connector.sandbox.infor.data import Row

Predicate = Callable[[Row], bool]

_TERM = re.compile(
    r"(?P<field>[A-Z0-9]{4}):(?P<open>[\[{])(?P<low>\S+) TO (?P<high>\S+)(?P<close>[\]}])"
    r'|(?P<kfield>[A-Z0-9]{4}):(?P<value>"[^"]*"|\S+)'
    r'|(?P<word>"[^"]*"|\S+)'
)


class QueryError(ValueError):
    """The query cannot be understood; the message says which term."""


def compile_query(query: str, default_fields: Sequence[str]) -> Predicate:
    """Turn ``query`` into a row predicate; raises :class:`QueryError` on a bad term."""
    predicates: list[Predicate] = []
    for match in _TERM.finditer(query):
        if match.group("field"):
            predicates.append(
                _range(
                    match.group("field"),
                    match.group("low"),
                    match.group("high"),
                    inclusive_low=match.group("open") == "[",
                    inclusive_high=match.group("close") == "]",
                )
            )
        elif match.group("kfield"):
            predicates.append(_keyword((match.group("kfield"),), match.group("value")))
        else:
            word = match.group("word")
            if word.upper() in ("AND", "*"):
                continue
            if word.upper() in ("OR", "NOT"):
                raise QueryError(f"search operator {word} is not supported; terms are ANDed")
            predicates.append(_keyword(tuple(default_fields), word))
    return lambda row: all(p(row) for p in predicates)


def _keyword(fields: tuple[str, ...], raw: str) -> Predicate:
    text = raw.strip('"').lower()
    prefix = text.endswith("*")
    text = text.rstrip("*")

    def matches(row: Row) -> bool:
        for name in fields:
            value = row.get(name, "").strip().lower()
            if (value.startswith(text) if prefix else value == text) or (
                len(fields) > 1 and text in value
            ):
                return True
        return False

    return matches


def _range(
    name: str, low: str, high: str, *, inclusive_low: bool, inclusive_high: bool
) -> Predicate:
    def matches(row: Row) -> bool:
        value = row.get(name, "").strip()
        if low != "*" and (value < low if inclusive_low else value <= low):
            return False
        return not (high != "*" and (value > high if inclusive_high else value >= high))

    return matches
