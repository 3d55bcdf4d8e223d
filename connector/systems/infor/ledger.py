"""Posted supplier invoices of M3, read by modification date, with their GL coding.

M3 publishes no "list supplier invoices changed since" transaction, so the heads come from
``EXPORTMI/Select`` on ``FAPIBH`` (the APS450 batch heads), the field-proven way to poll a
table by ``LMDT`` (sheet §3): ``… from FAPIBH where E5CONO = C and E5DIVI = D and E5SUPA = 90
and E5LMDT >= yyyyMMdd and E5INBN > last``. EXPORTMI answers rows in the table's primary
key order (CONO, DIVI, INBN) and caps them like any list, so the scan restarts after the
last INBN read and ends only on a page that brings nothing new. It does not apply the
session company: the query names CONO and DIVI itself. Reconciliation reads the same table
by invoice date and by the prefix of the correlation id we stamp (``CORI``), so a period's
documents of ours cost a page or two, not a look-up each (:func:`stamped_invoices`).

The coding of a posted invoice (account, cost center) is not on its batch lines but on its
voucher: ``GLS200MI/LstVoucherLines`` (DIVI, YEA4, VONO), whose cost lines (``TRCD`` 41)
are the invoice's lines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from connector.errors import SourceDataError
from connector.systems.infor.client import M3Client
from connector.systems.infor.mi import MAX_ROWS_PER_CALL
from connector.systems.infor.models import IBTP_RECODE, convert

#: FAPIBH columns read for each posted invoice, in REPL order (without the E5 prefix).
#: The supplier invoice number, free text that may hold the separator, comes last: whatever
#: follows the other columns' separators is its value.
HEAD_COLUMNS = (
    "DIVI", "INBN", "SUNO", "SPYN", "IVDT", "CUAM", "CUCD", "PUNO",
    "YEA4", "VSER", "VONO", "LMDT", "LMTS", "SINO",
)  # fmt: skip
#: FAPIBH columns read for reconciliation. The CORI before the free-text SINO is one of
#: ours (``st:bill:<id>``, filtered by its prefix), which never holds the separator.
STAMPED_COLUMNS = ("INBN", "IVDT", "CUAM", "SUNO", "CORI", "SINO")
#: The batch status of a posted (validated) batch.
POSTED = "90"
#: GL transaction code of a cost line of a supplier invoice voucher.
TRCD_COST = "41"
SEPARATOR = ";"


class PostedInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """A posted supplier invoice: its FAPIBH head (strings as M3 answers them, trimmed)."""

    DIVI: str
    INBN: str
    SUNO: str
    SPYN: str = ""
    SINO: str = ""
    IVDT: str = ""
    CUAM: str = ""
    CUCD: str = ""
    PUNO: str = ""
    YEA4: str = ""
    VSER: str = ""
    VONO: str = ""
    LMDT: str = ""
    LMTS: str = ""


class StampedInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """A posted invoice batch of ours: its number, date, amount and correlation id."""

    INBN: str
    IVDT: str
    CUAM: str
    SUNO: str
    CORI: str
    SINO: str


class VoucherLine(msgspec.Struct, frozen=True, kw_only=True):
    """One GLS200MI/LstVoucherLines row: an amount on an accounting string."""

    JSNO: str = ""
    TRCD: str = ""
    AIT1: str = ""
    AIT2: str = ""
    AIT3: str = ""
    AIT4: str = ""
    AIT5: str = ""
    AIT6: str = ""
    AIT7: str = ""
    NLAM: str = ""
    VTXT: str = ""

    def dimension(self, number: int) -> str:
        """The value of accounting dimension AIT``number`` (1..7)."""
        value: str = getattr(self, f"AIT{number}")
        return value


class PostedInvoiceWithLines(msgspec.Struct, frozen=True, kw_only=True):
    """What the flows read: the head and the cost lines of its voucher, in JSNO order."""

    head: PostedInvoice
    lines: tuple[VoucherLine, ...] = ()


async def posted_invoices(
    m3: M3Client, changed_since: str | None = None
) -> AsyncIterator[PostedInvoice]:
    """Posted invoices of the client's company and division changed on or after
    ``changed_since`` (yyyyMMdd; None = all), in INBN order. See the module docstring."""
    where = [f"E5LMDT >= {changed_since}"] if changed_since else []
    async for values in _posted_heads(m3, HEAD_COLUMNS, where):
        yield PostedInvoice(**values)


async def stamped_invoices(
    m3: M3Client, cori_prefix: str, first_day: str, last_day: str
) -> AsyncIterator[StampedInvoice]:
    """Posted invoice batches whose correlation id (CORI) starts with ``cori_prefix`` and
    whose invoice date (IVDT) is ``first_day``..``last_day`` (yyyyMMdd, inclusive), in INBN
    order: one paged read of a period's documents of ours, for reconciliation.

    The prefix is a half-open text range (``E5CORI >= 'st:bill:' and E5CORI < 'st:bill;'``),
    plain SQL comparison that every EXPORTMI grid runs; rows are checked against the prefix
    again here, in case a database collation orders the range otherwise. Recode batches are
    left out: they move amounts of a voucher already counted, whatever CORI M3 gives them."""
    upper = cori_prefix[:-1] + chr(ord(cori_prefix[-1]) + 1)
    where = [
        f"E5IVDT >= {first_day}",
        f"E5IVDT <= {last_day}",
        f"E5CORI >= '{cori_prefix}'",
        f"E5CORI < '{upper}'",
        f"E5IBTP <> '{IBTP_RECODE}'",
    ]
    async for values in _posted_heads(m3, STAMPED_COLUMNS, where):
        if values["CORI"].startswith(cori_prefix):
            yield StampedInvoice(**values)


async def _posted_heads(
    m3: M3Client, columns: tuple[str, ...], conditions: list[str]
) -> AsyncIterator[dict[str, str]]:
    """FAPIBH rows of posted batches of the client's company and division meeting
    ``conditions``, as column → value, read in INBN order by restarting after the last INBN
    (``columns`` must hold INBN)."""
    where = [f"E5CONO = {m3.company}", f"E5DIVI = '{m3.division}'", f"E5SUPA = {POSTED}"]
    where += conditions
    selected = ", ".join(f"E5{c}" for c in columns)
    after = ""
    while True:
        restart = [f"E5INBN > {after}"] if after else []
        query = f"{selected} from FAPIBH where {' and '.join(where + restart)}"
        rows = await m3.mi.call(
            "EXPORTMI",
            "Select",
            {"QERY": query, "SEPC": SEPARATOR},
            write=False,
            maxrecs=min(m3.reader.page_size, MAX_ROWS_PER_CALL),
            record=f"EXPORTMI FAPIBH after INBN {after or 'the start'}",
        )
        fresh = 0
        for row in rows:
            values = _columns(row.get("REPL", ""), columns)
            if after and int(values["INBN"] or "0") <= int(after):
                continue  # a grid that ignores the restart condition must not loop
            fresh += 1
            after = values["INBN"]
            yield values
        if fresh == 0:
            return


async def voucher_lines(m3: M3Client, head: PostedInvoice) -> tuple[VoucherLine, ...]:
    """The cost lines (TRCD 41) of the voucher ``head`` was posted as, in JSNO order."""
    rows = await m3.mi.call(
        "GLS200MI",
        "LstVoucherLines",
        {"DIVI": head.DIVI, "YEA4": head.YEA4, "VSER": head.VSER, "VONO": head.VONO},
        write=False,
        maxrecs=MAX_ROWS_PER_CALL,
        record=f"voucher {head.VSER}/{head.VONO} of {head.YEA4} (invoice {head.SINO})",
    )
    lines = [convert(row, VoucherLine) for row in rows]
    return tuple(line for line in lines if line.TRCD == TRCD_COST)


async def with_lines(m3: M3Client, head: PostedInvoice) -> PostedInvoiceWithLines:
    return PostedInvoiceWithLines(head=head, lines=await voucher_lines(m3, head))


async def find_posted_invoice(m3: M3Client, suno: str, sino: str) -> PostedInvoice | None:
    """The posted batch of supplier ``suno``'s invoice ``sino`` (for on-demand re-reads),
    read whole with APS450MI/GetHead so it equals what the polling read gave."""
    posted = [b for b in await m3.find_invoice(suno, sino) if b.validated]
    if not posted:
        return None
    rows = await m3.mi.call(
        "APS450MI",
        "GetHead",
        {"DIVI": m3.division, "INBN": posted[-1].INBN},
        write=False,
        record=f"invoice {sino} of supplier {suno}",
    )
    return convert(rows[0], PostedInvoice) if rows else None


def _columns(repl: str, columns: tuple[str, ...]) -> dict[str, str]:
    """One REPL string as column → value; the last column (free text that may hold the
    separator) takes whatever follows the others' separators."""
    values = repl.split(SEPARATOR)
    count = len(columns)
    if len(values) < count:
        raise SourceDataError(
            f"EXPORTMI answered a FAPIBH row with {len(values)} values for {count} columns "
            f"({repl[:80]!r}); check that the grid runs EXPORTMI with SEPC",
            record="posted invoice",
        )
    values = values[: count - 1] + [SEPARATOR.join(values[count - 1 :])]
    return dict(zip(columns, (v.strip() for v in values), strict=True))
