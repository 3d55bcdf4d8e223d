"""XmlParameters and XMLIN documents, built from the typed models with ElementTree.

Never by string concatenation: ElementTree escapes ``&``, ``<`` and quotes in supplier names
and references, which pasted text would turn into a malformed document (or worse, one whose
meaning a value can change). Element names come from SYSPRO's XSDs as the sheet lists them.
Documents go without an XML declaration: they travel as UTF-8 in the query string, so a
declared Windows-1252 would be a lie.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

import msgspec

from connector.systems.syspro.models import (
    ApInvoice,
    InventoryAdjustment,
    PostOptions,
    PurchaseOrder,
    Supplier,
)

AP_INVOICE_ROOT = "PostApInvoice"
SUPPLIER_ROOT = "SetupApSupplier"
PURCHASE_ORDER_ROOT = "PostPurchaseOrders"
ADJUSTMENT_ROOT = "PostInvAdjustments"
MAX_ADDRESS_LINES = 5

Operator = Literal["EQ", "NE", "LT", "LE", "GT", "GE", "LIKE"]


class Condition(msgspec.Struct, frozen=True):
    """One COMFND ``Expression``: ``column operator value``; conditions are ANDed."""

    column: str
    value: str
    operator: Operator = "EQ"


def serialise(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def parameters(root: str, options: PostOptions, *, posting_period: bool = False) -> str:
    """The XmlParameters document of a business object whose root is ``root``."""
    document = ET.Element(root)
    block = ET.SubElement(document, "Parameters")
    if posting_period:
        _leaf(block, "PostingPeriod", options.posting_period)
    _leaf(block, "IgnoreWarnings", options.ignore_warnings)
    _leaf(block, "ApplyIfEntireDocumentValid", _yes_no(options.apply_if_entire_document_valid))
    _leaf(block, "ValidateOnly", _yes_no(options.validate_only))
    return serialise(document)


def ap_invoice(invoice: ApInvoice) -> str:
    """APSTIN XMLIN: one ``<Item>`` with the invoice and its ledger distribution."""
    document = ET.Element(AP_INVOICE_ROOT)
    item = ET.SubElement(document, "Item")
    _leaf(item, "Supplier", invoice.supplier)
    _leaf(item, "TransactionCode", invoice.transaction_code)
    _optional(item, "Branch", invoice.branch)
    _leaf(item, "Invoice", invoice.invoice)
    _leaf(item, "TransactionValue", _amount(invoice.value))
    _leaf(item, "InvoiceDate", _date(invoice.invoice_date))
    if invoice.due_date is not None:
        _leaf(item, "DueDate", _date(invoice.due_date))
    _optional(item, "TaxCode", invoice.tax_code)
    _leaf(item, "TaxValue", _amount(invoice.tax_value))
    _optional(item, "TransactionReference", invoice.reference)
    _optional(item, "JournalNotation", invoice.notation)
    for line in invoice.lines:
        distribution = ET.SubElement(item, "LedgerDistribution")
        _leaf(distribution, "LedgerCode", line.ledger_code)
        _optional(distribution, "LedgerTaxCode", line.tax_code)
        _optional(distribution, "LedgerNotation", line.notation)
        _leaf(distribution, "LedgerValue", _amount(line.value))
    return serialise(document)


def supplier(record: Supplier) -> str:
    """APSSSP XMLIN: ``<Item><Key><Supplier>`` and every field that is not None."""
    if len(record.address) > MAX_ADDRESS_LINES:
        raise ValueError(
            f"supplier {record.code} has {len(record.address)} address lines; SYSPRO holds "
            f"{MAX_ADDRESS_LINES} (SupAddr1..SupAddr5): join the extra lines first"
        )
    document = ET.Element(SUPPLIER_ROOT)
    item = ET.SubElement(document, "Item")
    _leaf(ET.SubElement(item, "Key"), "Supplier", record.code)
    values: Iterable[tuple[str, str | None]] = (
        ("SupplierName", record.name),
        ("SupShortName", record.short_name),
        ("Branch", record.branch),
        ("TermsCode", record.terms_code),
        ("Currency", record.currency),
        *((f"SupAddr{n}", line) for n, line in enumerate(record.address, start=1)),
        ("SupPostalCode", record.postal_code),
        ("Email", record.email),
        ("OnHold", None if record.on_hold is None else _yes_no(record.on_hold)),
        ("SupplierClass", record.supplier_class),
        ("DefTaxCode", record.tax_code),
    )
    for name, value in values:
        if value is not None:
            _leaf(item, name, value)
    return serialise(document)


def purchase_order(order: PurchaseOrder) -> str:
    """PORTOI XMLIN: one ``<Orders>`` (action A) with its stock lines."""
    document = ET.Element(PURCHASE_ORDER_ROOT)
    orders = ET.SubElement(document, "Orders")
    header = ET.SubElement(orders, "OrderHeader")
    _leaf(header, "OrderActionType", "A")
    _leaf(header, "Supplier", order.supplier)
    _leaf(header, "OrderDate", _date(order.order_date))
    _leaf(header, "Warehouse", order.warehouse)
    _leaf(header, "PurchaseOrder", order.number)
    _optional(header, "Reference", order.reference)
    details = ET.SubElement(orders, "OrderDetails")
    for line in order.lines:
        stock_line = ET.SubElement(details, "StockLine")
        _leaf(stock_line, "PurchaseOrderLine", str(line.line))
        _leaf(stock_line, "StockCode", line.stock_code)
        _leaf(stock_line, "Warehouse", line.warehouse or order.warehouse)
        _leaf(stock_line, "OrderQty", _amount(line.quantity))
        _leaf(stock_line, "Price", _amount(line.price))
        _optional(stock_line, "LedgerCode", line.ledger_code)
    return serialise(document)


def inventory_adjustment(adjustment: InventoryAdjustment) -> str:
    """INVTMA XMLIN: one ``<Item>``."""
    document = ET.Element(ADJUSTMENT_ROOT)
    item = ET.SubElement(document, "Item")
    _leaf(item, "Warehouse", adjustment.warehouse)
    _leaf(item, "StockCode", adjustment.stock_code)
    _leaf(item, "Quantity", _amount(adjustment.quantity))
    _optional(item, "UnitOfMeasure", adjustment.unit_of_measure)
    _leaf(item, "Reference", adjustment.reference)
    _optional(item, "Notation", adjustment.notation)
    _optional(item, "LedgerCode", adjustment.ledger_code)
    return serialise(document)


def comfnd(
    table: str, conditions: Iterable[Condition], columns: Iterable[str] = (), return_rows: int = 0
) -> str:
    """COMFND XMLIN: a find over ``table`` with ANDed ``Expression`` blocks (never SQL text)."""
    document = ET.Element("Query")
    _leaf(document, "TableName", table)
    if return_rows:
        _leaf(document, "ReturnRows", str(return_rows))
    listed = ET.SubElement(document, "Columns")
    for column in columns:
        _leaf(listed, "Column", column)
    where = ET.SubElement(document, "Where")
    for n, condition in enumerate(conditions):
        expression = ET.SubElement(where, "Expression")
        _leaf(expression, "OpenBracket", "(")
        if n:
            _leaf(expression, "AndOr", "And")
        _leaf(expression, "Column", condition.column)
        _leaf(expression, "Condition", condition.operator)
        _leaf(expression, "Value", condition.value)
        _leaf(expression, "CloseBracket", ")")
    return serialise(document)


def _leaf(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, name).text = value


def _optional(parent: ET.Element, name: str, value: str) -> None:
    if value:
        _leaf(parent, name, value)


def _yes_no(flag: bool) -> str:
    return "Y" if flag else "N"


def _amount(value: Decimal) -> str:
    """Plain notation: ``str(Decimal)`` may write ``1E+2``, which SYSPRO would not read."""
    return format(value, "f")


def _date(value: dt.date) -> str:
    return value.isoformat()
