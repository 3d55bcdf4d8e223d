"""The contract the simulator enforces: field kinds from Acumatica's definition, plus rules.

:data:`SCHEMAS` maps every schema of the ``Default/24.200.001`` definition (see
:mod:`.definition`) to its fields, with their value-object types. :data:`ENTITIES` adds what
the definition does not say and the real system enforces: key fields, auto-numbering,
required fields, document types and which fields refer to other records (actions are in
:mod:`.actions`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final, Literal

import msgspec

from connector.sandbox.acumatica.definition import FieldSpec, schema_fields, schema_names

ScalarKind = Literal["str", "dec", "int", "bool", "dt", "guid"]
SCALAR_KINDS: Final = frozenset({"str", "dec", "int", "bool", "dt", "guid"})

#: Names used in error messages, the way the real contract calls the value-object types.
KIND_NAMES: Final[dict[str, str]] = {
    "str": "StringValue (a string)",
    "dec": "DecimalValue (a number)",
    "int": "IntValue (an integer)",
    "bool": "BooleanValue (true or false)",
    "dt": "DateTimeValue (an ISO 8601 date-time string)",
    "guid": "GuidValue (a GUID string)",
}

#: A reference to the company's branches, which are not an entity of the Default endpoint.
BRANCH: Final = "@Branch"
#: A reference to an Account that is flagged as a cash account.
CASH_ACCOUNT: Final = "@CashAccount"
#: A reference to an inventory item, stock or non-stock (document lines take either).
ITEM: Final = "@Item"
#: A reference to credit terms (the simulator's fixed list, :data:`TERMS`).
TERMS_ID: Final = "@Terms"

#: One field of a schema (kept under this name for the modules and tests that import it).
Field = FieldSpec


class _Schemas(Mapping[str, dict[str, FieldSpec]]):
    """Every schema of the definition, parsed on first use (there are 730 of them)."""

    def __getitem__(self, name: str) -> dict[str, FieldSpec]:
        if name not in schema_names():
            raise KeyError(name)
        return schema_fields(name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(schema_names()))

    def __len__(self) -> int:
        return len(schema_names())


SCHEMAS: Final[Mapping[str, dict[str, FieldSpec]]] = _Schemas()


class EntityDef(msgspec.Struct, frozen=True):
    """How the simulator treats one top-level entity of the Default endpoint."""

    name: str
    keys: tuple[str, ...]
    """Key fields, in URL order (``/Bill/{Type}/{ReferenceNbr}``)."""
    required: tuple[str, ...] = ()
    """Fields a new record must carry (after defaults are applied)."""
    numbered: bool = False
    """Documents whose number (``number_field``) comes from an auto-numbering sequence."""
    types: tuple[str, ...] = ()
    """Allowed values of ``type_field``; the first is the default."""
    number_field: str = "ReferenceNbr"
    type_field: str = "Type"
    date_field: str = "Date"
    """The document date a new document defaults to today."""
    uppercase_keys: bool = False
    """Segmented keys are entered through an uppercase input mask, so 'c01' is stored 'C01'."""
    details: str | None = None
    """The detail array a document computes its totals from."""
    defaults: tuple[tuple[str, object], ...] = ()
    """Values a new record takes when the client leaves the field out."""


ENTITIES: Final[dict[str, EntityDef]] = {
    "Customer": EntityDef(
        "Customer", ("CustomerID",), ("CustomerID", "CustomerName"), uppercase_keys=True
    ),
    "Vendor": EntityDef("Vendor", ("VendorID",), ("VendorID", "VendorName"), uppercase_keys=True),
    "Account": EntityDef("Account", ("AccountCD",), ("AccountCD", "Type"), uppercase_keys=True),
    "Subaccount": EntityDef(
        "Subaccount", ("SubaccountCD",), ("SubaccountCD",), uppercase_keys=True
    ),
    "Invoice": EntityDef(
        "Invoice",
        ("Type", "ReferenceNbr"),
        ("Customer",),
        numbered=True,
        types=("Invoice", "Debit Memo", "Credit Memo"),
        details="Details",
    ),
    "Bill": EntityDef(
        "Bill",
        ("Type", "ReferenceNbr"),
        ("Vendor",),
        numbered=True,
        types=("Bill", "Credit Adj.", "Debit Adj.", "Prepayment"),
        details="Details",
    ),
    "Payment": EntityDef(
        "Payment",
        ("Type", "ReferenceNbr"),
        ("CustomerID",),
        numbered=True,
        types=("Payment", "Prepayment", "Refund", "Credit Memo"),
        details="DocumentsToApply",
    ),
    "ItemClass": EntityDef(
        "ItemClass",
        ("ClassID",),
        ("ClassID",),
        uppercase_keys=True,
        defaults=(
            ("StockItem", True),
            ("ItemType", "Finished Good"),
            ("ValuationMethod", "Average"),
            ("BaseUOM", "EA"),
        ),
    ),
    "StockItem": EntityDef(
        "StockItem",
        ("InventoryID",),
        ("InventoryID", "Description"),
        uppercase_keys=True,
        defaults=(
            ("ItemStatus", "Active"),
            ("ItemType", "Finished Good"),
            ("ValuationMethod", "Average"),
            ("BaseUOM", "EA"),
            ("SalesUOM", "EA"),
            ("PurchaseUOM", "EA"),
        ),
    ),
    "NonStockItem": EntityDef(
        "NonStockItem",
        ("InventoryID",),
        ("InventoryID", "Description"),
        uppercase_keys=True,
        defaults=(
            ("ItemStatus", "Active"),
            ("ItemType", "Non-Stock Item"),
            ("BaseUnit", "EA"),
            ("SalesUnit", "EA"),
            ("PurchaseUnit", "EA"),
            ("RequireReceipt", False),
            ("RequireShipment", False),
        ),
    ),
    "SalesOrder": EntityDef(
        "SalesOrder",
        ("OrderType", "OrderNbr"),
        ("CustomerID",),
        numbered=True,
        types=("SO", "QT", "IN", "CM", "RM"),
        number_field="OrderNbr",
        type_field="OrderType",
        details="Details",
    ),
    "JournalTransaction": EntityDef(
        "JournalTransaction",
        ("Module", "BatchNbr"),
        numbered=True,
        types=("GL",),
        number_field="BatchNbr",
        type_field="Module",
        date_field="TransactionDate",
        details="Details",
        defaults=(("LedgerID", "ACTUAL"),),
    ),
    "Check": EntityDef(
        "Check",
        ("Type", "ReferenceNbr"),
        ("Vendor", "CashAccount"),
        numbered=True,
        types=("Payment", "Prepayment", "Debit Adj.", "Refund"),
        date_field="ApplicationDate",
        details="Details",
        defaults=(("PaymentMethod", "CHECK"),),
    ),
}

#: The inquiry entity that lists the company's branches (read with ``PUT`` + ``$expand=Results``).
COMPANIES_STRUCTURE: Final = "CompaniesStructure"

#: Account types the Account entity accepts.
ACCOUNT_TYPES: Final = ("Asset", "Liability", "Income", "Expense")


def _posting(*uses: str) -> dict[str, str]:
    """An item's posting fields (``SalesAccount``, ``SalesSubaccount``…) and what they name."""
    return {f"{use}{part}": part for use in uses for part in ("Account", "Subaccount")}


