"""M3 purchase orders through PPS200MI: look-ups by order number (the natural key), the
changed-since scan, lines, and the adds the purchase order streams make."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from connector.errors import RejectedError
from connector.systems.infor.base import M3Calls
from connector.systems.infor.mi import MAX_ROWS_PER_CALL
from connector.systems.infor.models import (
    PurchaseOrder,
    PurchaseOrderHead,
    PurchaseOrderLine,
    convert,
)


class PurchaseOrders(M3Calls):
    """PPS200MI: purchase order heads and lines."""

    # -- purchase orders ----------------------------------------------------------------
    async def get_purchase_order(self, puno: str) -> PurchaseOrderHead | None:
        rows = await self._get(
            "PPS200MI", "GetHead", {"PUNO": puno}, "PUNO", f"purchase order {puno}"
        )
        return convert(rows[0], PurchaseOrderHead) if rows else None

    async def purchase_order(self, puno: str) -> PurchaseOrder | None:
        """Head and lines of purchase order ``puno``, or None when it does not exist."""
        head = await self.get_purchase_order(puno)
        if head is None:
            return None
        return PurchaseOrder(head=head, lines=tuple(await self.purchase_order_lines(puno)))

    async def purchase_order_heads(
        self, changed_since: str | None = None
    ) -> AsyncIterator[PurchaseOrderHead]:
        """Every purchase order head, or those changed on or after ``changed_since`` (yyyyMMdd).

        The published PPS200MI has no ``LstHead``, so this is a key-restart scan over
        ``SearchHead``: each page asks for ``PUNO:[last TO *]`` (ANDed with ``LMDT:[date TO *]``
        for changed orders), the row it restarts on comes again and is dropped, and the scan
        ends when a page brings nothing new — never on a short page, as with the Lst readers.
        """
        changed = f" LMDT:[{changed_since} TO *]" if changed_since else ""
        position = "PUNO:*"  # the first page: every order number
        previous: set[str] = set()
        while True:
            rows = await self.mi.call(
                "PPS200MI",
                "SearchHead",
                {"SQRY": position + changed},
                write=False,
                maxrecs=self.reader.page_size,
                record=f"PPS200MI/SearchHead {position}{changed}",
            )
            fresh = [row for row in rows if row.get("PUNO", "") not in previous]
            for row in fresh:
                yield convert(row, PurchaseOrderHead)
            if not fresh:
                return
            previous = {row.get("PUNO", "") for row in rows}
            position = f"PUNO:[{fresh[-1]['PUNO']} TO *]"

    async def purchase_order_lines(self, puno: str) -> list[PurchaseOrderLine]:
        # LstLine takes no start key to restart from: ask for as many rows as a grid gives.
        rows = await self.mi.call(
            "PPS200MI",
            "LstLine",
            {"PUNO": puno},
            write=False,
            record=f"purchase order {puno}",
            maxrecs=MAX_ROWS_PER_CALL,
        )
        return [convert(r, PurchaseOrderLine) for r in rows]

    async def add_purchase_order(self, head: Mapping[str, str], *, record: str) -> str:
        """PPS200MI/AddHead; returns the order number M3 answers (else the one sent).

        AddHead is **not** in the published PPS200MI metadata (sheet §9): some grids offer it,
        others answer "no such transaction", which stops the flow as a configuration error.
        """
        rows = await self.mi.call("PPS200MI", "AddHead", head, write=True, record=record)
        puno = rows[0].get("PUNO", "") if rows else head.get("PUNO", "")
        if not puno:
            raise RejectedError(
                f"M3 PPS200MI/AddHead gave no order number for {record}",
                system="infor",
                record=record,
            )
        return puno

    async def add_purchase_order_line(
        self, puno: str, fields: Mapping[str, str], *, record: str
    ) -> None:
        """PPS200MI/AddLine (PUNO, ITNO, ORQA mandatory). Send ``PNLI`` so that a repeat
        is refused as an existing line instead of becoming a second one."""
        await self.mi.call(
            "PPS200MI", "AddLine", {"PUNO": puno, **fields}, write=True, record=record
        )
