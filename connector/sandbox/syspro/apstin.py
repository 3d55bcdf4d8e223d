"""APSTIN, AP invoice posting (``Transaction/Post``, root ``PostApInvoice``).

Per item: ``Supplier`` and ``Invoice`` are mandatory; the supplier must be on file; for
``TransactionCode`` I the supplier + invoice number must not already exist (knob
``duplicate_invoice``); dates are CCYY-MM-DD; every ``LedgerDistribution`` line's
``LedgerCode`` must be a GL code on file and, with ``require_balanced_distribution``, the lines
add up to ``TransactionValue`` less ``TaxValue``; the period the parameter ``PostingPeriod``
picks (C current, P previous, B by invoice date) must be open. A posted item answers its
``Journal``, ``TrnYear`` and ``TrnMonth``; the invoice is then an ``ApInvoice`` row.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

from connector.sandbox.syspro.business import (
    ALREADY_EXISTS,
    INVALID_VALUE,
    NOT_ON_FILE,
    Checked,
    Context,
    date_field,
    decimal_field,
    mandatory,
)
from connector.sandbox.syspro.xmlio import children, text

ROOT = "PostApInvoice"
TRANSACTION_CODES = ("I", "A", "C", "D")


def check_invoice(ctx: Context, item: ET.Element) -> Checked:
    supplier = text(item, "Supplier")
    invoice = text(item, "Invoice")
    result = Checked(echo=[("Supplier", supplier), ("Invoice", invoice)])
    company = ctx.company
    mandatory(result, item, "Supplier")
    mandatory(result, item, "Invoice")
    code = text(item, "TransactionCode").upper() or "I"
    if code not in TRANSACTION_CODES:
        result.error(
            "TransactionCode",
            code,
            INVALID_VALUE,
            f"Transaction code '{code}' is invalid; use I, A, C or D",
        )
    if supplier and company.find("ApSupplier", Supplier=supplier) is None:
        result.error("Supplier", supplier, NOT_ON_FILE, f"Supplier '{supplier}' not found")
    elif supplier and invoice and code == "I" and ctx.knobs.duplicate_invoice == "reject":
        if company.find("ApInvoice", Supplier=supplier, Invoice=invoice) is not None:
            result.error(
                "Invoice",
                invoice,
                ALREADY_EXISTS,
                f"Invoice '{invoice}' already exists for supplier '{supplier}'",
            )
    invoice_date = date_field(result, item, "InvoiceDate")
    due_date = date_field(result, item, "DueDate")
    value = decimal_field(result, item, "TransactionValue")
    tax = decimal_field(result, item, "TaxValue")
    lines = children(item, "LedgerDistribution")
    distributed = Decimal(0)
    for line in lines:
        ledger = text(line, "LedgerCode")
        if company.find("GenMaster", GlCode=ledger) is None:
            result.error("LedgerCode", ledger, NOT_ON_FILE, f"Ledger code '{ledger}' not found")
        distributed += decimal_field(result, line, "LedgerValue")
    if lines and ctx.knobs.require_balanced_distribution and distributed != value - tax:
        result.error(
            "TransactionValue",
            str(value),
            INVALID_VALUE,
            f"Distribution total {distributed} does not equal the invoice value "
            f"excluding tax {value - tax}",
        )
    if ctx.knobs.require_grn_matching and not children(item, "GrnDetails"):
        result.error("GrnDetails", "", INVALID_VALUE, "GRN matching is required for invoices")
    period = _period(ctx, invoice_date)
    if f"{period.year:04d}-{period.month:02d}" in ctx.knobs.closed_periods:
        result.error(
            "InvoiceDate",
            text(item, "InvoiceDate"),
            INVALID_VALUE,
            f"AP period {period.year}/{period.month:02d} is closed",
        )

    def apply() -> list[tuple[str, str]]:
        posted = ctx.company_date
        journal = company.journal("AP")
        company.insert(
            "ApInvoice",
            {
                "Supplier": supplier,
                "Invoice": invoice,
                "TrnType": code,
                "Branch": text(item, "Branch"),
                "InvoiceDate": (invoice_date or posted).isoformat(),
                "DueDate": (due_date or invoice_date or posted).isoformat(),
                "PostDate": posted.isoformat(),
                "OrigInvValue": value,
                "TaxCode": text(item, "TaxCode"),
                "TaxValue": tax,
                "Reference": text(item, "TransactionReference"),
                "Journal": journal,
                "TrnYear": period.year,
                "TrnMonth": period.month,
            },
        )
        return [
            ("Journal", str(journal)),
            ("TrnYear", str(period.year)),
            ("TrnMonth", str(period.month)),
        ]

    result.apply = apply
    return result


def _period(ctx: Context, invoice_date: dt.date | None) -> dt.date:
    """The first day of the AP period the ``PostingPeriod`` parameter chooses."""
    current = ctx.company_date.replace(day=1)
    choice = ctx.params.flag("PostingPeriod", "C")
    if choice == "P":
        return (current - dt.timedelta(days=1)).replace(day=1)
    if choice == "B" and invoice_date is not None:
        return invoice_date.replace(day=1)
    return current
