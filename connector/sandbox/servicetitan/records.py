"""Record constructors: every field of each v2 response model, filled consistently.

Both the seeder and the API handlers build records here, so a record made by ``POST
/vendors`` and one made by ``/_sandbox/seed`` have exactly the same shape. Field lists are
transcribed from the response schemas (``additionalProperties: false``); nullable fields
the sandbox has nothing for are ``None``, required ones get ServiceTitan's defaults.
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.servicetitan import catalog
from connector.sandbox.servicetitan.store import Store
from connector.sandbox.servicetitan.validation import SKU_FIELDS
from connector.sandbox.servicetitan.wire import (
    TICKS_PER_SECOND,
    Record,
    format_ticks,
    parse_ticks,
)

DAY = 86_400 * TICKS_PER_SECOND


def day_of(stamp: str, plus_days: int = 0) -> str:
    """Midnight UTC of the day of ``stamp`` (plus some days): ServiceTitan's business dates."""
    ticks = parse_ticks(stamp) or 0
    return format_ticks((ticks // DAY + plus_days) * DAY)


def named(record: Record, name_key: str = "name") -> Record:
    return {"id": record["id"], "name": record[name_key]}


def plain_address(source: Record) -> Record:
    """The six-part address every accounting/inventory model uses."""
    return {key: source.get(key) for key in ("street", "unit", "city", "state", "zip", "country")}


def gl_by_number(store: Store, account_number: str) -> Record | None:
    for account in store.table("gl_accounts").rows.values():
        if account["number"] == account_number:
            return account
    return None


def gl_ref(store: Store, account_number: str) -> Record | None:
    """``GLAccountResponse`` (id, name, number, type, detailType) or None when not seeded."""
    account = gl_by_number(store, account_number)
    if account is None:
        return None
    return {
        "id": account["id"],
        "name": account["name"],
        "number": account["number"],
        "type": account["type"],
        "detailType": account["subtype"],
    }


def gl_name(store: Store, account_number: str) -> str | None:
    account = gl_by_number(store, account_number)
    return None if account is None else str(account["name"])


# -- settings / accounting reference data -------------------------------------------------


def business_unit(
    store: Store, stamp: str, *, name: str, trade: str, tenant_id: int, address: Record
) -> Record:
    slug = "".join(ch for ch in name.lower() if ch.isalnum())
    return {
        "id": store.new_id("business_units"),
        "active": True,
        "name": name,
        "officialName": f"{catalog.COMPANY} - {name}",
        "email": f"{slug}@summitcomfort.example",
        "currency": "USD",
        "phoneNumber": "3035550100",
        "invoiceHeader": catalog.COMPANY,
        "invoiceMessage": "Thank you for choosing Summit Comfort!",
        "defaultTaxRate": None,
        "authorizationParagraph": None,
        "acknowledgementParagraph": None,
        "address": address
        | {
            "latitude": 39.7392,
            "longitude": -104.9903,
            "isManualCoordinates": False,
            "isMilitary": False,
        },
        "materialSku": None,
        "quickbooksClass": name,
        "accountCode": None,
        "franchiseId": None,
        "conceptCode": None,
        "corporateContractNumber": None,
        "trade": {"id": catalog.TRADES[trade], "name": trade},
        "division": None,
        "tagTypeIds": [],
        "tenant": {
            "id": tenant_id,
            "name": catalog.TENANT_NAME,
            "accountCode": None,
            "franchiseId": None,
            "conceptCode": None,
            "modifiedOn": stamp,
        },
        "createdOn": stamp,
        "modifiedOn": stamp,
        "externalData": [],
        "certifiedSentriconSpecialistCode": None,
        "_trade": trade,
    }


def tax_zone(store: Store, stamp: str, *, name: str, rate_percent: float, color: int) -> Record:
    zone_id = store.new_id("tax_zones")
    return {
        "id": zone_id,
        "name": name,
        "color": color,
        "isTaxRateSeparated": False,
        "isMultipleTaxZone": False,
        "rates": [
            {
                "id": zone_id * 10 + 1,
                "taxName": f"{name} Sales Tax",
                "taxBaseType": ["Material"],
                # The spec: "Tax rate as a fractional/decimal value".
                "taxRate": round(rate_percent / 100, 6),
                "salesTaxItem": f"{name} Sales Tax",
            }
        ],
        "createdOn": stamp,
        "modifiedOn": stamp,
        "active": True,
    }


def gl_account(
    store: Store,
    stamp: str,
    *,
    name: str,
    account_number: str | None,
    account_type: str | None,
    subtype: str | None,
    description: str | None = None,
    default_type: str | None = None,
    source: str = "AccountingSystem",
) -> Record:
    return {
        "id": store.new_id("gl_accounts"),
        "name": name,
        "number": account_number,
        "description": description,
        "type": account_type,
        "subtype": subtype,
        "active": True,
        "isIntacctGroup": False,
        "isIntacctBankAccount": False,
        "source": source,
        "defaultAccountType": default_type,
        "createdOn": stamp,
        "modifiedOn": stamp,
    }


def warehouse(store: Store, stamp: str, *, name: str, address: Record) -> Record:
    return {
        "id": store.new_id("warehouses"),
        "name": name,
        "active": True,
        "address": address,
        "inventoryTemplateId": None,
        "createdOn": stamp,
        "modifiedOn": stamp,
        "externalData": [],
    }


def purchase_order_type(store: Store, stamp: str, *, name: str, auto_receive: bool) -> Record:
    return {
        "id": store.new_id("purchase_order_types"),
        "name": name,
        "active": True,
        "automaticallyReceive": auto_receive,
        "displayToTechnician": True,
        "impactToTechnicianPayroll": False,
        "allowTechniciansToSendPo": not auto_receive,
        "defaultRequiredDateDaysOffset": 3,
        "skipWeekends": True,
        "excludeTaxFromJobCosting": False,
        "landedCostMethod": "None",
        "includeTaxInFullyLandedCost": False,
        "createdOn": stamp,
        "modifiedOn": stamp,
    }


# -- inventory ----------------------------------------------------------------------------


def vendor(store: Store, stamp: str, body: Record, *, account_number: str) -> Record:
    """A vendor from a (validated) create body; ``account_number`` is our account with them.

    The vendor model has no code or number; bills carry ``vendorNumber``, which the sandbox
    fills from this hidden account number.
    """
    return {
        "id": store.new_id("vendors"),
        "name": body["name"],
        "active": body["active"],
        "isTruckReplenishment": body["isTruckReplenishment"],
        "isMobileCreationRestricted": body["restrictedMobileCreation"],
        "memo": body.get("memo") or "",
        "deliveryOption": body.get("deliveryOption") or "Manual",
        "defaultTaxRate": body["taxRate"],
        "contactInfo": {
            key: body.get(key) or "" for key in ("firstName", "lastName", "phone", "email", "fax")
        },
        "address": plain_address(body["address"]),
        "createdOn": stamp,
        "modifiedOn": stamp,
        "externalData": [],
        "customFields": [],
        "_accountNumber": account_number,
    }


# -- pricebook ----------------------------------------------------------------------------


def vendor_link(store: Store, link: Record, link_id: int) -> Record:
    """A pricebook ``primaryVendor``/``otherVendors`` entry from a request's vendor link."""
    found = store.table("vendors").get(link["vendorId"])
    return {
        "id": link_id,
        "vendorName": "" if found is None else found["name"],
        "vendorId": link["vendorId"],
        "memo": link.get("memo"),
        "vendorPart": link.get("vendorPart"),
        "cost": link["cost"],
        "active": link["active"],
        "primarySubAccount": None,
        "otherSubAccounts": [],
    }


_SKU_DEFAULTS: dict[str, Any] = {
    "displayName": None,
    "active": True,
    "price": 0.0,
    "memberPrice": 0.0,
    "addOnPrice": 0.0,
    "addOnMemberPrice": 0.0,
    "hours": 0.0,
    "bonus": 0.0,
    "commissionBonus": 0.0,
    "paysCommission": False,
    "account": None,
    "assets": [],
    "source": None,
    "externalId": None,
    "externalData": [],
    "budgetCostCode": None,
    "budgetCostType": None,
    "isPriceLocked": False,
    "defaultAssetUrl": None,
    "modifiedOn": "",
    "createdOn": "",
}
_GOODS_DEFAULTS: dict[str, Any] = _SKU_DEFAULTS | {
    "cost": 0.0,
    "unitOfMeasure": "Each",
    "isInventory": True,
    "costOfSaleAccount": None,
    "assetAccount": None,
    "taxable": True,
    "primaryVendor": None,
    "otherVendors": [],
    "categories": [],
    "displayInAmount": False,
    "generalLedgerAccountId": None,
    "isCostLocked": False,
}
SKU_DEFAULTS: dict[str, dict[str, Any]] = {
    "materials": _GOODS_DEFAULTS
    | {
        "deductAsJobCost": False,
        "isConfigurableMaterial": False,
        "chargeableByDefault": True,
        "variationsOrConfigurableMaterials": [],
        "businessUnitId": None,
        "createdById": 0,
        "isOtherDirectCost": False,
        "costTypeId": None,
        "isChemical": False,
        "epaNumber": None,
        "activeIngredients": None,
    },
    "equipment": _GOODS_DEFAULTS
    | {
        "manufacturer": None,
        "model": None,
        "manufacturerWarranty": {"duration": 0, "description": None},
        "serviceProviderWarranty": {"duration": 0, "description": None},
        "recommendations": [],
        "upgrades": [],
        "equipmentMaterials": [],
        "crossSaleGroup": None,
        "isConfigurableEquipment": False,
        "variationsOrConfigurableEquipment": [],
        "typeId": None,
        "dimensions": None,
    },
    "services": _SKU_DEFAULTS
    | {
        "warranty": None,
        "categories": [],
        "taxable": False,
        "isLabor": True,
        "recommendations": [],
        "upgrades": [],
        "serviceMaterials": [],
        "serviceEquipment": [],
        "crossSaleGroup": None,
        "businessUnitId": None,
        "cost": 0.0,
        "soldByCommission": 0.0,
        "calculatedPrice": None,
        "useStaticPrices": True,
    },
}


#: Documented request fields beyond the transcribed ones that the GET shows as sent.
_SKU_WRITABLE = frozenset(
    {
        "assets",
        "categories",
        "recommendations",
        "upgrades",
        "equipmentMaterials",
        "serviceMaterials",
        "serviceEquipment",
        "crossSaleGroup",
        "isConfigurableEquipment",
        "isConfigurableMaterial",
        "isOtherDirectCost",
        "costTypeId",
        "isChemical",
        "epaNumber",
        "activeIngredients",
        "deductAsJobCost",
        "chargeableByDefault",
    }
)


def sku(store: Store, stamp: str, kind: str, body: Record) -> Record:
    """A material, equipment or service from a (validated) create body plus defaults."""
    record: Record = {"id": store.new_id(kind), "code": body["code"]}
    record.update(SKU_DEFAULTS[kind])
    record["description"] = body["description"]
    apply_sku_fields(store, kind, record, body)
    record["createdOn"] = stamp
    record["modifiedOn"] = stamp
    return record


def apply_sku_fields(store: Store, kind: str, record: Record, body: Record) -> None:
    """Copy the writable fields of a (validated) create/patch body onto a pricebook record."""
    for key, value in body.items():
        if key in ("primaryVendor", "otherVendors", "externalData"):
            continue
        # The transcribed fields, and the documented ones the record shows (linked SKUs,
        # categories, assets…): the body was checked against the request schema, and what
        # a client sends it reads back.
        if key in SKU_FIELDS[kind] or (key in SKU_DEFAULTS[kind] and key in _SKU_WRITABLE):
            record[key] = value
    if body.get("primaryVendor") is not None:
        record["primaryVendor"] = vendor_link(store, body["primaryVendor"], record["id"] * 10)
    if body.get("otherVendors") is not None:
        record["otherVendors"] = [
            vendor_link(store, link, record["id"] * 10 + index + 1)
            for index, link in enumerate(body["otherVendors"])
        ]
