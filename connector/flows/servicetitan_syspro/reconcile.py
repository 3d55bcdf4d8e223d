"""How ``servicetitan-syspro`` AP invoices are reconciled (``ml-connector reconcile``).

ServiceTitan job invoices become APSTIN invoices of the clearing supplier, numbered
``ST-<reference>`` and carrying ``ST invoice <id>`` in their ``TransactionReference``. They
are read back through the OData service — read-only, and needing no e.net logon, so a
reconciliation takes no licence seat: one document by supplier + invoice number, or the
period at once (the clearing supplier's invoices by ``InvoiceDate``), matched to
ServiceTitan by the reference, so an invoice there that no ServiceTitan invoice accounts
for is seen too. Amount compared: ``OrigInvValue`` against the invoice total (tax
included, as APSTIN's ``TransactionValue``).
"""

from __future__ import annotations

import datetime as dt

from connector.flows.servicetitan_syspro.mapping import invoice_id_from_reference
from connector.runtime.flow import Reconciliation, TargetDocument
from connector.systems.syspro import SysproConnection
from connector.systems.syspro.models import ApInvoice, ApInvoiceRecord


def _document(row: ApInvoiceRecord) -> TargetDocument:
    source = invoice_id_from_reference(row.reference)
    return TargetDocument(
        f"{row.supplier}/{row.invoice}",
        row.orig_inv_value,
        "" if source is None else str(source),
        row.invoice_date.isoformat() if row.invoice_date else "",
        row.invoice,
    )


def ap_invoices(syspro: SysproConnection, supplier: str) -> Reconciliation[ApInvoice]:
    """AP invoices of the clearing ``supplier`` by invoice number, amounts ``OrigInvValue``."""

    async def read_back(command: ApInvoice) -> TargetDocument | None:
        row = await syspro.odata.ap_invoice(command.supplier, command.invoice)
        return None if row is None else _document(row)

    async def listing(start: dt.date, end: dt.date) -> list[TargetDocument]:
        return [
            _document(row)
            async for row in syspro.odata.ap_invoices_dated(supplier, start, end)
            if invoice_id_from_reference(row.reference) is not None
        ]

    return Reconciliation(
        date=lambda c: c.invoice_date.isoformat(),
        amount=lambda c: c.value,
        number=lambda c: c.invoice,
        read_back=read_back,
        listing=listing,
    )
