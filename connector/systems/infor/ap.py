"""M3 supplier-invoice batches through APS450MI: the look-up by supplier + supplier invoice
number (the natural key), heads, lines (one by one or in bulk), validation and the recode
batches. Part of :class:`~connector.systems.infor.client.M3Client`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connector.errors import RejectedError
from connector.systems.infor.base import M3Calls
from connector.systems.infor.mi import MAX_ROWS_PER_CALL, Row
from connector.systems.infor.models import (
    InvoiceHead,
    invoice_head,
)
from connector.systems.infor.paging import ListQuery

#: Transactions per bulk request: a batch of 100 lines is one request, and a reply stays
#: far below any gateway's body limit.
BULK_SIZE = 200


class InvoiceBatches(M3Calls):
    """APS450MI: AP batches of one M3 company/division."""

    # -- AP invoice batches -------------------------------------------------------------
    async def find_invoice(
        self, suno: str, sino: str, spyn: str | None = None
    ) -> list[InvoiceHead]:
        """Batches already holding supplier ``suno``'s invoice ``sino`` (the pre-check)."""
        inputs = {"SUNO": suno, "SINO": sino, "SPYN": spyn or suno}
        rows = await self.mi.call(
            "APS450MI",
            "LstInvBySupInv",
            inputs,
            write=False,
            record=f"invoice {sino} of {suno}",
            # Without maxrecs M3 stops at 100 rows; one invoice never has that many batches,
            # but a silent cut would hide the batch the caller is looking for.
            maxrecs=MAX_ROWS_PER_CALL,
        )
        return [invoice_head(r) for r in rows if r.get("SINO", sino) == sino]

    async def add_head(self, fields: Mapping[str, str], *, record: str) -> str:
        """APS450MI/AddHead: opens a **new** batch on every call; returns its INBN."""
        rows = await self.mi.call(
            "APS450MI", "AddHead", {"DIVI": self.division, **fields}, write=True, record=record
        )
        inbn = rows[0].get("INBN", "") if rows else ""
        if not inbn:
            raise RejectedError(
                f"M3 APS450MI/AddHead gave no batch number for {record}",
                system="infor",
                record=record,
            )
        return inbn

    async def add_line(self, inbn: str, fields: Mapping[str, str], *, record: str) -> None:
        await self.mi.call(
            "APS450MI",
            "AddLine",
            {"DIVI": self.division, "INBN": inbn, **fields},
            write=True,
            record=record,
        )

    async def add_lines(
        self, inbn: str, lines: Sequence[Mapping[str, str]], *, records: Sequence[str]
    ) -> None:
        """APS450MI/AddLine for many lines, through the bulk endpoint: ``BULK_SIZE`` a call,
        or with the coalescer as its transactions (which other documents' may join).

        A failed line raises naming ``records[i]``; lines around it may have been added:
        resume from what ``lines`` reports, never from a count of what was sent.
        """
        await self._add_many("AddLine", inbn, lines, records)

    async def _add_many(
        self,
        transaction: str,
        inbn: str,
        lines: Sequence[Mapping[str, str]],
        records: Sequence[str],
    ) -> None:
        inputs = [{"DIVI": self.division, "INBN": inbn, **fields} for fields in lines]
        if self.mi.coalescer is not None:
            # Through the coalescer, another document's lines or head may share the request.
            answers = await self.mi.coalescer.call_many(
                "APS450MI",
                [(transaction, one, r) for one, r in zip(inputs, records, strict=True)],
                write=True,
            )
            for answer in answers:
                if isinstance(answer, Exception):
                    raise answer
            return
        for start in range(0, len(inputs), BULK_SIZE):
            await self.mi.bulk(
                "APS450MI",
                [(transaction, one) for one in inputs[start : start + BULK_SIZE]],
                write=True,
                records=records[start : start + BULK_SIZE],
            )

    async def add_line_recodes(
        self, inbn: str, lines: Sequence[Mapping[str, str]], *, records: Sequence[str]
    ) -> None:
        """APS450MI/AddLineRecode for many lines, through the bulk endpoint (as ``add_lines``)."""
        await self._add_many("AddLineRecode", inbn, lines, records)

    async def voucher_lines(self, yea4: str, vser: str, vono: str) -> list[Row]:
        """GLS200MI/LstVoucherLines: the GL lines of a voucher, in JSNO order."""
        return await self.mi.call(
            "GLS200MI",
            "LstVoucherLines",
            {"DIVI": self.division, "YEA4": yea4, "VSER": vser, "VONO": vono},
            write=False,
            maxrecs=MAX_ROWS_PER_CALL,
            record=f"voucher {vser}/{vono} of {yea4}",
        )

    async def lines(self, inbn: str) -> list[Row]:
        """Every line staged on batch ``inbn``, in line-number (TRNO) order.

        Read by key restart on TRNO: one call stops at M3's 100-row default, and a caller
        counting lines to resume a batch would add the rest again.
        """
        query = ListQuery(
            "APS450MI", "LstLines", ("TRNO",), inputs={"DIVI": self.division, "INBN": inbn}
        )
        return [row async for row in self.reader.rows(query)]

    async def validate_batch(self, inbn: str, *, record: str) -> None:
        """APS455MI/ValidByBatchNo: the irreversible step (duplicates are refused here)."""
        await self.mi.call(
            "APS455MI",
            "ValidByBatchNo",
            {"DIVI": self.division, "INBN": inbn},
            write=True,
            record=record,
        )

    async def get_head(self, inbn: str) -> InvoiceHead | None:
        rows = await self._get(
            "APS450MI", "GetHead", {"DIVI": self.division, "INBN": inbn}, "INBN", f"batch {inbn}"
        )
        return invoice_head(rows[0]) if rows else None

    async def add_head_recode(self, fields: Mapping[str, str], *, record: str) -> str:
        rows = await self.mi.call(
            "APS450MI",
            "AddHeadRecode",
            {"DIVI": self.division, **fields},
            write=True,
            record=record,
        )
        inbn = rows[0].get("INBN", "") if rows else ""
        if not inbn:
            raise RejectedError(
                f"M3 APS450MI/AddHeadRecode gave no batch number for {record}",
                system="infor",
                record=record,
            )
        return inbn

    async def add_line_recode(self, inbn: str, fields: Mapping[str, str], *, record: str) -> None:
        await self.mi.call(
            "APS450MI",
            "AddLineRecode",
            {"DIVI": self.division, "INBN": inbn, **fields},
            write=True,
            record=record,
        )
