"""The LN OData services the simulator offers, and their entity sets' properties.

Paths are ``/{ti}/LN/lnapi/odata/{module.Service}/{EntitySet}``. Service and entity-set
names follow Infor's published LN REST API where it is known — ``tcapi.comBusinessPartner/
BusinessPartners`` (seen in deployed clients), ``tdapi.purPurchaseOrder/Orders`` and
``/Lines`` keyed ``PurchaseOrder``, ``Line``, ``Sequence`` (developer.infor.com) — and are
**(inferred)** for items (``tcapi.ibdItem/Items``) and AP invoices (``tfapi.acpInvoice/
Invoices`` + ``/InvoiceLines``). ``LastModificationDateTime`` is the modification property
incremental reads filter on **(inferred name)**.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.sandbox.infor.odata_filter import PropertyType

STRING = PropertyType("Edm.String")
DECIMAL = PropertyType("Edm.Decimal")
INT = PropertyType("Edm.Int32")
DATETIME = PropertyType("Edm.DateTimeOffset")
DATE = PropertyType("Edm.Date")
MODIFIED = "LastModificationDateTime"


@dataclass(frozen=True)
class Prop:
    type: PropertyType
    max_length: int | None = None
    #: Must be in a POST body.
    required: bool = False
    #: Set by the server; refused in a POST or PATCH body.
    read_only: bool = False
    #: Filled in on create when the body leaves it out.
    default: object = None


@dataclass(frozen=True)
class Reference:
    """A property that must name an existing record of another entity set (else 422)."""

    prop: str
    service: str
    entity_set: str


@dataclass(frozen=True)
class EntitySet:
    service: str
    name: str
    keys: tuple[str, ...]
    props: dict[str, Prop]
    #: The key property the server numbers on create (LN document numbers).
    numbered: str | None = None
    references: tuple[Reference, ...] = ()
    #: For lines: the parent set and the key properties that point at the parent.
    parent: tuple[str, tuple[str, ...]] | None = None

    @property
    def types(self) -> dict[str, PropertyType]:
        return {name: prop.type for name, prop in self.props.items()}


def _enum(name: str, *members: str) -> PropertyType:
    return PropertyType(name, members)


BP_STATUS = _enum("tcapi.comBusinessPartner.BusinessPartnerStatus", "Active", "Inactive")
ITEM_STATUS = _enum("tcapi.ibdItem.ItemStatus", "Active", "Inactive")

ENTITY_SETS: tuple[EntitySet, ...] = (
    EntitySet(
        "tcapi.comBusinessPartner",
        "BusinessPartners",
        ("BusinessPartner",),
        {
            "BusinessPartner": Prop(STRING, 9, required=True),
            "Name": Prop(STRING, 35, required=True),
            "BusinessPartnerStatus": Prop(BP_STATUS, default="Active"),
            "Currency": Prop(STRING, 3, default="USD"),
            MODIFIED: Prop(DATETIME, read_only=True),
        },
    ),
    EntitySet(
        "tcapi.ibdItem",
        "Items",
        ("Item",),
        {
            "Item": Prop(STRING, 47, required=True),
            "Description": Prop(STRING, 30, required=True),
            "ItemGroup": Prop(STRING, 6, default="MAT"),
            "InventoryUnit": Prop(STRING, 3, default="ea"),
            "ItemStatus": Prop(ITEM_STATUS, default="Active"),
            MODIFIED: Prop(DATETIME, read_only=True),
        },
    ),
    EntitySet(
        "tfapi.acpInvoice",
        "Invoices",
        ("TransactionType", "Document"),
        {
            "TransactionType": Prop(STRING, 3, required=True),
            "Document": Prop(INT, read_only=True),
            "InvoicefromBusinessPartner": Prop(STRING, 9, required=True),
            "SupplierInvoice": Prop(STRING, 30, required=True),
            "InvoiceDate": Prop(DATE, required=True),
            "DueDate": Prop(DATE),
            "Currency": Prop(STRING, 3, required=True),
            "InvoiceAmount": Prop(DECIMAL, required=True),
            "Reference": Prop(STRING, 30),
            "PurchaseOrder": Prop(STRING, 9),
            MODIFIED: Prop(DATETIME, read_only=True),
        },
        numbered="Document",
        references=(
            Reference("InvoicefromBusinessPartner", "tcapi.comBusinessPartner", "BusinessPartners"),
        ),
    ),
    EntitySet(
        "tfapi.acpInvoice",
        "InvoiceLines",
        ("TransactionType", "Document", "LineNumber"),
        {
            "TransactionType": Prop(STRING, 3, required=True),
            "Document": Prop(INT, required=True),
            "LineNumber": Prop(INT, required=True),
            "Amount": Prop(DECIMAL, required=True),
            "LedgerAccount": Prop(STRING, 12, required=True),
            "CostCenter": Prop(STRING, 9),
            "Description": Prop(STRING, 30),
            "Item": Prop(STRING, 47),
            MODIFIED: Prop(DATETIME, read_only=True),
        },
        parent=("Invoices", ("TransactionType", "Document")),
    ),
    EntitySet(
        "tdapi.purPurchaseOrder",
        "Orders",
        ("PurchaseOrder",),
        {
            "PurchaseOrder": Prop(STRING, 9, required=True),
            "BuyfromBusinessPartner": Prop(STRING, 9, required=True),
            "OrderDate": Prop(DATE, required=True),
            "Currency": Prop(STRING, 3, default="USD"),
            MODIFIED: Prop(DATETIME, read_only=True),
        },
        references=(
            Reference("BuyfromBusinessPartner", "tcapi.comBusinessPartner", "BusinessPartners"),
        ),
    ),
    EntitySet(
        "tdapi.purPurchaseOrder",
        "Lines",
        ("PurchaseOrder", "Line", "Sequence"),
        {
            "PurchaseOrder": Prop(STRING, 9, required=True),
            "Line": Prop(INT, required=True),
            "Sequence": Prop(INT, default=0),
            "Item": Prop(STRING, 47, required=True),
            "OrderedQuantity": Prop(DECIMAL, required=True),
            "Price": Prop(DECIMAL, required=True),
            "Description": Prop(STRING, 30),
            MODIFIED: Prop(DATETIME, read_only=True),
        },
        parent=("Orders", ("PurchaseOrder",)),
        references=(Reference("Item", "tcapi.ibdItem", "Items"),),
    ),
)


def find_set(service: str, name: str) -> EntitySet | None:
    for entity_set in ENTITY_SETS:
        if entity_set.service == service and entity_set.name == name:
            return entity_set
    return None


def services() -> set[str]:
    return {entity_set.service for entity_set in ENTITY_SETS}
