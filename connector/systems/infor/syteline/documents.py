"""SyteLine documents for the flow: A/P vouchers (``SLAptrxs`` + ``SLAptrxds``) and purchase
orders (``SLPos`` + ``SLPoItems``).

A voucher is a header and its distributions, written in two requests: the header (the
server numbers the voucher; ``refresh=true`` reads the number back), then every missing
distribution in one request, which Mongoose commits whole or not at all (and whose refresh
answer shows they were all saved; see ``SyteLineCalls._insert_many``). Distribution
``DistSeq`` is 5, 10, 15… by line position, so a resumed write knows which lines exist. The
natural key is the vendor + vendor invoice number (``VendNum`` + ``InvNum``): SyteLine does
not refuse a second voucher with the same invoice number by default, so the look-up before
writing is the only guard, and a header found without all its distributions is finished,
never inserted again. Purchase orders work the same way with ``PoNum`` and ``PoLine``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from connector.errors import RejectedError
from connector.systems.infor.auth import SYSTEM
from connector.systems.infor.lines import (
    FoundInvoice,
    FoundOrder,
    LineInvoice,
    LineOrder,
)
from connector.systems.infor.syteline.base import SyteLineCalls
from connector.systems.infor.syteline.ido import INSERT, Item, change, quote, saved
from connector.systems.infor.syteline.values import (
    PO_NUM,
    VEND_NUM,
    amount,
    decimal,
    expand,
    iso_date,
    text,
    wire_date,
)

VOUCHER_PROPS = ("VendNum", "Voucher", "InvNum", "InvAmt", "InvDate", "Ref")
DIST_STEP = 5


def dist_seq(position: int) -> int:
    """DistSeq of the line at ``position`` (0-based): 5, 10, 15…, SyteLine's own spacing."""
    return (position + 1) * DIST_STEP


