"""The wire records: what the Table API returns with ``sysparm_display_value=false`` and
``sysparm_exclude_reference_link=true`` (every value a string, references as bare sys_ids),
and what the Import Set API takes and answers.

Each read model names its table and asks only for its own fields (``sysparm_fields`` is built
from the struct), so the answer always fits. Column names follow the sheet's assumption
(snake_case of the documented labels, confirmed per instance in ``sys_dictionary``).
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

# -- Table API records -------------------------------------------------------------------


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """Fields every row has. ``sys_mod_count`` rises by one per update (a string, as all)."""

    TABLE: ClassVar[str]

    sys_id: str
    sys_updated_on: str
    sys_mod_count: str = "0"

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return cls.__struct_fields__


class Supplier(Record, frozen=True, kw_only=True):
    TABLE: ClassVar[str] = "sn_fin_supplier"
    number: str = ""
    name: str = ""
    company: str = ""
    erp_supplier_id: str = ""
    erp_source: str = ""
    active: str = ""


class GlAccount(Record, frozen=True, kw_only=True):
    TABLE: ClassVar[str] = "sn_fin_gl_account"
    number: str = ""
    account_name: str = ""
    entity: str = ""
    type: str = ""
    erp_source: str = ""
    active: str = ""


class CostCenter(Record, frozen=True, kw_only=True):
    TABLE: ClassVar[str] = "cmn_cost_center"
    code: str = ""
    name: str = ""
    legal_entity: str = ""
    valid_from: str = ""
    valid_to: str = ""
    erp_source: str = ""
    active: str = ""


class Invoice(Record, frozen=True, kw_only=True):
    TABLE: ClassVar[str] = "sn_shop_invoice"
    number: str = ""
    supplier: str = ""
    purchase_order: str = ""
    external_invoice_number: str = ""
    external_invoice_source: str = ""
    erp_source: str = ""
    invoice_date: str = ""
    other_charges: str = ""
    subtotal: str = ""
    currency: str = ""
    state: str = ""


class InvoiceLine(Record, frozen=True, kw_only=True):
    TABLE: ClassVar[str] = "sn_shop_invoice_line"
    invoice: str = ""
    erp_line_number: str = ""
    line_description: str = ""
    cost_center: str = ""
    gl_account: str = ""
    line_quantity: str = ""
    line_unit_price: str = ""
    subtotal: str = ""
    erp_source: str = ""


class PurchaseOrder(Record, frozen=True, kw_only=True):
    TABLE: ClassVar[str] = "sn_shop_purchase_order"
    number: str = ""
    erp_po_number: str = ""
    erp_source: str = ""
    supplier: str = ""
    total_amount: str = ""
    state: str = ""


class PurchaseOrderLine(Record, frozen=True, kw_only=True):
    TABLE: ClassVar[str] = "sn_shop_purchase_order_line"
    purchase_order: str = ""
    erp_po_number: str = ""
    erp_po_line_number: str = ""
    erp_source: str = ""
    quantity: str = ""
    unit_price: str = ""


class Watermark(msgspec.Struct, frozen=True):
    """The incremental cursor ``(sys_updated_on, sys_id)`` of a table read: rows after it
    are those updated later, or in the same second with a greater sys_id."""

    updated_on: str = "1970-01-01 00:00:00"
    sys_id: str = ""

    @classmethod
    def of(cls, record: Record) -> Watermark:
        return cls(record.sys_updated_on, record.sys_id)


# -- Import Set API ----------------------------------------------------------------------


class StagingRow(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One row for an Import Set staging table; every value a string, empty ones not sent.

    ``LABELS`` maps column names to the labels ``insertMultiple`` expects as keys.
    """

    STAGING: ClassVar[str]
    LABELS: ClassVar[dict[str, str]]

    def describe(self) -> str:
        raise NotImplementedError


class InvoiceImport(StagingRow, frozen=True, kw_only=True, omit_defaults=True):
    STAGING: ClassVar[str] = "sn_spend_intg_imp_invoice"
    LABELS: ClassVar[dict[str, str]] = {
        "erp_source": "ERP source",
        "external_invoice_number": "External invoice number",
        "external_invoice_source": "External invoice source",
        "invoice_date": "Invoice date",
        "other_charges": "Other charges",
        "subtotal": "Subtotal",
        "supplier": "Supplier",
        "supplier_invoice_number": "Supplier invoice number",
        "purchase_order": "Purchase order",
        "currency": "Currency",
    }
    erp_source: str
    external_invoice_number: str
    external_invoice_source: str
    #: ``yyyy-mm-dd``.
    invoice_date: str
    other_charges: str
    subtotal: str
    #: The supplier's *name*, as on ``sn_fin_supplier`` (the documented meaning).
    supplier: str
    supplier_invoice_number: str = ""
    #: The ERP PO number the invoice is raised against.
    purchase_order: str = ""
    currency: str = ""

    def describe(self) -> str:
        return f"invoice {self.external_invoice_number} of supplier {self.supplier}"


