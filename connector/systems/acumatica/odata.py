"""OData literals for Acumatica's ``$filter``, built one way everywhere.

Values are never pasted into a filter: :func:`odata_string` quotes them (inner quotes
doubled) and :func:`odata_datetime` writes an aware moment as ``datetimeoffset'…'``.
"""

from __future__ import annotations

import datetime as dt


def odata_string(value: str) -> str:
    """``value`` as an OData string literal: in single quotes, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def odata_datetime(moment: dt.datetime) -> str:
    """``moment`` (time-zone aware) as a ``datetimeoffset'…'`` literal."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
    return f"datetimeoffset'{moment.isoformat()}'"
