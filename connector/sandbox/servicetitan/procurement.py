"""Purchasing: purchase orders, receipts, and the bills a receipt creates.

One code path serves ``POST /inventory/v2/.../receipts``, purchase orders of an
auto-receive type, and the seeder's received POs, so seeded bills look exactly like bills
made through the API. Receiving is two-phase: every line is resolved against the PO first,
and only a fully valid receipt changes anything.

A receipt's bill (when the tenant's "create bill when PO is received" setting — the
``auto_create_bill`` knob — is on) is one bill seen through two endpoints:
``accounting/v2/.../inventory-bills`` and ``.../ap-bills`` return it under the same id.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.sandbox.servicetitan.records import day_of, gl_ref, named, plain_address
from connector.sandbox.servicetitan.store import Store
from connector.sandbox.servicetitan.validation import Errors
from connector.sandbox.servicetitan.wire import ApiError, Record, dec, money, number, quantity

OPEN_STATUSES = ("Pending", "Sent", "PartiallyReceived")


def find_sku(store: Store, sku_id: int, kinds: tuple[str, ...]) -> tuple[Record, str] | None:
    """The pricebook record with ``sku_id`` among ``kinds`` and the table it is in."""
    for kind in kinds:
        found = store.table(kind).get(sku_id)
        if found is not None:
            return found, kind
    return None


def check_references(store: Store, body: Record) -> Errors:
    """Business checks of a PO create/patch body that the schema cannot express."""
    errors: Errors = {}
    refs = (
        ("vendorId", "vendors", "vendor"),
        ("typeId", "purchase_order_types", "purchase order type"),
        ("businessUnitId", "business_units", "business unit"),
        ("inventoryLocationId", "warehouses", "inventory location (warehouse)"),
        ("jobId", "jobs", "job"),
    )
    for field, table, label in refs:
        value = body.get(field)
        if value is None:
            continue
        found = store.table(table).get(value)
        if found is None:
            errors[field] = [
                f"The {field} {value} names no {label} in this tenant; "
                f"send the id of an existing {label}."
            ]
        elif found.get("active") is False:
            errors[field] = [
                f"The {field} {value} names an inactive {label}; reactivate it or pick another."
            ]
    for index, item in enumerate(body.get("items") or []):
        if find_sku(store, item["skuId"], ("materials", "equipment")) is None:
            errors[f"items[{index}].skuId"] = [
                f"No material or equipment with id {item['skuId']} exists in the pricebook."
            ]
    return errors


def purchase_order_item(
    store: Store, stamp: str, item: Record, item_id: int | None = None
) -> Record:
    found = find_sku(store, item["skuId"], ("materials", "equipment"))
    if found is None:
        raise ApiError.invalid("skuId", f"No material or equipment with id {item['skuId']} exists.")
    sku_record, kind = found
    qty, cost = dec(item["quantity"]), dec(item["cost"])
    return {
        "id": item_id if item_id is not None else store.new_id("purchase_order_items"),
        "skuId": sku_record["id"],
        "description": item["description"],
        "createdOn": stamp,
        "modifiedOn": stamp,
        "skuName": sku_record.get("displayName") or sku_record["description"],
        "skuCode": sku_record["code"],
        "skuType": "Material" if kind == "materials" else "Equipment",
        "vendorPartNumber": item["vendorPartNumber"],
        "quantity": float(qty),
        "quantityReceived": 0.0,
        "cost": float(cost),
        "total": number(qty * cost),
        "serialNumbers": [],
        "status": "Pending",
        "chargeable": False,
        "budgetCodeId": item.get("budgetCodeId"),
    }


def po_total(po: Record) -> None:
    subtotal = sum((dec(item["total"]) for item in po["items"]), Decimal(0))
    po["total"] = number(subtotal + dec(po["tax"]) + dec(po["shipping"]))


def purchase_order(store: Store, stamp: str, body: Record, *, created_by_id: int) -> Record:
    """A PO from a validated create body (``check_references`` already passed)."""
    po_id = store.new_id("purchase_orders")
    po: Record = {
        "id": po_id,
        "number": f"{po_id}",
        "invoiceId": None,
        "jobId": body.get("jobId"),
        "projectId": body.get("projectId"),
        "status": "Pending",
        "typeId": body["typeId"],
        "vendorId": body["vendorId"],
        "technicianId": body.get("technicianId"),
        "shipTo": plain_address(body["shipTo"]["address"]),
        "businessUnitId": body["businessUnitId"],
        "inventoryLocationId": body["inventoryLocationId"],
        "batchId": None,
        "budgetCodeId": body.get("budgetCodeId"),
        "vendorDocumentNumber": body.get("vendorInvoiceNumber") or "",
        "date": body["date"],
        "requiredOn": body["requiredOn"],
        "sentOn": None,
        "receivedOn": None,
        "createdOn": stamp,
        "modifiedOn": stamp,
        "total": 0.0,
        "tax": body["tax"],
        "shipping": body["shipping"],
        "createdById": created_by_id,
        "summary": body.get("memo") or "",
        "items": [purchase_order_item(store, stamp, item) for item in body["items"]],
        "customFields": [],
        "_shipToDescription": body["shipTo"]["description"],
        "_impactsTechnicianPayroll": body["impactsTechnicianPayroll"],
    }
    po_total(po)
    return po


def patch_purchase_order(store: Store, stamp: str, po: Record, body: Record) -> None:
    """Apply a validated PATCH body; only POs not yet received can change."""
    if po["status"] not in ("Pending", "Sent"):
        raise ApiError(
            400,
            "Purchase order cannot be edited",
            {
                "id": [
                    f"Purchase order {po['id']} is {po['status']}; "
                    "only Pending or Sent POs can be edited."
                ]
            },
        )
    simple = {
        "vendorId": "vendorId",
        "typeId": "typeId",
        "businessUnitId": "businessUnitId",
        "inventoryLocationId": "inventoryLocationId",
        "jobId": "jobId",
        "technicianId": "technicianId",
        "projectId": "projectId",
        "budgetCodeId": "budgetCodeId",
        "vendorInvoiceNumber": "vendorDocumentNumber",
        "memo": "summary",
        "date": "date",
        "requiredOn": "requiredOn",
        "tax": "tax",
        "shipping": "shipping",
    }
    for source, target in simple.items():
        if source in body:
            po[target] = body[source]
    if "shipTo" in body:
        po["shipTo"] = plain_address(body["shipTo"]["address"])
        po["_shipToDescription"] = body["shipTo"]["description"]
    if "items" in body:
        known = {item["id"]: item for item in po["items"]}
        for index, item in enumerate(body["items"]):
            if item["id"] not in known:
                raise ApiError.invalid(
                    f"items[{index}].id",
                    f"Purchase order {po['id']} has no item {item['id']}; send existing item ids.",
                )
            line = known[item["id"]]
            line.update(
                purchase_order_item(store, stamp, item, item["id"])
                | {"createdOn": line["createdOn"]}
            )
        po["items"] = list(known.values())
    po_total(po)


# -- receiving ----------------------------------------------------------------------------


def _resolve_lines(po: Record, lines: list[Record]) -> list[tuple[Record, Record]]:
    errors: Errors = {}
    resolved: list[tuple[Record, Record]] = []
    for index, line in enumerate(lines):
        match: Record | None = None
        for item in po["items"]:
            if line.get("purchaseOrderItemId") is not None:
                if item["id"] == line["purchaseOrderItemId"]:
                    match = item
            elif item["skuId"] == line["skuId"] and match is None:
                match = item
        if match is None:
            errors[f"items[{index}]"] = [
                f"Purchase order {po['id']} has no line for sku {line['skuId']}"
                + (
                    f" / item {line['purchaseOrderItemId']}"
                    if line.get("purchaseOrderItemId")
                    else ""
                )
                + "; receive only items that are on the PO."
            ]
        else:
            resolved.append((match, line))
    if errors:
        raise ApiError(400, "One or more validation errors occurred.", errors)
    return resolved


def receive(
    store: Store, stamp: str, po: Record, body: Record, *, create_bill: bool, created_by: str
) -> tuple[Record, Record | None, Record | None]:
    """Post a receipt against ``po``; returns (receipt, inventory bill, AP bill).

    Marks PO lines and the PO Received or PartiallyReceived. Bills are created when
    ``create_bill`` is on. Callers insert the returned records (so seeding can skip
    notifications) — the PO is changed in place and must be touched by the caller.
    """
    if po["status"] not in OPEN_STATUSES:
        raise ApiError.invalid(
            "purchaseOrderId",
            f"The purchaseOrderId {po['id']} names a purchase order that is {po['status']}; "
            "only Pending, Sent or PartiallyReceived purchase orders can be received.",
        )
    lines = _resolve_lines(po, body["items"])
    receipt_id = store.new_id("receipts")
    previous_receipts = sum(
        1 for other in store.table("receipts").rows.values() if other["purchaseOrderId"] == po["id"]
    )
    tax, shipping = dec(body["tax"]), dec(body["shipping"])
    subtotal = sum((dec(line["quantity"]) * dec(line["cost"]) for _, line in lines), Decimal(0))
    receipt_items: list[Record] = []
    for po_item, line in lines:
        qty, cost = dec(line["quantity"]), dec(line["cost"])
        po_item["quantityReceived"] = float(dec(po_item["quantityReceived"]) + qty)
        po_item["status"] = (
            "Received"
            if po_item["quantityReceived"] >= po_item["quantity"]
            else "PartiallyReceived"
        )
        po_item["modifiedOn"] = stamp
        share = (qty * cost / subtotal) if subtotal else Decimal(0)
        receipt_items.append(
            {
                "id": store.new_id("receipt_items"),
                "skuId": po_item["skuId"],
                "name": po_item["skuName"],
                "code": po_item["skuCode"],
                "description": line.get("description") or po_item["description"],
                "quantity": float(qty),
                "cost": float(cost),
                "generalLedgerAccount": _unnumbered(gl_ref(store, "1400")),
                "costOfSaleAccount": _unnumbered(
                    gl_ref(store, "5000" if po_item["skuType"] == "Material" else "5010")
                ),
                "assetAccount": _unnumbered(gl_ref(store, "1400")),
                "purchaseOrderItemId": po_item["id"],
                "budgetCodeId": line.get("budgetCodeId"),
                "allocatedShipping": number(shipping * share),
                "allocatedTax": number(tax * share),
                "allocatedOtherCosts": 0.0,
                "fullyLandedUnitCost": float(cost),
            }
        )
    fully = all(item["quantityReceived"] >= item["quantity"] for item in po["items"])
    po["status"] = "Received" if fully else "PartiallyReceived"
    po["receivedOn"] = body["dateReceived"]
    receipt: Record = {
        "id": receipt_id,
        "active": True,
        "number": f"{po['number']}-R{previous_receipts + 1}",
        "vendorInvoiceNumber": body.get("vendorDocumentNumber") or "",
        "createdById": None,
        "memo": body.get("memo") or "",
        "purchaseOrderId": po["id"],
        "billId": None,
        "jobId": body.get("jobId") or po["jobId"],
        "businessUnitId": po["businessUnitId"],
        "vendorId": po["vendorId"],
        "technicianId": po["technicianId"],
        "inventoryLocationId": po["inventoryLocationId"],
        "shipTo": po["shipTo"],
        "shipToDescription": po.get("_shipToDescription", ""),
        "receiptAmount": number(subtotal + tax + shipping),
        "taxAmount": float(tax),
        "shippingAmount": float(shipping),
        "receivedOn": body["dateReceived"],
        "createdOn": stamp,
        "modifiedOn": stamp,
        "batchId": None,
        "syncStatus": "Pending",
        "budgetCodeId": body.get("budgetCodeId"),
        "landedCostMethod": "None",
        "otherAmount": None,
        "items": receipt_items,
        "customFields": [],
    }
    if not create_bill:
        return receipt, None, None
    inventory_bill, ap_bill = _bills(store, stamp, po, receipt, created_by)
    receipt["billId"] = inventory_bill["id"]
    return receipt, inventory_bill, ap_bill


def _unnumbered(ref: Record | None) -> Record | None:
    """Receipt lines carry GL accounts without ids (``GLAccountResponse`` of inventory)."""
    if ref is None:
        return None
    return {key: ref[key] for key in ("name", "number", "type", "detailType")}


def _type_name(store: Store, po: Record) -> str | None:
    po_type = store.table("purchase_order_types").get(po.get("typeId") or -1)
    return None if po_type is None else str(po_type["name"])


def _bills(
    store: Store, stamp: str, po: Record, receipt: Record, created_by: str
) -> tuple[Record, Record]:
    bill_id = store.new_id("bills")
    vendor = store.table("vendors").get(po["vendorId"]) or {"id": po["vendorId"], "name": ""}
    unit = store.table("business_units").get(po["businessUnitId"])
    warehouse = store.table("warehouses").get(po["inventoryLocationId"])
    job = store.table("jobs").get(receipt["jobId"]) if receipt["jobId"] else None
    tax, shipping = dec(receipt["taxAmount"]), dec(receipt["shippingAmount"])
    bill_date = day_of(receipt["receivedOn"])
    reference = receipt["vendorInvoiceNumber"] or f"{vendor['id'] % 1000:03d}-{bill_id}"
    common: Record = {
        "id": bill_id,
        "purchaseOrderId": po["id"],
        # Private: the bill models carry only the PO id, but purchaseOrderNumber and
        # purchaseOrderTypes filter on the PO's number and type name.
        "_purchaseOrderNumber": po["number"],
        "_purchaseOrderType": _type_name(store, po),
        "syncStatus": "Pending",
        "referenceNumber": reference,
        "vendorNumber": vendor.get("_accountNumber"),
        "summary": po["summary"] or f"PO {po['number']}",
        "billDate": bill_date,
        "billAmount": money(dec(receipt["receiptAmount"])),
        "taxAmount": money(tax),
        "shippingAmount": money(shipping),
        "landedCostMethod": "None",
        "otherAmount": None,
        "createdBy": created_by,
        "createdOn": stamp,
        "modifiedOn": stamp,
        "termName": "Net 30",
        "dueDate": day_of(receipt["receivedOn"], 30),
        "shipToDescription": receipt["shipToDescription"],
        "postDate": None,
        "batch": None,
        "businessUnit": None if unit is None else named(unit),
        "taxZone": None,
        "vendor": named(vendor),
        "shipTo": po["shipTo"],
        "budgetCodeId": po["budgetCodeId"],
        "customFields": [],
        "jobId": None if job is None else job["id"],
        "jobNumber": None if job is None else job["jobNumber"],
        "dateReconciled": None,
    }
    lines: list[tuple[Record, Record]] = []
    for order, item in enumerate(receipt["items"], start=1):
        kind = "Material" if store.table("materials").get(item["skuId"]) else "Equipment"
        line: Record = {
            "order": order,
            "name": item["name"],
            "description": item["description"],
            "quantity": quantity(dec(item["quantity"])),
            "cost": money(dec(item["cost"])),
            "allocatedTax": money(dec(item["allocatedTax"])),
            "allocatedShipping": money(dec(item["allocatedShipping"])),
            "allocatedOtherCosts": "0.00",
            "fullyLandedUnitCost": money(dec(item["fullyLandedUnitCost"])),
            "serialNumber": None,
            "generalLedgerAccount": gl_ref(store, "1400"),
            "costOfSaleAccount": gl_ref(store, "5000" if kind == "Material" else "5010"),
            "assetAccount": gl_ref(store, "1400"),
            "id": store.new_id("bill_items"),
            "skuId": item["skuId"],
            "receiptItemId": item["id"],
            "skuType": kind,
            "skuCode": item["code"],
            "budgetCodeId": item["budgetCodeId"],
        }
        po_line = next((p for p in po["items"] if p["id"] == item["purchaseOrderItemId"]), None)
        lines.append((line, po_line or {}))
    # Private: three-way match compares the PO, the receipt and the bill; a bill made from
    # a receipt equals the receipt, so a discrepancy is a line received in another quantity
    # or at another cost than ordered (a partial receipt).
    common["_threeWayMatchDiscrepancy"] = (
        "Discrepancy"
        if any(
            not po_line
            or dec(line["quantity"]) != dec(po_line["quantity"])
            or dec(line["cost"]) != dec(po_line["cost"])
            for line, po_line in lines
        )
        else "NoDiscrepancy"
    )
    location_name = None if warehouse is None else warehouse["name"]
    inventory_bill: Record = dict(common)
    # Private: the inventory-bill model has no billType; every one is a procurement bill.
    inventory_bill["_billType"] = "Procurement"
    inventory_bill["items"] = [line | {"inventoryLocation": location_name} for line, _ in lines]
    ap_bill: Record = dict(common) | {
        "status": "Unreconciled",
        "source": "Purchasing",
        "billType": "Procurement",
        "earlyDiscountDate": None,
        "vendorInvoiceTotal": common["billAmount"],
        "doNotPay": False,
        "dateCanceled": None,
        "canceledBy": None,
        "remittanceVendorInfo": None,
        "expenseItems": [],
    }
    ap_bill["items"] = [
        line
        | {
            "inventoryLocation": None
            if warehouse is None
            else {"id": warehouse["id"], "name": warehouse["name"], "type": "Warehouse"},
            "vendorPartNumber": po_line.get("vendorPartNumber"),
        }
        for line, po_line in lines
    ]
    return inventory_bill, ap_bill


# -- adjustments --------------------------------------------------------------------------


def adjustment(
    store: Store,
    stamp: str,
    *,
    warehouse_id: int,
    business_unit_id: int | None,
    lines: list[tuple[Record, Decimal]],
    memo: str,
    created_by_id: int | None,
) -> Record:
    """An inventory adjustment (shrinkage, count correction) of pricebook materials."""
    adjustment_id = store.new_id("adjustments")
    items: list[dict[str, Any]] = []
    for sku_record, qty in lines:
        cost = dec(sku_record["cost"])
        items.append(
            {
                "id": store.new_id("adjustment_items"),
                "skuId": sku_record["id"],
                "description": sku_record["description"],
                "createdOn": stamp,
                "modifiedOn": stamp,
                "name": sku_record.get("displayName") or sku_record["description"],
                "code": sku_record["code"],
                "quantity": float(qty),
                "cost": float(cost),
                "totalCost": number(qty * cost),
                "createdById": created_by_id,
                "active": True,
                "budgetCodeId": None,
                "serialNumbers": [],
            }
        )
    return {
        "id": adjustment_id,
        "active": True,
        "number": f"ADJ{adjustment_id}",
        "referenceNumber": f"CC-{adjustment_id % 100000:05d}",
        "type": "Adjustment",
        "inventoryLocationId": warehouse_id,
        "businessUnitId": business_unit_id,
        "projectId": None,
        "invoiceId": None,
        "createdById": created_by_id,
        "memo": memo,
        "date": day_of(stamp),
        "createdOn": stamp,
        "modifiedOn": stamp,
        "batchId": None,
        "batch": None,
        "syncStatus": "Pending",
        "canceledReason": None,
        "canceledById": None,
        "dateCanceled": None,
        "externalData": [],
        "items": items,
        "customFields": [],
    }
