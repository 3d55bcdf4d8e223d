"""ServiceTitan wire models, taken from ServiceTitan's own OpenAPI documents (v2, 2026-05).

Names follow the specs (``Accounting.V2.InvoiceResponse`` → :class:`Invoice`); attributes are
snake_case and map to the API's camelCase. Only the fields the flows read are declared:
msgspec ignores the rest, so a field ServiceTitan adds tomorrow never breaks a decode.

Typing is the API's, not ours: in the *accounting* module money and quantities are strings
(``"25.69"``), in inventory and pricebook they are numbers. Mappers turn both into
``Decimal`` and report an unparseable amount as bad source data, naming the record.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class _Model(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    """Base of every ServiceTitan model: camelCase on the wire, unknown fields ignored."""


# -- envelopes ------------------------------------------------------------------------------
class Page(_Model, Generic[T], frozen=True, kw_only=True):
    """``PaginatedResponse_Of_…``: page numbers from 1, ``hasMore`` says whether to go on."""

    page: int
    page_size: int
    has_more: bool
    total_count: int | None = None
    data: list[T]


class ExportPage(_Model, Generic[T], frozen=True, kw_only=True):
    """``ExportResponse_Of_…``: keep ``continue_from`` as the cursor."""

    has_more: bool
    continue_from: str
    data: list[T]


class ProblemDetails(_Model, frozen=True, kw_only=True):
    """``ApiErrorResponse``: RFC 7807 problem body for 400/404/409 (and 429 in the field)."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    trace_id: str | None = None
    errors: dict[str, list[str]] | None = None


