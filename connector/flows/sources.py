"""Extractors every pairing uses: ServiceTitan incremental reads with overlap, and plain lists.

ServiceTitan (sheet "Reading"): ``modifiedOnOrAfter`` is inclusive and several rows may share
one ``modifiedOn``, so each read starts ``overlap_s`` before the cursor and the ledger's
content hash turns the rows seen again into "unchanged".

The cursor becomes ServiceTitan's own clock when it answered the read's first page (the
``Date`` header), never the local clock, which may run ahead of ServiceTitan's. Not the
newest ``modifiedOn`` read: pages come in id order and are fetched lazily as the loader
takes records, so a row already read that changes during a long read (its new ``modifiedOn``
earlier than that of a row changed later on a later page) would fall behind such a cursor
and never be read again. Every row changed after the read began is later than its start, so
the next read (from there minus ``overlap_s``, which also absorbs the skew between the
``Date`` clock and ``modifiedOn``) sees it. Without a ``Date`` header the newest
``modifiedOn`` read is the fallback. The cursor is emitted as a :class:`CursorMark` after
the last record, so it moves only once every record of the read is terminal.

No stream reads an export feed (``continueFrom`` tokens) yet; one that does would keep the
token as its cursor instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from connector.runtime.flow import CursorMark, Envelope, Unreadable
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan.client import MAX_IDS, UnreadableRow
from connector.systems.servicetitan.resources import Resource


def _parse(stamp: str) -> dt.datetime:
    """ServiceTitan timestamps: 7 fractional digits, ``Z`` or no zone (then UTC)."""
    text = stamp.rstrip("Z")
    head, _, frac = text.partition(".")
    parsed = dt.datetime.fromisoformat(head)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed + dt.timedelta(microseconds=int((frac + "000000")[:6]) if frac.isdigit() else 0)


def _format(stamp: dt.datetime) -> str:
    """A cursor in ServiceTitan's own timestamp shape (UTC, ``Z``)."""
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def since_with_overlap(cursor: str, overlap_s: float) -> str:
    return _format(_parse(cursor) - dt.timedelta(seconds=overlap_s))


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
        read_started: list[dt.datetime] = []
        async for record in client.records(
            resource,
            modified_on_or_after=since,
            lenient=True,
            on_server_time=read_started.append,
        ):
            if isinstance(record, UnreadableRow):
                yield Envelope(_unreadable_id(record), Unreadable(record.raw, record.reason))
                continue
            modified = getattr(record, "modified_on", None)
            if modified and (newest is None or _parse(modified) > _parse(newest)):
                newest = modified
            yield Envelope(source_id(record), wrap(record))
        if read_started:
            yield CursorMark(_format(read_started[0]))
        elif newest:
            yield CursorMark(newest)

    return extract


class ServiceTitanFetch:
    """``fetch(source_id)`` over one ServiceTitan list: the record as it is now, or None;
    ``many`` reads up to 50 at once with the ``ids`` filter (see ``FetchesMany``)."""

    batch = MAX_IDS

    def __init__(self, client: ServiceTitanClient, resource: Resource) -> None:
        self.client = client
        self.resource = resource

    async def __call__(self, source_id: str) -> Any:
        return await self.client.get(self.resource, int(source_id))

    async def many(self, source_ids: Sequence[str]) -> dict[str, Any]:
        ids = [int(i) for i in source_ids]
        return {str(r.id): r for r in await self.client.get_by_ids(self.resource, ids)}


def servicetitan_fetch(client: ServiceTitanClient, resource: Resource) -> ServiceTitanFetch:
    """The ``fetch`` of a stream reading ``resource`` (one record, or many in one call)."""
    return ServiceTitanFetch(client, resource)


def _unreadable_id(row: UnreadableRow) -> str:
    """The ledger key of a row that does not fit the model: its id, else its content."""
    if row.id is not None:
        return str(row.id)
    return "unreadable:" + hashlib.sha256(row.raw).hexdigest()[:16]
