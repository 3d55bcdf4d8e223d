"""Reading whole lists from CloudSuite, behind one interface per product line's paging style.

Flows ask for "every row of this list from here on" (:class:`ListReader`); how that is done
differs by product line (sheet §2–§3):

* M3 MI (:class:`KeyRestartReader`): no offset, no cursor, no total. Call again from the last
  row's key; the restart repeats that row, which is dropped. A short page is *not* trusted as
  the end, because a grid may cap rows below the ``maxrecs`` asked for: the reader stops only
  when a restart brings nothing new.
* SyteLine IDOs page with a ``bookmark`` and ``loadType=NEXT``; LN OData follows
  ``@odata.nextLink``; FSM lists take ``_limit`` and a next link. Each is another
  ``ListReader`` implementation in this package; the flows do not change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from connector.systems.infor.mi import MAX_ROWS_PER_CALL, MIClient, Row


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One list: the program/transaction (or IDO, entity set…), its key and fixed inputs."""

    program: str
    transaction: str
    key_fields: tuple[str, ...]
    inputs: Mapping[str, str] | None = None
    returncols: Sequence[str] | None = None


class ListReader(Protocol):
    def rows(self, query: ListQuery, start: Mapping[str, str] | None = None) -> AsyncIterator[Row]:
        """Every row from ``start`` (key values) on, each once, in the list's key order."""
        ...


class KeyRestartReader:
    """M3's key-restart paging (see the module docstring)."""

    def __init__(self, mi: MIClient, page_size: int = 500) -> None:
        self.mi = mi
        self.page_size = max(2, min(page_size, MAX_ROWS_PER_CALL))
        #: Calls made, for tests and the benchmark.
        self.calls = 0

    async def rows(
        self, query: ListQuery, start: Mapping[str, str] | None = None
    ) -> AsyncIterator[Row]:
        position = dict(start or {})
        last_key: tuple[str, ...] | None = None
        # Keys of the previous page: M3's collation need not be Python's string order, so a
        # repeat is recognised by identity, never by comparing keys.
        previous: set[tuple[str, ...]] = set()
        while True:
            self.calls += 1
            rows = await self.mi.call(
                query.program,
                query.transaction,
                {**(query.inputs or {}), **position},
                write=False,
                maxrecs=self.page_size,
                returncols=query.returncols,
                record=f"{query.program}/{query.transaction} from {_where(position)}",
            )
            fresh = 0
            page_keys: set[tuple[str, ...]] = set()
            for row in rows:
                key = tuple(row.get(f, "") for f in query.key_fields)
                page_keys.add(key)
                if key in previous:
                    continue  # the restart repeats the row we ended on
                last_key = key
                fresh += 1
                yield row
            previous = page_keys
            if fresh == 0 or last_key is None:
                return
            position = dict(zip(query.key_fields, last_key, strict=True))


def _where(position: Mapping[str, str]) -> str:
    """A restart position as people read it in an error: ``SUNO=SUP00042`` or ``the start``."""
    return ", ".join(f"{name}={value}" for name, value in position.items()) or "the start"
