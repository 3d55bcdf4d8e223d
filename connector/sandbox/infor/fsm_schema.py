"""The FSM (Landmark) business classes the simulator offers, and a strict ``_lplFilter``.

Class names — ``Vendor``, ``Item``, ``PayablesInvoice``, ``PurchaseOrder`` — are Infor's;
their key and field names here follow Landmark conventions (group + code keys, ``Company``
on finance documents) and are **(inferred)** where Infor's per-class docs were not found:
``PayablesInvoiceDistribution`` and ``PurchaseOrderLine`` as the line classes,
``PayablesCompany`` as the class a company is set up in (one per finance company),
``update.stamp`` as the change stamp an incremental read filters on. Every value travels as a
string; dates are ``yyyyMMdd`` (as in deployed FSM batch loads).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

STAMP = "update.stamp"


@dataclass(frozen=True)
class Field:
    max_length: int = 30
    required: bool = False
    #: "text" | "date" (yyyyMMdd) | "decimal" | "int" | one of the listed values.
    kind: str = "text"
    choices: tuple[str, ...] = ()
    default: str | None = None


@dataclass(frozen=True)
class Reference:
    """``fields`` of this class must name an existing record of ``target`` (in key order)."""

    target: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class BusinessClass:
    name: str
    keys: tuple[str, ...]
    fields: dict[str, Field]
    references: tuple[Reference, ...] = ()


DATE = Field(8, kind="date")
AMOUNT = Field(18, kind="decimal")

CLASSES: dict[str, BusinessClass] = {
    c.name: c
    for c in (
        BusinessClass(
            "PayablesCompany",
            ("PayablesCompany",),
            {
                "PayablesCompany": Field(4, required=True),
                "Name": Field(30, required=True),
                "CurrencyCode": Field(5, default="USD"),
            },
        ),
        BusinessClass(
            "Vendor",
            ("VendorGroup", "Vendor"),
            {
                "VendorGroup": Field(4, required=True),
                "Vendor": Field(9, required=True),
                "VendorName": Field(30, required=True),
                "VendorStatus": Field(choices=("Active", "Inactive", "OnHold"), default="Active"),
                "CurrencyCode": Field(5, default="USD"),
            },
        ),
        BusinessClass(
            "Item",
            ("ItemGroup", "Item"),
            {
                "ItemGroup": Field(4, required=True),
                "Item": Field(32, required=True),
                "Description": Field(30, required=True),
                "ItemClass": Field(4, default="MAT"),
                "StockUOM": Field(4, default="EA"),
                "Status": Field(choices=("Active", "Inactive"), default="Active"),
            },
        ),
        BusinessClass(
            "PayablesInvoice",
            ("Company", "Vendor", "Invoice"),
            {
                "Company": Field(4, required=True),
                "Vendor": Field(9, required=True),
                "Invoice": Field(22, required=True),
                "InvoiceDate": Field(8, required=True, kind="date"),
                "DueDate": DATE,
                "InvoiceAmount": Field(18, required=True, kind="decimal"),
                "CurrencyCode": Field(5, required=True),
                "Description": Field(30),
                "PurchaseOrder": Field(14),
            },
            (Reference("Vendor", ("Company", "Vendor")),),
        ),
        BusinessClass(
            "PayablesInvoiceDistribution",
            ("Company", "Vendor", "Invoice", "DistributionSequence"),
            {
                "Company": Field(4, required=True),
                "Vendor": Field(9, required=True),
                "Invoice": Field(22, required=True),
                "DistributionSequence": Field(6, required=True, kind="int"),
                "DistributionAmount": Field(18, required=True, kind="decimal"),
                "DistributionAccount": Field(12, required=True),
                "AccountingUnit": Field(15),
                "Description": Field(30),
                "Item": Field(32),
            },
            (Reference("PayablesInvoice", ("Company", "Vendor", "Invoice")),),
        ),
        BusinessClass(
            "PurchaseOrder",
            ("Company", "PurchaseOrder"),
            {
                "Company": Field(4, required=True),
                "PurchaseOrder": Field(14, required=True),
                "Vendor": Field(9, required=True),
                "OrderDate": Field(8, required=True, kind="date"),
                "CurrencyCode": Field(5, default="USD"),
            },
            (Reference("Vendor", ("Company", "Vendor")),),
        ),
        BusinessClass(
            "PurchaseOrderLine",
            ("Company", "PurchaseOrder", "PurchaseOrderLine"),
            {
                "Company": Field(4, required=True),
                "PurchaseOrder": Field(14, required=True),
                "PurchaseOrderLine": Field(6, required=True, kind="int"),
                "Item": Field(32, required=True),
                "Quantity": Field(18, required=True, kind="decimal"),
                "UnitCost": Field(18, required=True, kind="decimal"),
                "Description": Field(30),
            },
            (
                Reference("PurchaseOrder", ("Company", "PurchaseOrder")),
                Reference("Item", ("Company", "Item")),
            ),
        ),
    )
}

_LPL_TOKEN = re.compile(
    r'\s*(?:(?P<lparen>\()|(?P<rparen>\))|(?P<op>!=|<=|>=|=|<|>)|(?P<string>"[^"]*")'
    r"|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*))"
)

Predicate = Callable[[Mapping[str, str]], bool]
_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class LplError(ValueError):
    """The ``_lplFilter`` cannot be used."""


def compile_lpl(text: str, fields: Mapping[str, Field]) -> Predicate:
    """A predicate for an LPL condition: ``Field = "value"`` terms joined by ``and``/``or``
    with parentheses; values are compared as the strings Landmark stores."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while text[position:].strip():
        match = _LPL_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise LplError(f"cannot parse _lplFilter at {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    index = 0

    def peek() -> tuple[str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise LplError("_lplFilter ends too early")
        index += 1
        return tokens[index - 1]

    def disjunction() -> Predicate:
        left = conjunction()
        while peek() == ("name", "or"):
            take()
            right = conjunction()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def conjunction() -> Predicate:
        left = term()
        while peek() == ("name", "and"):
            take()
            right = term()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def term() -> Predicate:
        kind, value = take()
        if kind == "lparen":
            inner = disjunction()
            if take()[0] != "rparen":
                raise LplError("_lplFilter: ')' expected")
            return inner
        if kind != "name" or value in ("and", "or"):
            raise LplError(f"_lplFilter: field name expected, found {value!r}")
        if value not in fields:
            raise LplError(f"_lplFilter: {value} is not a field of this business class")
        op_kind, op = take()
        if op_kind != "op":
            raise LplError(f"_lplFilter: operator expected after {value}, found {op!r}")
        literal_kind, literal = take()
        if literal_kind not in ("string", "number"):
            raise LplError(f"_lplFilter: value expected after {value} {op}, found {literal!r}")
        wanted = literal.strip('"')
        name, compare = value, _COMPARE[op]
        return lambda record: compare(record.get(name, ""), wanted)

    predicate = disjunction()
    if index != len(tokens):
        raise LplError(f"_lplFilter: unexpected {tokens[index][1]!r}")
    return predicate
