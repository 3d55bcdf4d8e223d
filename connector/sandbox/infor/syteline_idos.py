"""The SyteLine IDOs the simulator offers, their properties, and how values look on the wire.

Property names are SyteLine's (from the IDO metadata of the CSI 10 / CloudSuite Industrial
collections): ``SLVendors``, ``SLItems``, ``SLAptrxs`` (A/P vouchers and adjustments) with
``SLAptrxds`` (their distributions), ``SLPos`` with ``SLPoItems``. Only the properties a
connector needs are modelled; asking for another one is an error, as asking a real IDO for
a property it lacks is.

On the wire every value is a string or ``null`` (``"125.50000000"``, ``"5"``,
``"20240612 00:00:00.000"``): decimals carry eight places, dates SyteLine's
``yyyyMMdd HH:mm:ss.fff``. ``VendNum`` (7) and ``PoNum`` (10) are right-justified key types
in SyteLine — the forms expand ``1001`` to ``"   1001"`` before they save — but the IDO
stores what it is sent, so a client must pad them itself on insert and in filters.

Every row also has ``RowPointer`` (a GUID), ``RecordDate`` (last change) and
``CreateDate``, all read-only, and an ``_ItemId``: ``PBT=[table] table.DT=[last change]
table.ID=[RowPointer]``, the optimistic-concurrency token of an update.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Prop:
    """One IDO property: its type (``String``, ``Int``, ``Decimal``, ``Date``), length for
    strings, and whether an insert needs it or nobody may write it."""

    name: str
    type: str = "String"
    length: int = 0
    required: bool = False
    read_only: bool = False
    default: Any = None


@dataclass(frozen=True)
class ParentLink:
    """A row of this IDO must belong to an existing row of ``ido`` with the same ``keys``."""

    ido: str
    keys: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class Ido:
    name: str
    table: str
    keys: tuple[str, ...]
    props: Mapping[str, Prop]
    #: What one row is called in messages ("Vendor", "Voucher"…).
    noun: str
    #: Each row must have a parent row (a voucher's distributions, a PO's lines).
    parents: tuple[ParentLink, ...] = ()
    #: An integer key the server numbers when an insert leaves it out (``Voucher``).
    numbered: str | None = None
    #: Values allowed per property (``Stat``…).
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def types(self) -> dict[str, str]:
        return {name: prop.type for name, prop in self.props.items()}


#: Every row has these, maintained by the server.
SYSTEM_PROPS = (
    Prop("RowPointer", read_only=True),
    Prop("RecordDate", "Date", read_only=True),
    Prop("CreateDate", "Date", read_only=True),
)


def _ido(
    name: str,
    table: str,
    noun: str,
    keys: tuple[str, ...],
    props: tuple[Prop, ...],
    **extra: Any,
) -> Ido:
    every = {prop.name: prop for prop in (*props, *SYSTEM_PROPS)}
    return Ido(name, table, keys, every, noun, **extra)


IDOS: dict[str, Ido] = {
    ido.name: ido
    for ido in (
        _ido(
            "SLSites",
            "site",
            "Site",
            ("Site",),
            (
                Prop("Site", length=8, required=True),
                Prop("SiteName", length=60),
                Prop("CurrCode", length=3),
            ),
        ),
        _ido(
            "SLVendors",
            "vendor",
            "Vendor",
            ("VendNum",),
            (
                Prop("VendNum", length=7, required=True),
                Prop("Name", length=60, required=True),
                Prop("CurrCode", length=3, required=True),
                Prop("Stat", length=1, default="A"),
                Prop("TermsCode", length=3, default="N30"),
                Prop("VendType", length=6),
                Prop("Phone", length=25),
                Prop("ExternalEmailAddr", length=60),
            ),
            choices={"Stat": frozenset({"A", "I"})},
        ),
        _ido(
            "SLItems",
            "item",
            "Item",
            ("Item",),
            (
                Prop("Item", length=30, required=True),
                Prop("Description", length=40),
                Prop("UM", length=3, required=True),
                Prop("ProductCode", length=10, required=True),
                Prop("Stat", length=1, default="A"),
                Prop("MatlType", length=1, default="M"),
                Prop("PMTCode", length=1, default="P"),
                Prop("UnitCost", "Decimal", default=Decimal(0)),
            ),
            choices={
                "Stat": frozenset({"A", "O", "S"}),
                "MatlType": frozenset({"M", "T", "O"}),
                "PMTCode": frozenset({"P", "M", "T"}),
            },
        ),
        _ido(
            "SLAptrxs",
            "aptrx",
            "Voucher",
            ("VendNum", "Voucher"),
            (
                Prop("VendNum", length=7, required=True),
                Prop("Voucher", "Int"),
                Prop("Type", length=1, required=True),
                Prop("InvNum", length=22, required=True),
                Prop("InvDate", "Date", required=True),
                Prop("DueDate", "Date"),
                Prop("DistDate", "Date"),
                Prop("InvAmt", "Decimal", required=True),
                Prop("PurchAmt", "Decimal", default=Decimal(0)),
                Prop("PoNum", length=10),
                Prop("Ref", length=30),
                Prop("Txt", length=40),
                Prop("AuthStatus", length=1, default="F"),
                Prop("VenCurrCode", length=3, read_only=True),
            ),
            parents=(ParentLink("SLVendors", ("VendNum",), "vendor"),),
            numbered="Voucher",
            choices={"Type": frozenset({"V", "A"}), "AuthStatus": frozenset({"F", "A", "H"})},
        ),
        _ido(
            "SLAptrxds",
            "aptrxd",
            "Voucher distribution",
            ("VendNum", "Voucher", "DistSeq"),
            (
                Prop("VendNum", length=7, required=True),
                Prop("Voucher", "Int", required=True),
                Prop("DistSeq", "Int", required=True),
                Prop("Acct", length=12, required=True),
                Prop("AcctUnit1", length=4),
                Prop("AcctUnit2", length=4),
                Prop("AcctUnit3", length=4),
                Prop("AcctUnit4", length=4),
                Prop("Amount", "Decimal", required=True),
                Prop("TaxCode", length=6),
                Prop("ProjNum", length=10),
                Prop("InvNum", length=22, read_only=True),
            ),
            parents=(ParentLink("SLAptrxs", ("VendNum", "Voucher"), "voucher"),),
        ),
        _ido(
            "SLPos",
            "po",
            "Purchase order",
            ("PoNum",),
            (
                Prop("PoNum", length=10, required=True),
                Prop("VendNum", length=7, required=True),
                Prop("OrderDate", "Date"),
                Prop("Stat", length=1, default="P"),
                Prop("Type", length=1, default="R"),
                Prop("Buyer", length=30),
                Prop("VendorPo", length=22),
                Prop("CurrCode", length=3, read_only=True),
            ),
            parents=(ParentLink("SLVendors", ("VendNum",), "vendor"),),
            choices={"Stat": frozenset({"P", "O", "F", "C", "H"}), "Type": frozenset({"R", "B"})},
        ),
        _ido(
            "SLPoItems",
            "poitem",
            "Purchase order line",
            ("PoNum", "PoLine", "PoRelease"),
            (
                Prop("PoNum", length=10, required=True),
                Prop("PoLine", "Int", required=True),
                Prop("PoRelease", "Int", default=0),
                Prop("Item", length=30, required=True),
                Prop("Description", length=40),
                Prop("QtyOrdered", "Decimal", required=True),
                Prop("ItemCost", "Decimal", default=Decimal(0)),
                Prop("UM", length=3),
                Prop("DueDate", "Date"),
                Prop("Stat", length=1, default="P"),
            ),
            parents=(
                ParentLink("SLPos", ("PoNum",), "purchase order"),
                ParentLink("SLItems", ("Item",), "item"),
            ),
            choices={"Stat": frozenset({"P", "O", "F", "C", "H"})},
        ),
    )
}

_DATE_FORMATS = (
    "%Y%m%d %H:%M:%S.%f",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
)


def parse_date(text: str) -> datetime:
    """A date literal as SQL Server reads one: ``20240612``, ``2024-06-12``, with or without
    a time; raises ValueError otherwise."""
    cleaned = text.strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def convert(ido: Ido, name: str, text: str) -> Any:
    """``text`` as the value of property ``name``; raises ValueError when it does not fit."""
    kind = ido.props[name].type
    if kind == "Int":
        return int(text.strip())
    if kind == "Decimal":
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {text!r}") from None
        if not value.is_finite():
            raise ValueError(f"not a number: {text!r}")
        return value
    if kind == "Date":
        return parse_date(text)
    return text


def wire(value: Any) -> str | None:
    """A stored value as Mongoose sends it: always a string (or null)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, Decimal):
        return f"{value:.8f}"
    return str(value)


def now() -> datetime:
    """The server clock (naive: SyteLine stores site-local times without a zone; the
    simulated site runs on UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)