class InvoiceLineImport(StagingRow, frozen=True, kw_only=True, omit_defaults=True):
    STAGING: ClassVar[str] = "sn_spend_intg_imp_invoice_line"
    LABELS: ClassVar[dict[str, str]] = {
        "erp_source": "ERP source",
        "external_invoice_number": "External invoice number",
        "external_invoice_source": "External invoice source",
        "erp_line_number": "ERP line number",
        "line_description": "Line description",
        "cost_center": "Cost center",
        "gl_account": "GL account",
        "line_quantity": "Line quantity",
        "line_unit_price": "Line unit price",
        "subtotal": "Subtotal",
        "currency": "Currency",
    }
    erp_source: str
    #: Links the line to its header (imported first).
    external_invoice_number: str
    external_invoice_source: str
    line_description: str
    line_quantity: str
    line_unit_price: str
    subtotal: str
    erp_line_number: str = ""
    #: Cost center code and GL account number, resolved by the transform.
    cost_center: str = ""
    gl_account: str = ""
    currency: str = ""

    def describe(self) -> str:
        return f"invoice {self.external_invoice_number} line {self.erp_line_number or '?'}"


class PurchaseOrderImport(StagingRow, frozen=True, kw_only=True, omit_defaults=True):
    STAGING: ClassVar[str] = "sn_fcms_intg_imp_order"
    LABELS: ClassVar[dict[str, str]] = {
        "erp_po_number": "ERP PO number",
        "erp_source": "ERP source",
        "supplier_company_name": "Supplier company name",
        "po_amount": "PO amount",
        "po_amount_currency": "PO amount currency",
        "legal_entity": "Legal entity",
        "cost_center": "Cost center",
    }
    erp_po_number: str
    erp_source: str
    supplier_company_name: str = ""
    po_amount: str = ""
    po_amount_currency: str = ""
    legal_entity: str = ""
    cost_center: str = ""

    def describe(self) -> str:
        return f"purchase order {self.erp_po_number}"


class PurchaseOrderLineImport(StagingRow, frozen=True, kw_only=True, omit_defaults=True):
    STAGING: ClassVar[str] = "sn_fcms_intg_imp_order_line"
    LABELS: ClassVar[dict[str, str]] = {
        "erp_source": "ERP source",
        "erp_po_number": "ERP PO number",
        "erp_po_line_number": "ERP PO line number",
        "quantity": "Quantity",
        "unit_price": "Unit price",
    }
    erp_source: str
    erp_po_number: str
    erp_po_line_number: str
    quantity: str = ""
    unit_price: str = ""

    def describe(self) -> str:
        return f"purchase order {self.erp_po_number} line {self.erp_po_line_number}"


class SupplierImport(StagingRow, frozen=True, kw_only=True, omit_defaults=True):
    STAGING: ClassVar[str] = "sn_fcms_intg_imp_supplier"
    LABELS: ClassVar[dict[str, str]] = {
        "company": "Company",
        "erp_source": "ERP source",
        "erp_supplier_id": "ERP supplier ID",
    }
    #: The supplier's company name; it becomes the supplier's name, which invoices refer to.
    company: str
    erp_source: str
    #: Not on the documented stage (Company, Zip/Postal code, ERP source): an assumption to
    #: confirm in sys_dictionary, since lookups by ERP code depend on it.
    erp_supplier_id: str = ""

    def describe(self) -> str:
        return f"supplier {self.erp_supplier_id or self.company}"


class GlAccountImport(StagingRow, frozen=True, kw_only=True, omit_defaults=True):
    STAGING: ClassVar[str] = "sn_fcms_intg_gl_account_stage"
    LABELS: ClassVar[dict[str, str]] = {
        "number": "Number",
        "account_name": "Account name",
        "entity": "Entity",
        "type": "Type",
        "erp_source": "ERP source",
    }
    number: str
    account_name: str
    entity: str
    type: str
    erp_source: str

    def describe(self) -> str:
        return f"GL account {self.number}"


class CostCenterImport(StagingRow, frozen=True, kw_only=True, omit_defaults=True):
    STAGING: ClassVar[str] = "sn_fcms_intg_imp_cost_center"
    LABELS: ClassVar[dict[str, str]] = {
        "code": "Code",
        "name": "Name",
        "legal_entity": "Legal entity",
        "valid_from": "Valid from",
        "valid_to": "Valid to",
        "erp_source": "ERP source",
    }
    code: str
    name: str
    legal_entity: str
    erp_source: str
    valid_from: str = ""
    valid_to: str = ""

    def describe(self) -> str:
        return f"cost center {self.code}"


class ImportResult(msgspec.Struct, frozen=True):
    """One row's transform outcome; ``sys_id`` is the target record's (unless an error)."""

    status: str
    sys_id: str = ""
    table: str = ""
    transform_map: str = ""
    display_name: str = ""
    display_value: str = ""
    record_link: str = ""
    status_message: str | None = None
    error_message: str | None = None


class ImportResponse(msgspec.Struct, frozen=True):
    result: list[ImportResult]
    import_set: str = ""
    staging_table: str = ""


class MultiImportResponse(msgspec.Struct, frozen=True):
    import_set_id: str
    multi_import_set_id: str = ""


class StagingState(msgspec.Struct, frozen=True):
    """What a staging row says about its own transform (read back through the Table API)."""

    sys_id: str
    sys_import_state: str = ""
    sys_target_sys_id: str = ""
    sys_target_table: str = ""
    sys_row_error: str = ""
    sys_import_state_comment: str = ""
