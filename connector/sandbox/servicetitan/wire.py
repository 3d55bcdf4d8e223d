"""ServiceTitan's wire conventions: timestamps, money, problem bodies, query strings, paging.

Everything here follows the v2 OpenAPI documents (``servicetitan-openapi/*.json``):

* Timestamps carry seven fractional digits and ``Z`` (``2022-02-15T20:33:31.0005557Z``); the
  simulator keeps them as 100-nanosecond *ticks* since the Unix epoch and formats at the edge.
* Accounting money and quantities are strings (``"25.69"``); inventory and pricebook use JSON
  numbers. :func:`money` and :func:`quantity` make the strings.
* Errors are ``ApiErrorResponse`` problem bodies (RFC 7807 with ``errors`` and ``data``).
* List endpoints share ``page``/``pageSize``/``includeTotal`` and the page envelope; export
  feeds share ``from``/``includeRecentChanges`` and an opaque continuation token.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import MultiMapping

from connector.sandbox.base import json_response

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.spec import Operation, Param

Record = dict[str, Any]

TICKS_PER_SECOND = 10_000_000
MAX_PAGE_SIZE = 5000
MAX_IDS = 50

_PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    401: "https://tools.ietf.org/html/rfc7235#section-3.1",
    403: "https://tools.ietf.org/html/rfc7231#section-6.5.3",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
    405: "https://tools.ietf.org/html/rfc7231#section-6.5.5",
    409: "https://tools.ietf.org/html/rfc7231#section-6.5.8",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
}

# -- time ---------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(?P<base>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)"
    r"(?:\.(?P<fraction>\d+))?(?P<zone>Z|[+-]\d{2}:?\d{2})?"
)


def format_ticks(ticks: int) -> str:
    """``2022-02-15T20:33:31.0005557Z`` for a tick count (the API's only timestamp shape)."""
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:07d}Z"


