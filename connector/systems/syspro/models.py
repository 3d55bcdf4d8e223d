"""Typed SYSPRO documents (what the connector writes) and records (what it reads back).

Documents are frozen msgspec Structs that :mod:`.documents` turns into XMLIN with
ElementTree; records come from COMFND rows (:mod:`.client`) or OData (:mod:`.odata`). Amounts
are ``Decimal`` and dates ``date`` throughout: SYSPRO's CCYY-MM-DD text and its number
formats exist only on the wire.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Literal

import msgspec

PostingPeriod = Literal["C", "P", "B"]


class PostOptions(msgspec.Struct, frozen=True, kw_only=True):
    """The common business-object parameters.

    The defaults are the connector's safe choice: all or nothing
    (``ApplyIfEntireDocumentValid`` Y), warnings not ignored, really post.
    """

    validate_only: bool = False
    apply_if_entire_document_valid: bool = True
    ignore_warnings: Literal["N", "Y", "W"] = "N"
    posting_period: PostingPeriod = "C"
    """APSTIN only: C current period, P previous, B by invoice date."""


# -- documents the connector writes ------------------------------------------------------
class LedgerLine(msgspec.Struct, frozen=True, kw_only=True):
    """One GL distribution line of an AP invoice (``LedgerDistribution``)."""

    ledger_code: str
    value: Decimal
    tax_code: str = ""
    notation: str = ""


class ApInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """An AP invoice for APSTIN. Natural key: ``supplier`` + ``invoice``."""

    supplier: str
    invoice: str
    invoice_date: dt.date
    value: Decimal
    """``TransactionValue``: the invoice total including tax."""
    tax_value: Decimal = Decimal(0)
    tax_code: str = ""
    due_date: dt.date | None = None
    branch: str = ""
    reference: str = ""
    """``TransactionReference``: where the connector records the source document's id."""
    notation: str = ""
    transaction_code: Literal["I", "A", "C", "D"] = "I"
    lines: tuple[LedgerLine, ...] = ()

    @property
    def record(self) -> str:
        return f"AP invoice {self.invoice} of supplier {self.supplier}"


class Supplier(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier for APSSSP. Natural key: ``code``. ``None`` fields are left as they are."""

    code: str
    name: str | None = None
    short_name: str | None = None
    branch: str | None = None
    terms_code: str | None = None
    currency: str | None = None
    address: tuple[str, ...] = ()
    """Up to five address lines (``SupAddr1``..``SupAddr5``)."""
    postal_code: str | None = None
    email: str | None = None
    on_hold: bool | None = None
    supplier_class: str | None = None
    tax_code: str | None = None

    @property
    def record(self) -> str:
        return f"supplier {self.code}"


class PurchaseOrderLine(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    stock_code: str
    quantity: Decimal
    price: Decimal
    warehouse: str = ""
    """Blank = the order's warehouse."""
    ledger_code: str = ""


class PurchaseOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A purchase order for PORTOI. Natural key: ``number`` (sent, never left to SYSPRO)."""

    number: str
    supplier: str
    order_date: dt.date
    warehouse: str
    lines: tuple[PurchaseOrderLine, ...]
    reference: str = ""

    @property
    def record(self) -> str:
        return f"purchase order {self.number}"


class InventoryAdjustment(msgspec.Struct, frozen=True, kw_only=True):
    """One INVTMA adjustment. Natural key: ``reference`` (+ stock code and warehouse)."""

    warehouse: str
    stock_code: str
    quantity: Decimal
    """Signed: negative takes stock out."""
    reference: str
    unit_of_measure: str = ""
    notation: str = ""
    ledger_code: str = ""

    @property
    def record(self) -> str:
        return f"inventory adjustment {self.reference} ({self.stock_code} in {self.warehouse})"


class LogonProfile(msgspec.Struct, frozen=True, kw_only=True):
    """``GetLogonProfile``: who and where the session is (a connection check)."""

    company_name: str
    operator_code: str
    company_date: dt.date | None = None
    local_currency: str = ""


# -- what posting answers -----------------------------------------------------------------
class PostedApInvoice(msgspec.Struct, frozen=True, kw_only=True):
    journal: int
    year: int
    month: int


class PostedAdjustment(msgspec.Struct, frozen=True, kw_only=True):
    journal: int
    gl_journal: int


# -- records read back (COMFND rows and OData entities) ----------------------------------
class _Table(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    """A row of a SYSPRO table; field names are the columns in PascalCase."""

    table: ClassVar[str]


class ApInvoiceRecord(_Table, frozen=True, kw_only=True):
    table: ClassVar[str] = "ApInvoice"

    supplier: str
    invoice: str
    trn_type: str = ""
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    post_date: dt.date | None = None
    orig_inv_value: Decimal = Decimal(0)
    tax_value: Decimal = Decimal(0)
    reference: str = ""
    journal: int = 0
    trn_year: int = 0
    trn_month: int = 0
    time_stamp: int = 0


class SupplierRecord(_Table, frozen=True, kw_only=True):
    table: ClassVar[str] = "ApSupplier"

    supplier: str
    supplier_name: str = ""
    currency: str = ""
    terms_code: str = ""
    on_hold: str = ""
    time_stamp: int = 0


class PurchaseOrderRecord(_Table, frozen=True, kw_only=True):
    table: ClassVar[str] = "PorMasterHdr"

    purchase_order: str
    supplier: str = ""
    order_date: dt.date | None = None
    warehouse: str = ""
    order_status: str = ""
    time_stamp: int = 0


class StockItemRecord(_Table, frozen=True, kw_only=True):
    table: ClassVar[str] = "InvMaster"

    stock_code: str
    description: str = ""
    stock_uom: str = ""
    time_stamp: int = 0


class PurchaseOrderLineRecord(_Table, frozen=True, kw_only=True):
    table: ClassVar[str] = "PorMasterDetail"

    purchase_order: str
    line: int = 0
    m_stock_code: str = ""
    m_warehouse: str = ""
    m_order_qty: Decimal = Decimal(0)
    m_price: Decimal = Decimal(0)
    m_gl_code: str = ""
    time_stamp: int = 0


class InventoryMovementRecord(_Table, frozen=True, kw_only=True):
    table: ClassVar[str] = "InvMovements"

    stock_code: str
    warehouse: str = ""
    entry_date: dt.date | None = None
    trn_qty: Decimal = Decimal(0)
    reference: str = ""
    journal: int = 0
    time_stamp: int = 0
