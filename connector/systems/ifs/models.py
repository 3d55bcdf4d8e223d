"""IFS Cloud rows as msgspec models, one per entity set the flows use (sheet §4).

Attributes are snake_case; on the wire they are IFS's PascalCase (``vendor_no`` →
``VendorNo``, ``code_b`` → ``CodeB``, ``voucher_text2`` → ``VoucherText2``). Every row read
from IFS carries its ``etag`` (``@odata.etag``, opaque: sent back unchanged in If-Match) and
its ``keyref`` (``ORDER_NO=P100231^``), the stable identity a cursor keeps. Only the
attributes the flows use are declared; reads ignore the rest.

Each entity class names where it lives (:attr:`Entity.projection`, :attr:`Entity.entity_set`),
its keys in URL order, and the date attribute an incremental read filters on
(:attr:`Entity.window_field`): IFS has no generic last-modified column, so a changed row is
one whose ETag differs from the one last seen inside a window on that date (sheet §3).

Timestamps stay text: IFS writes site wall-clock time with a ``Z`` suffix, so decoding them
as UTC would be wrong by the site's offset (see :func:`.odata.site_time`).

Writes use the ``New…`` and ``…Changes`` structs, which leave out every unset attribute and
every attribute IFS assigns itself (``RecordNo``, ``Objstate``, dates of entry).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import msgspec


class Row(msgspec.Struct, kw_only=True, frozen=True, rename="pascal"):
    """Metadata every row read from a projection carries."""

    etag: str = msgspec.field(default="", name="@odata.etag")
    keyref: str = msgspec.field(default="", name="keyref")
    luname: str = msgspec.field(default="", name="luname")


class Entity(Row, kw_only=True, frozen=True):
    """A row of an entity set the client reads by key and lists."""

    projection: ClassVar[str]
    entity_set: ClassVar[str]
    keys: ClassVar[tuple[str, ...]]
    """Key attributes, wire names, in URL order."""
    window_field: ClassVar[str | None] = None
    """The date attribute incremental reads filter on (``ge``), or None (read it whole)."""
    entity_type: ClassVar[str] = ""
    """The entity's name where it differs from the set's (bound actions are named after it)."""

    def key_values(self) -> tuple[str | int, ...]:
        """The row's key values in :attr:`keys` order."""
        by_wire = {f.encode_name: f.name for f in msgspec.structs.fields(type(self))}
        return tuple(getattr(self, by_wire[key]) for key in self.keys)

    def describe(self) -> str:
        """How errors name the row (``PurchaseOrder P100231``)."""
        return f"{self.luname or type(self).__name__} {'/'.join(map(str, self.key_values()))}"


class PurchaseOrder(Entity, kw_only=True, frozen=True):
    projection: ClassVar[str] = "PurchaseOrderHandling"
    entity_set: ClassVar[str] = "PurchaseOrderSet"
    keys: ClassVar[tuple[str, ...]] = ("OrderNo",)
    window_field: ClassVar[str | None] = "OrderDate"

    order_no: str
    contract: str | None = None
    vendor_no: str | None = None
    order_date: dt.date | None = None
    wanted_receipt_date: dt.date | None = None
    currency_code: str | None = None
    buyer_code: str | None = None
    tax_liability: str | None = None
    note_text: str | None = None
    date_entered: str | None = None
    objstate: str | None = None
    vendor_no_ref: Supplier | None = None
    """The supplier, when read with ``expand=["VendorNoRef"]``."""


class PurchaseOrderLine(Entity, kw_only=True, frozen=True):
    projection: ClassVar[str] = "PurchaseOrderLinesHandling"
    entity_set: ClassVar[str] = "PurchaseOrderLineSet"
    keys: ClassVar[tuple[str, ...]] = ("OrderNo", "LineNo", "ReleaseNo")
    window_field: ClassVar[str | None] = "PlannedReceiptDate"

    order_no: str
    line_no: str
    release_no: str
    part_no: str | None = None
    description: str | None = None
    buy_qty_due: float | None = None
    buy_unit_meas: str | None = None
    fbuy_unit_price: float | None = None
    planned_receipt_date: dt.date | None = None
    objstate: str | None = None


class Supplier(Entity, kw_only=True, frozen=True):
    projection: ClassVar[str] = "SuppliersHandling"
    entity_set: ClassVar[str] = "SupplierInfoGeneralSet"
    keys: ClassVar[tuple[str, ...]] = ("SupplierId",)
    window_field: ClassVar[str | None] = "CreationDate"

    supplier_id: str
    name: str | None = None
    country: str | None = None
    default_language: str | None = None
    supplier_category: str | None = None
    creation_date: dt.date | None = None


class ExternalVoucherRow(Entity, kw_only=True, frozen=True):
    """A row of an external voucher load (``ExtTransactions``): how GL entries go in."""

    projection: ClassVar[str] = "ExternalVouchers"
    entity_set: ClassVar[str] = "ExternalVouchersSet"
    keys: ClassVar[tuple[str, ...]] = ("Company", "LoadId", "RecordNo")
    window_field: ClassVar[str | None] = "TransactionDate"

    company: str
    load_id: str
    record_no: int
    transaction_date: dt.date | None = None
    voucher_type: str | None = None
    account: str | None = None
    code_b: str | None = None
    code_c: str | None = None
    code_d: str | None = None
    code_e: str | None = None
    code_f: str | None = None
    code_g: str | None = None
    code_h: str | None = None
    code_i: str | None = None
    code_j: str | None = None
    currency_code: str | None = None
    currency_debet_amount: float | None = None
    currency_credit_amount: float | None = None
    debet_amount: float | None = None
    credit_amount: float | None = None
    quantity: float | None = None
    optional_code: str | None = None
    text: str | None = None
    correction: bool = False
    load_error: str | None = None
    objstate: str | None = None
    """``Loaded`` → ``Checked`` → ``Updated`` (turned into a voucher)."""


