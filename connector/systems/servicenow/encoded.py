"""Encoded queries built from checked parts.

A real instance silently drops a query term whose field it does not know, so a misspelt
filter matches *every* row. Every field named here is therefore checked against the model it
queries, before anything is sent; and a value holding ``^`` (the term separator, which the
encoded-query syntax cannot escape) is refused instead of being cut into a different query.
"""

from __future__ import annotations

from collections.abc import Mapping

from connector.errors import SourceDataError
from connector.systems.servicenow.models import Record
from connector.systems.servicenow.problems import SYSTEM


def term(model: type[Record], field: str, operator: str, value: str) -> str:
    """``field<operator>value`` after checking the field exists on ``model``."""
    if field not in model.field_names():
        raise ValueError(
            f"{model.__name__} ({model.TABLE}) has no field {field!r}; the "
            "instance would drop this term and match every row"
        )
    if "^" in value:
        raise SourceDataError(
            f"value {value!r} for {model.TABLE}.{field} contains '^', which an encoded query "
            "cannot carry: correct the value in the source system",
            system=SYSTEM,
            field=field,
        )
    return f"{field}{operator}{value}"


def all_equal(model: type[Record], equal: Mapping[str, str]) -> list[str]:
    return [term(model, field, "=", value) for field, value in equal.items()]


def order_by(model: type[Record], *fields: str) -> list[str]:
    for field in fields:
        term(model, field, "", "")
    return [f"ORDERBY{field}" for field in fields]


def join(terms: list[str]) -> str:
    return "^".join(terms)
