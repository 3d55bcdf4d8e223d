"""Attribute values on the wire and in the store.

The store keeps JSON-ready values, except timestamps, which it keeps as *naive site
wall-clock* datetimes: IFS stores ``DATE`` columns in the site's zone. On the wire they are
written ``2025-03-01T10:15:03Z`` (the misleading suffix real tenants send, knob
``timestamps_say_utc``) or with the site's true offset. A ``$filter`` literal is compared
the same way: with the knob on its offset is ignored (wall clock against wall clock), off it
is converted into the site's zone.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from connector.sandbox.ifs.schema import Attr

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


class ValueProblem(ValueError):
    """A value that does not fit its attribute; the message is the OData error text."""


def parse_timestamp(text: str, site_offset_h: float, says_utc: bool) -> dt.datetime:
    """A wire timestamp as naive site wall-clock time (see the module docstring)."""
    if not _TIMESTAMP.match(text):
        raise ValueProblem(f"'{text}' is not an Edm.DateTimeOffset such as 2025-03-01T10:15:03Z")
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if says_utc:
        return moment.replace(tzinfo=None)
    site = dt.timezone(dt.timedelta(hours=site_offset_h))
    return moment.astimezone(site).replace(tzinfo=None)


def format_timestamp(moment: dt.datetime, site_offset_h: float, says_utc: bool) -> str:
    """Naive site wall-clock time as the wire shows it."""
    text = moment.replace(microsecond=0).isoformat()
    if says_utc:
        return f"{text}Z"
    site = dt.timezone(dt.timedelta(hours=site_offset_h))
    return moment.replace(microsecond=0, tzinfo=site).isoformat()


def check_value(name: str, attr: Attr, value: Any) -> Any:
    """``value`` as the store keeps it, or ValueProblem naming the attribute."""
    if value is None:
        return None
    kind = attr.type
    if kind == "text":
        if not isinstance(value, str):
            raise ValueProblem(f"Attribute {name} expects Edm.String, got {value!r}.")
        if attr.max_length is not None and len(value) > attr.max_length:
            raise ValueProblem(f"Attribute {name} is longer than {attr.max_length} characters.")
        return value.upper() if attr.uppercase else value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueProblem(f"Attribute {name} expects Edm.Boolean, got {value!r}.")
        return value
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueProblem(f"Attribute {name} expects a JSON number, got {value!r}.")
        if kind == "int" and not float(value).is_integer():
            raise ValueProblem(f"Attribute {name} expects an integer, got {value!r}.")
        return int(value) if kind == "int" else value
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueProblem(f"Attribute {name} expects Edm.Date (2025-03-01), got {value!r}.")
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueProblem(f"Attribute {name}: {value!r} is not a calendar date.") from None
        return value
    raise ValueProblem(f"Attribute {name} cannot be written.")
