"""ServiceTitan → Acumatica: every mapping of this pairing, as pure functions.

Two layers, both pure:

* ``map_*`` turn a ServiceTitan record and the mapping tables into a **command**: what must
  exist in Acumatica, with references still carried as ServiceTitan ids (the customer of an
  invoice, the invoices a payment pays). Commands are what the ledger hashes, so a record
  whose command is unchanged is never written again.
* ``*_record`` turn a command plus the Acumatica keys the loader resolved (``CustomerID``,
  ``VendorID``, invoice ``ReferenceNbr`` s) into the Acumatica model to PUT.

Field ownership, so an update never ping-pongs:

* A **customer or vendor** created from ServiceTitan (code ``STC<id>`` / ``STV<id>``, see
  :func:`account_code`) stays ServiceTitan's: a changed name or address is written again.
  One that already existed in Acumatica and was linked by name belongs to Acumatica and is
  never overwritten.
* **Documents** (AR invoices, payments, AP bills) move one way, once. A source document that
  changes after it was posted is not posted again (see the targets).

Account coding: every line lands on the Acumatica account mapped from its ServiceTitan GL
account number (table :data:`GL_ACCOUNT`) and on the branch and subaccount mapped from its
business unit (:data:`BU_BRANCH`, :data:`BU_SUBACCOUNT`). A missing entry raises
``MappingError``: the record waits in review until someone adds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from connector.errors import MappingError, SourceDataError
from connector.flows import common
from connector.runtime.flow import MapContext
from connector.systems.acumatica import models as acu
from connector.systems.servicetitan import models as st

#: Mapping table: ServiceTitan business unit id → Acumatica branch (``BranchID``).
BU_BRANCH = "business_unit_branch"
#: Mapping table: ServiceTitan business unit id → Acumatica subaccount (``SubaccountCD``).
BU_SUBACCOUNT = "business_unit_subaccount"
#: Mapping table: ServiceTitan GL account number → Acumatica account (``AccountCD``). Named
#: apart from the M3 flow's ``gl_account``: mapping tables are shared by every flow of one
#: installation, and the two ERPs have different charts of accounts.
GL_ACCOUNT = "gl_account_acumatica"
#: Optional mapping table: ServiceTitan payment type ("Check", "Credit Card"…) → Acumatica
#: payment method; types not in it use ``Options.payment_method``.
PAYMENT_METHOD = "payment_type_method"

#: Acumatica's business account keys (customers and vendors share one numbering) are
#: 10 characters in a default segmented key.
ACCOUNT_CODE_LENGTH = 10
_PREFIX = {"customer": "STC", "vendor": "STV"}
_COMPACT = {"customer": "SC", "vendor": "SV"}
#: ISO 3166 alpha-3 codes ServiceTitan uses, as the alpha-2 codes Acumatica's Country takes.
_COUNTRIES = {"USA": "US", "CAN": "CA", "MEX": "MX", "UNITED STATES": "US", "CANADA": "CA"}


class Options(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The pairing's settings (``[flows.servicetitan-acumatica.options]``)."""

    #: Customer class of customers created from ServiceTitan.
    customer_class: str = "DEFAULT"
    #: Vendor class of vendors created from ServiceTitan.
    vendor_class: str = "SUPPLIER"
    #: Payment method of payments whose type is not in the ``payment_type_method`` table.
    payment_method: str = "CHECK"
    #: Cash account (an Account flagged as cash) that ServiceTitan payments are deposited to.
    cash_account: str = "10100"
    #: Account of the sales-tax line of AR invoices (ServiceTitan gives no GL for tax).
    sales_tax_account: str = "22000"
    #: "yes": release each AR invoice once saved, as ServiceTitan invoices are final and
    #: Acumatica applies payments only to released invoices; "no": leave them balanced for
    #: review in Acumatica (payments then wait as dead letters until someone releases).
    release_invoices: str = "yes"


# -- commands -------------------------------------------------------------------------------
class PostalAddress(msgspec.Struct, frozen=True):
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str | None  # ISO alpha-2, or None when ServiceTitan's value is not one we know


class AccountCommand(msgspec.Struct, frozen=True):
    """Make ServiceTitan customer/vendor ``source_id`` exist in Acumatica as ``code``."""

    kind: str  # "customer" | "vendor"
    source_id: int
    code: str
    name: str
    account_class: str
    address: PostalAddress | None
    #: ServiceTitan's active flag: a deactivated customer or vendor is made Inactive.
    active: bool = True


