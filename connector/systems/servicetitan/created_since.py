"""A ServiceTitan list indexed by a caller's natural key, every miss confirmed live.

ServiceTitan cannot filter materials or purchase orders by a key of ours (a memo, a code), so
a target that must answer "is it already there?" keeps an index built once per pass and, for a
key the index lacks, reads what was created since the index was last brought up to date. A
create whose reply was lost — in this process or another — is found before anything is
created again. Used by every pairing that writes such records to ServiceTitan.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

from connector.systems.servicetitan.client import ServiceTitanClient
from connector.systems.servicetitan.resources import RESOURCES

#: How far before an index was built its live top-up reads (clock skew between us and
#: ServiceTitan, and rows created while the index was being read).
CLOCK_MARGIN_S = 300.0


class CreatedSince:
    """A ServiceTitan list indexed by our natural key, whose misses are confirmed live.

    ``get`` answers from the index when it holds the key; otherwise it reads the rows
    created since the index was last brought up to date (minus :data:`CLOCK_MARGIN_S`) and
    answers from those — never "absent" from a stale picture.
    """

    def __init__(
        self,
        client: ServiceTitanClient,
        resources: Sequence[str],
        key_of: Callable[[Any], str | None],
    ) -> None:
        self.client = client
        self.resources = tuple(resources)
        self.key_of = key_of
        self._index: dict[str, int] | None = None
        self._current_at = 0.0

    async def rebuild(self) -> None:
        self._current_at = time.time()
        index: dict[str, int] = {}
        for name in self.resources:
            async for row in self.client.records(RESOURCES[name]):
                self._add(index, row)
        self._index = index

    async def get(self, key: str) -> int | None:
        if self._index is None:
            await self.rebuild()
            assert self._index is not None  # noqa: S101 - rebuild sets it
            return self._index.get(key)
        if key in self._index:
            return self._index[key]
        since = dt.datetime.fromtimestamp(self._current_at - CLOCK_MARGIN_S, dt.UTC)
        self._current_at = time.time()
        extra = {"createdOnOrAfter": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
        for name in self.resources:
            async for row in self.client.records(RESOURCES[name], extra=extra):
                self._add(self._index, row)
        return self._index.get(key)

    def add(self, key: str, record_id: int) -> None:
        """Note a record we just created (saves the live read for it)."""
        if self._index is not None:
            self._index.setdefault(key, record_id)

    def _add(self, index: dict[str, int], row: Any) -> None:
        key = self.key_of(row)
        if key is not None:
            index.setdefault(key, row.id)