class ExternalLoad(Entity, kw_only=True, frozen=True):
    """An external voucher load (``ExtLoadInfo``); its actions check and post its rows."""

    projection: ClassVar[str] = "ExternalVoucherLoadInformationHandling"
    entity_set: ClassVar[str] = "ExtLoadInfoSet"
    keys: ClassVar[tuple[str, ...]] = ("Company", "LoadId")
    entity_type: ClassVar[str] = "ExtLoadInfo"

    company: str
    load_id: str
    userid: str | None = None
    ext_load_state: str | None = None


class Voucher(Entity, kw_only=True, frozen=True):
    projection: ClassVar[str] = "VoucherHandling"
    entity_set: ClassVar[str] = "VoucherSet"
    keys: ClassVar[tuple[str, ...]] = ("Company", "AccountingYear", "VoucherType", "VoucherNo")
    window_field: ClassVar[str | None] = "VoucherDate"

    company: str
    accounting_year: int
    voucher_type: str
    voucher_no: int
    voucher_date: dt.date | None = None
    date_reg: dt.date | None = None
    voucher_text2: str | None = None
    objstate: str | None = None


class VoucherRow(Entity, kw_only=True, frozen=True):
    """A GL row of a voucher (read only): what the postings stream reads."""

    projection: ClassVar[str] = "VoucherRowsAnalysis"
    entity_set: ClassVar[str] = "VoucherRowSet"
    keys: ClassVar[tuple[str, ...]] = (
        "Company",
        "AccountingYear",
        "VoucherType",
        "VoucherNo",
        "RowNo",
    )
    window_field: ClassVar[str | None] = "VoucherDate"

    company: str
    accounting_year: int
    voucher_type: str
    voucher_no: int
    row_no: int
    voucher_date: dt.date | None = None
    account: str | None = None
    code_b: str | None = None
    code_c: str | None = None
    currency_code: str | None = None
    currency_debet_amount: float | None = None
    currency_credit_amount: float | None = None
    debet_amount: float | None = None
    credit_amount: float | None = None
    text: str | None = None


class Account(Entity, kw_only=True, frozen=True):
    projection: ClassVar[str] = "AccountsHandling"
    entity_set: ClassVar[str] = "AccountSet"
    keys: ClassVar[tuple[str, ...]] = ("Company", "Account")

    company: str
    account: str
    description: str | None = None
    accnt_type: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class CodePartValue(Row, kw_only=True, frozen=True):
    """A value of code part B…J (cost center, project…): ``Code{X}Handling.svc/Code{X}Set``.

    The value's attribute is named after its part (``CodeB``), so every part is declared and
    :attr:`value` gives the one that is set.
    """

    company: str
    description: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    code_b: str | None = None
    code_c: str | None = None
    code_d: str | None = None
    code_e: str | None = None
    code_f: str | None = None
    code_g: str | None = None
    code_h: str | None = None
    code_i: str | None = None
    code_j: str | None = None

    @property
    def value(self) -> str | None:
        for letter in "bcdefghij":
            found: str | None = getattr(self, f"code_{letter}")
            if found is not None:
                return found
        return None


# -- writes -------------------------------------------------------------------------------
class WriteBody(msgspec.Struct, kw_only=True, frozen=True, rename="pascal", omit_defaults=True):
    """Base of bodies sent to IFS: unset attributes are left out, never sent as null."""


class NewExternalVoucherRow(WriteBody, kw_only=True, frozen=True):
    """A row to post into an external load; ``RecordNo`` is assigned by IFS."""

    company: str
    load_id: str
    account: str
    correction: bool
    """Required by IFS on every row, so it has no default (and is always sent)."""
    transaction_date: dt.date | None = None
    voucher_type: str | None = None
    code_b: str | None = None
    code_c: str | None = None
    code_d: str | None = None
    code_e: str | None = None
    code_f: str | None = None
    code_g: str | None = None
    code_h: str | None = None
    code_i: str | None = None
    code_j: str | None = None
    currency_code: str | None = None
    currency_debet_amount: float | None = None
    currency_credit_amount: float | None = None
    debet_amount: float | None = None
    credit_amount: float | None = None
    quantity: float | None = None
    optional_code: str | None = None
    text: str | None = None


class NewSupplier(WriteBody, kw_only=True, frozen=True):
    supplier_id: str
    name: str
    country: str | None = None
    default_language: str | None = None
    supplier_category: str | None = None


class PurchaseOrderChanges(WriteBody, kw_only=True, frozen=True):
    note_text: str | None = None
    wanted_receipt_date: dt.date | None = None


class SupplierChanges(WriteBody, kw_only=True, frozen=True):
    name: str | None = None
    country: str | None = None
    supplier_category: str | None = None


class VoucherChanges(WriteBody, kw_only=True, frozen=True):
    voucher_text2: str | None = None


class ExternalVoucherRowChanges(WriteBody, kw_only=True, frozen=True):
    account: str | None = None
    code_b: str | None = None
    code_c: str | None = None
    text: str | None = None


class Page(msgspec.Struct, frozen=True):
    """One page of a list; the next page is at ``next_link`` (relative) when it is set."""

    value: list[msgspec.Raw]
    next_link: str | None = msgspec.field(default=None, name="@odata.nextLink")
