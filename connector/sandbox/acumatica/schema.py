"""The contract the simulator enforces: field kinds from the OpenAPI file, plus entity rules.

:data:`SCHEMAS` is :data:`._spec.RAW_SCHEMAS` parsed into :class:`Field` objects: every field
name the ``Default`` endpoint defines for the simulated entities, their linked entities and
their detail rows, with its value-object type. :data:`ENTITIES` adds what the OpenAPI file
does not say and the real system enforces: key fields, auto-numbering, required fields,
document types, actions and which fields refer to other records.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from connector.sandbox.acumatica._spec import RAW_SCHEMAS

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


class Field(msgspec.Struct, frozen=True):
    """One field of a schema: a scalar value object, a linked entity or a detail array."""

    name: str
    kind: str
    """A scalar kind (``str``, ``dec``…) or ``obj`` / ``list``."""
    target: str | None = None
    """The schema of a linked entity or detail row; None for scalars."""


def _parse(raw: str) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for token in raw.split():
        name, _, kind = token.partition(":")
        if kind.startswith(("obj:", "list:")):
            container, _, target = kind.partition(":")
            fields[name] = Field(name, container, target)
        else:
            fields[name] = Field(name, kind)
    return fields


SCHEMAS: Final[dict[str, dict[str, Field]]] = {
    name: _parse(raw) for name, raw in RAW_SCHEMAS.items()
}


class EntityDef(msgspec.Struct, frozen=True):
    """How the simulator treats one top-level entity of the Default endpoint."""

    name: str
    keys: tuple[str, ...]
    """Key fields, in URL order (``/Bill/{Type}/{ReferenceNbr}``)."""
    required: tuple[str, ...] = ()
    """Fields a new record must carry (after defaults are applied)."""
    numbered: bool = False
    """Documents whose ReferenceNbr comes from an auto-numbering sequence."""
    types: tuple[str, ...] = ()
    """Allowed ``Type`` values; the first is the default."""
    uppercase_keys: bool = False
    """Segmented keys are entered through an uppercase input mask, so 'c01' is stored 'C01'."""
    actions: tuple[str, ...] = ()
    details: str | None = None
    """The detail array a document computes its totals from."""


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
        actions=("ReleaseInvoice",),
        details="Details",
    ),
    "Bill": EntityDef(
        "Bill",
        ("Type", "ReferenceNbr"),
        ("Vendor",),
        numbered=True,
        types=("Bill", "Credit Adj.", "Debit Adj.", "Prepayment"),
        actions=("ReleaseBill",),
        details="Details",
    ),
    "Payment": EntityDef(
        "Payment",
        ("Type", "ReferenceNbr"),
        ("CustomerID",),
        numbered=True,
        types=("Payment", "Prepayment", "Refund", "Credit Memo"),
        actions=("ReleasePayment",),
        details="DocumentsToApply",
    ),
}

#: The inquiry entity that lists the company's branches (read with ``PUT`` + ``$expand=Results``).
COMPANIES_STRUCTURE: Final = "CompaniesStructure"

#: Account types the Account entity accepts.
ACCOUNT_TYPES: Final = ("Asset", "Liability", "Income", "Expense")

#: Fields whose value must name an existing record, per schema (top-level or detail row).
REFERENCES: Final[dict[str, dict[str, str]]] = {
    "Customer": {"ShippingBranch": BRANCH},
    "Vendor": {
        "APAccount": "Account",
        "APSubaccount": "Subaccount",
        "CashAccount": CASH_ACCOUNT,
        "ReceivingBranch": BRANCH,
    },
    "Bill": {"Vendor": "Vendor", "BranchID": BRANCH, "CashAccount": CASH_ACCOUNT},
    "BillDetail": {"Account": "Account", "Subaccount": "Subaccount", "Branch": BRANCH},
    "Invoice": {"Customer": "Customer", "LinkBranch": BRANCH, "LinkARAccount": "Account"},
    "InvoiceDetail": {"Account": "Account", "Subaccount": "Subaccount", "Branch": BRANCH},
    "Payment": {
        "CustomerID": "Customer",
        "Branch": BRANCH,
        "BranchID": BRANCH,
        "CashAccount": CASH_ACCOUNT,
    },
}

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