class DocumentLine(msgspec.Struct, frozen=True):
    """One detail line; ``unit_price`` is the unit price (AR) or unit cost (AP), or None
    when the source's total is not quantity × price and the amount alone must stand."""

    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    account: str
    subaccount: str
    branch: str


class InvoiceCommand(msgspec.Struct, frozen=True):
    """An AR invoice for ServiceTitan invoice ``source_id``, found again by
    (customer, ``customer_order``)."""

    source_id: str
    customer_id: int  # ServiceTitan customer, resolved to a CustomerID by the loader
    customer_order: str
    date: dt.date
    due_date: dt.date
    description: str
    branch: str
    amount: Decimal
    lines: tuple[DocumentLine, ...]


class Application(msgspec.Struct, frozen=True):
    invoice_id: int  # ServiceTitan invoice, resolved to an Acumatica ReferenceNbr
    amount: Decimal


class PaymentCommand(msgspec.Struct, frozen=True):
    """An AR payment for ServiceTitan payment ``source_id``, found again by
    (customer, ``payment_ref``), applied to the invoices it paid."""

    source_id: str
    customer_id: int
    payment_ref: str
    payment_method: str
    cash_account: str
    amount: Decimal
    date: dt.date
    description: str
    branch: str | None
    applications: tuple[Application, ...]


class BillCommand(msgspec.Struct, frozen=True):
    """An AP bill for ServiceTitan inventory bill ``source_id``, found again by
    (vendor, ``vendor_ref``)."""

    source_id: str
    vendor_id: int  # ServiceTitan vendor, resolved to a VendorID by the loader
    vendor_ref: str
    date: dt.date
    due_date: dt.date
    description: str
    branch: str
    amount: Decimal
    lines: tuple[DocumentLine, ...]


# -- customers and vendors ------------------------------------------------------------------
def account_code(kind: str, source_id: int) -> str:
    """The CustomerID/VendorID of an account created from a ServiceTitan record.

    ``STC`` + id for customers and ``STV`` + id for vendors: Acumatica keeps customers and
    vendors in one business-account table, so the two ServiceTitan id sequences must not
    meet. Ids too long for the key go compact: ``SC``/``SV`` + base 36, zero-padded to 8.
    """
    code = f"{_PREFIX[kind]}{source_id}"
    if len(code) <= ACCOUNT_CODE_LENGTH:
        return code
    return _COMPACT[kind] + _base36(source_id).rjust(ACCOUNT_CODE_LENGTH - 2, "0")


def source_id_of(kind: str, code: str) -> int | None:
    """The ServiceTitan id an account code was made from (inverse of
    :func:`account_code`), or None for an account that did not come from ServiceTitan."""
    code = code.strip().upper()
    prefix, compact = _PREFIX[kind], _COMPACT[kind]
    if code.startswith(prefix) and code[len(prefix) :].isdigit():
        return int(code[len(prefix) :])
    # Compact codes of ids below 36**7 (7.8e10, beyond ServiceTitan's 10-digit ids) carry a
    # leading zero, which keeps a code a person typed ("SCHMIDT001") from reading as ours.
    body = code[len(compact) :]
    if code.startswith(compact) and len(code) == ACCOUNT_CODE_LENGTH and body[:1] == "0":
        try:
            return int(body, 36)
        except ValueError:
            return None
    return None


def map_customer(customer: st.Customer, ctx: MapContext, options: Options) -> AccountCommand:
    return _account(
        "customer", customer.id, customer.name, customer.address, options, customer.active
    )


def map_vendor(vendor: st.Vendor, ctx: MapContext, options: Options) -> AccountCommand:
    return _account("vendor", vendor.id, vendor.name, vendor.address, options, vendor.active)


def _account(
    kind: str,
    source_id: int,
    raw_name: str,
    address: st.Address | None,
    options: Options,
    active: bool,
) -> AccountCommand:
    record = f"{kind} {source_id}"
    name = common.text(raw_name, 255)
    if not name:
        raise SourceDataError(f"{record} has no name", record=record, field="name")
    account_class = options.customer_class if kind == "customer" else options.vendor_class
    return AccountCommand(
        kind,
        source_id,
        account_code(kind, source_id),
        name,
        account_class,
        _address(address),
        active,
    )


def _address(address: st.Address | None) -> PostalAddress | None:
    if address is None or not any((address.street, address.city, address.zip)):
        return None
    country = (address.country or "").strip().upper()
    return PostalAddress(
        common.text(address.street, 50),
        common.text(address.unit, 50),
        common.text(address.city, 50),
        common.text(address.state, 50),
        common.text(address.zip, 20),
        country if len(country) == 2 else _COUNTRIES.get(country),
    )


