"""IFS's error answers turned into the error tree, naming the attribute to fix.

Projection errors are OData JSON (sheet §6)::

    {"error": {"code": "…", "message": "…", "details": [{"target": "Account", …}]}}

Business rules come back as PL/SQL errors in ``message`` (``ORA-20111: Account.FND_RECORD_NOT_EXIST:
…``). :func:`refusal` makes a ``RejectedError`` whose ``field`` is the first ``target`` (else
the attribute an ``ORA`` text names in brackets) and whose ``code`` is IFS's own code.
``MI_MODIFIED_ERROR`` (a 500 after the projection's metadata changed) is recognised by
:func:`is_metadata_changed`: the same request is sent once more.
"""

from __future__ import annotations

import re

import msgspec

from connector.errors import ConnectorError, InDoubtError, RejectedError, UnavailableError
from connector.http.client import HttpResponse

SYSTEM = "ifs"
METADATA_CHANGED = "MI_MODIFIED_ERROR"
_BRACKETED = re.compile(r"\[(\w+)\]")


class ErrorDetail(msgspec.Struct, frozen=True):
    code: str | None = None
    message: str | None = None
    target: str | None = None


class ODataError(msgspec.Struct, frozen=True):
    code: str | None = None
    message: str | None = None
    details: list[ErrorDetail] = []


class ErrorBody(msgspec.Struct, frozen=True):
    error: ODataError


def odata_error(response: HttpResponse) -> ODataError | None:
    """The OData error in a response body, or None when the body is something else."""
    try:
        return msgspec.json.decode(response.body, type=ErrorBody).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def is_metadata_changed(response: HttpResponse) -> bool:
    error = odata_error(response) if response.status == 500 else None
    return error is not None and error.code == METADATA_CHANGED


def blamed_field(error: ODataError) -> str | None:
    """The attribute IFS blamed: a detail's ``target``, else ``[Attribute]`` in the text."""
    for detail in error.details:
        if detail.target:
            return detail.target
    match = _BRACKETED.search(error.message or "")
    return match.group(1) if match else None


def refusal(response: HttpResponse, record: str, *, write: bool) -> ConnectorError:
    """A 4xx/5xx answer as an error naming ``record`` and, when IFS said, the attribute.

    A 5xx after a write is InDoubtError whatever its body (it may have committed); after a
    read, one without an OData body is UnavailableError.
    """
    error = odata_error(response)
    where = f"{response.method} {response.path}"
    if response.status >= 500 and (write or error is None):
        if write:
            return InDoubtError(
                f"{where} → HTTP {response.status} without an explanation, so {record} may have "
                "been written: look it up by its natural key before writing it again",
                system=SYSTEM,
                record=record,
            )
        return UnavailableError(
            f"{where} → HTTP {response.status} without an explanation; try again later",
            system=SYSTEM,
            record=record,
        )
    said = " ".join((error.message if error and error.message else "no reason given").split())
    field = blamed_field(error) if error is not None else None
    about = f" (attribute {field})" if field else ""
    return RejectedError(
        f"IFS refused {record}{about} (HTTP {response.status}"
        f"{f', {error.code}' if error and error.code else ''}): {said}. Fix the value in the "
        "source record or the mapping that produces it (or create the record it refers to in "
        "IFS first), then replay it.",
        system=SYSTEM,
        record=record,
        field=field,
        code=(error.code if error and error.code else f"http_{response.status}"),
    )
