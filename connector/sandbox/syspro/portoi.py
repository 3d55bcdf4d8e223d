"""PORTOI, purchase order import (``Transaction/Post``, root ``PostPurchaseOrders``).

Each ``<Orders>`` holds an ``<OrderHeader>`` (``OrderActionType`` A to add, ``Supplier``,
``OrderDate``, ``Warehouse``, ``PurchaseOrder``: blank = the next number) and
``<OrderDetails>`` with ``<StockLine>``s (``StockCode``, ``Warehouse``, ``OrderQty``, ``Price``,
``LedgerCode``). Adding a PO number already on file is refused, the supplier, warehouse and
stock codes must exist and quantities be positive. The XMLOUT names the order in
``Order/Key/PurchaseOrder``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from connector.sandbox.syspro.business import (
    ALREADY_EXISTS,
    INVALID_VALUE,
    NOT_ON_FILE,
    Checked,
    Context,
    date_field,
    decimal_field,
    mandatory,
)
from connector.sandbox.syspro.company import WAREHOUSES
from connector.sandbox.syspro.xmlio import child, children, text

ROOT = "PostPurchaseOrders"


def check_order(ctx: Context, order: ET.Element) -> Checked:
    header = child(order, "OrderHeader")
    header = header if header is not None else ET.Element("OrderHeader")
    number = text(header, "PurchaseOrder")
    supplier = text(header, "Supplier")
    result = Checked(echo=[("Key/PurchaseOrder", number)])
    company = ctx.company
    action = text(header, "OrderActionType").upper() or "A"
    if action != "A":
        result.error(
            "OrderActionType",
            action,
            INVALID_VALUE,
            f"Order action type '{action}' is not supported by this import; use A",
        )
    if number and company.find("PorMasterHdr", PurchaseOrder=number) is not None:
        result.error(
            "PurchaseOrder", number, ALREADY_EXISTS, f"Purchase order '{number}' already exists"
        )
    if (
        mandatory(result, header, "Supplier")
        and company.find("ApSupplier", Supplier=supplier) is None
    ):
        result.error("Supplier", supplier, NOT_ON_FILE, f"Supplier '{supplier}' not found")
    order_date = date_field(result, header, "OrderDate")
    warehouse = text(header, "Warehouse")
    if warehouse and warehouse not in WAREHOUSES:
        result.error("Warehouse", warehouse, NOT_ON_FILE, f"Warehouse '{warehouse}' not found")
    lines: list[dict[str, object]] = []
    for line in children(child(order, "OrderDetails"), "StockLine"):
        stock_code = text(line, "StockCode")
        line_warehouse = text(line, "Warehouse") or warehouse
        quantity = decimal_field(result, line, "OrderQty")
        if company.find("InvMaster", StockCode=stock_code) is None:
            result.error(
                "StockCode", stock_code, NOT_ON_FILE, f"Stock code '{stock_code}' not found"
            )
        if quantity <= 0:
            result.error(
                "OrderQty",
                text(line, "OrderQty"),
                INVALID_VALUE,
                "Order quantity must be greater than zero",
            )
        ledger = text(line, "LedgerCode")
        if ledger and company.find("GenMaster", GlCode=ledger) is None:
            result.error("LedgerCode", ledger, NOT_ON_FILE, f"Ledger code '{ledger}' not found")
        lines.append(
            {
                "Line": _line_number(text(line, "PurchaseOrderLine"), len(lines) + 1),
                "MStockCode": stock_code,
                "MWarehouse": line_warehouse,
                "MOrderQty": quantity,
                "MPrice": decimal_field(result, line, "Price"),
                "MGlCode": ledger,
            }
        )

    def apply() -> list[tuple[str, str]]:
        assigned = number or company.purchase_order_number()
        company.insert(
            "PorMasterHdr",
            {
                "PurchaseOrder": assigned,
                "Supplier": supplier,
                "OrderDate": (order_date or ctx.company_date).isoformat(),
                "Warehouse": warehouse,
                "OrderStatus": "1",
                "Reference": text(header, "Reference"),
            },
        )
        for values in lines:
            company.insert("PorMasterDetail", {"PurchaseOrder": assigned} | values)
        return [("Key/PurchaseOrder", assigned)]

    result.apply = apply
    return result


def _line_number(sent: str, position: int) -> int:
    return int(sent) if sent.isdigit() else position
