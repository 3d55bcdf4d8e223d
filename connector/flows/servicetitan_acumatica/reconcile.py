"""How ``servicetitan-acumatica`` documents are reconciled (``ml-connector reconcile``).

Each document stream reads Acumatica back two ways: by natural key, one document
(``CustomerOrder``, ``PaymentRef``, vendor + ``VendorRef`` — what ``find`` asks), and a
period at once, listed in pages by the mark the connector puts on every document it
creates (``CustomerOrder`` ``ST-INV-<id>``, ``PaymentRef`` ``ST-PAY-<id>``, a bill's
``Description`` ``ServiceTitan bill <id>…``) and the document's date. The mark names the
ServiceTitan record, so a document in Acumatica that no ServiceTitan document accounts for
is seen too. Amounts compared: the invoice's and bill's ``Amount`` (its lines, as
Acumatica totals them) and the payment's ``PaymentAmount``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from connector.flows.servicetitan_acumatica.mapping import (
    BILL_DESCRIPTION,
    INVOICE_PREFIX,
    PAYMENT_PREFIX,
    BillCommand,
    InvoiceCommand,
    PaymentCommand,
)
from connector.flows.servicetitan_acumatica.targets import BillTarget
from connector.runtime.flow import Reconciliation, TargetDocument
from connector.systems.acumatica import AcumaticaClient

_BILL_ID = re.compile(re.escape(BILL_DESCRIPTION) + r"(\d+)\b")


def _after(prefix: str, text: str | None) -> str:
    """The ServiceTitan id a reference carries after ``prefix``, or "" when it is not ours."""
    return text[len(prefix) :] if text and text.startswith(prefix) else ""


def _document(
    number: str | None,
    amount: Decimal | None,
    source_id: str = "",
    date: dt.date | None = None,
    reference: str = "",
) -> TargetDocument:
    return TargetDocument(
        number or "", amount or Decimal(0), source_id, date.isoformat() if date else "", reference
    )


def invoices(acumatica: AcumaticaClient) -> Reconciliation[InvoiceCommand]:
    """AR invoices by ``CustomerOrder``, amounts from ``Amount``."""

    async def read_back(command: InvoiceCommand) -> TargetDocument | None:
        found = await acumatica.find_invoice(None, command.customer_order)
        return None if found is None else _document(found.reference_nbr, found.amount)

    async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
        return [
            _document(
                i.reference_nbr,
                i.amount,
                _after(INVOICE_PREFIX, i.customer_order),
                i.date,
                i.customer_order or "",
            )
            for i in await acumatica.invoices_dated(start, end, INVOICE_PREFIX)
        ]

    return Reconciliation(
        date=lambda c: c.date.isoformat(),
        amount=lambda c: c.amount,
        number=lambda c: c.customer_order,
        read_back=read_back,
        listing=listing,
    )


def payments(acumatica: AcumaticaClient) -> Reconciliation[PaymentCommand]:
    """Payments by ``PaymentRef``, amounts from ``PaymentAmount``."""

    async def read_back(command: PaymentCommand) -> TargetDocument | None:
        found = await acumatica.find_payment(None, command.payment_ref)
        return None if found is None else _document(found.reference_nbr, found.payment_amount)

    async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
        return [
            _document(
                p.reference_nbr,
                p.payment_amount,
                _after(PAYMENT_PREFIX, p.payment_ref),
                p.application_date,
                p.payment_ref or "",
            )
            for p in await acumatica.payments_dated(start, end, PAYMENT_PREFIX)
        ]

    return Reconciliation(
        date=lambda c: c.date.isoformat(),
        amount=lambda c: c.amount,
        number=lambda c: c.payment_ref,
        read_back=read_back,
        listing=listing,
    )


def bills(acumatica: AcumaticaClient, target: BillTarget) -> Reconciliation[BillCommand]:
    """AP bills by vendor + ``VendorRef``, listed by their description's mark; amounts from
    ``Amount``."""

    async def read_back(command: BillCommand) -> TargetDocument | None:
        vendor = await target.vendor_of(command)
        found = None if vendor is None else await acumatica.find_bill(vendor, command.vendor_ref)
        return None if found is None else _document(found.reference_nbr, found.amount)

    async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
        listed = []
        for bill in await acumatica.bills_dated(start, end, BILL_DESCRIPTION):
            mark = _BILL_ID.match(bill.description or "")
            if mark is not None:
                listed.append(
                    _document(
                        bill.reference_nbr, bill.amount, mark[1], bill.date, bill.vendor_ref or ""
                    )
                )
        return listed

    return Reconciliation(
        date=lambda c: c.date.isoformat(),
        amount=lambda c: c.amount,
        number=lambda c: c.vendor_ref,
        read_back=read_back,
        listing=listing,
    )
