"""``/accounting/v2/tenant/{tenant}/…``: invoices, payments, bills, GL accounts, tax zones.

Bills are read-only (the spec has no create/update for AP or inventory bills): only
``markasexported`` and ``custom-fields`` write, every other write is a 405 with a problem
body that says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from connector.sandbox.base import json_response
from connector.sandbox.servicetitan import records, sales, validation
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
from connector.sandbox.servicetitan.store import with_active
from connector.sandbox.servicetitan.wire import ApiError, Record, dec, money, problem, quantity

if TYPE_CHECKING:
    from connector.sandbox.servicetitan.simulator import Handler, Route, ServiceTitanSimulator

INVOICES = ListRule(
    "invoices",
    "Invoice",
    active="activeState",
    filters=(
        Filter("customerId", "int", nested("customer", "id")),
        Filter("jobId", "int", nested("job", "id")),
        Filter("businessUnitId", "int", nested("businessUnit", "id")),
        Filter("number", "str", nested("referenceNumber")),
        Filter("statuses", "strs", nested("syncStatus")),
    ),
)
PAYMENTS = ListRule(
    "payments",
    "Payment",
    active="activeState",
    filters=(
        Filter("customerId", "int", nested("customer", "id")),
        Filter(
            "appliedToInvoiceIds", "ints", lambda row: [a["appliedTo"] for a in row["appliedTo"]]
        ),
        Filter("businessUnitIds", "ints", nested("businessUnit", "id")),
    ),
)
_BILL_FILTERS = (
    Filter("syncStatuses", "strs", nested("syncStatus")),
    Filter("businessUnitIds", "ints", nested("businessUnit", "id")),
    Filter("billNumber", "str", nested("referenceNumber")),
)
AP_BILLS = ListRule(
    "ap_bills",
    "AP bill",
    active="none",
    filters=(
        *_BILL_FILTERS,
        Filter("statuses", "strs", nested("status")),
        # The spec: billType "defaults to Procurement", and every purchasing bill is one.
        Filter("billType", "str", nested("billType")),
    ),
)
INVENTORY_BILLS = ListRule(
    "inventory_bills", "Inventory bill", active="none", filters=_BILL_FILTERS
)
GL_ACCOUNTS = ListRule(
    "gl_accounts",
    "GL account",
    filters=(
        Filter("names", "strs", nested("name")),
        Filter("numbers", "strs", nested("number")),
        Filter("types", "strs", nested("type")),
        Filter("subtypes", "strs", nested("subtype")),
    ),
)
TAX_ZONES = ListRule("tax_zones", "Tax zone")

BILL_WRITE_TITLE = (
    "Bills are read-only through the API: only markasexported and custom-fields can be "
    "written. Bills appear when a receipt is posted against a purchase order."
)


def routes(sim: ServiceTitanSimulator) -> list[Route]:
    store = sim.store

    async def list_invoices(request: web.Request) -> web.StreamResponse:
        return page_response(store, INVOICES, request)

    async def patch_invoice(request: web.Request) -> web.StreamResponse:
        invoice = find(store, "invoices", path_id(request), "Invoice")
        body = validation.require(await json_body(request), validation.INVOICE_PATCH)
        _apply_invoice_patch(sim, invoice, body)
        store.touch("invoices", invoice)
        return web.Response(status=200)

    async def export_invoices(request: web.Request) -> web.StreamResponse:
        return export_response(store, "invoices", request, sim.knobs.export_chunk)

    async def invoices_exported(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        if not isinstance(body, list):
            raise ApiError.invalid(
                "$", "Send a JSON array of {invoiceId, externalId, externalMessage}."
            )
        results: list[Record] = []
        for index, entry in enumerate(body):
            if not isinstance(entry, dict) or not isinstance(entry.get("invoiceId"), int):
                raise ApiError.invalid(f"[{index}].invoiceId", "The invoiceId field is required.")
            invoice = store.table("invoices").get(entry["invoiceId"])
            if invoice is None:
                results.append(
                    {
                        "invoiceId": entry["invoiceId"],
                        "success": False,
                        "errorMessage": f"Invoice {entry['invoiceId']} was not found.",
                    }
                )
                continue
            invoice["syncStatus"] = "Exported"
            if entry.get("externalId") is not None:
                invoice["exportId"] = str(entry["externalId"])
            store.touch("invoices", invoice)
            results.append({"invoiceId": invoice["id"], "success": True, "errorMessage": None})
        return json_response(results)

    async def list_payments(request: web.Request) -> web.StreamResponse:
        return page_response(store, PAYMENTS, request)

    async def export_payments(request: web.Request) -> web.StreamResponse:
        return export_response(store, "payments", request, sim.knobs.export_chunk)

    async def list_ap_bills(request: web.Request) -> web.StreamResponse:
        return page_response(store, AP_BILLS, request)

    async def get_ap_bill(request: web.Request) -> web.StreamResponse:
        return one_response(store, AP_BILLS, request, "billId")

    async def list_inventory_bills(request: web.Request) -> web.StreamResponse:
        return page_response(store, INVENTORY_BILLS, request, bare=True)

    async def paginated_inventory_bills(request: web.Request) -> web.StreamResponse:
        return page_response(store, INVENTORY_BILLS, request)

    async def export_inventory_bills(request: web.Request) -> web.StreamResponse:
        return export_response(
            store, "inventory_bills", request, sim.knobs.export_chunk, with_active
        )

    def bills_exported(id_field: str, result_field: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            body = await json_body(request)
            ids = body.get(id_field) if isinstance(body, dict) else None
            if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
                raise ApiError.invalid(id_field, f'Send {{"{id_field}": [bill ids]}}.')
            results: list[Record] = []
            for bill_id in ids:
                found = False
                for table in ("inventory_bills", "ap_bills"):
                    bill = store.table(table).get(bill_id)
                    if bill is not None:
                        found = True
                        bill["syncStatus"] = "Exported"
                        store.touch(table, bill)
                results.append(
                    {
                        result_field: bill_id,
                        "success": found,
                        "errorMessage": None if found else f"Bill {bill_id} was not found.",
                    }
                )
            return json_response(results)

        return handler

    async def bill_custom_fields(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        operations = body.get("operations") if isinstance(body, dict) else None
        if not isinstance(operations, list):
            raise ApiError.invalid("operations", "The operations field is required.")
        for index, operation in enumerate(operations):
            bill_id = operation.get("objectId") if isinstance(operation, dict) else None
            fields = operation.get("customFields") if isinstance(operation, dict) else None
            if not isinstance(bill_id, int) or not isinstance(fields, list):
                raise ApiError.invalid(
                    f"operations[{index}]", "objectId and customFields are required."
                )
            bills = [store.table(t).get(bill_id) for t in ("inventory_bills", "ap_bills")]
            if not any(bills):
                raise ApiError.invalid(
                    f"operations[{index}].objectId", f"Bill {bill_id} was not found."
                )
            for table, bill in zip(("inventory_bills", "ap_bills"), bills, strict=True):
                if bill is None:
                    continue
                current = {f["name"]: f["value"] for f in bill["customFields"]}
                current.update({f["name"]: f.get("value") for f in fields if isinstance(f, dict)})
                bill["customFields"] = [{"name": k, "value": v} for k, v in current.items()]
                store.touch(table, bill)
        return web.Response(status=200)

    async def refuse_bill_write(request: web.Request) -> web.StreamResponse:
        if request.method in ("GET", "HEAD"):
            return problem(404, "Not Found", {"path": [f"No such endpoint: {request.path}"]})
        return problem(
            405,
            BILL_WRITE_TITLE,
            {"method": [f"{request.method} {request.path} is not supported."]},
            headers={"Allow": "GET"},
        )

    async def list_gl(request: web.Request) -> web.StreamResponse:
        return page_response(store, GL_ACCOUNTS, request)

    async def get_gl(request: web.Request) -> web.StreamResponse:
        return one_response(store, GL_ACCOUNTS, request, "accountId")

    async def create_gl(request: web.Request) -> web.StreamResponse:
        body = validation.require(await json_body(request), validation.GL_ACCOUNT_CREATE)
        _unique_gl_name(sim, body["name"], None)
        record = records.gl_account(
            store,
            store.stamp(),
            name=body["name"],
            account_number=body.get("number"),
            account_type=body.get("type"),
            subtype=body.get("subtype"),
            description=body.get("description"),
            source="PublicApi",
        )
        store.insert("gl_accounts", record)
        return json_response(record, 201)

    async def patch_gl(request: web.Request) -> web.StreamResponse:
        record = find(store, "gl_accounts", path_id(request, "accountId"), "GL account")
        body = validation.require(await json_body(request), validation.GL_ACCOUNT_PATCH)
        if "name" in body:
            _unique_gl_name(sim, body["name"], record["id"])
        for key in ("name", "number", "description", "type", "subtype", "active"):
            if key in body:
                record[key] = body[key]
        store.touch("gl_accounts", record)
        return json_response(record)

    async def list_tax_zones(request: web.Request) -> web.StreamResponse:
        return page_response(store, TAX_ZONES, request)

    return [
        ("GET", "accounting", "invoices", list_invoices),
        ("POST", "accounting", "invoices/markasexported", invoices_exported),
        ("PATCH", "accounting", "invoices/{id:\\d+}", patch_invoice),
        ("GET", "accounting", "export/invoices", export_invoices),
        ("GET", "accounting", "payments", list_payments),
        ("GET", "accounting", "export/payments", export_payments),
        ("GET", "accounting", "ap-bills", list_ap_bills),
        ("POST", "accounting", "ap-bills/markasexported", bills_exported("billIds", "billId")),
        ("PATCH", "accounting", "ap-bills/custom-fields", bill_custom_fields),
        ("GET", "accounting", "ap-bills/{billId:\\d+}", get_ap_bill),
        ("*", "accounting", "ap-bills{tail:.*}", refuse_bill_write),
        ("GET", "accounting", "inventory-bills", list_inventory_bills),
        ("GET", "accounting", "inventory-bills/paginated", paginated_inventory_bills),
        (
            "POST",
            "accounting",
            "inventory-bills/markasexported",
            bills_exported("inventoryBillIds", "inventoryBillId"),
        ),
        ("PATCH", "accounting", "inventory-bills/custom-fields", bill_custom_fields),
        ("*", "accounting", "inventory-bills{tail:.*}", refuse_bill_write),
        ("GET", "accounting", "export/inventory-bills", export_inventory_bills),
        ("GET", "accounting", "gl-accounts", list_gl),
        ("POST", "accounting", "gl-accounts", create_gl),
        ("GET", "accounting", "gl-accounts/{accountId:\\d+}", get_gl),
        ("PATCH", "accounting", "gl-accounts/{accountId:\\d+}", patch_gl),
        ("GET", "accounting", "tax-zones", list_tax_zones),
    ]


def _unique_gl_name(sim: ServiceTitanSimulator, name: str, own_id: int | None) -> None:
    for account in sim.store.table("gl_accounts").rows.values():
        if account["id"] != own_id and str(account["name"]).lower() == name.lower():
            raise ApiError(
                409,
                "Another General Ledger account with the same name already exists",
                {
                    "name": [
                        f"GL account {account['id']} is already named '{account['name']}'; "
                        "reuse it or choose another name."
                    ]
                },
            )


def _apply_invoice_patch(sim: ServiceTitanSimulator, invoice: Record, body: Record) -> None:
    renames = {
        "number": "referenceNumber",
        "invoicedOn": "invoiceDate",
        "summary": "summary",
        "exportId": "exportId",
        "reviewStatus": "reviewStatus",
        "dueDate": "dueDate",
        "taxZoneId": "taxZoneId",
        "budgetCodeId": "budgetCodeId",
    }
    for source, target in renames.items():
        if source in body:
            invoice[target] = body[source]
    if any(key.startswith("royalty") for key in body):
        royalty = invoice["royalty"] or {"status": None, "date": None, "sentOn": None, "memo": None}
        for source, target in (
            ("royaltyStatus", "status"),
            ("royaltyDate", "date"),
            ("royaltySentOn", "sentOn"),
            ("royaltyMemo", "memo"),
        ):
            if source in body:
                royalty[target] = body[source]
        invoice["royalty"] = royalty
    if "items" in body:
        _patch_items(sim, invoice, body["items"])
    rate = Decimal(invoice.get("_taxRate", "0"))
    sales.recompute_invoice(invoice, rate)
    if "subtotal" in body or "tax" in body:
        paid = dec(invoice["total"]) - dec(invoice["balance"])
        subtotal = dec(body.get("subtotal", invoice["subTotal"]))
        tax = dec(body.get("tax", invoice["salesTax"]))
        invoice["subTotal"], invoice["salesTax"] = money(subtotal), money(tax)
        invoice["total"] = money(subtotal + tax)
        invoice["balance"] = money(subtotal + tax - paid)


def _patch_items(sim: ServiceTitanSimulator, invoice: Record, items: list[Record]) -> None:
    store = sim.store
    by_id = {item["id"]: item for item in invoice["items"]}
    for index, change in enumerate(items):
        if change.get("id") is not None:
            item = by_id.get(change["id"])
            if item is None:
                raise ApiError.invalid(
                    f"items[{index}].id", f"Invoice {invoice['id']} has no item {change['id']}."
                )
            item["description"] = change["description"]
            item["quantity"] = quantity(dec(change["quantity"]))
            if change.get("unitPrice") is not None:
                item["price"] = money(dec(change["unitPrice"]))
            item["total"] = money(dec(item["price"]) * dec(change["quantity"]))
            item["modifiedOn"] = store.stamp()
            continue
        found = None
        for kind in ("services", "materials", "equipment"):
            record = store.table(kind).get(change.get("skuId") or -1)
            if record is not None:
                found = (record, kind)
                break
        if found is None:
            raise ApiError.invalid(
                f"items[{index}].skuId",
                "New items need the skuId of a pricebook service, material or equipment.",
            )
        unit = (
            store.table("business_units").get(invoice["businessUnit"]["id"])
            if invoice["businessUnit"]
            else None
        )
        sku_record, kind = found
        price = dec(change.get("unitPrice", sku_record["price"]))
        item = sales.invoice_item(
            store,
            store.stamp(),
            sku_record=sku_record,
            kind=kind,
            qty=dec(change["quantity"]),
            price=price,
            order=len(invoice["items"]) + 1,
            business_unit=unit or {"id": 0, "name": None},
            revenue_account=invoice["items"][0]["generalLedgerAccount"]
            if invoice["items"]
            else None,
            cost_account=None,
            asset_account=None,
            technician_id=change.get("technicianId"),
        )
        item["description"] = change["description"]
        invoice["items"].append(item)
