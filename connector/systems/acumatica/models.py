"""Acumatica entities of the ``Default`` endpoint as plain models (24.200.001 field names).

Field names and value types come from Acumatica's own OpenAPI definition of
``Default/24.200.001`` (``components.schemas``): ``StringValue`` → ``str``, ``DecimalValue`` →
``Decimal``, ``IntValue``/``ShortValue`` → ``int``, ``BooleanValue`` → ``bool``,
``DateTimeValue`` → ``datetime`` (``date`` for document dates, see :mod:`.values`). Attributes
are snake_case; :func:`wire_name` gives the contract's name (``vendor_ref`` → ``VendorRef``,
``branch_id`` → ``BranchID``, ``po_order_nbr`` → ``POOrderNbr``). Only the fields the flows
use are declared; reads ignore the rest.

Models hold plain values: wrapping in value objects happens in :mod:`.values`, never here
and never at a call site. Every field defaults to ``None``, which a PUT leaves out ("keep the
stored value"). Fields marked ``ReadOnly`` are computed by Acumatica and never sent.

Top-level entities subclass :class:`Entity`, which names the entity in the URL
(``/entity/Default/24.200.001/Bill``), its key fields in URL order, and whether a PUT of it can
be repeated harmlessly (master data keyed by its own id: yes; documents, whose number is
assigned on insert and whose lines are appended on every PUT: no).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

import msgspec

from connector.systems.acumatica.values import ReadOnly

#: Name parts the contract writes in capitals (``CustomerID``, ``AccountCD``, ``POLine``…).
_CAPITALS = {"id": "ID", "cd": "CD", "po": "PO", "ap": "AP", "ar": "AR", "uom": "UOM", "lc": "LC"}
#: Meta keys of the contract's ``Entity`` schema, spelled as they are on the wire.
_META = {"id": "id", "row_number": "rowNumber", "note": "note", "delete": "delete"}


def wire_name(attribute: str) -> str:
    """The contract's field name for a model attribute (see the module docstring)."""
    if attribute in _META:
        return _META[attribute]
    return "".join(_CAPITALS.get(part, part.capitalize()) for part in attribute.split("_"))


class Record(msgspec.Struct, kw_only=True, frozen=True, rename=wire_name):
    """Base of every model: the contract's ``Entity`` meta fields, wire names by rule."""

    id: str | None = None
    """The record's GUID; set on records read from Acumatica."""
    note: str | None = None


class Entity(Record, kw_only=True, frozen=True):
    """A top-level entity of the endpoint (has its own URL)."""

    entity: ClassVar[str]
    """The entity name in the URL."""
    keys: ClassVar[tuple[str, ...]]
    """Key fields (wire names) in URL order: ``/Bill/{Type}/{ReferenceNbr}``."""
    repeatable_put: ClassVar[bool] = False
    """Whether sending the same PUT twice leaves the same result (safe to retry)."""

    def describe(self) -> str:
        """How errors name this record (``bill INV-1 of vendor V10001``)."""
        return f"{self.entity} {self.id or '(new)'}"


# -- shared parts ---------------------------------------------------------------------------
class Address(Record, kw_only=True, frozen=True):
    """``Address`` (inside a contact)."""

    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Contact(Record, kw_only=True, frozen=True):
    """``Contact`` as linked from a customer or vendor (``MainContact``)."""

    display_name: str | None = None
    attention: str | None = None
    email: str | None = None
    phone1: str | None = None
    address: Address | None = None


# -- business accounts ----------------------------------------------------------------------
class Customer(Entity, kw_only=True, frozen=True):
    """``Customer``; key ``CustomerID`` (entered upper-case)."""

    entity: ClassVar[str] = "Customer"
    keys: ClassVar[tuple[str, ...]] = ("CustomerID",)
    repeatable_put: ClassVar[bool] = True

    customer_id: str | None = None
    customer_name: str | None = None
    customer_class: str | None = None
    terms: str | None = None
    currency_id: str | None = None
    #: ``Active``, ``Inactive``, ``OnHold``, ``CreditHold``…: writable, unlike documents'.
    status: str | None = None
    main_contact: Contact | None = None
    last_modified_date_time: ReadOnly[dt.datetime | None] = None

    def describe(self) -> str:
        return f"customer {self.customer_id}"


