"""Record constructors for the sales side: customers and locations, jobs, invoices, payments.

Same rules as :mod:`.records`: every field of the v2 response model (crm, jpm, accounting),
accounting money and quantities as strings, business dates at midnight UTC.
"""

from __future__ import annotations

from decimal import Decimal

from connector.sandbox.servicetitan.records import day_of, named, plain_address
from connector.sandbox.servicetitan.store import Store
from connector.sandbox.servicetitan.wire import Record, dec, money, quantity

# -- crm / jpm ----------------------------------------------------------------------------


def customer_address(source: Record) -> Record:
    keys = ("street", "unit", "city", "state", "zip", "country", "latitude", "longitude")
    return {key: source.get(key) for key in keys}


def contact_list(store: Store, contacts: list[Record] | None) -> list[Record]:
    return [
        {
            "id": store.new_id("contacts"),
            "type": c["type"],
            "value": c["value"],
            "memo": c.get("memo"),
        }
        for c in contacts or []
    ]


def location(
    store: Store, stamp: str, customer_id: int, body: Record, tax_zone_id: int | None
) -> Record:
    return {
        "taxZoneId": tax_zone_id,
        "id": store.new_id("locations"),
        "customerId": customer_id,
        "active": True,
        "name": body["name"],
        "address": customer_address(body["address"]),
        "customFields": [],
        "createdOn": stamp,
        "createdById": 0,
        "modifiedOn": stamp,
        "mergedToId": None,
        "zoneId": None,
        "taxExempt": False,
        "tagTypeIds": list(body.get("tagTypeIds") or []),
        "externalData": [],
        "contacts": contact_list(store, body.get("contacts")),
    }


def customer(store: Store, stamp: str, body: Record, *, created_by: int = 0) -> Record:
    """A customer from a (validated) create body. Locations and contacts are kept private:
    the create response shows them, the customer GET model does not."""
    record: Record = {
        "id": store.new_id("customers"),
        "active": True,
        "name": body["name"],
        "type": body.get("type") or "Residential",
        "address": customer_address(body["address"]),
        "customFields": [],
        "balance": 0.0,
        "taxExempt": bool(body.get("taxExempt", False)),
        "tagTypeIds": list(body.get("tagTypeIds") or []),
        "doNotMail": bool(body.get("doNotMail", False)),
        "doNotService": bool(body.get("doNotService", False)),
        "nationalAccount": bool(body.get("nationalAccount", False)),
        "createdOn": stamp,
        "createdById": created_by,
        "modifiedOn": stamp,
        "mergedToId": None,
        "paymentTermId": body.get("paymentTermId"),
        "creditLimit": body.get("creditLimit"),
        "creditLimitBalance": body.get("creditLimitBalance"),
        "externalData": [],
    }
    record["_contacts"] = contact_list(store, body.get("contacts"))
    record["_locations"] = []
    return record


def job(
    store: Store,
    stamp: str,
    *,
    customer_id: int,
    location_id: int,
    business_unit_id: int,
    job_type_id: int,
    campaign_id: int,
    status: str,
    completed_on: str | None,
    summary: str,
    total: float | None,
) -> Record:
    job_id = store.new_id("jobs")
    appointment = job_id * 3
    return {
        "id": job_id,
        "jobNumber": str(job_id),
        "projectId": None,
        "customerId": customer_id,
        "locationId": location_id,
        "jobStatus": status,
        "completedOn": completed_on,
        "businessUnitId": business_unit_id,
        "jobTypeId": job_type_id,
        "priority": "Normal",
        "campaignId": campaign_id,
        "appointmentCount": 1,
        "firstAppointmentId": appointment,
        "lastAppointmentId": appointment,
        "recallForId": None,
        "warrantyId": None,
        "jobGeneratedLeadSource": None,
        "noCharge": False,
        "notificationsEnabled": True,
        "createdOn": stamp,
        "createdById": 0,
        "modifiedOn": stamp,
        "tagTypeIds": [],
        "leadCallId": None,
        "partnerLeadCallId": None,
        "bookingId": None,
        "soldById": None,
        "customerPo": "",
        "invoiceId": 0,
        "membershipId": None,
        "total": total,
        "createdFromEstimateId": None,
        "estimateIds": [],
        "equipmentIds": [],
        "isAutoDispatched": False,
        "summary": summary,
        "customFields": [],
        "externalData": [],
        "summaryOfWork": None,
    }


# -- accounting ---------------------------------------------------------------------------


