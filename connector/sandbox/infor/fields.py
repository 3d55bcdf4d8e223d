"""M3 field catalog: the 4-letter names, their type and length, and how values are checked.

M3 fields are fixed-length: ``A`` (alphanumeric, blank-padded on output), ``N`` (numeric,
``decimals`` after a ``.``), ``D`` (date ``yyyyMMdd``). A name means the same thing in
every program (``SUNO`` is always the A10 supplier number), so one catalog serves all.
Lengths follow the sheet (SUNO A10, ITNO A15, SINO A24, CORI A36, SUNM A36, ITDS A30) and
the published MI metadata where it was confirmed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Field:
    """One M3 field: name, type (A/N/D), length in characters or digits, decimals."""

    name: str
    kind: str
    length: int
    decimals: int = 0
    description: str = ""
    #: Long free-text fields (queries, EXPORTMI rows) are not blank-padded on output.
    pad: bool = True


class FieldValueError(Exception):
    """An input value does not fit its field; ``too_long`` separates the two MI error types."""

    def __init__(self, field: Field, message: str, *, too_long: bool) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.too_long = too_long


def _f(name: str, kind: str, length: int, description: str, decimals: int = 0) -> Field:
    return Field(name, kind, length, decimals, description, pad=length < 1000)


_CATALOG = (
    # company, division, user, discovery
    _f("CONO", "N", 3, "Company"),
    _f("DIVI", "A", 3, "Division"),
    _f("TX40", "A", 40, "Description"),
    _f("TX15", "A", 15, "Name"),
    _f("CSCD", "A", 3, "Country"),
    _f("LOCD", "A", 3, "Local currency"),
    _f("LNCD", "A", 2, "Language"),
    _f("DTFM", "A", 3, "Date format"),
    _f("USID", "A", 10, "User"),
    _f("NAME", "A", 40, "User name"),
    _f("FACI", "A", 3, "Facility"),
    _f("WHLO", "A", 3, "Warehouse"),
    _f("MINM", "A", 10, "Program name"),
    _f("TRNM", "A", 15, "Transaction name"),
    _f("TRDS", "A", 60, "Transaction description"),
    _f("TRTP", "A", 1, "Transaction field direction (I/O)"),
    _f("FLNM", "A", 6, "Field name"),
    _f("FLDS", "A", 60, "Field description"),
    _f("LENG", "N", 5, "Field length"),
    _f("TYPE", "A", 1, "Field type"),
    _f("MAND", "N", 1, "Mandatory"),
    # audit
    _f("LMDT", "D", 8, "Change date"),
    _f("LMTS", "N", 18, "Timestamp"),
    _f("CHNO", "N", 3, "Change number"),
    _f("CHID", "A", 10, "Changed by"),
    _f("RGDT", "D", 8, "Entry date"),
    _f("RGTM", "N", 6, "Entry time"),
    # suppliers (CIDMAS/CIDVEN)
    _f("SUNO", "A", 10, "Supplier"),
    _f("SUNM", "A", 36, "Supplier name"),
    _f("SUTY", "N", 1, "Supplier type"),
    _f("ECAR", "A", 3, "State"),
    _f("MEPF", "A", 10, "Media profile"),
    _f("SUCL", "A", 3, "Supplier group"),
    _f("QUCL", "A", 3, "Quality class"),
    _f("ORTY", "A", 3, "Order type"),
    _f("TEDL", "A", 3, "Delivery terms"),
    _f("MODL", "A", 3, "Delivery method"),
    _f("TEAF", "A", 3, "Freight terms"),
    _f("TEPA", "A", 3, "Packaging terms"),
    _f("DT4T", "N", 1, "Date type"),
    _f("DTCD", "N", 1, "Date code"),
    _f("CUCD", "A", 3, "Currency"),
    _f("CRTP", "N", 2, "Exchange rate type"),
    _f("TEPY", "A", 3, "Payment terms"),
    _f("PYME", "A", 3, "Payment method"),
    _f("ATPR", "N", 1, "Attention prompt"),
    _f("ACRF", "A", 8, "User-defined accounting control object"),
    _f("VTCD", "N", 2, "VAT code"),
    _f("VRNO", "A", 16, "VAT registration number"),
    _f("TINO", "A", 16, "Tax identification number"),
    _f("PRSU", "A", 10, "Payee"),
    _f("REGR", "A", 10, "Accounting template"),
    _f("STAT", "A", 2, "Status"),
    _f("PHNO", "A", 16, "Telephone"),
    _f("ADR1", "A", 36, "Address line 1"),
    _f("TOWN", "A", 20, "City"),
    _f("PONO", "A", 10, "Postal code"),
    _f("SQRY", "A", 1024, "Search query"),
    _f("TEMP", "A", 10, "Template supplier"),
    # items (MITMAS)
    _f("ITNO", "A", 15, "Item number"),
    _f("ITDS", "A", 30, "Name"),
    _f("FUDS", "A", 60, "Description 2"),
    _f("ITTY", "A", 3, "Item type"),
    _f("UNMS", "A", 3, "Basic unit of measure"),
    _f("ITGR", "A", 5, "Item group"),
    _f("ITCL", "A", 5, "Product group"),
    _f("RESP", "A", 10, "Responsible"),
    _f("MABU", "N", 1, "Make/buy code"),
    _f("PRVG", "A", 5, "Commission group"),
    _f("ITNE", "A", 60, "Extended item number"),
    _f("PUUN", "A", 3, "Purchase order U/M"),
    _f("SALE", "N", 1, "Sales item"),
    _f("PUPR", "N", 17, "Purchase price", 6),
    # supplier invoices (FAPIBH/FAPIBL) and vouchers
    _f("INBN", "N", 10, "Invoice batch number"),
    _f("IBTP", "A", 2, "Invoice batch type"),
    _f("SPYN", "A", 10, "Payee"),
    _f("SINO", "A", 24, "Supplier invoice number"),
    _f("CORI", "A", 36, "Correlation ID"),
    _f("IVDT", "D", 8, "Invoice date"),
    _f("ACDT", "D", 8, "Accounting date"),
    _f("DUDT", "D", 8, "Due date"),
    _f("CUAM", "N", 17, "Foreign currency amount", 2),
    _f("VTAM", "N", 17, "VAT", 2),
    _f("APCD", "A", 10, "Authorized user"),
    _f("YEA4", "N", 4, "Year"),
    _f("VSER", "A", 3, "Voucher number series"),
    _f("VONO", "N", 8, "Voucher number"),
    _f("SUPA", "N", 2, "Invoice status"),
    _f("IBHE", "A", 120, "Invoice batch head error"),
    _f("IBLE", "A", 120, "Invoice batch line error"),
    _f("TRNO", "N", 5, "Transaction number"),
    _f("RDTP", "N", 1, "Invoice line type"),
    _f("NLAM", "N", 17, "Net line amount", 2),
    _f("VTA1", "N", 17, "VAT amount 1", 2),
    _f("VTA2", "N", 17, "VAT amount 2", 2),
    _f("IVQA", "N", 15, "Invoiced quantity", 6),
    _f("GRPR", "N", 17, "Gross price", 6),
    _f("CHGT", "A", 30, "Charge text"),
    _f("AIT1", "A", 8, "Accounting dimension 1"),
    _f("AIT2", "A", 8, "Accounting dimension 2"),
    _f("AIT3", "A", 8, "Accounting dimension 3"),
    _f("AIT4", "A", 8, "Accounting dimension 4"),
    _f("AIT5", "A", 8, "Accounting dimension 5"),
    _f("AIT6", "A", 8, "Accounting dimension 6"),
    _f("AIT7", "A", 8, "Accounting dimension 7"),
    _f("ACQT", "N", 15, "Accounting quantity", 6),
    _f("VTXT", "A", 40, "Voucher text"),
    # purchase orders (MPHEAD/MPLINE)
    _f("PUNO", "A", 10, "Purchase order number"),
    _f("PNLI", "N", 5, "Purchase order line"),
    _f("PNLS", "N", 3, "Purchase order line subnumber"),
    _f("PUDT", "D", 8, "Order date"),
    _f("DWDT", "D", 8, "Requested delivery date"),
    _f("BUYE", "A", 10, "Buyer"),
    _f("YRE1", "A", 30, "Your reference"),
    _f("OURR", "A", 10, "Our reference number"),
    _f("PUSL", "A", 2, "Lowest status"),
    _f("PUST", "A", 2, "Highest status"),
    _f("LNAM", "N", 17, "Line amount", 2),
    _f("ORQA", "N", 15, "Ordered quantity", 6),
    _f("PITD", "A", 30, "Purchase order item name"),
    _f("PPUN", "A", 3, "Purchase price U/M"),
    _f("COCE", "A", 8, "Cost center"),
    # accounting identities (FCHACC)
    _f("AITP", "N", 1, "Accounting dimension"),
    _f("AITM", "A", 8, "Accounting identity"),
    # EXPORTMI
    _f("QERY", "A", 3000, "SQL-like query"),
    _f("SEPC", "A", 1, "Separator"),
    _f("HDRS", "N", 1, "Include headers"),
    _f("REPL", "A", 10000, "Record (separator-joined)"),
)

FIELDS: dict[str, Field] = {f.name: f for f in _CATALOG}

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def field(name: str) -> Field:
    """The catalog entry for a field name (KeyError is a bug in a transaction table)."""
    return FIELDS[name]


def check_input(spec: Field, raw: str) -> str:
    """Validate one input value against its field and return it normalised.

    Alphanumeric values lose trailing blanks (M3 fields are blank-padded, so they carry no
    meaning); numbers must use ``.`` and no grouping; dates must be real ``yyyyMMdd`` days.
    Raises :class:`FieldValueError`.
    """
    if spec.kind == "A":
        if len(raw) > spec.length:
            raise FieldValueError(
                spec,
                f"Field {spec.name} is {len(raw)} characters long; {spec.description} "
                f"holds at most {spec.length}",
                too_long=True,
            )
        return raw.rstrip(" ")
    value = raw.strip()
    if spec.kind == "D":
        return _check_date(spec, value)
    return _check_number(spec, value)


def _check_date(spec: Field, value: str) -> str:
    # A mistyped date is reported as a bad date, not as a length problem, whatever its length.
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError(value)
        dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise FieldValueError(
            spec,
            f"{spec.description} {value!r} is not a valid date; send yyyyMMdd (e.g. 20240612)",
            too_long=False,
        ) from None
    return value


def _check_number(spec: Field, value: str) -> str:
    if "," in value:
        raise FieldValueError(
            spec,
            f"{spec.description} {value!r} is not numeric: the decimal separator is '.', "
            "with no thousands grouping",
            too_long=False,
        )
    if not _NUMBER.match(value):
        raise FieldValueError(spec, f"{spec.description} {value!r} is not numeric", too_long=False)
    whole = value.lstrip("-").split(".")[0].lstrip("0")
    if len(whole) > spec.length - spec.decimals:
        raise FieldValueError(
            spec,
            f"Field {spec.name} has {len(whole)} integer digits; at most "
            f"{spec.length - spec.decimals} fit",
            too_long=True,
        )
    if spec.decimals == 0 and "." in value:
        raise FieldValueError(
            spec, f"{spec.description} {value!r} must be a whole number", too_long=False
        )
    return value


def format_output(spec: Field, value: str, *, trim: bool) -> str:
    """One output value as the gateway sends it: a string, A fields blank-padded."""
    if spec.kind == "A":
        return value.rstrip(" ") if trim or not spec.pad else value.ljust(spec.length)
    if spec.kind == "N" and spec.decimals and value not in ("", "0"):
        try:
            return str(Decimal(value).quantize(Decimal(1).scaleb(-spec.decimals)))
        except InvalidOperation:
            return value
    return value or "0"


def empty_value(spec: Field) -> str:
    """What M3 holds in a field nobody filled: blanks for A, zero for N and D."""
    return "" if spec.kind == "A" else "0"


def names(text: str) -> tuple[str, ...]:
    """A field list written the way M3 people read it: ``names("SUNO SUNM STAT")``."""
    return tuple(text.split())