#: Fields whose value must name an existing record, per schema (top-level or detail row).
REFERENCES: Final[dict[str, dict[str, str]]] = {
    "Customer": {"ShippingBranch": BRANCH, "Terms": TERMS_ID},
    "Vendor": {
        "Terms": TERMS_ID,
        "APAccount": "Account",
        "APSubaccount": "Subaccount",
        "CashAccount": CASH_ACCOUNT,
        "ReceivingBranch": BRANCH,
    },
    "Bill": {
        "Vendor": "Vendor",
        "BranchID": BRANCH,
        "CashAccount": CASH_ACCOUNT,
        "Terms": TERMS_ID,
    },
    "BillDetail": {"Account": "Account", "Subaccount": "Subaccount", "Branch": BRANCH},
    "Invoice": {
        "Customer": "Customer",
        "LinkBranch": BRANCH,
        "LinkARAccount": "Account",
        "Terms": TERMS_ID,
    },
    "InvoiceDetail": {"Account": "Account", "Subaccount": "Subaccount", "Branch": BRANCH},
    "Payment": {
        "CustomerID": "Customer",
        "Branch": BRANCH,
        "BranchID": BRANCH,
        "CashAccount": CASH_ACCOUNT,
    },
    "StockItem": {"ItemClass": "ItemClass", **_posting("COGS", "Inventory", "Sales")},
    "NonStockItem": {"ItemClass": "ItemClass", **_posting("Expense", "Sales")},
    "SalesOrder": {"CustomerID": "Customer", "Branch": BRANCH},
    "SalesOrderDetail": {"InventoryID": ITEM, "Branch": BRANCH, "Account": "Account"},
    "JournalTransaction": {"BranchID": BRANCH},
    "JournalTransactionDetail": {
        "Account": "Account",
        "Subaccount": "Subaccount",
        "BranchID": BRANCH,
    },
    "Check": {"Vendor": "Vendor", "CashAccount": CASH_ACCOUNT},
}

#: Credit terms of the company and their days until due (Terms screen CS206500). The
#: Default endpoint has no Terms entity, so they are fixed here like the branches.
TERMS: Final[dict[str, int]] = {"30D": 30, "15D": 15, "60D": 60, "COD": 0}

#: Fields the server computes; values posted for them are ignored, as the real API does.
COMPUTED: Final = frozenset(
    {
        "LastModifiedDateTime",
        "CreatedDateTime",
        "Status",
        "Balance",
        "AppliedToDocuments",
        "AvailableBalance",
        "BAccountID",
        "AccountID",
        "OrderTotal",
        "OrderedQty",
        "UnappliedBalance",
        "SubaccountID",
        "NoteID",
    }
)


#: A business account's Status is the user's to set (the Customers and Vendors screens offer
#: it); a document's Status follows its lifecycle and is computed.
ACCOUNT_STATUSES: Final = {
    "Customer": ("Active", "OnHold", "CreditHold", "Inactive", "OneTime"),
    "Vendor": ("Active", "OnHold", "HoldPayments", "Inactive", "OneTime"),
}


def computed_fields(entity: str) -> frozenset[str]:
    """The fields of ``entity`` whose posted values are ignored."""
    return COMPUTED - {"Status"} if entity in ACCOUNT_STATUSES else COMPUTED


def fields_of(schema: str) -> dict[str, Field]:
    """The fields of a schema; KeyError for a schema the contract does not define."""
    return SCHEMAS[schema]
