"""The projections and entity sets the simulated IFS Cloud tenant serves, declared once.

Names, keys and CRUD rights follow ``systems/ifs.md`` §4 and the IFS ``accrul`` projection
sources it cites (``ExternalVouchers``, ``ExternalVoucherLoadInformationHandling`` with its
``DoCheckTransactions``/``DoCreateVoucher`` actions, ``CodeBHandling``…``CodeJHandling``).
Every handler reads these declarations, so a URL, a field or a right exists in one place.

Field types are the OData JSON types: ``text`` (string), ``int`` and ``number`` (JSON
numbers), ``bool``, ``date`` (``Edm.Date``, ``"2025-03-01"``) and ``timestamp``
(``Edm.DateTimeOffset``, site wall-clock time, see :mod:`.values`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal["text", "int", "number", "bool", "date", "timestamp"]


@dataclass(frozen=True)
class Attr:
    """One attribute of an entity."""

    type: FieldType = "text"
    required: bool = False
    insertable: bool = True
    editable: bool = True
    max_length: int | None = None
    uppercase: bool = False


@dataclass(frozen=True)
class Reference:
    """A one-to-one association (``VendorNoRef``): ``$expand`` may follow it."""

    target: str
    """``Projection/EntitySet`` of the referenced row."""
    keys: tuple[tuple[str, str], ...]
    """(attribute here, key attribute there) pairs."""


@dataclass(frozen=True)
class Array:
    """A one-to-many association (``PurchaseOrderLineArray``): navigable, never expanded."""

    target: str
    keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EntitySet:
    """One ``{Projection}.svc/{EntitySet}`` and the entity behind it."""

    projection: str
    name: str
    entity: str
    """The entity name (``luname`` and the action namespace)."""
    keys: tuple[str, ...]
    attrs: dict[str, Attr]
    crud: str = "CRUD"
    """Which of Create, Read, Update, Delete the set allows (others answer 405)."""
    references: dict[str, Reference] = field(default_factory=dict)
    arrays: dict[str, Array] = field(default_factory=dict)
    actions: tuple[str, ...] = ()
    """Bound actions, called as ``POST …/Set(keys)/IfsApp.{Projection}.{Entity}_{Action}``."""
    server_keys: tuple[str, ...] = ()
    """Keys the server assigns on insert (``RecordNo``)."""

    @property
    def path(self) -> str:
        return f"{self.projection}/{self.name}"

    def action_name(self, action: str) -> str:
        return f"IfsApp.{self.projection}.{self.entity}_{action}"


_TEXT = Attr()
_DATE = Attr("date")
_NUMBER = Attr("number")
_STATE = Attr(insertable=False, editable=False)

CODE_PARTS = tuple("BCDEFGHIJ")


def _code_part_set(letter: str) -> EntitySet:
    name = f"Code{letter}"
    return EntitySet(
        projection=f"{name}Handling",
        name=f"{name}Set",
        entity=name,
        keys=("Company", name),
        attrs={
            "Company": Attr(required=True),
            name: Attr(required=True, uppercase=True, max_length=20),
            "Description": Attr(required=True, max_length=100),
            "ValidFrom": _DATE,
            "ValidUntil": _DATE,
        },
    )


_PURCHASE_ORDERS = EntitySet(
    projection="PurchaseOrderHandling",
    name="PurchaseOrderSet",
    entity="PurchaseOrder",
    keys=("OrderNo",),
    attrs={
        "OrderNo": Attr(required=True, uppercase=True, max_length=12),
        "Contract": Attr(required=True, max_length=5),
        "VendorNo": Attr(required=True, max_length=20),
        "OrderDate": Attr("date", required=True),
        "WantedReceiptDate": _DATE,
        "CurrencyCode": Attr(required=True, max_length=3),
        "BuyerCode": _TEXT,
        "TaxLiability": _TEXT,
        "NoteText": Attr(max_length=2000),
        "DateEntered": Attr("timestamp", insertable=False, editable=False),
        "Objstate": _STATE,
    },
    references={
        "VendorNoRef": Reference(
            "SuppliersHandling/SupplierInfoGeneralSet", (("VendorNo", "SupplierId"),)
        ),
    },
    arrays={
        "PurchaseOrderLineArray": Array(
            "PurchaseOrderLinesHandling/PurchaseOrderLineSet", (("OrderNo", "OrderNo"),)
        ),
    },
)

_PURCHASE_ORDER_LINES = EntitySet(
    projection="PurchaseOrderLinesHandling",
    name="PurchaseOrderLineSet",
    entity="PurchaseOrderLine",
    keys=("OrderNo", "LineNo", "ReleaseNo"),
    attrs={
        "OrderNo": Attr(required=True),
        "LineNo": Attr(required=True),
        "ReleaseNo": Attr(required=True),
        "PartNo": _TEXT,
        "Description": Attr(max_length=200),
        "BuyQtyDue": _NUMBER,
        "BuyUnitMeas": _TEXT,
        "FbuyUnitPrice": _NUMBER,
        "PlannedReceiptDate": _DATE,
        "Objstate": _STATE,
    },
    references={
        "OrderNoRef": Reference("PurchaseOrderHandling/PurchaseOrderSet", (("OrderNo", "OrderNo"),))
    },
)

_SUPPLIERS = EntitySet(
    projection="SuppliersHandling",
    name="SupplierInfoGeneralSet",
    entity="SupplierInfoGeneral",
    keys=("SupplierId",),
    attrs={
        "SupplierId": Attr(required=True, uppercase=True, max_length=20),
        "Name": Attr(required=True, max_length=100),
        "Country": Attr(max_length=2),
        "DefaultLanguage": Attr(max_length=2),
        "SupplierCategory": _TEXT,
        "CreationDate": Attr("date", insertable=False, editable=False),
    },
)

_EXTERNAL_VOUCHERS = EntitySet(
    projection="ExternalVouchers",
    name="ExternalVouchersSet",
    entity="ExtTransactions",
    keys=("Company", "LoadId", "RecordNo"),
    server_keys=("RecordNo",),
    attrs={
        "Company": Attr(required=True),
        "LoadId": Attr(required=True, uppercase=True, max_length=20),
        "RecordNo": Attr("int", insertable=False, editable=False),
        "TransactionDate": _DATE,
        "VoucherType": Attr(max_length=3),
        "Account": Attr(required=True),
        **{f"Code{letter}": _TEXT for letter in CODE_PARTS},
        "CurrencyCode": Attr(max_length=3),
        "CurrencyDebetAmount": _NUMBER,
        "CurrencyCreditAmount": _NUMBER,
        "DebetAmount": _NUMBER,
        "CreditAmount": _NUMBER,
        "Quantity": _NUMBER,
        "OptionalCode": _TEXT,
        "Text": Attr(max_length=200),
        "UserGroup": Attr(uppercase=True),
        "Correction": Attr("bool", required=True),
        "LoadError": Attr(insertable=False, editable=False),
        "VoucherNo": Attr("int", insertable=False, editable=False),
        "Objstate": _STATE,
    },
    references={
        "AccountRef": Reference(
            "AccountsHandling/AccountSet", (("Company", "Company"), ("Account", "Account"))
        ),
        **{
            f"Code{letter}Ref": Reference(
                f"Code{letter}Handling/Code{letter}Set",
                (("Company", "Company"), (f"Code{letter}", f"Code{letter}")),
            )
            for letter in CODE_PARTS
        },
    },
)

_LOADS = EntitySet(
    projection="ExternalVoucherLoadInformationHandling",
    name="ExtLoadInfoSet",
    entity="ExtLoadInfo",
    keys=("Company", "LoadId"),
    crud="R",
    attrs={
        "Company": _TEXT,
        "LoadId": _TEXT,
        "Userid": _TEXT,
        "ExtLoadState": _TEXT,
        "LoadFileId": Attr("int"),
    },
    actions=("DoCheckTransactions", "DoCreateVoucher"),
)

_VOUCHER_KEYS = ("Company", "AccountingYear", "VoucherType", "VoucherNo")

_VOUCHERS = EntitySet(
    projection="VoucherHandling",
    name="VoucherSet",
    entity="Voucher",
    keys=_VOUCHER_KEYS,
    crud="RU",
    attrs={
        "Company": Attr(editable=False),
        "AccountingYear": Attr("int", editable=False),
        "VoucherType": Attr(editable=False),
        "VoucherNo": Attr("int", editable=False),
        "VoucherDate": Attr("date", editable=False),
        "DateReg": Attr("date", editable=False),
        "VoucherText2": Attr(max_length=200),
        "UserGroup": _TEXT,
        "Objstate": _STATE,
    },
    arrays={
        "VoucherRowArray": Array(
            "VoucherRowsAnalysis/VoucherRowSet", tuple((key, key) for key in _VOUCHER_KEYS)
        ),
    },
)

_VOUCHER_ROWS = EntitySet(
    projection="VoucherRowsAnalysis",
    name="VoucherRowSet",
    entity="VoucherRow",
    keys=(*_VOUCHER_KEYS, "RowNo"),
    crud="R",
    attrs={
        "Company": _TEXT,
        "AccountingYear": Attr("int"),
        "VoucherType": _TEXT,
        "VoucherNo": Attr("int"),
        "RowNo": Attr("int"),
        "VoucherDate": _DATE,
        "Account": _TEXT,
        **{f"Code{letter}": _TEXT for letter in CODE_PARTS},
        "CurrencyCode": _TEXT,
        "CurrencyDebetAmount": _NUMBER,
        "CurrencyCreditAmount": _NUMBER,
        "DebetAmount": _NUMBER,
        "CreditAmount": _NUMBER,
        "Text": _TEXT,
    },
)

_ACCOUNTS = EntitySet(
    projection="AccountsHandling",
    name="AccountSet",
    entity="Account",
    keys=("Company", "Account"),
    attrs={
        "Company": Attr(required=True),
        "Account": Attr(required=True, uppercase=True, max_length=20),
        "Description": Attr(required=True, max_length=100),
        "AccntType": Attr(required=True),
        "ValidFrom": _DATE,
        "ValidUntil": _DATE,
    },
)

ENTITY_SETS: dict[str, EntitySet] = {
    spec.path: spec
    for spec in (
        _PURCHASE_ORDERS,
        _PURCHASE_ORDER_LINES,
        _SUPPLIERS,
        _EXTERNAL_VOUCHERS,
        _LOADS,
        _VOUCHERS,
        _VOUCHER_ROWS,
        _ACCOUNTS,
        *(_code_part_set(letter) for letter in CODE_PARTS),
    )
}
PROJECTIONS = frozenset(spec.projection for spec in ENTITY_SETS.values())


def lu_key_name(attribute: str) -> str:
    """An attribute as IFS spells it in ``keyref`` (``OrderNo`` → ``ORDER_NO``)."""
    out: list[str] = []
    for index, char in enumerate(attribute):
        if char.isupper() and index and not attribute[index - 1].isupper():
            out.append("_")
        out.append(char.upper())
    return "".join(out)