def invoice_item(
    store: Store,
    stamp: str,
    *,
    sku_record: Record,
    kind: str,
    qty: Decimal,
    price: Decimal,
    order: int,
    business_unit: Record,
    revenue_account: Record | None,
    cost_account: Record | None,
    asset_account: Record | None,
    technician_id: int | None,
) -> Record:
    cost = dec(sku_record.get("cost") or 0)
    item_type = {"materials": "Material", "equipment": "Equipment", "services": "Service"}[kind]
    return {
        "id": store.new_id("invoice_items"),
        "description": sku_record["description"],
        "quantity": quantity(qty),
        "cost": money(cost),
        "totalCost": money(cost * qty),
        "budgetCodeId": None,
        "inventoryLocationId": None,
        "inventoryLocation": None,
        "price": money(price),
        "type": item_type,
        "skuName": sku_record["code"],
        "skuId": sku_record["id"],
        "total": money(price * qty),
        "inventory": kind != "services" and bool(sku_record.get("isInventory")),
        "taxable": bool(sku_record.get("taxable")),
        "isChargeable": True,
        "generalLedgerAccount": revenue_account,
        "costOfSaleAccount": None if kind == "services" else cost_account,
        "assetAccount": None if kind == "services" else asset_account,
        "membershipTypeId": 0,
        "itemGroup": None,
        "displayName": sku_record.get("displayName"),
        "soldHours": float(sku_record.get("hours") or 0) if kind == "services" else None,
        "createdOn": stamp,
        "modifiedOn": stamp,
        "serviceDate": day_of(stamp),
        "order": order,
        "businessUnit": named(business_unit),
        "createdById": None,
        "displayInAmount": False,
        "importId": None,
        "exportId": None,
        "inventoryStatus": None,
        "addOn": False,
        "memberPrice": money(dec(sku_record.get("memberPrice") or price)),
        "technicianId": technician_id,
        "installedEquipmentId": None,
        "estimateItemId": None,
    }


def recompute_invoice(invoice: Record, tax_rate: Decimal) -> None:
    """Totals from the items: taxable lines carry sales tax; the balance keeps payments."""
    paid = dec(invoice["total"] or 0) - dec(invoice["balance"] or 0)
    subtotal = sum((dec(item["total"]) for item in invoice["items"]), Decimal(0))
    taxable = sum((dec(item["total"]) for item in invoice["items"] if item["taxable"]), Decimal(0))
    tax = taxable * tax_rate
    invoice["subTotal"] = money(subtotal)
    invoice["salesTax"] = money(tax)
    invoice["total"] = money(subtotal + tax)
    invoice["balance"] = money(subtotal + tax - paid)


def invoice(
    store: Store,
    stamp: str,
    *,
    job_record: Record,
    job_type: str,
    customer_record: Record,
    location_record: Record,
    business_unit: Record,
    zone: Record | None,
    created_by: str,
    term: str,
    sync_status: str,
) -> Record:
    address = plain_address(customer_record["address"])
    return {
        "id": store.new_id("invoices"),
        "syncStatus": sync_status,
        "budgetCodeId": None,
        "referenceNumber": job_record["jobNumber"],
        "invoiceDate": day_of(stamp),
        "dueDate": day_of(stamp, 0 if term == "Due Upon Receipt" else int(term.split()[-1])),
        "subTotal": "0.00",
        "salesTax": "0.00",
        "salesTaxCode": None
        if zone is None
        else {
            "id": zone["rates"][0]["id"],
            "name": zone["rates"][0]["taxName"],
            "taxRate": zone["rates"][0]["taxRate"],
        },
        "taxZoneId": None if zone is None else zone["id"],
        "total": "0.00",
        "balance": "0.00",
        "invoiceType": None,
        "customer": named(customer_record),
        "customerAddress": address,
        "location": named(location_record),
        "locationAddress": plain_address(location_record["address"]),
        "businessUnit": named(business_unit),
        "termName": term,
        "createdBy": created_by,
        "batch": None,
        "depositedOn": None,
        "createdOn": stamp,
        "modifiedOn": stamp,
        "adjustmentToId": None,
        "job": {"id": job_record["id"], "number": job_record["jobNumber"], "type": job_type},
        "projectId": None,
        "royalty": None,
        "employeeInfo": None,
        "commissionEligibilityDate": None,
        "sentStatus": "Sent",
        "reviewStatus": "Reviewed",
        "assignedTo": None,
        "summary": job_record["summary"],
        "items": [],
        "customFields": [],
        "active": True,
        "discountTotal": "0.00",
        "importId": None,
        "exportId": None,
        "materialSkuId": None,
        "membershipId": None,
        "paidOn": None,
        "invoiceConfiguration": "JobInvoice",
    }


def payment(
    store: Store,
    stamp: str,
    *,
    invoice_record: Record,
    amount: Decimal,
    payment_type: str,
    type_id: int,
    created_by: str,
    undeposited: Record | None,
) -> Record:
    payment_id = store.new_id("payments")
    return {
        "active": True,
        "appliedTo": [
            {
                "appliedAmount": money(amount),
                "appliedBy": created_by,
                "appliedId": payment_id * 10 + 1,
                "appliedOn": stamp,
                "appliedTo": invoice_record["id"],
                "appliedToReferenceNumber": invoice_record["referenceNumber"],
            }
        ],
        "authCode": None if payment_type != "Credit Card" else f"{payment_id % 1000000:06d}",
        "batch": None,
        "businessUnit": invoice_record["businessUnit"],
        "checkNumber": f"{1000 + payment_id % 9000}" if payment_type == "Check" else None,
        "createdBy": created_by,
        "createdOn": stamp,
        "customer": invoice_record["customer"],
        "customFields": [],
        "date": day_of(stamp),
        "deposit": None,
        "generalLedgerAccount": undeposited,
        "id": payment_id,
        "memo": f"Payment for invoice {invoice_record['referenceNumber']}",
        "modifiedOn": stamp,
        "referenceNumber": f"PMT{payment_id}",
        "refundedPaymentId": None,
        "syncStatus": "Pending",
        "total": money(amount),
        "type": payment_type,
        "typeId": str(type_id),
        "unappliedAmount": "0.00",
    }