def customer_record(command: AccountCommand, *, create: bool) -> acu.Customer:
    """The Customer to PUT. The class is set on creation only: afterwards it is
    Acumatica's (credit terms, statements hang on it)."""
    return acu.Customer(
        customer_id=command.code,
        customer_name=command.name,
        customer_class=command.account_class if create else None,
        status=account_status(command),
        main_contact=_contact(command.address),
    )


def vendor_record(command: AccountCommand, *, create: bool) -> acu.Vendor:
    """The Vendor to PUT; the class, as for customers, only on creation."""
    return acu.Vendor(
        vendor_id=command.code,
        vendor_name=command.name,
        vendor_class=command.account_class if create else None,
        status=account_status(command),
        main_contact=_contact(command.address),
    )


def _contact(address: PostalAddress | None) -> acu.Contact | None:
    if address is None:
        return None
    return acu.Contact(
        address=acu.Address(
            address_line1=address.line1 or None,
            address_line2=address.line2 or None,
            city=address.city or None,
            state=address.state or None,
            postal_code=address.postal_code or None,
            country=address.country,
        )
    )


def account_status(command: AccountCommand) -> str:
    """The Acumatica status for ServiceTitan's active flag."""
    return "Active" if command.active else "Inactive"


def account_in_step(
    command: AccountCommand,
    name: str | None,
    contact: acu.Contact | None,
    status: str | None = None,
) -> bool:
    """Whether Acumatica's copy already carries the name, status and address the command
    would write (fields the command leaves out do not count; an unknown status counts as
    Active, Acumatica's default)."""
    if name != command.name or (status or "Active") != account_status(command):
        return False
    wanted = _contact(command.address)
    if wanted is None or wanted.address is None:
        return True
    have = contact.address if contact is not None else None
    for field in ("address_line1", "address_line2", "city", "state", "postal_code", "country"):
        value = getattr(wanted.address, field)
        if value is not None and (have is None or getattr(have, field) != value):
            return False
    return True


# -- coding ---------------------------------------------------------------------------------
def _unit_coding(unit: st.NamedField | None, ctx: MapContext, record: str) -> tuple[str, str]:
    """(branch, subaccount) of a business unit, or MappingError naming the missing one."""
    if unit is None:
        raise SourceDataError(f"{record} has no business unit", record=record, field="businessUnit")
    return _unit_value(BU_BRANCH, unit, ctx, record), _unit_value(BU_SUBACCOUNT, unit, ctx, record)


def _unit_value(kind: str, unit: st.NamedField, ctx: MapContext, record: str) -> str:
    value = ctx.lookup(kind, str(unit.id))
    if value is None:
        what = "branch" if kind == BU_BRANCH else "subaccount"
        raise MappingError(
            f"{record}: business unit {unit.id} ({unit.name or 'unnamed'}) has no Acumatica "
            f"{what}. Add it: ml-connector review resolve --mapping {kind} {unit.id}=<{what}>",
            record=record,
            mapping_kind=kind,
            mapping_key=str(unit.id),
        )
    return value


def _gl_account(ref: st.GLAccountRef | None, ctx: MapContext, record: str) -> str:
    number = (ref.number or "").strip() if ref else ""
    if not number:
        raise SourceDataError(
            f"{record} has no GL account; set one on the item in ServiceTitan",
            record=record,
            field="generalLedgerAccount",
        )
    mapped = ctx.lookup(GL_ACCOUNT, number)
    if mapped is None:
        name = f" ({ref.name})" if ref and ref.name else ""
        raise MappingError(
            f"{record}: ServiceTitan GL account {number}{name} has no Acumatica account. Add "
            f"it: ml-connector review resolve --mapping {GL_ACCOUNT} {number}=<AccountCD>",
            record=record,
            mapping_kind=GL_ACCOUNT,
            mapping_key=number,
        )
    return mapped


def _line(
    description: str,
    quantity: Decimal,
    price: Decimal | None,
    amount: Decimal,
    account: str,
    coding: tuple[str, str],
) -> DocumentLine:
    # ServiceTitan's total wins: a price that does not reproduce it (a manual override) is
    # left out, so Acumatica keeps the amount instead of recomputing quantity × price.
    exact = price is not None and (quantity * price).quantize(common.CENT) == amount
    return DocumentLine(
        common.text(description, 150) or "-",
        quantity,
        price if exact else None,
        amount,
        account,
        coding[1],
        coding[0],
    )


