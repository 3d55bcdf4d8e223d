"""Request-body validation that reports every problem at once, keyed by field path.

ServiceTitan answers a bad create with one ``ApiErrorResponse`` whose ``errors`` maps each
offending field to its messages, so a client can show them all. msgspec stops at the first
error, hence this small declarative checker. The shapes below are transcribed from the
request schemas of the v2 OpenAPI documents (required = listed in the schema's
``required``); the checker enforces presence and JSON types, and the handlers add the
business rules (unknown vendor, duplicate name…).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.sandbox.servicetitan.wire import ApiError, format_ticks, parse_ticks

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Obj:
    """A JSON object; ``required`` names fields that must be present and not null."""

    fields: dict[str, Any]
    required: frozenset[str] = frozenset()
    nonempty: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListOf:
    item: Any
    min_items: int = 0


@dataclass(frozen=True)
class Enum:
    options: tuple[str, ...]


@dataclass(frozen=True)
class Num:
    """A JSON number, optionally bounded below (quantities must be positive, etc.)."""

    minimum: float | None = None
    exclusive: bool = False


STR, INT, BOOL, DATETIME = "string", "integer", "boolean", "date-time"
NUM = Num()


def obj(required: str = "", nonempty: str = "", **fields: Any) -> Obj:
    return Obj(fields, frozenset(required.split()), frozenset(nonempty.split()))


def check(body: Any, shape: Obj) -> Errors:
    """All the ways ``body`` breaks ``shape``; empty when it is valid."""
    errors: Errors = {}
    if not isinstance(body, dict):
        errors["$"] = ["The request body must be a JSON object."]
        return errors
    _check_obj(body, shape, "", errors)
    return errors


def require(body: Any, shape: Obj) -> dict[str, Any]:
    """``body`` as a dict when it fits ``shape``; otherwise a 400 listing every error."""
    errors = check(body, shape)
    if errors:
        raise ApiError(400, "One or more validation errors occurred.", errors)
    return dict(body)


def _check_obj(value: dict[str, Any], shape: Obj, path: str, errors: Errors) -> None:
    for name in sorted(shape.required):
        if value.get(name) is None:
            errors.setdefault(path + name, []).append(f"The {path + name} field is required.")
    for name in sorted(shape.nonempty):
        current = value.get(name)
        if isinstance(current, str) and not current.strip():
            errors.setdefault(path + name, []).append(f"The {path + name} field must not be empty.")
    for name, spec in shape.fields.items():
        if value.get(name) is not None:
            _check_value(value[name], spec, path + name, errors)
            ticks = parse_ticks(value[name]) if spec == DATETIME else None
            if ticks is not None:
                # Stored dates read back in the API's one timestamp shape, whatever was sent.
                value[name] = format_ticks(ticks)


def _check_value(value: Any, spec: Any, path: str, errors: Errors) -> None:
    def fail(message: str) -> None:
        errors.setdefault(path, []).append(message)

    if isinstance(spec, Obj):
        if isinstance(value, dict):
            _check_obj(value, spec, path + ".", errors)
        else:
            fail(f"{path} must be a JSON object.")
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            fail(f"{path} must be a JSON array.")
        elif len(value) < spec.min_items:
            fail(f"{path} must contain at least {spec.min_items} item(s).")
        else:
            for index, item in enumerate(value):
                if item is None:
                    fail(f"{path}[{index}] must not be null.")
                else:
                    _check_value(item, spec.item, f"{path}[{index}]", errors)
    elif isinstance(spec, Enum):
        if value not in spec.options:
            fail(
                f"The value '{value}' is not valid for {path}: "
                f"use one of {', '.join(spec.options)}."
            )
    elif isinstance(spec, Num):
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail(f"{path} must be a number, got {value!r}.")
        elif spec.minimum is not None and (
            value <= spec.minimum if spec.exclusive else value < spec.minimum
        ):
            relation = "greater than" if spec.exclusive else "at least"
            fail(f"{path} must be {relation} {spec.minimum:g}, got {value!r}.")
    elif spec == STR:
        if not isinstance(value, str):
            fail(f"{path} must be a string, got {value!r}.")
    elif spec == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"{path} must be an integer, got {value!r}.")
    elif spec == BOOL:
        if not isinstance(value, bool):
            fail(f"{path} must be true or false, got {value!r}.")
    elif spec == DATETIME:
        if not isinstance(value, str) or parse_ticks(value) is None:
            fail(f"The value {value!r} is not a valid date-time for {path}: use ISO 8601.")
    else:  # pragma: no cover - a typo in a shape below
        raise AssertionError(f"unknown spec {spec!r} at {path}")


# -- shapes from the specs ----------------------------------------------------------------

ADDRESS_ALL = obj(
    "street unit city state zip country",
    street=STR,
    unit=STR,
    city=STR,
    state=STR,
    zip=STR,
    country=STR,
)
EXTERNAL_DATA_CREATE = obj(
    "applicationGuid externalData",
    applicationGuid=STR,
    externalData=ListOf(obj("key value", key=STR, value=STR)),
)
EXTERNAL_DATA_PATCH = obj(
    "applicationGuid externalData",
    patchMode=Enum(("Replace", "Merge")),
    applicationGuid=STR,
    externalData=ListOf(obj("key", key=STR, value=STR)),
)
DELIVERY_OPTIONS = Enum(
    (
        "Manual",
        "EmailAsExcel",
        "EmailAsPdf",
        "EmailAsPdfRollupView",
        "Electronic",
        "MarkAsSent",
        "EmailAsExcelAndPdf",
        "VendorPortal",
    )
)
_VENDOR_FIELDS: dict[str, Any] = {
    "name": STR,
    "active": BOOL,
    "memo": STR,
    "firstName": STR,
    "lastName": STR,
    "phone": STR,
    "email": STR,
    "fax": STR,
    "isTruckReplenishment": BOOL,
    "deliveryOption": DELIVERY_OPTIONS,
    "taxRate": Num(0),
    "restrictedMobileCreation": BOOL,
    "vendorQuickbooksItem": STR,
    "paymentTermId": INT,
    "remittanceVendorId": INT,
    "address": ADDRESS_ALL,
    "tags": ListOf(obj("tagTypeId", tagTypeId=INT)),
}
VENDOR_CREATE = Obj(
    _VENDOR_FIELDS
    | {
        "externalData": EXTERNAL_DATA_CREATE,
        "vendorContacts": ListOf(obj("name email", name=STR, email=STR)),
    },
    frozenset("name active isTruckReplenishment taxRate restrictedMobileCreation address".split()),
    frozenset({"name"}),
)
VENDOR_PATCH = Obj(
    _VENDOR_FIELDS
    | {
        "externalData": EXTERNAL_DATA_PATCH,
        "vendorContacts": ListOf(obj("name email", id=INT, name=STR, email=STR)),
    },
    nonempty=frozenset({"name"}),
)

_PO_ITEM_FIELDS: dict[str, Any] = {
    "skuId": INT,
    "description": STR,
    "vendorPartNumber": STR,
    "quantity": Num(0, exclusive=True),
    "cost": Num(0),
    "budgetCodeId": INT,
}
_PO_FIELDS: dict[str, Any] = {
    "vendorId": INT,
    "typeId": INT,
    "businessUnitId": INT,
    "inventoryLocationId": INT,
    "jobId": INT,
    "technicianId": INT,
    "projectId": INT,
    "budgetCodeId": INT,
    "shipTo": obj("description address", description=STR, address=ADDRESS_ALL),
    "vendorInvoiceNumber": STR,
    "impactsTechnicianPayroll": BOOL,
    "memo": STR,
    "date": DATETIME,
    "requiredOn": DATETIME,
    "tax": Num(0),
    "shipping": Num(0),
}
PURCHASE_ORDER_CREATE = Obj(
    _PO_FIELDS
    | {
        "items": ListOf(
            Obj(
                _PO_ITEM_FIELDS,
                frozenset("skuId description vendorPartNumber quantity cost".split()),
            ),
            min_items=1,
        )
    },
    frozenset(
        "vendorId typeId businessUnitId inventoryLocationId shipTo impactsTechnicianPayroll "
        "date requiredOn tax shipping items".split()
    ),
)
PURCHASE_ORDER_PATCH = Obj(
    _PO_FIELDS
    | {
        "items": ListOf(
            Obj(
                _PO_ITEM_FIELDS | {"id": INT},
                frozenset("id skuId description vendorPartNumber quantity cost".split()),
            )
        )
    }
)
RECEIPT_CREATE = obj(
    "purchaseOrderId dateReceived tax shipping items",
    purchaseOrderId=INT,
    jobId=INT,
    dateReceived=DATETIME,
    vendorDocumentNumber=STR,
    memo=STR,
    tax=Num(0),
    shipping=Num(0),
    budgetCodeId=INT,
    items=ListOf(
        obj(
            "skuId quantity cost",
            purchaseOrderItemId=INT,
            skuId=INT,
            description=STR,
            vendorPartNumber=STR,
            quantity=Num(0, exclusive=True),
            cost=Num(0),
            budgetCodeId=INT,
        ),
        min_items=1,
    ),
)

CUSTOMER_ADDRESS = obj(
    "street city state zip country",
    street=STR,
    unit=STR,
    city=STR,
    state=STR,
    zip=STR,
    country=STR,
    latitude=NUM,
    longitude=NUM,
)
CONTACTS = ListOf(
    obj("type value", type=Enum(("Phone", "Email", "Fax", "MobilePhone")), value=STR, memo=STR)
)
CUSTOM_FIELDS = ListOf(obj("typeId value", typeId=INT, value=STR))
CUSTOMER_TYPES = Enum(("Residential", "Commercial"))
CUSTOMER_CREATE = obj(
    "name locations address",
    nonempty="name",
    name=STR,
    type=CUSTOMER_TYPES,
    doNotMail=BOOL,
    doNotService=BOOL,
    nationalAccount=BOOL,
    locations=ListOf(
        obj(
            "name address",
            nonempty="name",
            name=STR,
            address=CUSTOMER_ADDRESS,
            contacts=CONTACTS,
            customFields=CUSTOM_FIELDS,
            tagTypeIds=ListOf(INT),
            externalData=EXTERNAL_DATA_CREATE,
        ),
        min_items=1,
    ),
    address=CUSTOMER_ADDRESS,
    contacts=CONTACTS,
    customFields=CUSTOM_FIELDS,
    tagTypeIds=ListOf(INT),
    externalData=EXTERNAL_DATA_CREATE,
    taxExempt=BOOL,
    paymentTermId=INT,
    creditLimit=NUM,
    creditLimitBalance=NUM,
)
CUSTOMER_PATCH = obj(
    nonempty="name",
    name=STR,
    type=CUSTOMER_TYPES,
    address=obj(
        "street unit city state zip country latitude longitude",
        street=STR,
        unit=STR,
        city=STR,
        state=STR,
        zip=STR,
        country=STR,
        latitude=NUM,
        longitude=NUM,
    ),
    customFields=CUSTOM_FIELDS,
    externalData=EXTERNAL_DATA_PATCH,
    doNotMail=BOOL,
    doNotService=BOOL,
    nationalAccount=BOOL,
    active=BOOL,
    tagTypeIds=ListOf(INT),
    taxExempt=BOOL,
    paymentTermId=INT,
    creditLimit=NUM,
    creditLimitBalance=NUM,
)

GL_ACCOUNT_CREATE = obj(
    "name", nonempty="name", name=STR, number=STR, description=STR, type=STR, subtype=STR
)
GL_ACCOUNT_PATCH = obj(
    nonempty="name", name=STR, number=STR, description=STR, type=STR, subtype=STR, active=BOOL
)
EXTERNAL_DATA_ONLY_PATCH = obj(externalData=EXTERNAL_DATA_PATCH)

INVOICE_PATCH = obj(
    number=STR,
    typeId=INT,
    invoicedOn=DATETIME,
    subtotal=NUM,
    tax=NUM,
    taxZoneId=INT,
    summary=STR,
    royaltyStatus=Enum(("Pending", "Sent", "Failed")),
    royaltyDate=DATETIME,
    royaltySentOn=DATETIME,
    royaltyMemo=STR,
    exportId=STR,
    reviewStatus=Enum(
        (
            "NeedsReview",
            "OnHold",
            "Reviewed",
            "PendingApproval",
            "Rejected",
            "ReadyForBilling",
            "Invoiced",
        )
    ),
    assignedToId=INT,
    budgetCodeId=INT,
    dueDate=DATETIME,
    items=ListOf(
        obj(
            "description quantity",
            id=INT,
            skuId=INT,
            skuName=STR,
            technicianId=INT,
            description=STR,
            quantity=NUM,
            unitPrice=NUM,
            cost=NUM,
            isAddOn=BOOL,
            budgetCodeId=INT,
        )
    ),
)

_VENDOR_LINK = obj(
    "vendorId cost active", vendorId=INT, memo=STR, vendorPart=STR, cost=Num(0), active=BOOL
)
_WARRANTY = obj("duration", duration=INT, description=STR)
_SKU_COMMON: dict[str, Any] = {
    "code": STR,
    "displayName": STR,
    "description": STR,
    "active": BOOL,
    "price": Num(0),
    "memberPrice": Num(0),
    "addOnPrice": Num(0),
    "addOnMemberPrice": Num(0),
    "hours": Num(0),
    "bonus": NUM,
    "commissionBonus": NUM,
    "paysCommission": BOOL,
    "taxable": BOOL,
    "account": STR,
    "budgetCostCode": STR,
    "budgetCostType": STR,
    "isPriceLocked": BOOL,
}
_GOODS: dict[str, Any] = _SKU_COMMON | {
    "cost": Num(0),
    "unitOfMeasure": STR,
    "isInventory": BOOL,
    "costOfSaleAccount": STR,
    "assetAccount": STR,
    "primaryVendor": _VENDOR_LINK,
    "otherVendors": ListOf(_VENDOR_LINK),
    "isCostLocked": BOOL,
}
SKU_FIELDS: dict[str, dict[str, Any]] = {
    "materials": _GOODS | {"deductAsJobCost": BOOL, "chargeableByDefault": BOOL},
    "equipment": _GOODS
    | {
        "manufacturer": STR,
        "model": STR,
        "manufacturerWarranty": _WARRANTY,
        "serviceProviderWarranty": _WARRANTY,
    },
    "services": _SKU_COMMON | {"isLabor": BOOL, "warranty": _WARRANTY},
}


def sku_create(kind: str) -> Obj:
    return Obj(
        SKU_FIELDS[kind] | {"externalData": EXTERNAL_DATA_CREATE},
        frozenset({"code", "description"}),
        frozenset({"code", "description"}),
    )


def sku_patch(kind: str) -> Obj:
    return Obj(
        SKU_FIELDS[kind] | {"externalData": EXTERNAL_DATA_PATCH},
        nonempty=frozenset({"code", "description"}),
    )
