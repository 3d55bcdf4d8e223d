"""ION API gateway request parsing and the m3api-rest v2 response envelope.

A single call is ``GET /{ti}/M3/m3api-rest/v2/execute/{PGM}/{TRN};cono=..;divi=..?FLD=val``:
options are matrix parameters of the *last* path segment (parsed here from the raw path,
since web frameworks drop them), input fields are upper-case query parameters. Lower-case
query parameters are options too (``righttrim``, ``returncols``…), except that ``maxrecs``
in the query counts only when the ``query_maxrecs_honoured`` knob says so. Anything else
lower-case (``offset``, ``page``) is ignored: M3 has no offset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from connector.sandbox.infor.knobs import InforKnobs
from connector.sandbox.infor.mi import CallOptions

API_PREFIX = ("M3", "m3api-rest", "v2", "execute")
OPTION_NAMES = frozenset(
    {
        "cono",
        "divi",
        "maxrecs",
        "returncols",
        "righttrim",
        "excludempty",
        "metadata",
        "extendedresult",
    }
)
_FIELD_NAME = re.compile(r"^[A-Z0-9]{1,6}$")
WRITE_PREFIXES = ("Add", "Chg", "Dlt", "Upd", "Valid", "Crt", "Del", "Rcl")


@dataclass
class GatewayPath:
    """A gateway path split into tenant, the segments after it, and last-segment matrix."""

    tenant: str
    segments: list[str]
    matrix: dict[str, str]

    @property
    def is_bulk(self) -> bool:
        return tuple(self.segments) == API_PREFIX

    @property
    def program_transaction(self) -> tuple[str, str] | None:
        if len(self.segments) == len(API_PREFIX) + 2 and tuple(self.segments[:4]) == API_PREFIX:
            return self.segments[4], self.segments[5]
        return None


def parse_path(raw_path: str) -> GatewayPath:
    """Split a raw request path (query included or not) into a :class:`GatewayPath`."""
    path = raw_path.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    names: list[str] = []
    matrix: dict[str, str] = {}
    for index, part in enumerate(parts):
        name, *params = part.split(";")
        names.append(unquote(name))
        if index == len(parts) - 1:
            for param in params:
                key, _, value = param.partition("=")
                matrix[unquote(key).lower()] = unquote(value)
    return GatewayPath(names[0] if names else "", names[1:], matrix)


def transaction_name(raw_path: str) -> str:
    """The transaction a path names (last segment without matrix), for write detection."""
    segments = parse_path(raw_path).segments
    return segments[-1] if segments else ""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def call_options(
    matrix: Mapping[str, str], query: Mapping[str, str], *, query_maxrecs: bool
) -> CallOptions:
    """Merge matrix and query options (matrix wins)."""
    merged = {k.lower(): v for k, v in query.items() if k.lower() in OPTION_NAMES}
    if not query_maxrecs:
        merged.pop("maxrecs", None)
    merged.update(matrix)
    columns = merged.get("returncols")
    return CallOptions(
        cono=merged.get("cono"),
        divi=merged.get("divi"),
        maxrecs=_int(merged.get("maxrecs")),
        returncols=[c.strip() for c in columns.split(",") if c.strip()] if columns else None,
        righttrim=_flag(merged.get("righttrim")),
        excludempty=_flag(merged.get("excludempty")),
    )


def input_fields(query: Mapping[str, str]) -> dict[str, str]:
    """The upper-case query parameters: M3 input fields (``SUNO``, ``1UDT``…)."""
    return {k: v for k, v in query.items() if _FIELD_NAME.match(k)}


def bulk_record(record: Any) -> dict[str, str] | None:
    """A bulk ``record`` object as input fields (numbers become their text); None if it is
    not an object."""
    if not isinstance(record, dict):
        return None
    return {str(k): _text(v) for k, v in record.items() if v is not None}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def envelope(results: list[dict[str, Any]], terminated: bool, knobs: InforKnobs) -> dict[str, Any]:
    """The m3api-rest v2 body. The double-l in ``nrOfSuccessfullTransactions`` is Infor's."""
    failed = sum(1 for result in results if "errorMessage" in result)
    was_terminated: bool | str = terminated
    if knobs.was_terminated_as_string:
        was_terminated = "true" if terminated else "false"
    return {
        "results": results,
        "wasTerminated": was_terminated,
        "nrOfSuccessfullTransactions": len(results) - failed,
        "nrOfFailedTransactions": failed,
    }