def _checked_total(
    total: str | None, lines: list[DocumentLine], record: str
) -> tuple[Decimal, tuple[DocumentLine, ...]]:
    if not lines:
        raise SourceDataError(f"{record} has no lines to post", record=record, field="items")
    amount = common.money(total, record=record, field="total")
    lines_sum = sum((line.amount for line in lines), Decimal(0))
    if lines_sum != amount:
        raise SourceDataError(
            f"{record} total {amount} differs from the sum of its lines {lines_sum}; correct "
            "the record in ServiceTitan",
            record=record,
            field="total",
        )
    return amount, tuple(lines)


# -- documents ------------------------------------------------------------------------------
#: How an AP bill's description starts, followed by the ServiceTitan bill id: our mark on a
#: bill, since its ``VendorRef`` is the vendor's own number (reconciliation lists by it).
BILL_DESCRIPTION = "ServiceTitan bill "
#: The prefixes of our invoice and payment references (:func:`invoice_reference`…).
INVOICE_PREFIX, PAYMENT_PREFIX = "ST-INV-", "ST-PAY-"


def invoice_reference(invoice_id: int | str) -> str:
    """What an AR invoice carries in ``CustomerOrder`` to be found again. The ServiceTitan id,
    not its number: numbers (job numbers) are not unique, and a second invoice adopting the
    first one's document would be lost."""
    return f"{INVOICE_PREFIX}{invoice_id}"


def payment_reference(payment_id: int | str) -> str:
    """What a payment carries in ``PaymentRef`` to be found again."""
    return f"{PAYMENT_PREFIX}{payment_id}"


def map_invoice(invoice: st.Invoice, ctx: MapContext, options: Options) -> InvoiceCommand:
    """A job invoice → an AR invoice on the invoice's customer, each line on the account of
    its GL account and the branch/subaccount of its business unit (the invoice's when the
    line names none); sales tax as a line on ``options.sales_tax_account``."""
    record = f"invoice {invoice.id}"
    if invoice.customer is None:
        raise SourceDataError(f"{record} has no customer", record=record, field="customer")
    header = _unit_coding(invoice.business_unit, ctx, record)
    lines: list[DocumentLine] = []
    for item in invoice.items or ():
        where = f"{record} line {item.order or item.id}"
        quantity = common.quantity(item.quantity, record=where, field="quantity")
        amount = common.money(item.total, record=where, field="total")
        price = common.money(item.price, record=where, field="price") if item.price else None
        coding = _unit_coding(item.business_unit, ctx, where) if item.business_unit else header
        account = _gl_account(item.general_ledger_account, ctx, where)
        text = item.sku_name or item.description or item.type or "Item"
        lines.append(_line(text, quantity, price, amount, account, coding))
    tax = common.money(invoice.sales_tax or "0", record=record, field="salesTax")
    if tax:
        lines.append(_line("Sales tax", Decimal(1), tax, tax, options.sales_tax_account, header))
    amount, checked = _checked_total(invoice.total, lines, record)
    issued = common.date(invoice.invoice_date, record=record, field="invoiceDate")
    number = invoice.reference_number or str(invoice.id)
    summary = f" - {invoice.summary}" if invoice.summary else ""
    return InvoiceCommand(
        str(invoice.id),
        invoice.customer.id,
        invoice_reference(invoice.id),
        issued,
        common.date(invoice.due_date, record=record, field="dueDate")
        if invoice.due_date
        else issued,
        common.text(f"ServiceTitan invoice {number}{summary}", 150),
        header[0],
        amount,
        checked,
    )


def map_payment(payment: st.Payment, ctx: MapContext, options: Options) -> PaymentCommand:
    """A payment → an AR payment on its customer, applied to the invoices it paid."""
    record = f"payment {payment.id}"
    if payment.customer is None:
        raise SourceDataError(f"{record} has no customer", record=record, field="customer")
    amount = common.money(payment.total, record=record, field="total", allow_negative=False)
    by_invoice: dict[int, Decimal] = {}
    for applied in payment.applied_to or ():
        value = common.money(
            applied.applied_amount, record=record, field="appliedAmount", allow_negative=False
        )
        if value:
            by_invoice[applied.applied_to] = by_invoice.get(applied.applied_to, Decimal(0)) + value
    if sum(by_invoice.values(), Decimal(0)) > amount:
        raise SourceDataError(
            f"{record} applies more to invoices than its total {amount}; correct the "
            "applications in ServiceTitan",
            record=record,
            field="appliedTo",
        )
    unit = payment.business_unit
    branch = _unit_value(BU_BRANCH, unit, ctx, record) if unit is not None else None
    number = payment.reference_number or str(payment.id)
    memo = f" - {payment.memo}" if payment.memo else ""
    return PaymentCommand(
        str(payment.id),
        payment.customer.id,
        payment_reference(payment.id),
        ctx.lookup(PAYMENT_METHOD, payment.type or "") or options.payment_method,
        options.cash_account,
        amount,
        common.date(payment.date, record=record, field="date"),
        common.text(f"ServiceTitan payment {number}{memo}", 150),
        branch,
        tuple(Application(invoice_id, value) for invoice_id, value in sorted(by_invoice.items())),
    )