# -- shared parts ---------------------------------------------------------------------------
class NamedField(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.NamedFieldResponse``."""

    id: int
    name: str | None = None


class GLAccountRef(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.GLAccountResponse`` (a GL account as referenced from a line)."""

    id: int
    name: str | None = None
    number: str | None = None
    type: str | None = None
    detail_type: str | None = None


class JobRef(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.JobResponse`` as embedded in an invoice."""

    id: int
    number: str | None = None
    type: str | None = None


class ExternalData(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.ExternalDataModel``: our dedupe tool on ServiceTitan records."""

    key: str
    value: str


class Address(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.AddressResponse`` (vendor, PO ship-to)."""

    street: str | None = None
    unit: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


# -- accounting -----------------------------------------------------------------------------
class InvoiceItem(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.InvoiceItemResponse``."""

    id: int
    type: str | None = None  # Service | Material | Equipment | PriceModifier | Unspecified
    sku_id: int | None = None
    sku_name: str | None = None
    description: str | None = None
    quantity: str | None = None
    cost: str | None = None
    price: str | None = None
    total: str | None = None
    general_ledger_account: GLAccountRef | None = None
    business_unit: NamedField | None = None
    order: int | None = None


class Invoice(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.InvoiceResponse``."""

    id: int
    reference_number: str | None = None
    invoice_date: str | None = None
    due_date: str | None = None
    sub_total: str | None = None
    sales_tax: str | None = None
    total: str | None = None
    balance: str | None = None
    customer: NamedField | None = None
    location: NamedField | None = None
    business_unit: NamedField | None = None
    job: JobRef | None = None
    sync_status: str | None = None
    summary: str | None = None
    active: bool = True
    created_on: str | None = None
    modified_on: str | None = None
    items: list[InvoiceItem] | None = None


class InventoryBillItem(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.InventoryBillItemResponse``."""

    id: int
    order: int | None = None
    sku_id: int | None = None
    sku_type: str | None = None
    sku_code: str | None = None
    name: str | None = None
    description: str | None = None
    quantity: str | None = None
    cost: str | None = None
    general_ledger_account: GLAccountRef | None = None


class InventoryBill(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.InventoryBillResponse`` (read-only: created by receiving a PO)."""

    id: int
    purchase_order_id: int | None = None
    reference_number: str | None = None
    vendor_number: str | None = None
    summary: str | None = None
    bill_date: str | None = None
    due_date: str | None = None
    bill_amount: str | None = None
    tax_amount: str | None = None
    shipping_amount: str | None = None
    business_unit: NamedField | None = None
    tax_zone: NamedField | None = None
    vendor: NamedField | None = None
    job_id: int | None = None
    sync_status: str | None = None
    created_on: str | None = None
    modified_on: str | None = None
    items: list[InventoryBillItem] | None = None


class ApBill(InventoryBill, frozen=True, kw_only=True):
    """``Accounting.V2.ApBillResponse``: an inventory bill plus status/source/type."""

    status: str | None = None
    source: str | None = None
    bill_type: str | None = None


class PaymentApplied(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.PaymentAppliedResponse``."""

    applied_to: int
    applied_amount: str | None = None
    applied_to_reference_number: str | None = None


class Payment(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.DetailedPaymentResponse`` (what GET payments returns)."""

    id: int
    type: str | None = None
    total: str | None = None
    date: str | None = None
    reference_number: str | None = None
    memo: str | None = None
    customer: NamedField | None = None
    business_unit: NamedField | None = None
    applied_to: list[PaymentApplied] | None = None
    active: bool = True
    modified_on: str | None = None


class GLAccount(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.GlAccountExtendedResponse``."""

    id: int
    name: str | None = None
    number: str | None = None
    type: str | None = None
    subtype: str | None = None
    active: bool = True
    modified_on: str | None = None


class TaxRate(_Model, frozen=True, kw_only=True):
    tax_name: str | None = None
    tax_rate: float | None = None


class TaxZone(_Model, frozen=True, kw_only=True):
    """``Accounting.V2.TaxZoneResponse``."""

    id: int
    name: str | None = None
    rates: list[TaxRate] | None = None
    active: bool = True
    modified_on: str | None = None


# -- inventory ------------------------------------------------------------------------------
class Vendor(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.VendorResponse``."""

    id: int
    name: str
    active: bool = True
    is_truck_replenishment: bool = False
    default_tax_rate: float | None = None
    memo: str | None = None
    address: Address | None = None
    external_data: list[ExternalData] | None = None
    modified_on: str | None = None


class PurchaseOrderItem(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.PurchaseOrderItemResponse``."""

    id: int
    sku_id: int
    sku_code: str | None = None
    sku_name: str | None = None
    sku_type: str | None = None
    description: str | None = None
    vendor_part_number: str | None = None
    quantity: float = 0
    quantity_received: float = 0
    cost: float = 0
    total: float = 0
    status: str | None = None


class PurchaseOrder(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.PurchaseOrderResponse``."""

    id: int
    number: str
    status: str
    type_id: int | None = None
    vendor_id: int
    business_unit_id: int | None = None
    inventory_location_id: int | None = None
    vendor_document_number: str | None = None
    date: str | None = None
    required_on: str | None = None
    received_on: str | None = None
    total: float = 0
    tax: float = 0
    shipping: float = 0
    summary: str | None = None
    ship_to: Address | None = None
    items: list[PurchaseOrderItem] = msgspec.field(default_factory=list)
    modified_on: str | None = None


class AdjustmentItem(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.InventoryAdjustmentItemResponse``: one sku's quantity change."""

    id: int
    sku_id: int
    code: str | None = None
    name: str | None = None
    description: str | None = None
    quantity: float = 0
    cost: float = 0
    active: bool = True


class Adjustment(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.AdjustmentResponse`` (read and PATCH only: the API cannot create one)."""

    id: int
    number: str | None = None
    reference_number: str | None = None
    type: str | None = None
    business_unit_id: int | None = None
    inventory_location_id: int | None = None
    memo: str | None = None
    date: str | None = None
    active: bool = True
    modified_on: str | None = None
    items: list[AdjustmentItem] = msgspec.field(default_factory=list)


# -- pricebook ------------------------------------------------------------------------------
class PricebookItem(_Model, frozen=True, kw_only=True):
    """``Pricebook.V2.MaterialResponse`` / ``EquipmentResponse`` / ``ServiceGetResponse``.

    The three share the fields ml-connector moves; ``kind`` is set by the client from the
    endpoint it read (it is not on the wire).
    """

    id: int
    code: str
    display_name: str | None = None
    description: str | None = None
    cost: float = 0
    price: float = 0
    active: bool = True
    primary_vendor: SkuVendor | None = None
    external_data: list[ExternalData] | None = None
    modified_on: str | None = None


class SkuVendor(_Model, frozen=True, kw_only=True):
    """``Pricebook.V2.SkuVendorResponse``."""

    vendor_id: int | None = None
    vendor_name: str | None = None
    vendor_part: str | None = None
    cost: float | None = None


# -- crm, jpm, settings ---------------------------------------------------------------------
class Customer(_Model, frozen=True, kw_only=True):
    """``Crm.V2.Customers.CustomerResponse``."""

    id: int
    name: str
    type: str | None = None
    active: bool = True
    address: Address | None = None
    external_data: list[ExternalData] | None = None
    modified_on: str | None = None


class Job(_Model, frozen=True, kw_only=True):
    """``Jpm.V2.JobResponse``."""

    id: int
    job_number: str | None = None
    customer_id: int | None = None
    business_unit_id: int | None = None
    job_status: str | None = None
    completed_on: str | None = None
    invoice_id: int | None = None
    total: float | None = None
    modified_on: str | None = None


class BusinessUnit(_Model, frozen=True, kw_only=True):
    """``TenantSettings.V2.BusinessUnitResponse``."""

    id: int
    name: str
    official_name: str | None = None
    active: bool = True
    modified_on: str | None = None


# -- requests -------------------------------------------------------------------------------
class ExternalDataUpdate(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.ExternalDataCreateRequest`` / ``…UpdateRequest``: how we find our
    own writes again (filter ``externalDataApplicationGuid`` + ``Key`` + ``Values``)."""

    application_guid: str
    external_data: list[ExternalData]
    patch_mode: str | None = None


class VendorAddress(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.AddressRequest``: all six parts are required (and always sent: an
    address the connector does not know is six empty strings)."""

    street: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""


class VendorCreate(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.CreateVendorRequest`` (required: name … address)."""

    name: str
    active: bool
    is_truck_replenishment: bool
    tax_rate: float
    restricted_mobile_creation: bool
    address: VendorAddress
    memo: str | None = None
    external_data: ExternalDataUpdate | None = None


class VendorUpdate(_Model, frozen=True, kw_only=True, omit_defaults=True):
    """``Inventory.V2.UpdateVendorRequest``: PATCH sends only the fields we own."""

    name: str | None = None
    active: bool | None = None
    memo: str | None = None
    address: VendorAddress | None = None
    external_data: ExternalDataUpdate | None = None


class ShipTo(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.CreateAddressRequest``."""

    description: str
    address: VendorAddress = VendorAddress()


class PurchaseOrderItemCreate(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.CreatePurchaseOrderItemRequest``."""

    sku_id: int
    description: str
    vendor_part_number: str
    quantity: float
    cost: float


class PurchaseOrderCreate(_Model, frozen=True, kw_only=True):
    """``Inventory.V2.CreatePurchaseOrderRequest``."""

    vendor_id: int
    type_id: int
    business_unit_id: int
    inventory_location_id: int
    ship_to: ShipTo
    date: str
    required_on: str
    items: list[PurchaseOrderItemCreate]
    # Required by the API, so always sent; the connector's orders pay no technician, and
    # carry tax or shipping only where the source has them.
    impacts_technician_payroll: bool = False
    tax: float = 0.0
    shipping: float = 0.0
    memo: str | None = None
    vendor_invoice_number: str | None = None


class MaterialCreate(_Model, frozen=True, kw_only=True, omit_defaults=True):
    """``Pricebook.V2.MaterialCreateRequest`` (required: code, description)."""

    code: str
    description: str
    display_name: str | None = None
    cost: float | None = None
    price: float | None = None
    active: bool = True
    external_data: ExternalDataUpdate | None = None


class GLAccountCreate(_Model, frozen=True, kw_only=True, omit_defaults=True):
    """``Accounting.V2.GlAccountCreateRequest`` (required: name, unique in the tenant)."""

    name: str
    number: str | None = None
    description: str | None = None
    type: str | None = None
    subtype: str | None = None


class GLAccountUpdate(_Model, frozen=True, kw_only=True, omit_defaults=True):
    """``Accounting.V2.GlAccountUpdateRequest``: PATCH sends only the fields we own."""

    name: str | None = None
    active: bool | None = None


class CreatedId(_Model, frozen=True, kw_only=True):
    """What create endpoints answer: the new record's id."""

    id: int
