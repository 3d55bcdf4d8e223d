"""SyteLine's paging style behind :class:`~connector.systems.infor.paging.ListReader`.

A load answers ``Bookmark`` and ``MoreRowsExist``; the next page is the same load with
``loadType=NEXT`` and that bookmark. Mongoose positions the next page by the *values* of
the ordering properties on the last row (the bookmark carries them), not by an offset, so a
row inserted or changed meanwhile is neither skipped nor read twice. The reader therefore
orders by the IDO's key (a total order) and stops when ``MoreRowsExist`` is false — unlike
M3, a short page here *is* the end, because Mongoose says so explicitly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from connector.systems.infor.mi import Row
from connector.systems.infor.paging import ListQuery
from connector.systems.infor.syteline.ido import PAGE_SIZE, IdoClient, Item, quote


class BookmarkReader:
    """Whole IDO lists, page by page (see the module docstring)."""

    def __init__(self, ido: IdoClient, page_size: int = PAGE_SIZE) -> None:
        self.ido = ido
        self.page_size = max(1, page_size)
        #: Loads made, for tests and the benchmark.
        self.calls = 0

    async def items(
        self,
        ido: str,
        properties: Sequence[str],
        keys: Sequence[str],
        filter: str | None = None,
    ) -> AsyncIterator[Item]:
        """Every row of ``ido`` matching ``filter``, in ``keys`` order, each once."""
        bookmark: str | None = None
        while True:
            self.calls += 1
            page = await self.ido.load(
                ido,
                [*properties, *(k for k in keys if k not in properties)],
                filter=filter,
                order_by=",".join(keys),
                record_cap=self.page_size,
                bookmark=bookmark,
                record=f"{ido} page {self.calls}" + (f" where {filter}" if filter else ""),
            )
            for item in page.Items or ():
                yield item
            if not page.MoreRowsExist or not page.Items or page.Bookmark is None:
                return
            bookmark = page.Bookmark

    async def rows(
        self, query: ListQuery, start: Mapping[str, str] | None = None
    ) -> AsyncIterator[Row]:
        """The ListReader view: ``query.program`` is the IDO, ``key_fields`` its ordering,
        ``inputs["filter"]`` an optional filter, ``returncols`` the properties; ``start``
        begins at a key (the first key field) instead of the beginning. Nulls read as ""."""
        conditions = (
            [f"({query.inputs['filter']})"] if query.inputs and "filter" in query.inputs else []
        )
        for name, value in (start or {}).items():
            conditions.append(f"{name} >= {quote(value)}")
        async for item in self.items(
            query.program,
            query.returncols or query.key_fields,
            query.key_fields,
            " AND ".join(conditions) or None,
        ):
            yield {name: value or "" for name, value in item.items()}
