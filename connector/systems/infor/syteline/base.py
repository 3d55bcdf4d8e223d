"""What the SyteLine client's parts share: the IDO client, the reader and three helpers —
a look-up of at most one row, an ``_ItemId``-locked update that tells a stale read
(ConflictError: re-read, re-apply) from any other refusal, and an insert of many child rows
in one request that notices when the server saved fewer than it was sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from connector.errors import ConflictError, RejectedError
from connector.systems.infor.auth import SYSTEM
from connector.systems.infor.syteline.ido import UPDATE, IdoClient, Item, change
from connector.systems.infor.syteline.paging import BookmarkReader


class SyteLineCalls:
    """The IDO client and bookmark reader of one SyteLine site."""

    def __init__(self, ido: IdoClient, site: str, page_size: int) -> None:
        self.ido = ido
        self.site = site
        self.reader = BookmarkReader(ido, page_size)

    @property
    def requests(self) -> int:
        """Requests made so far (the IDO client's count)."""
        return self.ido.requests

    @requests.setter
    def requests(self, value: int) -> None:
        self.ido.requests = value

    async def _one(
        self, ido: str, properties: Sequence[str], filter: str, record: str
    ) -> Item | None:
        """The row ``filter`` names (by a natural key), or None; a live read, never cached."""
        page = await self.ido.load(ido, properties, filter=filter, record_cap=2, record=record)
        items = page.Items or []
        if len(items) > 1:
            raise RejectedError(
                f"SyteLine holds more than one {ido} row where {filter}: the key is not unique "
                "there; merge or remove the extra row in SyteLine, then replay",
                system=SYSTEM,
                record=record,
                code="ambiguous",
            )
        return items[0] if items else None

    async def _update_locked(
        self,
        ido: str,
        item_id: str,
        values: Mapping[str, str | None],
        record: str,
        current: Callable[[], Awaitable[Item | None]],
    ) -> None:
        """Change the row read with ``item_id``. A refusal after which the row's ``_ItemId``
        is no longer ``item_id`` means someone changed it meanwhile: ConflictError, so the
        loader re-reads and re-applies instead of dead-lettering a valid record."""
        try:
            await self.ido.update(
                ido, [change(UPDATE, values, item_id)], refresh=False, record=record
            )
        except RejectedError:
            now = await current()
            if now is None or now.get("_ItemId") != item_id:
                raise ConflictError(
                    f"{record} changed in SyteLine after it was read (optimistic locking); "
                    "it is read again and the change re-applied",
                    system=SYSTEM,
                    record=record,
                ) from None
            raise

    async def _insert_many(
        self,
        ido: str,
        changes: Sequence[Mapping[str, Any]],
        key: str,
        present: Callable[[], Awaitable[set[int]]],
        record: str,
    ) -> None:
        """Insert ``changes`` (rows numbered by the integer property ``key``) in one request.

        Mongoose commits a request's changes together, but some versions are reported to
        save only the first and still answer Success. The refresh answer shows how many were
        saved; when it is fewer, the rows still missing (read again, live) go one per
        request, so a voucher is never left short with its record marked done.
        """
        if not changes:
            return
        saved = await self.ido.update(ido, changes, refresh=True, record=record)
        if len(saved) >= len(changes):
            return
        have = await present()
        for one in changes:
            number = next(int(p["Value"]) for p in one["Properties"] if p["Name"] == key)
            if number not in have:
                await self.ido.update(ido, [one], refresh=True, record=record)