def map_bill(bill: st.InventoryBill, ctx: MapContext, options: Options) -> BillCommand:
    """An inventory bill (from a received PO) → an AP bill on the bill's vendor. Tax and
    freight follow the first line's account: ServiceTitan lands them into the cost of the
    goods received, and so does this."""
    record = f"inventory bill {bill.id}"
    if bill.vendor is None:
        raise SourceDataError(f"{record} has no vendor", record=record, field="vendor")
    coding = _unit_coding(bill.business_unit, ctx, record)
    lines: list[DocumentLine] = []
    for item in bill.items or ():
        where = f"{record} line {item.order or item.id}"
        quantity = common.quantity(item.quantity, record=where, field="quantity")
        cost = common.money(item.cost, record=where, field="cost")
        account = _gl_account(item.general_ledger_account, ctx, where)
        text = item.name or item.sku_code or item.description or "Item"
        lines.append(
            _line(text, quantity, cost, (quantity * cost).quantize(common.CENT), account, coding)
        )
    charges = (
        ("taxAmount", bill.tax_amount, "Sales tax"),
        ("shippingAmount", bill.shipping_amount, "Freight"),
    )
    for field, value, label in charges:
        charge = common.money(value or "0", record=record, field=field, allow_negative=False)
        if charge and lines:
            lines.append(_line(label, Decimal(1), charge, charge, lines[0].account, coding))
    amount, checked = _checked_total(bill.bill_amount, lines, record)
    issued = common.date(bill.bill_date, record=record, field="billDate")
    summary = f" - {bill.summary}" if bill.summary else ""
    return BillCommand(
        str(bill.id),
        bill.vendor.id,
        common.text(bill.reference_number or f"ST-BILL-{bill.id}", 40),
        issued,
        common.date(bill.due_date, record=record, field="dueDate") if bill.due_date else issued,
        common.text(f"{BILL_DESCRIPTION}{bill.id}{summary}", 150),
        coding[0],
        amount,
        checked,
    )


# -- Acumatica records ----------------------------------------------------------------------
def invoice_record(command: InvoiceCommand, customer: str) -> acu.Invoice:
    """The AR invoice to PUT for ``command`` on Acumatica customer ``customer``."""
    return acu.Invoice(
        type="Invoice",
        customer=customer,
        customer_order=command.customer_order,
        date=command.date,
        due_date=command.due_date,
        description=command.description,
        hold=False,
        link_branch=command.branch,
        details=[
            acu.InvoiceDetail(
                transaction_description=line.description,
                qty=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                account=line.account,
                subaccount=line.subaccount,
                branch=line.branch,
            )
            for line in command.lines
        ],
    )


def payment_record(
    command: PaymentCommand, customer: str, documents: Sequence[tuple[str, Decimal]]
) -> acu.Payment:
    """The payment to PUT, applied to ``documents`` (invoice ReferenceNbr, amount)."""
    return acu.Payment(
        type="Payment",
        customer_id=customer,
        payment_method=command.payment_method,
        cash_account=command.cash_account,
        payment_amount=command.amount,
        payment_ref=command.payment_ref,
        application_date=command.date,
        description=command.description,
        hold=False,
        branch_id=command.branch,
        documents_to_apply=[
            acu.PaymentDetail(doc_type="Invoice", reference_nbr=number, amount_paid=amount)
            for number, amount in documents
        ],
    )


def bill_record(command: BillCommand, vendor: str) -> acu.Bill:
    """The AP bill to PUT for ``command`` on Acumatica vendor ``vendor``."""
    return acu.Bill(
        type="Bill",
        vendor=vendor,
        vendor_ref=command.vendor_ref,
        branch_id=command.branch,
        date=command.date,
        due_date=command.due_date,
        description=command.description,
        hold=False,
        details=[
            acu.BillDetail(
                transaction_description=line.description,
                qty=line.quantity,
                unit_cost=line.unit_price,
                extended_cost=line.amount,
                account=line.account,
                subaccount=line.subaccount,
                branch=line.branch,
            )
            for line in command.lines
        ],
    )


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"