class Vendor(Entity, kw_only=True, frozen=True):
    """``Vendor``; key ``VendorID`` (entered upper-case)."""

    entity: ClassVar[str] = "Vendor"
    keys: ClassVar[tuple[str, ...]] = ("VendorID",)
    repeatable_put: ClassVar[bool] = True

    vendor_id: str | None = None
    vendor_name: str | None = None
    legal_name: str | None = None
    vendor_class: str | None = None
    terms: str | None = None
    currency_id: str | None = None
    #: ``Active``, ``Inactive``, ``OnHold``…: writable, unlike documents'.
    status: str | None = None
    main_contact: Contact | None = None
    last_modified_date_time: ReadOnly[dt.datetime | None] = None

    def describe(self) -> str:
        return f"vendor {self.vendor_id}"


# -- general ledger -------------------------------------------------------------------------
class Account(Entity, kw_only=True, frozen=True):
    """``Account`` (GL account); key ``AccountCD``. ``type``: Asset, Liability, Income,
    Expense."""

    entity: ClassVar[str] = "Account"
    keys: ClassVar[tuple[str, ...]] = ("AccountCD",)
    repeatable_put: ClassVar[bool] = True

    account_cd: str | None = None
    description: str | None = None
    type: str | None = None
    account_class: str | None = None
    active: bool | None = None
    cash_account: bool | None = None
    currency_id: str | None = None
    account_id: ReadOnly[int | None] = None
    last_modified_date_time: ReadOnly[dt.datetime | None] = None

    def describe(self) -> str:
        return f"account {self.account_cd}"


class Subaccount(Entity, kw_only=True, frozen=True):
    """``Subaccount``; key ``SubaccountCD``. Has no ``LastModifiedDateTime`` in the contract."""

    entity: ClassVar[str] = "Subaccount"
    keys: ClassVar[tuple[str, ...]] = ("SubaccountCD",)
    repeatable_put: ClassVar[bool] = True

    subaccount_cd: str | None = None
    description: str | None = None
    active: bool | None = None
    subaccount_id: ReadOnly[int | None] = None

    def describe(self) -> str:
        return f"subaccount {self.subaccount_cd}"


class Branch(Record, kw_only=True, frozen=True):
    """One row of the ``CompaniesStructure`` inquiry: the Default endpoint has no Branch
    entity, branches are codes documents refer to (``BranchID``, a line's ``Branch``)."""

    branch_id: str | None = None
    branch_name: str | None = None
    branch_status: bool | None = None
    branch_country: str | None = None
    base_currency_id: str | None = None
    company_id: str | None = None
    company_name: str | None = None


class CompaniesStructure(Entity, kw_only=True, frozen=True):
    """The inquiry that lists the companies and branches (read with ``PUT``)."""

    entity: ClassVar[str] = "CompaniesStructure"
    keys: ClassVar[tuple[str, ...]] = ()
    repeatable_put: ClassVar[bool] = True

    results: list[Branch] | None = None


# -- accounts receivable --------------------------------------------------------------------
class InvoiceDetail(Record, kw_only=True, frozen=True):
    """A line of an AR invoice (``InvoiceDetail``)."""

    line_nbr: ReadOnly[int | None] = None
    inventory_id: str | None = None
    transaction_description: str | None = None
    qty: Decimal | None = None
    uom: str | None = None
    unit_price: Decimal | None = None
    extended_price: ReadOnly[Decimal | None] = None
    discount_amount: Decimal | None = None
    amount: Decimal | None = None
    account: str | None = None
    subaccount: str | None = None
    branch: str | None = None
    tax_category: str | None = None


