"""OData literals, key predicates and IFS timestamps, built one way everywhere.

Values are never pasted into a URL: :func:`literal` quotes strings (inner quotes doubled)
and writes dates as ``2025-03-01`` and timestamps as IFS shows them; :func:`key_predicate`
builds ``(Company='10',Account='4000')``; :func:`and_all` joins conditions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from urllib.parse import quote

Literal = str | int | float | bool | dt.date


def literal(value: Literal) -> str:
    """``value`` as an OData v4 literal for ``$filter`` or a key predicate."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return site_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def site_timestamp(moment: dt.datetime) -> str:
    """A timestamp literal for a naive *site wall-clock* time (``2025-03-01T10:15:03Z``).

    IFS compares timestamps in the site's zone while writing them with a ``Z`` (sheet §2),
    so the literal carries the same misleading suffix: an aware datetime is refused rather
    than silently shifted.
    """
    if moment.tzinfo is not None:
        raise ValueError(
            f"{moment!r} is time-zone aware; IFS compares site wall-clock times, so pass the "
            "naive site time (see site_time())"
        )
    return moment.replace(microsecond=0).isoformat() + "Z"


def site_time(text: str) -> dt.datetime:
    """An IFS timestamp as naive site wall-clock time: the ``Z`` is not proof of UTC."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=None)


def key_predicate(keys: Sequence[str], values: Sequence[Literal]) -> str:
    """``(Name='v',Other=1)``, percent-encoded for the path (a ``/`` in a key stays data)."""
    if len(keys) != len(values):
        raise ValueError(f"keys {keys} need {len(keys)} values, not {len(values)}")
    inner = ",".join(f"{k}={literal(v)}" for k, v in zip(keys, values, strict=True))
    return "(" + quote(inner, safe="',=") + ")"


def and_all(conditions: Iterable[str | None]) -> str | None:
    """The conditions joined with ``and`` (each in parentheses), or None when there are none."""
    parts = [c for c in conditions if c]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({c})" for c in parts) or None
