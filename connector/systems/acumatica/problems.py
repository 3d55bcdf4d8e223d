"""Acumatica's error answers turned into the error tree, naming the field to fix.

Two shapes (sheet ``acumatica.md``, "Errors"):

- **422**: the posted record comes back with an ``error`` string inside each offending value
  object, detail lines included (``{"Details": [{}, {"Account": {"value": "9", "error":
  "…"}}]}``), and a summary in the record's own ``error``. :func:`field_problems` walks the
  echoed body and lists every ``(path, message)``, the path written ``Details[1].Account``
  (rows counted from 0, as they were sent);
- **4xx/500** with the contract's ``HttpError`` body (``message``, ``exceptionMessage``,
  ``exceptionType``): a business exception (``PX.Data.PXException``) raised while the screen
  processed the request. Acumatica rolls the transaction back before it answers so, unlike a
  bare 500 from a gateway, nothing was saved.

Messages quote what Acumatica said and name the record; they never contain a request body
beyond the field values Acumatica echoed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

import msgspec

from connector.errors import ConnectorError, InDoubtError, RejectedError, UnavailableError
from connector.http.client import HttpResponse
from connector.systems.acumatica.values import decode_json

SYSTEM = "acumatica"
#: The most field problems quoted in one message; the error's ``field`` is always the first.
MAX_QUOTED = 5
#: The exception the contract raises for "no record with these keys" (404 or, on some
#: builds, 500).
NO_ENTITY = "NoEntitySatisfiesTheConditionException"


class FieldProblem(NamedTuple):
    """One field Acumatica blamed: where it is in the posted record, and why."""

    path: str
    message: str


class HttpError(msgspec.Struct, frozen=True, rename="camel"):
    """The contract's ``HttpError`` body."""

    message: str | None = None
    exception_message: str | None = None
    exception_type: str | None = None


def field_problems(body: object) -> list[FieldProblem]:
    """Every ``error`` inside the echoed record of a 422, in document order."""
    return list(_walk(body, ""))


def _walk(node: object, path: str) -> Iterator[FieldProblem]:
    if isinstance(node, Mapping):
        error = node.get("error")
        # The root's own error is the summary, reported only when no field is named.
        if path and isinstance(error, str) and error.strip():
            yield FieldProblem(path, " ".join(error.split()))
        for key, child in node.items():
            if key != "error" and isinstance(child, Mapping | list):
                yield from _walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")


def http_error(response: HttpResponse) -> HttpError | None:
    """The ``HttpError`` in a response body, or None when the body is something else."""
    try:
        error = msgspec.json.decode(response.body, type=HttpError)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not (error.exception_message or error.message):
        return None
    return error


def is_no_entity(response: HttpResponse) -> bool:
    """Whether a 404/500 says "no record with these keys" rather than "no such URL"."""
    if response.status == 404:
        error = http_error(response)
        return error is None or not is_no_route(error)
    if response.status == 500:
        error = http_error(response)
        return error is not None and NO_ENTITY in (error.exception_type or "")
    return False


def is_no_route(error: HttpError) -> bool:
    """Whether an ``HttpError`` is ASP.NET's "no such URL" (wrong endpoint, version, entity)."""
    return (error.message or "").startswith("No HTTP resource was found")


def unprocessable(response: HttpResponse, record: str) -> RejectedError:
    """A 422 as a RejectedError naming the first field and quoting up to five problems."""
    try:
        body = decode_json(response.body)
    except msgspec.DecodeError:
        body = None
    problems = field_problems(body)
    if problems:
        quoted = "; ".join(f"{p.path}: {p.message}" for p in problems[:MAX_QUOTED])
        more = len(problems) - MAX_QUOTED
        if more > 0:
            quoted += f"; and {more} more"
        field: str | None = problems[0].path
    else:
        summary = body.get("error") if isinstance(body, Mapping) else None
        quoted = str(summary) if summary else "no reason given"
        field = None
    return RejectedError(
        f"Acumatica refused {record} (HTTP 422): {quoted}. Fix the value in the source record "
        "or the mapping that produces it (or create the record it refers to in Acumatica "
        "first), then replay it.",
        system=SYSTEM,
        record=record,
        field=field,
        code="http_422",
    )


def refused(response: HttpResponse, record: str, *, write: bool) -> ConnectorError:
    """A 400 or 500 answer: RejectedError when Acumatica said why (an ``HttpError`` with
    ``exceptionMessage``); otherwise, for a 500, InDoubtError after a write (it may have
    been saved) and UnavailableError after a read."""
    error = http_error(response)
    where = f"{response.method} {response.path}"
    if error is None and response.status >= 500:
        if write:
            return InDoubtError(
                f"{where} → HTTP {response.status} without an explanation, so {record} may have "
                "been saved: look it up by its natural key before writing it again",
                system=SYSTEM,
                record=record,
            )
        return UnavailableError(
            f"{where} → HTTP {response.status} without an explanation; try again later",
            system=SYSTEM,
            record=record,
        )
    reason = "no reason given"
    if error is not None:
        reason = " ".join((error.exception_message or error.message or reason).split())
    kind = f" ({error.exception_type})" if error is not None and error.exception_type else ""
    return RejectedError(
        f"Acumatica refused {record} (HTTP {response.status}): {reason}{kind}. Fix the record "
        "or its mapping as the message says, then replay it.",
        system=SYSTEM,
        record=record,
        code=f"http_{response.status}",
    )
