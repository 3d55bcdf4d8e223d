"""ServiceTitan simulator writes over raw HTTP: validation, procurement, bills, externalData."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_servicetitan import ST, connect

GUID = "6f1c8e2a-0b7d-4c5e-9a3f-2d8b1e4c7a90"
ADDRESS = {
    "street": "4700 Holly St",
    "unit": "",
    "city": "Denver",
    "state": "CO",
    "zip": "80216",
    "country": "USA",
}


@pytest.fixture
async def st(start_simulator: StartSimulator) -> AsyncIterator[ST]:
    """A fresh ServiceTitan simulator with credentials and a live token."""
    async with connect(start_simulator) as client:
        yield client


def vendor_body(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Front Range Copper",
        "active": True,
        "isTruckReplenishment": False,
        "taxRate": 0.0,
        "restrictedMobileCreation": False,
        "address": ADDRESS,
    } | extra


async def po_body(st: ST, **extra: Any) -> dict[str, Any]:
    vendor = (await st.get("inventory", "vendors", pageSize=1))["data"][0]
    unit = (await st.get("settings", "business-units", pageSize=1))["data"][0]
    place = (await st.get("inventory", "warehouses", pageSize=1))["data"][0]
    types = (await st.get("inventory", "purchase-order-types"))["data"]
    standard = next(t for t in types if not t["automaticallyReceive"])
    materials = (await st.get("pricebook", "materials", pageSize=2))["data"]
    return {
        "vendorId": vendor["id"],
        "typeId": standard["id"],
        "businessUnitId": unit["id"],
        "inventoryLocationId": place["id"],
        "shipTo": {"description": place["name"], "address": ADDRESS},
        "impactsTechnicianPayroll": False,
        "date": "2026-03-02T00:00:00Z",
        "requiredOn": "2026-03-05T00:00:00Z",
        "tax": 8.25,
        "shipping": 20.0,
        "items": [
            {
                "skuId": m["id"],
                "description": m["description"],
                "vendorPartNumber": "VP-1",
                "quantity": 4,
                "cost": 12.5,
            }
            for m in materials
        ],
    } | extra


async def counts(st: ST) -> dict[str, int]:
    return dict((await st.admin("GET", "state"))["counts"])


# -- bills are read-only ------------------------------------------------------------------


async def test_writes_to_bills_are_refused(st: ST) -> None:
    """POST/PATCH/PUT/DELETE on ap-bills and inventory-bills are 405 with a clear title."""
    await st.seed()
    bill_id = (await st.get("accounting", "ap-bills", pageSize=1))["data"][0]["id"]
    for method, path in (
        ("POST", "ap-bills"),
        ("PATCH", f"ap-bills/{bill_id}"),
        ("PUT", f"ap-bills/{bill_id}"),
        ("DELETE", f"ap-bills/{bill_id}"),
        ("POST", "inventory-bills"),
    ):
        status, body = await st.call(method, "accounting", path, json={"billAmount": "1.00"})
        assert status == 405, (method, path)
        assert "read-only" in body["title"]
    assert (await st.get("accounting", f"ap-bills/{bill_id}"))["id"] == bill_id


async def test_markasexported_flips_sync_status_on_both_bill_views(st: ST) -> None:
    """inventory-bills/markasexported exports the bill seen under both endpoints."""
    await st.seed()
    bill = (await st.get("accounting", "inventory-bills", pageSize=1))[0]
    status, body = await st.call(
        "POST",
        "accounting",
        "inventory-bills/markasexported",
        json={"inventoryBillIds": [bill["id"], 1]},
    )
    assert status == 200
    assert body[0] == {"inventoryBillId": bill["id"], "success": True, "errorMessage": None}
    assert body[1]["success"] is False
    ap_bill = await st.get("accounting", f"ap-bills/{bill['id']}")
    assert ap_bill["syncStatus"] == "Exported" and ap_bill["modifiedOn"] > bill["modifiedOn"]


async def test_invoice_markasexported(st: ST) -> None:
    """invoices/markasexported sets syncStatus Exported and reports unknown invoices."""
    await st.seed()
    invoice = (await st.get("accounting", "invoices", pageSize=1, statuses="Pending"))["data"][0]
    status, body = await st.call(
        "POST",
        "accounting",
        "invoices/markasexported",
        json=[{"invoiceId": invoice["id"], "externalId": "AR-1"}, {"invoiceId": 5}],
    )
    assert status == 200 and [r["success"] for r in body] == [True, False]
    again = (await st.get("accounting", "invoices", ids=str(invoice["id"])))["data"][0]
    assert again["syncStatus"] == "Exported" and again["exportId"] == "AR-1"


# -- procurement --------------------------------------------------------------------------


async def test_receipt_creates_one_inventory_bill_and_ap_bill(st: ST) -> None:
    """Receiving a whole PO marks it Received and creates exactly one bill (both views)."""
    await st.seed()
    status, created = await st.call("POST", "inventory", "purchase-orders", json=await po_body(st))
    assert status == 200 and set(created) == {"id"}
    po = await st.get("inventory", f"purchase-orders/{created['id']}")
    assert po["status"] == "Pending" and po["total"] == 128.25
    before = await counts(st)
    receipt = {
        "purchaseOrderId": po["id"],
        "dateReceived": "2026-03-04T15:00:00Z",
        "tax": 8.25,
        "shipping": 20.0,
        "vendorDocumentNumber": "INV-88120",
        "items": [
            {"purchaseOrderItemId": i["id"], "skuId": i["skuId"], "quantity": 4, "cost": 12.5}
            for i in po["items"]
        ],
    }
    status, made = await st.call("POST", "inventory", "receipts", json=receipt)
    after = await counts(st)
    assert status == 200
    assert after["inventory_bills"] - before["inventory_bills"] == 1
    assert after["ap_bills"] - before["ap_bills"] == 1
    assert after["receipts"] - before["receipts"] == 1
    po = await st.get("inventory", f"purchase-orders/{po['id']}")
    assert po["status"] == "Received" and po["modifiedOn"] > po["createdOn"]
    stored = (await st.get("inventory", "receipts", purchaseOrderIds=str(po["id"])))["data"][0]
    assert stored["id"] == made["id"] and stored["billId"]
    bill = await st.get("accounting", f"ap-bills/{stored['billId']}")
    inventory_bill = (await st.get("accounting", "inventory-bills", ids=str(stored["billId"])))[0]
    assert bill["billAmount"] == inventory_bill["billAmount"] == "128.25"
    assert bill["vendor"]["id"] == po["vendorId"] and bill["purchaseOrderId"] == po["id"]
    assert bill["referenceNumber"] == "INV-88120" and bill["vendorNumber"]
    assert [i["skuId"] for i in bill["items"]] == [i["skuId"] for i in po["items"]]
    assert bill["billType"] == "Procurement" and bill["source"] == "Purchasing"


async def test_receipt_without_auto_create_bill_creates_no_bill(st: ST) -> None:
    """With auto_create_bill off a partial receipt makes no bill; the PO is PartiallyReceived."""
    await st.seed()
    await st.knobs(auto_create_bill=False)
    _, created = await st.call("POST", "inventory", "purchase-orders", json=await po_body(st))
    po = await st.get("inventory", f"purchase-orders/{created['id']}")
    before = await counts(st)
    item = po["items"][0]
    status, _ = await st.call(
        "POST",
        "inventory",
        "receipts",
        json={
            "purchaseOrderId": po["id"],
            "dateReceived": "2026-03-04T15:00:00Z",
            "tax": 0,
            "shipping": 0,
            "items": [{"skuId": item["skuId"], "quantity": 1, "cost": 12.5}],
        },
    )
    after = await counts(st)
    assert status == 200
    assert after["inventory_bills"] == before["inventory_bills"]
    assert after["ap_bills"] == before["ap_bills"]
    assert (await st.get("inventory", f"purchase-orders/{po['id']}"))[
        "status"
    ] == "PartiallyReceived"


async def test_receipt_for_unknown_po_or_foreign_sku_is_refused(st: ST) -> None:
    """A receipt names its problem: unknown PO is 404, a sku not on the PO is 400."""
    await st.seed()
    status, body = await st.call(
        "POST",
        "inventory",
        "receipts",
        json={
            "purchaseOrderId": 1,
            "dateReceived": "2026-03-04T15:00:00Z",
            "tax": 0,
            "shipping": 0,
            "items": [{"skuId": 1, "quantity": 1, "cost": 1}],
        },
    )
    assert status == 404 and "purchaseOrderId" in body["errors"]
    _, created = await st.call("POST", "inventory", "purchase-orders", json=await po_body(st))
    status, body = await st.call(
        "POST",
        "inventory",
        "receipts",
        json={
            "purchaseOrderId": created["id"],
            "dateReceived": "2026-03-04T15:00:00Z",
            "tax": 0,
            "shipping": 0,
            "items": [{"skuId": 30001, "quantity": 1, "cost": 1}],
        },
    )
    assert status == 400 and "items[0]" in body["errors"]


async def test_purchase_order_validation_names_fields(st: ST) -> None:
    """PO create lists every missing field and names unknown vendor and business unit."""
    await st.seed()
    status, body = await st.call("POST", "inventory", "purchase-orders", json={"vendorId": 1})
    assert status == 400
    for field in (
        "typeId",
        "businessUnitId",
        "inventoryLocationId",
        "date",
        "requiredOn",
        "tax",
        "shipping",
        "shipTo",
        "items",
        "impactsTechnicianPayroll",
    ):
        assert field in body["errors"], field
    status, body = await st.call(
        "POST", "inventory", "purchase-orders", json=await po_body(st, vendorId=1, businessUnitId=2)
    )
    assert status == 400 and set(body["errors"]) == {"vendorId", "businessUnitId"}
    assert "vendor" in body["errors"]["vendorId"][0]


async def test_auto_receive_po_type_bills_at_once(st: ST) -> None:
    """A PO of an auto-receive type is Received on creation with its bill."""
    await st.seed()
    types = (await st.get("inventory", "purchase-order-types"))["data"]
    auto = next(t for t in types if t["automaticallyReceive"])
    before = await counts(st)
    _, created = await st.call(
        "POST", "inventory", "purchase-orders", json=await po_body(st, typeId=auto["id"])
    )
    assert (await st.get("inventory", f"purchase-orders/{created['id']}"))["status"] == "Received"
    assert (await counts(st))["ap_bills"] == before["ap_bills"] + 1


# -- vendors, customers, GL accounts ------------------------------------------------------


async def test_vendor_create_validation_names_each_field(st: ST) -> None:
    """A vendor without required parts gets one 400 listing each offending field."""
    body = vendor_body(taxRate="zero", address={"street": "1 Main St"})
    del body["active"]
    status, reply = await st.call("POST", "inventory", "vendors", json=body)
    assert status == 400 and reply["title"]
    errors = reply["errors"]
    assert {"active", "taxRate", "address.city", "address.zip", "address.unit"} <= set(errors)
    assert "must be a number" in errors["taxRate"][0]
    status, created = await st.call("POST", "inventory", "vendors", json=vendor_body())
    assert status == 200 and set(created) == {"id"}
    vendor = await st.get("inventory", f"vendors/{created['id']}")
    assert vendor["name"] == "Front Range Copper" and vendor["contactInfo"]["email"] == ""


async def test_external_data_is_stored_and_filterable(st: ST) -> None:
    """externalData written on create is found by guid + key + values, and only shown per guid."""
    await st.seed()
    external = {
        "applicationGuid": GUID,
        "externalData": [{"key": "m3SupplierId", "value": "S-1001"}],
    }
    _, created = await st.call(
        "POST", "inventory", "vendors", json=vendor_body(externalData=external)
    )
    found = await st.get(
        "inventory",
        "vendors",
        externalDataApplicationGuid=GUID,
        externalDataKey="m3SupplierId",
        externalDataValues="S-1001,S-9",
    )
    assert [row["id"] for row in found["data"]] == [created["id"]]
    assert found["data"][0]["externalData"] == [{"key": "m3SupplierId", "value": "S-1001"}]
    plain = await st.get("inventory", f"vendors/{created['id']}")
    assert plain["externalData"] == []
    missing = await st.get(
        "inventory",
        "vendors",
        externalDataApplicationGuid=GUID,
        externalDataKey="m3SupplierId",
        externalDataValues="S-2",
    )
    assert missing["data"] == []
    status, body = await st.call("GET", "inventory", "vendors", externalDataKey="m3SupplierId")
    assert status == 400 and "externalDataValues" in body["errors"]


async def test_external_data_patch_merge_and_replace(st: ST) -> None:
    """patchMode Merge updates keys in place; Replace (the default) swaps the set."""
    await st.seed()

    def ext(mode: str | None, *pairs: tuple[str, str | None]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "applicationGuid": GUID,
            "externalData": [{"key": k, "value": v} for k, v in pairs],
        }
        if mode:
            body["patchMode"] = mode
        return {"externalData": body}

    path = "customers/100002"
    await st.call("PATCH", "crm", path, json=ext(None, ("a", "1"), ("b", "2")))
    await st.call("PATCH", "crm", path, json=ext("Merge", ("b", "3"), ("a", None)))
    merged = await st.get("crm", path, externalDataApplicationGuid=GUID)
    assert merged["externalData"] == [{"key": "b", "value": "3"}]
    await st.call("PATCH", "crm", path, json=ext("Replace", ("c", "4")))
    replaced = await st.get("crm", path, externalDataApplicationGuid=GUID)
    assert replaced["externalData"] == [{"key": "c", "value": "4"}]


async def test_customer_create_validation_and_response(st: ST) -> None:
    """Customer create needs name, address and a location; the reply includes locations."""
    status, body = await st.call("POST", "crm", "customers", json={"name": "", "locations": []})
    assert status == 400 and {"name", "address", "locations"} <= set(body["errors"])
    customer = {
        "name": "Blue Spruce Dental",
        "type": "Commercial",
        "address": ADDRESS,
        "locations": [{"name": "Blue Spruce Dental - Main", "address": ADDRESS}],
    }
    status, created = await st.call("POST", "crm", "customers", json=customer)
    assert status == 200 and created["locations"][0]["customerId"] == created["id"]
    assert (await st.get("crm", f"customers/{created['id']}"))["name"] == "Blue Spruce Dental"


async def test_gl_account_duplicate_name_is_409(st: ST) -> None:
    """GL account names are unique: create and rename onto an existing name are 409."""
    await st.seed()
    status, created = await st.call(
        "POST",
        "accounting",
        "gl-accounts",
        json={"name": "Warranty Reserve", "number": "2400", "type": "Other Current Liability"},
    )
    assert status == 201 and created["source"] == "PublicApi"
    status, body = await st.call(
        "POST", "accounting", "gl-accounts", json={"name": "warranty reserve"}
    )
    assert status == 409 and "name" in body["errors"]
    status, _ = await st.call(
        "PATCH", "accounting", f"gl-accounts/{created['id']}", json={"name": "Accounts Payable"}
    )
    assert status == 409


async def test_pricebook_material_create_and_patch(st: ST) -> None:
    """Materials are created (201, numbers not strings) and patched; codes stay unique."""
    await st.seed()
    vendor_id = (await st.get("inventory", "vendors", pageSize=1))["data"][0]["id"]
    material = {
        "code": "FLT-NEW-1",
        "description": "18x24x1 Pleated Filter MERV 8",
        "cost": 5.1,
        "price": 11.99,
        "primaryVendor": {"vendorId": vendor_id, "cost": 5.1, "active": True},
    }
    status, created = await st.call("POST", "pricebook", "materials", json=material)
    assert (
        status == 201
        and created["price"] == 11.99
        and created["primaryVendor"]["vendorId"] == vendor_id
    )
    status, body = await st.call("POST", "pricebook", "materials", json=material)
    assert status == 400 and "code" in body["errors"]
    status, patched = await st.call(
        "PATCH", "pricebook", f"materials/{created['id']}", json={"price": 12.49}
    )
    assert (
        status == 200
        and patched["price"] == 12.49
        and patched["modifiedOn"] > created["modifiedOn"]
    )


async def test_linked_skus_are_type_checked_and_read_back(st: ST) -> None:
    """Equipment and services check their linked-SKU arrays by the vendor's schema (400
    naming the element) and show the links they were given on their GET."""
    await st.seed()
    material = (await st.get("pricebook", "materials", pageSize=1))["data"][0]
    links = [{"skuId": material["id"], "quantity": 2.5}]
    for kind, field in (("equipment", "equipmentMaterials"), ("services", "serviceMaterials")):
        base = {"code": f"LINK-{kind}", "description": f"{kind} with a material"}
        wrong = base | {field: [{"skuId": "x", "quantity": 1}]}
        status, problem = await st.call("POST", "pricebook", kind, json=wrong)
        assert status == 400, problem
        assert f"{field}[0].skuId" in problem["errors"], problem
        assert problem["title"] == "One or more validation errors occurred.", problem
        status, created = await st.call("POST", "pricebook", kind, json=base | {field: links})
        assert status == 201, created
        assert (await st.get("pricebook", f"{kind}/{created['id']}"))[field] == links
        status, problem = await st.call(
            "PATCH", "pricebook", f"{kind}/{created['id']}", json={field: [{"quantity": 1}]}
        )
        assert status == 400 and f"{field}[0].skuId" in problem["errors"], problem
