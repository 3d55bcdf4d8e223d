"""Sales order actions as the Sales Orders screen describes them, kept minimal.

Statuses: a saved order is Open (On Hold with ``Hold``; Credit Hold over its customer's
credit limit). ``SalesOrderCreateShipment`` ships an Open SO or RM order: a shipment of
every open quantity is added to ``Shipments``, the lines' quantities move to
``QtyOnShipments`` and the order is Shipping. ``SalesOrderCreateReceipt`` does the same with
a receipt for a return (RM). ``PrepareSalesInvoice`` makes an AR invoice (a credit memo for
returns) of what was shipped — or, for an IN order, which needs no shipment, of the order
lines — records its number on the lines and shipments, and completes the order (IN:
Invoiced). ``CancelSalesOrder`` cancels an order nothing was shipped or invoiced for;
``ReopenSalesOrder`` makes a canceled order Open again; ``OpenSalesOrder`` takes an order
off hold or reopens a completed one with quantity still open;
``ReleaseFromCreditHoldSalesOrder`` approves a credit-held order. The price actions set
each line's price from the item's ``DefaultPrice`` (unless ``ManualPrice``) and recompute
the totals; discounts are not simulated, so ``AutoRecalculateDiscounts`` only recomputes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.sandbox.acumatica.action_call import ActionCall
from connector.sandbox.acumatica.store import Record

#: Statuses that mean nothing was shipped or invoiced yet.
_UNSHIPPED = ("Open", "On Hold", "Credit Hold", "Pending Approval", "Back Order")


def create_shipment(call: ActionCall) -> Record:
    return _ship(call, "Shipment", ("SO", "RM"))


def create_receipt(call: ActionCall) -> Record:
    return _ship(call, "Receipt", ("RM",))


def _ship(call: ActionCall, kind: str, order_types: tuple[str, ...]) -> Record:
    order = call.values
    if order.get("OrderType") not in order_types:
        raise call.refuse(
            f"A {kind.lower()} cannot be created for order type "
            f"{order.get('OrderType')}; it applies to {', '.join(order_types)}.",
            "OrderType",
        )
    if order.get("Status") not in ("Open", "Shipping"):
        raise call.refuse(
            f"{call.label} is {order.get('Status')}; only an Open order can be shipped."
        )
    lines = [row for row in order.get("Details") or [] if float(row.get("OpenQty") or 0) > 0]
    if not lines:
        raise call.refuse(f"{call.label} has no open quantity left to ship.")
    quantity = 0.0
    for row in lines:
        open_qty = float(row["OpenQty"])
        row["QtyOnShipments"] = float(row.get("QtyOnShipments") or 0.0) + open_qty
        row["OpenQty"] = 0.0
        quantity += open_qty
    date = call.params.get("ShipmentDate") or _today()
    order.setdefault("Shipments", []).append(
        {
            "ShipmentNbr": call.tenant.next_shipment_number(),
            "ShipmentType": kind,
            "Status": "Open",
            "ShipmentDate": date,
            "ShippedQty": quantity,
            "InventoryDocType": kind,
        }
    )
    order["Status"] = "Shipping"
    return call.tenant.save(call.entity, call.record)


def prepare_invoice(call: ActionCall) -> Record:
    order = call.values
    direct = order.get("OrderType") == "IN"
    open_shipments = [s for s in order.get("Shipments") or [] if not s.get("InvoiceNbr")]
    if not direct and not open_shipments:
        raise call.refuse(f"{call.label} has nothing shipped to invoice; create a shipment first.")
    if direct and order.get("Status") not in ("Open",):
        raise call.refuse(
            f"{call.label} is {order.get('Status')}; only an Open order can be invoiced."
        )
    lines = order.get("Details") or []
    details: list[dict[str, Any]] = []
    for row in lines:
        qty = float(row.get("OrderQty") if direct else row.get("QtyOnShipments") or 0.0)
        if qty <= 0 or row.get("InvoiceNbr"):
            continue
        detail = {
            "InventoryID": row.get("InventoryID"),
            "Qty": qty,
            "UnitPrice": row.get("UnitPrice") or 0.0,
            "TransactionDescription": row.get("LineDescription"),
        }
        details.append({k: v for k, v in detail.items() if v is not None})
    credit = order.get("OrderType") in ("RM", "CM")
    invoice = call.tenant.upsert(
        "Invoice",
        {
            "Type": "Credit Memo" if credit else "Invoice",
            "Customer": order.get("CustomerID"),
            "Description": f"Sales order {order.get('OrderType')} {order.get('OrderNbr')}",
            "Details": details,
        },
        insert_only=True,
        update_only=False,
        branch=call.branch,
        rules=call.rules,
    )
    number, doc_type = invoice.values["ReferenceNbr"], invoice.values["Type"]
    for row in lines:
        if not row.get("InvoiceNbr"):
            row["InvoiceNbr"], row["InvoiceType"] = number, doc_type
            if direct:
                row["OpenQty"] = 0.0
    for shipment in open_shipments:
        shipment["InvoiceNbr"], shipment["InvoiceType"] = number, doc_type
        shipment["Status"] = "Completed"
    order["Status"] = "Invoiced" if direct else "Completed"
    call.tenant.save(call.entity, call.record)
    return invoice


def cancel(call: ActionCall) -> Record:
    if call.values.get("Status") not in _UNSHIPPED:
        raise call.refuse(
            f"{call.label} is {call.values.get('Status')}; an order can be "
            "canceled only before anything is shipped or invoiced."
        )
    call.values["Status"] = "Canceled"
    return call.tenant.save(call.entity, call.record)


def reopen(call: ActionCall) -> Record:
    if call.values.get("Status") != "Canceled":
        raise call.refuse(
            f"{call.label} is {call.values.get('Status')}; only a canceled order can be reopened."
        )
    call.values["Status"] = "Open"
    return call.tenant.save(call.entity, call.record)


def open_order(call: ActionCall) -> Record:
    status = call.values.get("Status")
    still_open = any(float(r.get("OpenQty") or 0) > 0 for r in call.values.get("Details") or [])
    if status == "On Hold":
        call.values["Hold"] = False
    elif status == "Completed" and still_open:
        call.values["Status"] = "Open"
    else:
        raise call.refuse(
            f"{call.label} is {status}; Open applies to an order on hold or a "
            "completed order with quantity still open."
        )
    return call.tenant.save(call.entity, call.record)


def release_credit_hold(call: ActionCall) -> Record:
    if call.values.get("Status") != "Credit Hold":
        raise call.refuse(f"{call.label} is {call.values.get('Status')}, not on credit hold.")
    call.values["Status"] = "Open"
    call.values["CreditHold"] = False
    call.values["_creditApproved"] = call.values.get("OrderTotal")
    return call.tenant.save(call.entity, call.record)


def recalculate_prices(call: ActionCall) -> Record:
    for row in call.values.get("Details") or []:
        if row.get("ManualPrice"):
            continue
        item = _item(call, row.get("InventoryID"))
        if item is not None and item.values.get("DefaultPrice") is not None:
            row["UnitPrice"] = item.values["DefaultPrice"]
    return _recalculate(call)


def recalculate_discounts(call: ActionCall) -> Record:
    return _recalculate(call)


def _recalculate(call: ActionCall) -> Record:
    if call.values.get("Status") not in _UNSHIPPED:
        raise call.refuse(
            f"{call.label} is {call.values.get('Status')}; prices of a shipped "
            "or invoiced order cannot change."
        )
    return call.tenant.save(call.entity, call.record)


def _item(call: ActionCall, inventory_id: Any) -> Record | None:
    key = (str(inventory_id or "").casefold(),)
    return call.tenant.tables["StockItem"].find(key) or call.tenant.tables["NonStockItem"].find(key)


def _today() -> str:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
