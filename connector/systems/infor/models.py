"""Typed M3 records, converted from MI output rows (all strings, trimmed).

Field names are M3's own four-letter names, as MI returns them; a field a transaction did not
return is ``""``. Conversion ignores fields not declared here, so ``returncols`` differences
between M3 versions never break a read.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from connector.systems.infor.mi import Row

R = TypeVar("R", bound=msgspec.Struct)


class _Record(msgspec.Struct, frozen=True, kw_only=True):
    pass


class Company(_Record, frozen=True, kw_only=True):
    CONO: str
    TX40: str = ""


class Supplier(_Record, frozen=True, kw_only=True):
    """CRS620MI output."""

    SUNO: str
    SUNM: str = ""
    SUTY: str = ""
    STAT: str = ""
    CSCD: str = ""
    CUCD: str = ""
    TEPY: str = ""
    PYME: str = ""
    LNCD: str = ""
    SUCL: str = ""
    REGR: str = ""
    VRNO: str = ""
    LMDT: str = ""
    CHNO: str = ""


class Item(_Record, frozen=True, kw_only=True):
    """MMS200MI output."""

    ITNO: str
    ITDS: str = ""
    FUDS: str = ""
    ITTY: str = ""
    UNMS: str = ""
    STAT: str = ""
    SUNO: str = ""
    LMDT: str = ""
    LMTS: str = ""
    CHNO: str = ""


#: APS450MI batch status of a posted (validated) batch.
SUPA_VALIDATED = "90"
#: APS450MI batch status of a batch validation refused (``IBHE`` says why).
SUPA_ERROR = "15"
#: APS450MI batch type (``IBTP``) of a recode batch (AddHeadRecode): listed by supplier
#: invoice number beside the invoice batch it re-codes.
IBTP_RECODE = "RC"
#: Numeric outputs that identify the voucher; M3 sends ``0`` for "none yet".
_VOUCHER_FIELDS = ("VONO", "YEA4")


class InvoiceHead(_Record, frozen=True, kw_only=True):
    """APS450MI LstInvBySupInv / GetHead output: one supplier-invoice batch.

    Built with :func:`invoice_head`, so ``VONO`` and ``YEA4`` are ``""`` until the batch is
    posted (M3 answers numeric ``0`` there), and ``bool(head.VONO)`` means "posted".
    """

    INBN: str
    SUNO: str = ""
    SINO: str = ""
    SPYN: str = ""
    IVDT: str = ""
    CUAM: str = ""
    CUCD: str = ""
    CORI: str = ""
    VONO: str = ""
    YEA4: str = ""
    VSER: str = ""
    SUPA: str = ""  # batch status: 10 staged, 15 validation error, 90 validated
    IBTP: str = ""
    IBHE: str = ""

    @property
    def validated(self) -> bool:
        """Whether ValidByBatchNo posted this batch (status 90, or a voucher number)."""
        return self.SUPA == SUPA_VALIDATED or bool(self.VONO)

    @property
    def recode(self) -> bool:
        """Whether this is a recode batch (AddHeadRecode) rather than an invoice batch."""
        return self.IBTP == IBTP_RECODE


class PurchaseOrderHead(_Record, frozen=True, kw_only=True):
    """PPS200MI head output."""

    PUNO: str
    SUNO: str = ""
    PUDT: str = ""
    DWDT: str = ""
    CUCD: str = ""
    PUSL: str = ""
    PUST: str = ""
    FACI: str = ""
    WHLO: str = ""
    ORTY: str = ""
    YRE1: str = ""
    LMDT: str = ""
    CHNO: str = ""


class PurchaseOrderLine(_Record, frozen=True, kw_only=True):
    """PPS200MI GetLine / LstLine output: one line (``PNLI``) or subline (``PNLS``)."""

    PUNO: str
    PNLI: str = ""
    PNLS: str = ""
    ITNO: str = ""
    ORQA: str = ""
    PUPR: str = ""
    PITD: str = ""


class PurchaseOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A whole M3 purchase order: the head and its lines in line-number order.

    M3 returns them from separate transactions (``GetHead``/``SearchHead``, ``LstLine``);
    :meth:`~connector.systems.infor.client.M3Client.purchase_order` puts them together.
    """

    head: PurchaseOrderHead
    lines: tuple[PurchaseOrderLine, ...] = ()


class AccountingId(_Record, frozen=True, kw_only=True):
    """CRS630MI: one value of an accounting dimension (AIT1 accounts, AIT2 cost centers…)."""

    AITP: str = ""
    AITM: str
    TX40: str = ""


def convert(row: Row, type_: type[R]) -> R:
    """An MI row as ``type_`` (unknown fields ignored, all values already strings)."""
    return msgspec.convert(row, type_)


def invoice_head(row: Row) -> InvoiceHead:
    """An APS450MI head row as :class:`InvoiceHead`, a zero voucher number read as none.

    A staged batch answers ``VONO`` ``"0"``; left as is, ``"0"`` is a non-empty string and a
    caller testing ``bool(head.VONO)`` would take an unposted batch for a posted one.
    """
    cleaned = {
        name: "" if name in _VOUCHER_FIELDS and value.strip("0 ") == "" else value
        for name, value in row.items()
    }
    return convert(cleaned, InvoiceHead)
