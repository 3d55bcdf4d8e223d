"""Documented query parameters, read and type-checked the way ServiceTitan's binder does.

ServiceTitan ignores a parameter it does not document (so does the simulator), but a
documented one with a value of the wrong type is a 400 ``ApiErrorResponse`` naming it.
:func:`typed` turns the raw strings of one documented parameter into Python values.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.sandbox.servicetitan.spec import Param
from connector.sandbox.servicetitan.wire import MAX_IDS, ApiError, parse_ticks

INT32 = 2**31
INT64 = 2**63


def _bad(param: Param, text: str, expected: str) -> ApiError:
    return ApiError.invalid(
        param.name, f"The value '{text}' is not valid for {param.name}: {expected}."
    )


def _scalar(param: Param, text: str) -> Any:
    if param.enum is not None:
        for option in param.enum:
            if option.lower() == text.lower():
                return option
        # ASP.NET also binds an enum from its numeric value.
        if text.lstrip("-").isdigit() and 0 <= int(text) < len(param.enum):
            return param.enum[int(text)]
        raise _bad(param, text, f"use one of {', '.join(param.enum)}")
    if param.kind == "integer":
        try:
            value = int(text)
        except ValueError:
            raise _bad(param, text, "expected an integer") from None
        bound = INT32 if param.fmt == "int32" else INT64
        if not -bound <= value < bound:
            raise _bad(param, text, f"out of range for {param.fmt or 'int64'}")
        return value
    if param.kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _bad(param, text, "expected a number") from None
        if not number.is_finite():
            raise _bad(param, text, "expected a finite number")
        return number
    if param.kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise _bad(param, text, "use true or false")
        return text.lower() == "true"
    if param.fmt in ("date-time", "date"):
        ticks = parse_ticks(text)
        if ticks is None:
            raise _bad(param, text, "use ISO 8601, e.g. 2024-01-31T00:00:00Z")
        return ticks
    if param.fmt in ("guid", "uuid"):
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise _bad(param, text, "expected a GUID") from None
    return text


def _id_list(param: Param, texts: list[str]) -> list[int] | list[str] | None:
    """``ids``-style parameters: documented as a string, read as comma-separated int64s —
    or GUIDs, the ids of the resources whose model has GUID ids (journal entries)."""
    parts = [part.strip() for text in texts for part in text.split(",") if part.strip()]
    if not parts:
        return None
    values: list[int] | list[str]
    try:
        values = [int(part) for part in parts]
    except ValueError:
        try:
            values = [str(uuid.UUID(part)) for part in parts]
        except ValueError:
            raise ApiError.invalid(
                param.name, f"'{param.name}' must be a comma-separated list of integer ids."
            ) from None
    if len(values) > MAX_IDS:
        raise ApiError.invalid(
            param.name,
            f"'{param.name}' lists {len(values)} values; at most {MAX_IDS} are allowed.",
        )
    return values


def typed(param: Param, raw: list[str]) -> Any:
    """The value of a documented parameter given its raw occurrences; None when empty.

    Arrays accept repeated parameters and comma-separated values alike (the vendor's
    examples use both); scalars take the last occurrence, as ASP.NET does.
    """
    texts = [text.strip() for text in raw]
    if (
        param.kind == "string"
        and not param.many
        and (param.name == "ids" or param.name.endswith("Ids"))
    ):
        return _id_list(param, texts)
    if param.many:
        parts = [part.strip() for text in texts for part in text.split(",")]
        values = [_scalar(param, part) for part in parts if part]
        return values or None
    if not texts or texts[-1] == "":
        return None
    if param.kind == "object":
        return texts[-1]
    return _scalar(param, texts[-1])
