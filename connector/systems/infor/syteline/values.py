"""SyteLine's value conventions, in one place: right-justified keys, dates, decimals.

``VendNum`` (7) and ``PoNum`` (10) are right-justified key types: SyteLine's forms expand
``1001`` to ``"   1001"`` before saving, and the IDO stores and filters exactly what it is
sent (sheet, SyteLine corrections). The connector expands on the way in and strips on the
way out, so the flow sees plain codes and a code typed in a SyteLine form is found.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from connector.errors import RejectedError
from connector.systems.infor.auth import SYSTEM

VEND_NUM = 7
PO_NUM = 10
_WIRE_DATE = "%Y%m%d %H:%M:%S.%f"


def expand(code: str, width: int, what: str) -> str:
    """``code`` right-justified to ``width``; refused when it does not fit."""
    code = code.strip()
    if not code or len(code) > width:
        raise RejectedError(
            f"{what} {code!r} does not fit SyteLine's {width}-character key; shorten the code "
            "(or its mapping) and replay the record",
            system=SYSTEM,
            record=f"{what} {code}",
            code="key_length",
        )
    return code.rjust(width)


def text(value: str | None) -> str:
    return (value or "").strip()


def iso_time(value: str | None) -> str:
    """``20240612 08:30:00.000`` → ``2024-06-12T08:30:00.000Z`` (the site runs on UTC)."""
    if not value:
        return ""
    moment = datetime.strptime(value, _WIRE_DATE)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def wire_time(iso: str) -> str:
    """An ISO 8601 time (``2024-06-12T08:30:00.000Z`` or a bare date) as a filter literal."""
    cleaned = iso.strip().removesuffix("Z").replace("T", " ")
    moment = datetime.fromisoformat(cleaned)
    return moment.strftime("%Y%m%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def iso_date(value: str | None) -> str:
    """``20240612 00:00:00.000`` → ``2024-06-12``."""
    return iso_time(value)[:10]


def wire_date(iso_day: str) -> str:
    """``2024-06-12`` → ``20240612`` (SyteLine reads it as midnight)."""
    return iso_day.replace("-", "")


def decimal(value: str | None, what: str) -> Decimal:
    try:
        return Decimal(value or "0")
    except InvalidOperation:
        raise RejectedError(
            f"SyteLine answered {value!r} for {what}, which is not a number: report it",
            system=SYSTEM,
            code="unexpected_response",
        ) from None


def amount(value: Decimal) -> str:
    return format(value, "f")
