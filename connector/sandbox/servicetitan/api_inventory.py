"""``/inventory/v2/tenant/{tenant}/…``: vendors, purchase orders, receipts, adjustments,
warehouses and purchase-order types.

Creates return ``{"id": …}`` (the specs' ``ModificationResponse``). A purchase order of an
auto-receive type is received on creation, bill included, as ServiceTitan does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.servicetitan import procurement, records, validation
from connector.sandbox.servicetitan.listing import (
    Filter,
    ListRule,
    export_response,
    find,
    json_body,
    nested,
    one_response,
    page_response,
    path_id,
)
from connector.sandbox.servicetitan.store import store_external
from connector.sandbox.servicetitan.wire import ApiError, Record

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.simulator import Route, ServiceTitanSimulator

VENDORS = ListRule("vendors", "Vendor", external="filter")
PURCHASE_ORDERS = ListRule(
    "purchase_orders",
    "Purchase order",
    active="none",
    filters=(
        Filter("status", "str", nested("status")),
        Filter("number", "str", nested("number")),
        Filter("jobId", "int", nested("jobId")),
        Filter("jobIds", "ints", nested("jobId")),
    ),
)
RECEIPTS = ListRule(
    "receipts",
    "Receipt",
    filters=(
        Filter("purchaseOrderIds", "ints", nested("purchaseOrderId")),
        Filter("vendorIds", "ints", nested("vendorId")),
        Filter("billId", "int", nested("billId")),
        Filter("businessUnitIds", "ints", nested("businessUnitId")),
    ),
)
ADJUSTMENTS = ListRule("adjustments", "Adjustment", external="filter")
WAREHOUSES = ListRule("warehouses", "Warehouse", external="filter")
PURCHASE_ORDER_TYPES = ListRule("purchase_order_types", "Purchase order type")

#: The sandbox's API user (ServiceTitan records who made a change).
API_USER = "API - ml-connector"
API_USER_ID = 50_000


def routes(sim: ServiceTitanSimulator) -> list[Route]:
    store = sim.store

    async def list_vendors(request: web.Request) -> web.StreamResponse:
        return page_response(store, VENDORS, request)

    async def get_vendor(request: web.Request) -> web.StreamResponse:
        return one_response(store, VENDORS, request)

    async def create_vendor(request: web.Request) -> web.StreamResponse:
        body = validation.require(await json_body(request), validation.VENDOR_CREATE)
        vendor_id_seed = len(store.table("vendors")) + 1
        record = records.vendor(
            store, store.stamp(), body, account_number=f"SCS-{90000 + vendor_id_seed}"
        )
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=False)
        store.insert("vendors", record)
        return json_response({"id": record["id"]})

    async def patch_vendor(request: web.Request) -> web.StreamResponse:
        record = find(store, "vendors", path_id(request), "Vendor")
        body = validation.require(await json_body(request), validation.VENDOR_PATCH)
        for key in ("name", "active", "memo", "isTruckReplenishment", "deliveryOption"):
            if key in body:
                record[key] = body[key] if key != "memo" else body[key] or ""
        if "taxRate" in body:
            record["defaultTaxRate"] = body["taxRate"]
        if "restrictedMobileCreation" in body:
            record["isMobileCreationRestricted"] = body["restrictedMobileCreation"]
        for key in ("firstName", "lastName", "phone", "email", "fax"):
            if key in body:
                record["contactInfo"][key] = body[key] or ""
        if "address" in body:
            record["address"] = records.plain_address(body["address"])
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=True)
        store.touch("vendors", record)
        return json_response({"id": record["id"]})

    async def list_pos(request: web.Request) -> web.StreamResponse:
        return page_response(store, PURCHASE_ORDERS, request)

    async def get_po(request: web.Request) -> web.StreamResponse:
        return one_response(store, PURCHASE_ORDERS, request)

    async def create_po(request: web.Request) -> web.StreamResponse:
        body = validation.require(await json_body(request), validation.PURCHASE_ORDER_CREATE)
        errors = procurement.check_references(store, body)
        if errors:
            raise ApiError(400, "One or more validation errors occurred.", errors)
        po = procurement.purchase_order(store, store.stamp(), body, created_by_id=API_USER_ID)
        store.insert("purchase_orders", po)
        po_type = store.table("purchase_order_types").get(po["typeId"])
        if po_type is not None and po_type["automaticallyReceive"]:
            _receive(
                sim,
                po,
                {
                    "purchaseOrderId": po["id"],
                    "dateReceived": po["date"],
                    "tax": po["tax"],
                    "shipping": po["shipping"],
                    "vendorDocumentNumber": po["vendorDocumentNumber"],
                    "items": [
                        {
                            "purchaseOrderItemId": i["id"],
                            "skuId": i["skuId"],
                            "quantity": i["quantity"],
                            "cost": i["cost"],
                        }
                        for i in po["items"]
                    ],
                },
            )
        return json_response({"id": po["id"]})

    async def patch_po(request: web.Request) -> web.StreamResponse:
        po = find(store, "purchase_orders", path_id(request), "Purchase order")
        body = validation.require(await json_body(request), validation.PURCHASE_ORDER_PATCH)
        errors = procurement.check_references(store, body)
        if errors:
            raise ApiError(400, "One or more validation errors occurred.", errors)
        procurement.patch_purchase_order(store, store.stamp(), po, body)
        store.touch("purchase_orders", po)
        return json_response({"id": po["id"]})

    async def export_pos(request: web.Request) -> web.StreamResponse:
        return export_response(store, "purchase_orders", request, sim.knobs.export_chunk)

    async def list_po_types(request: web.Request) -> web.StreamResponse:
        return page_response(store, PURCHASE_ORDER_TYPES, request)

    async def list_receipts(request: web.Request) -> web.StreamResponse:
        return page_response(store, RECEIPTS, request)

    async def create_receipt(request: web.Request) -> web.StreamResponse:
        body = validation.require(await json_body(request), validation.RECEIPT_CREATE)
        po = store.table("purchase_orders").get(body["purchaseOrderId"])
        if po is None:
            raise ApiError(
                404,
                "Purchase order not found",
                {
                    "purchaseOrderId": [
                        f"No purchase order with id {body['purchaseOrderId']} exists "
                        "in this tenant."
                    ]
                },
            )
        receipt = _receive(sim, po, body)
        return json_response({"id": receipt["id"]})

    async def list_adjustments(request: web.Request) -> web.StreamResponse:
        return page_response(store, ADJUSTMENTS, request)

    async def patch_adjustment(request: web.Request) -> web.StreamResponse:
        record = find(store, "adjustments", path_id(request), "Adjustment")
        body = validation.require(await json_body(request), validation.EXTERNAL_DATA_ONLY_PATCH)
        if body.get("externalData") is not None:
            store_external(record, body["externalData"], patch=True)
        store.touch("adjustments", record)
        return json_response({"id": record["id"]})

    async def export_adjustments(request: web.Request) -> web.StreamResponse:
        return export_response(store, "adjustments", request, sim.knobs.export_chunk)

    async def list_warehouses(request: web.Request) -> web.StreamResponse:
        return page_response(store, WAREHOUSES, request)

    return [
        ("GET", "inventory", "vendors", list_vendors),
        ("POST", "inventory", "vendors", create_vendor),
        ("GET", "inventory", "vendors/{id:\\d+}", get_vendor),
        ("PATCH", "inventory", "vendors/{id:\\d+}", patch_vendor),
        ("GET", "inventory", "purchase-orders", list_pos),
        ("POST", "inventory", "purchase-orders", create_po),
        ("GET", "inventory", "purchase-orders/{id:\\d+}", get_po),
        ("PATCH", "inventory", "purchase-orders/{id:\\d+}", patch_po),
        ("GET", "inventory", "export/purchase-orders", export_pos),
        ("GET", "inventory", "purchase-order-types", list_po_types),
        ("GET", "inventory", "receipts", list_receipts),
        ("POST", "inventory", "receipts", create_receipt),
        ("GET", "inventory", "adjustments", list_adjustments),
        ("PATCH", "inventory", "adjustments/{id:\\d+}", patch_adjustment),
        ("GET", "inventory", "export/adjustments", export_adjustments),
        ("GET", "inventory", "warehouses", list_warehouses),
    ]


def _receive(sim: ServiceTitanSimulator, po: Record, body: Record) -> Record:
    """Post a receipt (API or auto-receive) and store what it created."""
    store = sim.store
    stamp = store.stamp()
    receipt, inventory_bill, ap_bill = procurement.receive(
        store, stamp, po, body, create_bill=sim.knobs.auto_create_bill, created_by=API_USER
    )
    store.touch("purchase_orders", po)
    store.insert("receipts", receipt)
    if inventory_bill is not None and ap_bill is not None:
        store.insert("inventory_bills", inventory_bill)
        store.insert("ap_bills", ap_bill)
    return receipt