@lru_cache(maxsize=65536)
def parse_ticks(text: str) -> int | None:
    """Ticks of an ISO 8601 date or date-time (UTC when no zone is given), None if invalid.

    Written by hand because ``datetime.fromisoformat`` drops the seventh fractional digit,
    and two records 100 ns apart must still compare in the right order.
    """
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None:
        return None
    zone = match["zone"] or ""
    try:
        moment = datetime.fromisoformat(match["base"] + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fraction = int(((match["fraction"] or "") + "0000000")[:7])
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * TICKS_PER_SECOND + fraction


class Clock:
    """A strictly increasing tick source: no two changes ever share an instant by accident.

    ServiceTitan's clients must overlap and dedupe on ``modifiedOn``; the simulator makes
    collisions something a test asks for (the ``same_modified_on`` knob), never a fluke.
    """

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> int:
        wall = time.time_ns() // 100
        self._last = max(wall, self._last + 1)
        return self._last

    def advance_to(self, ticks: int) -> None:
        """Promise that the next tick is later than ``ticks`` (after seeding past dates)."""
        self._last = max(self._last, ticks)


# -- numbers ------------------------------------------------------------------------------

_CENT = Decimal("0.01")


def dec(value: Any) -> Decimal:
    """A Decimal from a JSON number or numeric string (floats via their shortest repr)."""
    return Decimal(str(value))


def cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """Accounting money: a string with two decimals (``"25.69"``)."""
    return str(cents(value))


def quantity(value: Decimal) -> str:
    """Accounting quantities: a string with ServiceTitan's long scale (19 decimals)."""
    return str(value.quantize(Decimal("1." + "0" * 19)))


def number(value: Decimal) -> float:
    """Inventory and pricebook money: a JSON number rounded to cents."""
    return float(cents(value))


# -- problems -----------------------------------------------------------------------------


def trace_id() -> str:
    """A W3C-style trace id, the shape ServiceTitan puts in ``traceId``."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


class ApiError(Exception):
    """A refusal the handler turns into an ``ApiErrorResponse`` body with ``status``."""

    def __init__(self, status: int, title: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = errors or {}

    @classmethod
    def invalid(cls, field: str, message: str) -> ApiError:
        """A 400 naming one field (the common case of a bad parameter)."""
        return cls(400, "One or more validation errors occurred.", {field: [message]})


def problem(
    status: int,
    title: str,
    errors: dict[str, list[str]] | None = None,
    *,
    headers: dict[str, str] | None = None,
    full: bool = True,
) -> web.Response:
    """An RFC 7807 body. ``full`` adds ``errors`` and ``data`` (ApiErrorResponse, 4xx from
    the API itself); the gateway's 401/403/429 bodies carry only the first four keys."""
    body: Record = {
        "type": _PROBLEM_TYPES.get(status, "about:blank"),
        "title": title,
        "status": status,
        "traceId": trace_id(),
    }
    if full:
        body["errors"] = errors or {}
        body["data"] = {}
    return json_response(body, status, headers)


def api_error_response(error: ApiError) -> web.Response:
    return problem(error.status, error.title, error.errors)


# -- query strings ------------------------------------------------------------------------


def typed(param: Param, raw: list[str]) -> Any:
    """:func:`.params.typed`, imported late: params builds on this module's ApiError."""
    from connector.sandbox.servicetitan.params import typed as read

    return read(param, raw)


class Query:
    """One request's query string; reading a parameter marks it used.

    Handlers read the parameters whose meaning is specific to them; :meth:`rest` then
    type-checks every other parameter the operation documents and hands them back for the
    generic filters. Parameters the vendor does not document are ignored, as ServiceTitan
    ignores them (a client sending one gets the unfiltered list there too).
    """

    def __init__(self, query: MultiMapping[str], operation: Operation | None = None) -> None:
        self._query = query
        self._used: set[str] = set()
        self.operation = operation

    def raw(self, name: str) -> str | None:
        self._used.add(name)
        values = self._query.getall(name, [])
        return values[-1] if values else None

    def values(self, name: str) -> list[str]:
        self._used.add(name)
        return list(self._query.getall(name, []))

    def integer(self, name: str) -> int | None:
        text = self.raw(name)
        if text is None or text == "":
            return None
        try:
            return int(text)
        except ValueError:
            raise ApiError.invalid(name, f"The value '{text}' is not valid for {name}.") from None

    def flag(self, name: str) -> bool | None:
        text = self.raw(name)
        if text is None or text == "":
            return None
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ApiError.invalid(
            name, f"The value '{text}' is not valid for {name}: use true or false."
        )

    def ticks(self, name: str) -> int | None:
        text = self.raw(name)
        if text is None or text == "":
            return None
        ticks = parse_ticks(text)
        if ticks is None:
            raise ApiError.invalid(
                name,
                f"The value '{text}' is not a valid date-time: "
                "use ISO 8601, e.g. 2024-01-31T00:00:00Z.",
            )
        return ticks

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        """An enum parameter, matched case-insensitively like ASP.NET's binder does."""
        text = self.raw(name)
        if text is None or text == "":
            return default
        for option in options:
            if option.lower() == text.lower():
                return option
        raise ApiError.invalid(
            name, f"The value '{text}' is not valid for {name}: use one of {', '.join(options)}."
        )

    def int_list(self, name: str, limit: int | None = MAX_IDS) -> list[int] | None:
        """A comma-delimited (or repeated) list of int64s; more than ``limit`` is refused."""
        texts = [part.strip() for value in self.values(name) for part in value.split(",")]
        texts = [text for text in texts if text]
        if not texts:
            return None
        try:
            values = [int(text) for text in texts]
        except ValueError:
            raise ApiError.invalid(
                name, f"'{name}' must be a comma-separated list of integer ids."
            ) from None
        if limit is not None and len(values) > limit:
            raise ApiError.invalid(
                name,
                f"'{name}' lists {len(values)} values; at most {limit} are allowed per request.",
            )
        return values

    def str_list(self, name: str) -> list[str] | None:
        texts = [part.strip() for value in self.values(name) for part in value.split(",")]
        texts = [text for text in texts if text]
        return texts or None

    def documented(self, name: str) -> tuple[bool, Any]:
        """(documented?, typed value) of one parameter, checked against the operation."""
        param = self.operation.params.get(name) if self.operation is not None else None
        if param is None:
            return False, None
        return True, typed(param, self.values(name))

    def validate(self) -> None:
        """Type-check every documented parameter present, before any record is looked up
        (ServiceTitan's binder answers 400 for a bad value ahead of a 404)."""
        if self.operation is None:
            return
        for name, param in self.operation.params.items():
            if name in self._query:
                typed(param, list(self._query.getall(name)))

    def rest(self) -> dict[str, Any]:
        """Typed values of the documented parameters no handler has read yet (None dropped)."""
        if self.operation is None:
            return {}
        values: dict[str, Any] = {}
        for name, param in self.operation.params.items():
            if name in self._used:
                continue
            if param.kind == "object":
                pairs = self._pairs(name)
                if pairs:
                    values[name] = pairs
                continue
            if name not in self._query:
                continue
            self._used.add(name)
            value = typed(param, list(self._query.getall(name)))
            if value is not None:
                values[name] = value
        return values

    def _pairs(self, name: str) -> dict[str, str]:
        """A dictionary parameter as ASP.NET binds it: ``name[key]=v`` or ``name.key=v``."""
        pairs: dict[str, str] = {}
        for key, value in self._query.items():
            if key.startswith(name + "[") and key.endswith("]"):
                pairs[key[len(name) + 1 : -1]] = value
            elif key.startswith(name + ".") and key[len(name) + 1 :]:
                pairs[key[len(name) + 1 :]] = value
        return pairs

    def finish(self) -> None:
        """Type-check the documented parameters nobody read (they have nothing to filter)."""
        self.rest()


# -- paging -------------------------------------------------------------------------------


class Paging:
    """``page`` (from 1), ``pageSize`` (50 by default, at most 5000) and ``includeTotal``."""

    def __init__(self, query: Query) -> None:
        page = query.integer("page")
        size = query.integer("pageSize")
        self.page = 1 if page is None else page
        self.size = 50 if size is None else size
        self.include_total = bool(query.flag("includeTotal"))
        if self.page < 1:
            raise ApiError.invalid("page", f"page must be 1 or greater, got {self.page}.")
        if self.size < 1 or self.size > MAX_PAGE_SIZE:
            raise ApiError.invalid(
                "pageSize",
                f"pageSize must be between 1 and {MAX_PAGE_SIZE}, got {self.size}; "
                "page through larger result sets with 'page'.",
            )

    def slice(self, rows: list[Record]) -> tuple[list[Record], bool]:
        start = (self.page - 1) * self.size
        chunk = rows[start : start + self.size]
        return chunk, start + self.size < len(rows)

    def envelope(self, rows: list[Record]) -> Record:
        chunk, has_more = self.slice(rows)
        return {
            "page": self.page,
            "pageSize": self.size,
            "hasMore": has_more,
            "totalCount": len(rows) if self.include_total else None,
            "data": chunk,
        }


# -- export feeds -------------------------------------------------------------------------


def encode_position(ticks: int, record_id: int) -> str:
    """The opaque ``continueFrom`` token: the (modifiedOn, id) of the last row served."""
    raw = f"{ticks}:{record_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_from(text: str) -> tuple[int, int]:
    """A ``from`` value as a feed position: a continuation token or a date (inclusive)."""
    ticks = parse_ticks(text)
    if ticks is not None:
        return ticks, -1
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        tick_text, id_text = raw.split(":")
        return int(tick_text), int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError.invalid(
            "from",
            f"'{text}' is neither a continuation token from 'continueFrom' nor a date; "
            "start over without 'from' or pass a date such as 2024-01-01.",
        ) from None