class Documents(SyteLineCalls):
    # -- A/P vouchers -------------------------------------------------------------------
    async def find_invoice(self, supplier: str, invoice_number: str) -> FoundInvoice | None:
        record = f"invoice {invoice_number} of supplier {supplier}"
        key = expand(supplier, VEND_NUM, "supplier")
        header = await self._one(
            "SLAptrxs",
            VOUCHER_PROPS,
            f"VendNum = {quote(key)} AND InvNum = {quote(invoice_number)}",
            record,
        )
        if header is None:
            return None
        present = await self._distributions(key, text(header.get("Voucher")), record)
        return self._found(header, len(present))

    def _found(self, header: Item, line_count: int) -> FoundInvoice:
        return FoundInvoice(
            document=text(header.get("Voucher")),
            supplier=text(header.get("VendNum")),
            invoice_number=text(header.get("InvNum")),
            amount=decimal(header.get("InvAmt"), "InvAmt"),
            line_count=line_count,
            invoice_date=iso_date(header.get("InvDate")),
            version=header.get("_ItemId") or "",
            reference=text(header.get("Ref")),
        )

    async def _distributions(self, key: str, voucher: str, record: str) -> set[int]:
        page = await self.ido.load(
            "SLAptrxds",
            ("DistSeq",),
            filter=f"VendNum = {quote(key)} AND Voucher = {int(voucher)}",
            record_cap=0,
            record=record,
        )
        return {int(item.get("DistSeq") or 0) for item in page.Items or ()}

    async def write_invoice(
        self, invoice: LineInvoice, existing: FoundInvoice | None
    ) -> FoundInvoice:
        record = f"invoice {invoice.invoice_number} of supplier {invoice.supplier}"
        key = expand(invoice.supplier, VEND_NUM, "supplier")
        if existing is None:
            header = await self._insert_voucher(invoice, key, record)
            present: set[int] = set()
        else:
            header = {
                "VendNum": key,
                "Voucher": existing.document,
                "InvNum": existing.invoice_number,
                "InvAmt": str(existing.amount),
                "InvDate": None,
                "_ItemId": existing.version,
            }
            present = await self._distributions(key, existing.document, record)
        voucher = text(header.get("Voucher"))
        missing = [
            change(
                INSERT,
                {
                    "VendNum": key,
                    "Voucher": voucher,
                    "DistSeq": str(dist_seq(position)),
                    "Acct": line.account,
                    "AcctUnit1": line.cost_center or None,
                    "Amount": amount(line.amount),
                },
            )
            for position, line in enumerate(invoice.lines)
            if dist_seq(position) not in present
        ]
        await self._insert_many(
            "SLAptrxds",
            missing,
            "DistSeq",
            lambda: self._distributions(key, voucher, record),
            f"{record}, voucher {voucher}",
        )
        found = self._found(header, len(present) + len(missing))
        return FoundInvoice(
            document=found.document,
            supplier=invoice.supplier,
            invoice_number=invoice.invoice_number,
            amount=invoice.amount if existing is None else found.amount,
            line_count=found.line_count,
            invoice_date=invoice.invoice_date,
            version=found.version,
        )

    async def _insert_voucher(self, invoice: LineInvoice, key: str, record: str) -> Item:
        values: dict[str, str | None] = {
            "VendNum": key,
            "Type": "V",
            "InvNum": invoice.invoice_number,
            "InvDate": wire_date(invoice.invoice_date),
            "DueDate": wire_date(invoice.due_date),
            "DistDate": wire_date(invoice.invoice_date),
            "InvAmt": amount(invoice.amount),
            "PurchAmt": amount(invoice.amount),
            "Ref": invoice.reference[:30],
        }
        if invoice.purchase_order:
            values["PoNum"] = expand(invoice.purchase_order, PO_NUM, "purchase order")
        answer = await self.ido.update(
            "SLAptrxs", [change(INSERT, values)], refresh=True, record=record
        )
        header = saved(answer[0]) if answer else {}
        if not text(header.get("Voucher")):
            raise RejectedError(
                "SyteLine saved the voucher header without answering its number; the "
                "invoice is settled by the next look-up, so replay it",
                system=SYSTEM,
                record=record,
                code="unexpected_response",
            )
        header["_ItemId"] = answer[0].ItemId
        return header

    async def invoices(self, date_from: str, date_to: str) -> AsyncIterator[FoundInvoice]:
        where = (
            f"InvDate >= {quote(wire_date(date_from))} AND InvDate <= {quote(wire_date(date_to))}"
        )
        page: list[Item] = []
        async for header in self.reader.items("SLAptrxs", VOUCHER_PROPS, ("Voucher",), where):
            page.append(header)
            if len(page) >= self.reader.page_size:
                for found in await self._with_counts(page):
                    yield found
                page = []
        for found in await self._with_counts(page):
            yield found

    async def _with_counts(self, headers: Sequence[Item]) -> list[FoundInvoice]:
        """Distribution counts for a page of vouchers in one load (voucher numbers are
        unique in a site)."""
        if not headers:
            return []
        vouchers = ", ".join(str(int(text(h.get("Voucher")))) for h in headers)
        counts: dict[str, int] = {}
        async for item in self.reader.items(
            "SLAptrxds", ("Voucher",), ("Voucher", "DistSeq"), f"Voucher IN ({vouchers})"
        ):
            voucher = text(item.get("Voucher"))
            counts[voucher] = counts.get(voucher, 0) + 1
        return [self._found(h, counts.get(text(h.get("Voucher")), 0)) for h in headers]

    # -- purchase orders ----------------------------------------------------------------
    async def find_order(self, number: str) -> FoundOrder | None:
        record = f"purchase order {number}"
        key = expand(number, PO_NUM, "purchase order")
        head = await self._one("SLPos", ("PoNum", "VendNum"), f"PoNum = {quote(key)}", record)
        if head is None:
            return None
        lines = await self._order_lines(key, record)
        return FoundOrder(
            number=number, lines=tuple(sorted(lines)), version=head.get("_ItemId") or ""
        )

    async def _order_lines(self, key: str, record: str) -> set[int]:
        page = await self.ido.load(
            "SLPoItems", ("PoLine",), filter=f"PoNum = {quote(key)}", record_cap=0, record=record
        )
        return {int(item.get("PoLine") or 0) for item in page.Items or ()}

    async def write_order(self, order: LineOrder, existing: FoundOrder | None) -> FoundOrder:
        record = f"purchase order {order.number}"
        key = expand(order.number, PO_NUM, "purchase order")
        version = existing.version if existing is not None else ""
        if existing is None:
            head: dict[str, str | None] = {
                "PoNum": key,
                "VendNum": expand(order.supplier, VEND_NUM, "supplier"),
                "Stat": "O",
            }
            if order.order_date:
                head["OrderDate"] = wire_date(order.order_date)
            answer = await self.ido.update(
                "SLPos", [change(INSERT, head)], refresh=True, record=record
            )
            version = answer[0].ItemId if answer else ""
        present = set(existing.lines) if existing is not None else set()
        missing = [
            change(
                INSERT,
                {
                    "PoNum": key,
                    "PoLine": str(line.number),
                    "PoRelease": "0",
                    "Item": line.item,
                    "Description": line.description[:40] or None,
                    "QtyOrdered": amount(line.quantity),
                    "ItemCost": amount(line.price),
                    "Stat": "O",
                },
            )
            for line in order.lines
            if line.number not in present
        ]
        await self._insert_many(
            "SLPoItems", missing, "PoLine", lambda: self._order_lines(key, record), record
        )
        numbers = present | {line.number for line in order.lines}
        return FoundOrder(number=order.number, lines=tuple(sorted(numbers)), version=version)
