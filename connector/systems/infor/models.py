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


class InvoiceHead(_Record, frozen=True, kw_only=True):
    """APS450MI LstInvBySupInv / GetHead output: one supplier-invoice batch."""

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
    PUNO: str
    PNLI: str = ""
    PNLS: str = ""
    ITNO: str = ""
    ORQA: str = ""
    PUPR: str = ""
    PITD: str = ""


class AccountingId(_Record, frozen=True, kw_only=True):
    """CRS630MI: one value of an accounting dimension (AIT1 accounts, AIT2 cost centers…)."""

    AITP: str = ""
    AITM: str
    TX40: str = ""


def convert(row: Row, type_: type[R]) -> R:
    """An MI row as ``type_`` (unknown fields ignored, all values already strings)."""
    return msgspec.convert(row, type_)
