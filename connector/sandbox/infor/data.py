"""The simulated M3 database: companies, one book of records per company, AP batches, vouchers.

Rows are ``dict[str, str]`` keyed by M3 field name, because that is what an M3 record is:
fixed fields, all rendered as strings. Data is strictly per company (CONO); a client that
forgets ``cono`` reads and writes the service account's default company, and
``/_sandbox/state`` shows every record with its ``CONO`` so that mistake is visible.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Literal

Row = dict[str, str]


@dataclass
class Company:
    """One M3 company (MNS095) with its divisions (MNS100)."""

    cono: str
    name: str
    country: str
    currency: str
    divisions: dict[str, str]
    authorized: bool


@dataclass
class PurchaseOrder:
    """A PO head (MPHEAD) and its lines (MPLINE)."""

    head: Row
    lines: list[Row] = field(default_factory=list)


@dataclass
class InvoiceBatch:
    """An APS450 supplier invoice batch: a normal invoice or a recode (GL re-coding) batch.

    ``status`` is the sandbox's plain word for M3's ``SUPA``: ``staged`` (10, entered),
    ``error`` (15, validation refused it; ``IBHE`` says why) or ``validated`` (90, posted).
    """

    inbn: int
    cono: str
    divi: str
    kind: Literal["invoice", "recode"]
    head: Row
    lines: list[Row] = field(default_factory=list)
    status: Literal["staged", "error", "validated"] = "staged"


SUPA_BY_STATUS = {"staged": "10", "error": "15", "validated": "90"}


@dataclass
class Voucher:
    """A posted GL voucher (what GLS200MI would list): one line per accounting string."""

    cono: str
    divi: str
    yea4: str
    vser: str
    vono: str
    inbn: int
    kind: Literal["invoice", "recode"]
    head: Row
    lines: list[Row] = field(default_factory=list)


@dataclass
class Book:
    """Everything one company owns. Master-data duplicates (only when the knob allows them)
    are kept beside the keyed tables so ``state`` can show them."""

    suppliers: dict[str, Row] = field(default_factory=dict)
    items: dict[str, Row] = field(default_factory=dict)
    duplicates: list[Row] = field(default_factory=list)
    purchase_orders: dict[str, PurchaseOrder] = field(default_factory=dict)
    accounting: dict[tuple[str, str], Row] = field(default_factory=dict)
    item_types: dict[str, Row] = field(default_factory=dict)
    #: Supplier accounting template (``REGR``) → default (AIT1 account, AIT2 cost center),
    #: standing in for M3's accounting rules of event AP50.
    accounting_rules: dict[str, tuple[str, str]] = field(default_factory=dict)


class M3Database:
    """All state of the simulated tenant's M3, plus the number series and audit clock."""

    def __init__(self, user: str, default_cono: str, default_divi: str) -> None:
        self.user = user
        self.default_cono = default_cono
        self.default_divi = default_divi
        self.companies: dict[str, Company] = {}
        self.books: dict[str, Book] = {}
        self.batches: dict[int, InvoiceBatch] = {}
        #: (CONO, SPYN, SUNO, SINO) → INBNs of batches (recodes included): what LstInvBySupInv
        #: and the duplicate check at validation look up, without scanning every batch.
        self.batches_by_invoice: dict[tuple[str, str, str, str], list[int]] = {}
        self.vouchers: list[Voucher] = []
        self.next_inbn = 4100001
        self.next_puno = 1000001
        self._voucher_series: dict[tuple[str, str, str, str], int] = {}
        self._last_lmts = 0

    def add_batch(self, batch: InvoiceBatch) -> None:
        # Recode batches are indexed too: their head carries the supplier and invoice number
        # of the voucher they re-code, and FAPIBH lists every batch type by that key.
        self.batches[batch.inbn] = batch
        head = batch.head
        key = (batch.cono, head.get("SPYN", ""), head.get("SUNO", ""), head.get("SINO", ""))
        self.batches_by_invoice.setdefault(key, []).append(batch.inbn)

    def invoice_batches(self, cono: str, spyn: str, suno: str, sino: str) -> list[InvoiceBatch]:
        """Batches (invoice and recode) of one supplier invoice number, in INBN order."""
        return [self.batches[n] for n in self.batches_by_invoice.get((cono, spyn, suno, sino), [])]

    def add_company(self, company: Company) -> None:
        self.companies[company.cono] = company
        self.books[company.cono] = Book()

    def book(self, cono: str) -> Book:
        return self.books[cono]

    def take_inbn(self) -> int:
        inbn = self.next_inbn
        self.next_inbn += 1
        return inbn

    def take_puno(self) -> str:
        puno = str(self.next_puno)
        self.next_puno += 1
        return puno

    def take_vono(self, cono: str, divi: str, yea4: str, vser: str) -> str:
        key = (cono, divi, yea4, vser)
        number = self._voucher_series.get(key, 0) + 1
        self._voucher_series[key] = number
        return str(number)

    def stamp(self, row: Row, *, created: bool) -> None:
        """Maintain the audit fields M3 keeps on every table (LMDT/LMTS/CHNO/CHID, RGDT/RGTM).

        ``LMTS`` is milliseconds since the epoch, forced strictly increasing so that two
        writes in the same millisecond still order deterministically.
        """
        now = dt.datetime.now()
        lmts = max(self._last_lmts + 1, time.time_ns() // 1_000_000)
        self._last_lmts = lmts
        row["LMDT"] = now.strftime("%Y%m%d")
        row["LMTS"] = str(lmts)
        row["CHID"] = self.user
        if created:
            row["CHNO"] = "1"
            row["RGDT"] = now.strftime("%Y%m%d")
            row["RGTM"] = now.strftime("%H%M%S")
        else:
            row["CHNO"] = str(int(row.get("CHNO") or "0") + 1)
