"""The M3 steps of an AP document (ApTarget's half that talks APS450MI): adding a batch
head, validating, and the recode path (AddHeadRecode/AddLineRecode) that moves each line's
amount to the mapped account and cost center once the invoice is validated.

Each step reads back what M3 holds before it adds anything, so a crash between any two calls
resumes where M3 shows the document, and nothing is added twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal

from connector.errors import RejectedError, clause
from connector.flows.servicetitan_infor.mapping import (
    ApDocument,
    Options,
)
from connector.runtime.flow import (
    LoadContext,
)
from connector.systems.infor import M3Client
from connector.systems.infor.ledger import TRCD_COST
from connector.systems.infor.mi import Row
from connector.systems.infor.models import SUPA_ERROR, InvoiceHead


class ApSteps:
    """The M3 calls behind ApTarget; the target decides which steps a document needs."""

    m3: M3Client
    options: Options
    _known_suppliers: set[str]

    async def _add_head(self, fields: dict[str, str], *, record: str) -> str:
        try:
            return await self.m3.add_head(fields, record=record)
        except RejectedError as exc:
            if exc.field in ("SUNO", "SPYN"):
                # Gone or blocked since this pass checked it: the next document asks again.
                self._known_suppliers.discard(fields["SUNO"])
            raise

    async def _validated(self, inbn: str, record: str, what: str) -> InvoiceHead:
        """GetHead after ValidByBatchNo: some grids answer OK and show a refusal only there."""
        head = await self.m3.get_head(inbn)
        if head is None or not head.validated:
            reason = (head.IBHE if head else "") or "M3 did not validate the batch"
            raise RejectedError(
                f"M3 refused {record} at {what}validation (batch {inbn}): {clause(reason)}. "
                "Fix the cause in M3 or the source, then replay the record.",
                system="infor",
                record=record,
            )
        return head

    # -- recode coding ------------------------------------------------------------------
    async def _recoded(
        self, command: ApDocument, invoice: InvoiceHead, heads: list[InvoiceHead]
    ) -> bool:
        """Whether the posted ``invoice`` needs nothing more: its recode batch is validated,
        or (no recode batch at all) its voucher already has every line on its string."""
        recodes = [h for h in heads if h.recode]
        if any(h.validated for h in recodes):
            return True
        if recodes:
            return False  # staged, maybe part of its lines: ``write`` finishes it
        return not await self._moves(command, invoice)

    async def _moves(self, command: ApDocument, invoice: InvoiceHead) -> list[dict[str, str]]:
        """The AddLineRecode records that move each voucher cost line from the string the
        accounting rules chose to the line's account and cost center: a reversal and a new
        line per line that differs, in line order (they balance to zero)."""
        rows = await self.m3.voucher_lines(invoice.YEA4, invoice.VSER, invoice.VONO)
        costs = [r for r in rows if r.get("TRCD") == TRCD_COST][: len(command.lines)]
        record = f"{command.kind} {command.source_id}"
        if len(costs) != len(command.lines):
            raise RejectedError(
                f"voucher {invoice.VSER}/{invoice.VONO} of {invoice.YEA4} (batch "
                f"{invoice.INBN}) has {len(costs)} cost lines where {record} has "
                f"{len(command.lines)}: it cannot be re-coded line by line. Re-code it in M3 "
                "by hand, then replay the record.",
                system="infor",
                record=record,
            )
        center = f"AIT{self.options.cost_center_ait}"
        moves: list[dict[str, str]] = []
        for line, cost in zip(command.lines, costs, strict=True):
            if (cost.get("AIT1", ""), cost.get(center, "")) == (line.account, line.cost_center):
                continue
            string = {f"AIT{n}": cost.get(f"AIT{n}", "") for n in range(1, 8)}
            amount = Decimal(cost.get("NLAM") or "0")
            text = line.text[:40]
            moves.append({**string, "NLAM": str(-amount), "VTXT": text})
            moves.append(
                {**string, "AIT1": line.account, center: line.cost_center,
                 "NLAM": str(amount), "VTXT": text}
            )  # fmt: skip
        return moves

    async def _recode(
        self,
        command: ApDocument,
        invoice: InvoiceHead,
        heads: list[InvoiceHead],
        record: str,
        ctx: LoadContext,
    ) -> tuple[str | None, bool]:
        """Re-code the posted ``invoice`` (resuming a recode batch M3 already holds): the
        recode batch's number (None when nothing needed moving) and whether this call wrote."""
        recodes = [h for h in heads if h.recode]
        done = next((h for h in recodes if h.validated), None)
        if done is not None:
            return done.INBN, False
        moves = await self._moves(command, invoice)
        if not moves:
            return None, False
        staged = next(iter(recodes), None)
        if staged is not None and staged.SUPA == SUPA_ERROR:
            raise RejectedError(
                f"M3 refused recode batch {staged.INBN} of {record} (batch {invoice.INBN}) at "
                f"validation: {clause(staged.IBHE or 'no reason given')}. Correct or delete the "
                "recode batch in M3, then replay the record.",
                system="infor",
                record=record,
            )
        if staged is None:
            inbn = await self.m3.add_head_recode(
                {
                    "YEA4": invoice.YEA4,
                    "VSER": invoice.VSER,
                    "VONO": invoice.VONO,
                    "ACDT": command.invoice_date,
                },
                record=record,
            )
            ctx.note("recode_added", {"INBN": inbn, "VONO": invoice.VONO})
            present: list[Row] = []
        else:
            inbn = staged.INBN
            present = await self.m3.lines(inbn)
        missing = missing_lines(moves, present)
        if missing:
            await self.m3.add_line_recodes(
                inbn,
                [moves[i] for i in missing],
                records=[f"{record} recode line {i + 1}" for i in missing],
            )
        await self.m3.validate_batch(inbn, record=record)
        await self._validated(inbn, record, "recode ")
        return inbn, True


#: Line fields whose values are amounts: compared as numbers ("12.50" is "12.5").


_AMOUNTS = frozenset({"NLAM", "VTA1", "VTA2", "IVQA", "GRPR"})


def _signature(fields: Mapping[str, str], keys: Iterable[str]) -> tuple[object, ...]:
    return tuple(
        Decimal(fields.get(k) or "0") if k in _AMOUNTS else fields.get(k, "") for k in keys
    )


def missing_lines(wanted: list[dict[str, str]], present: list[Row]) -> list[int]:
    """Indexes of the ``wanted`` lines a batch lacks, compared by content as a multiset.

    Not by count: a bulk AddLine that failed in the middle may have added lines after the
    failed one, so "the first N are there" does not hold after a refusal."""
    keys = sorted({k for fields in wanted for k in fields if k != "VTXT"})
    have = Counter(_signature(row, keys) for row in present)
    result = []
    for index, fields in enumerate(wanted):
        signature = _signature(fields, keys)
        if have[signature]:
            have[signature] -= 1
        else:
            result.append(index)
    return result
