"""Extractors every pairing uses: ServiceTitan incremental reads with overlap, and plain lists.

ServiceTitan (sheet "Reading"): ``modifiedOnOrAfter`` is inclusive and several rows may share
one ``modifiedOn``, so each read starts ``overlap_s`` before the cursor and the ledger's
content hash turns the rows seen again into "unchanged". The cursor becomes the newest
``modifiedOn`` *read* (never the local clock, which may run ahead of ServiceTitan's), and it
is emitted as a :class:`CursorMark` after the last record, so it moves only once every record
of the read is terminal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from connector.runtime.flow import CursorMark, Envelope, Unreadable
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan.client import UnreadableRow
from connector.systems.servicetitan.resources import Resource


def _parse(stamp: str) -> dt.datetime:
    """ServiceTitan timestamps: 7 fractional digits, ``Z`` or no zone (then UTC)."""
    text = stamp.rstrip("Z")
    head, _, frac = text.partition(".")
    parsed = dt.datetime.fromisoformat(head)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed + dt.timedelta(microseconds=int((frac + "000000")[:6]) if frac.isdigit() else 0)


def since_with_overlap(cursor: str, overlap_s: float) -> str:
    start = _parse(cursor) - dt.timedelta(seconds=overlap_s)
    return start.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def servicetitan_incremental(
    client: ServiceTitanClient,
    resource: Resource,
    *,
    overlap_s: float,
    source_id: Callable[[Any], str] = lambda r: str(r.id),
    wrap: Callable[[Any], Any] = lambda r: r,
) -> Callable[[str | None, bool], AsyncIterator[Envelope[Any] | CursorMark]]:
    """An extractor over one ServiceTitan list, incremental on ``modifiedOn``.

    A row that does not fit the model travels as :class:`Unreadable` under its plain id (the
    processor dead-letters it) and leaves the cursor alone: the rest of the list goes on.
    """

    async def extract(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Any] | CursorMark]:
        since = None if full or not cursor else since_with_overlap(cursor, overlap_s)
        newest = cursor
        async for record in client.records(resource, modified_on_or_after=since, lenient=True):
            if isinstance(record, UnreadableRow):
                yield Envelope(_unreadable_id(record), Unreadable(record.raw, record.reason))
                continue
            modified = getattr(record, "modified_on", None)
            if modified and (newest is None or _parse(modified) > _parse(newest)):
                newest = modified
            yield Envelope(source_id(record), wrap(record))
        if newest:
            yield CursorMark(newest)

    return extract


def _unreadable_id(row: UnreadableRow) -> str:
    """The ledger key of a row that does not fit the model: its id, else its content."""
    if row.id is not None:
        return str(row.id)
    return "unreadable:" + hashlib.sha256(row.raw).hexdigest()[:16]
