"""How ``infor-servicenow`` invoices are reconciled (``ml-connector reconcile``).

A posted M3 supplier invoice is a ServiceNow invoice of our ERP source whose external
invoice number is ``DIVI/SUNO/SINO`` (the ledger key) and whose external invoice source is
``M3 <CONO>/<DIVI>``. One is read back by that number, or a period's at once (our source's
invoices by ``invoice_date``, in pages), so an invoice there that no M3 invoice accounts
for is seen too. The amount compared is the invoice's total, ``subtotal`` plus
``other_charges`` (M3's ``CUAM``), and the document's number in ServiceNow is its
``number`` (``INV…``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from connector.flows.infor_servicenow.mapping import InvoiceCommand
from connector.runtime.flow import Reconciliation, TargetDocument
from connector.systems.infor import M3Client
from connector.systems.servicenow import ServiceNowClient
from connector.systems.servicenow.models import Invoice


def _money(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def _document(invoice: Invoice) -> TargetDocument:
    return TargetDocument(
        invoice.number or invoice.sys_id,
        _money(invoice.subtotal) + _money(invoice.other_charges),
        invoice.external_invoice_number,
        invoice.invoice_date[:10],
        invoice.external_invoice_number,
    )


def invoices(sn: ServiceNowClient, m3: M3Client) -> Reconciliation[InvoiceCommand]:
    """Invoices by external invoice number; amounts subtotal + other charges. ``m3`` names
    the company (CONO) of the external invoice source."""

    async def read_back(command: InvoiceCommand) -> TargetDocument | None:
        found = await sn.find_invoice(command.key)
        return None if found is None else _document(found)

    async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
        listed = await sn.invoices_dated(start.isoformat(), end.isoformat(), f"M3 {m3.company}/")
        return [_document(invoice) for invoice in listed]

    return Reconciliation(
        date=lambda c: c.invoice_date,
        amount=lambda c: _money(c.subtotal) + _money(c.other_charges),
        number=lambda c: c.key,
        read_back=read_back,
        listing=listing,
    )