class Invoice(Entity, kw_only=True, frozen=True):
    """An AR document (``Invoice``); keys ``Type`` ("Invoice") and ``ReferenceNbr`` (assigned
    by the numbering sequence on insert). ``customer_order`` carries the source's reference."""

    entity: ClassVar[str] = "Invoice"
    keys: ClassVar[tuple[str, ...]] = ("Type", "ReferenceNbr")

    type: str | None = None
    reference_nbr: str | None = None
    customer: str | None = None
    customer_order: str | None = None
    date: dt.date | None = None
    due_date: dt.date | None = None
    post_period: str | None = None
    description: str | None = None
    terms: str | None = None
    hold: bool | None = None
    link_branch: str | None = None
    link_ar_account: str | None = None
    details: list[InvoiceDetail] | None = None
    amount: ReadOnly[Decimal | None] = None
    balance: ReadOnly[Decimal | None] = None
    status: ReadOnly[str | None] = None
    last_modified_date_time: ReadOnly[dt.datetime | None] = None

    def describe(self) -> str:
        number = self.reference_nbr or f"for order {self.customer_order}"
        return f"invoice {number} of customer {self.customer}"


class PaymentDetail(Record, kw_only=True, frozen=True):
    """A document a payment applies to (``PaymentDetail`` in ``DocumentsToApply``)."""

    doc_type: str | None = None
    reference_nbr: str | None = None
    amount_paid: Decimal | None = None
    description: str | None = None


class Payment(Entity, kw_only=True, frozen=True):
    """An AR payment (``Payment``); keys ``Type`` ("Payment") and ``ReferenceNbr``."""

    entity: ClassVar[str] = "Payment"
    keys: ClassVar[tuple[str, ...]] = ("Type", "ReferenceNbr")

    type: str | None = None
    reference_nbr: str | None = None
    customer_id: str | None = None
    payment_method: str | None = None
    cash_account: str | None = None
    payment_amount: Decimal | None = None
    payment_ref: str | None = None
    external_ref: str | None = None
    application_date: dt.date | None = None
    description: str | None = None
    hold: bool | None = None
    branch_id: str | None = None
    currency_id: str | None = None
    documents_to_apply: list[PaymentDetail] | None = None
    applied_to_documents: ReadOnly[Decimal | None] = None
    available_balance: ReadOnly[Decimal | None] = None
    status: ReadOnly[str | None] = None
    last_modified_date_time: ReadOnly[dt.datetime | None] = None

    def describe(self) -> str:
        number = self.reference_nbr or f"ref {self.payment_ref}"
        return f"payment {number} of customer {self.customer_id}"


# -- accounts payable -----------------------------------------------------------------------
class BillDetail(Record, kw_only=True, frozen=True):
    """A line of an AP bill (``BillDetail``)."""

    inventory_id: str | None = None
    transaction_description: str | None = None
    qty: Decimal | None = None
    uom: str | None = None
    unit_cost: Decimal | None = None
    extended_cost: Decimal | None = None
    amount: ReadOnly[Decimal | None] = None
    account: str | None = None
    subaccount: str | None = None
    branch: str | None = None
    tax_category: str | None = None
    po_order_type: str | None = None
    po_order_nbr: str | None = None
    po_line: int | None = None
    po_receipt_type: str | None = None
    po_receipt_nbr: str | None = None
    po_receipt_line: int | None = None


class Bill(Entity, kw_only=True, frozen=True):
    """An AP document (``Bill``); keys ``Type`` ("Bill") and ``ReferenceNbr``. The natural key
    to check before creating one is (``Vendor``, ``VendorRef``). The header's branch is
    ``BranchID``; a line's is ``Branch``."""

    entity: ClassVar[str] = "Bill"
    keys: ClassVar[tuple[str, ...]] = ("Type", "ReferenceNbr")

    type: str | None = None
    reference_nbr: str | None = None
    vendor: str | None = None
    vendor_ref: str | None = None
    branch_id: str | None = None
    date: dt.date | None = None
    due_date: dt.date | None = None
    post_period: str | None = None
    description: str | None = None
    terms: str | None = None
    hold: bool | None = None
    currency_id: str | None = None
    details: list[BillDetail] | None = None
    amount: ReadOnly[Decimal | None] = None
    balance: ReadOnly[Decimal | None] = None
    status: ReadOnly[str | None] = None
    last_modified_date_time: ReadOnly[dt.datetime | None] = None

    def describe(self) -> str:
        number = self.reference_nbr or f"ref {self.vendor_ref}"
        return f"bill {number} of vendor {self.vendor}"
